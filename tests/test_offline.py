"""Offline generator: determinism, plan counts, no duplicates, short uppercase lines, negatives,
the comparison variants, the three real note layouts, and one reduced run of the measure."""

from __future__ import annotations

import importlib.util
import random
import re

import pandas as pd
import pytest

from statcodgen.errors import ConfigError, InputError
from statcodgen.generation import (GenerationResult, NaiveBullets, OfflineGenerator, TitlesBaseline, candidate_lines,
                                   generate)
from statcodgen.generation.baselines import naive_bullets, titles_baseline
from statcodgen.generation.offline import GENERATION_COLUMNS, generate_offline

# Our own small notes in the load_notes() schema (our words, not an official text).
_ROWS = [
    ("B", "section", None, "B", "MINES AND PITS", [], [], []),
    ("08.12", "class", "B", "B", "Working of sand and gravel pits; digging of clay",
     ["extraction and dredging of building sand, foundry sand and gravel",
      "crushing of gravel", "digging of clays, fire clays and kaolin"],
     ["washing of sand at the pit"], ["digging of tar sand, see 06.10"]),
    ("C", "section", None, "C", "MAKING OF GOODS", [], [], []),
    ("10.71", "class", "C", "C", "Baking of bread; making of fresh cakes",
     ["manufacture of bread and rolls", "manufacture of fresh cakes, tarts and pies",
      "manufacture of pastries: croissants, brioches, doughnuts"],
     [], ["manufacture of dry biscuits, see 10.72"]),
    ("U", "section", None, "U", "BODIES ABROAD", [], [], []),
    ("99.00", "class", "U", "U", "Activities of bodies outside national law",
     ["activities of world organisations such as the Global Fish Council, the Union of Ports"],
     ["activities of diplomatic and consular missions of other states"], []),
]


@pytest.fixture()
def notes() -> pd.DataFrame:
    df = pd.DataFrame(_ROWS, columns=["code", "level", "parent", "section", "title", "includes", "also_includes",
                                      "excludes"])
    for col in ("includes", "also_includes", "excludes"):
        df[col + "_text"] = df[col].map(lambda items: "\n".join(f"- {i}" for i in items))
    df.attrs.update(language="en", system="custom")
    return df


@pytest.fixture()
def plan() -> pd.DataFrame:
    return pd.DataFrame({"target": ["B", "C", "U"], "code": ["08.12", "10.71", "99.00"], "n_samples": [25, 20, 15],
                         "weight": [1.0, 1.0, 1.0]})


def test_schema_counts_and_labels(notes: pd.DataFrame, plan: pd.DataFrame) -> None:
    out = generate_offline(notes, plan, seed=0)
    assert list(out.columns) == GENERATION_COLUMNS
    assert out.groupby("code").size().to_dict() == {"08.12": 25, "10.71": 20, "99.00": 15}
    assert out.groupby("code")["label"].first().to_dict() == {"08.12": "B", "10.71": "C", "99.00": "U"}
    assert set(out["generator"]) == {"offline"} and out["temperature"].isna().all()
    assert out["request_key"].is_unique
    res = generate(notes, plan, seed=0, progress=False)
    assert res.lines.drop(columns="created_at").equals(out.drop(columns="created_at"))
    assert res.shortfall.empty and res.stats == {"generator": "offline", "lines": 60} and res.rejected.empty


def test_deterministic_for_a_seed(notes: pd.DataFrame, plan: pd.DataFrame) -> None:
    a = generate_offline(notes, plan, seed=3)
    b = generate_offline(notes, plan, seed=3)
    c = generate_offline(notes, plan, seed=4)
    pd.testing.assert_frame_equal(a.drop(columns="created_at"), b.drop(columns="created_at"))
    assert a["text"].tolist() != c["text"].tolist()


def test_no_duplicates_short_uppercase_and_from_the_items(notes: pd.DataFrame, plan: pd.DataFrame) -> None:
    out = generate_offline(notes, plan, seed=0, max_words=6)
    assert not out.duplicated(["code", "text"]).any()
    assert (out["text"] == out["text"].str.upper()).all()
    assert out["text"].str.split().str.len().max() <= 6
    by_code = notes.set_index("code")
    for row in out.itertuples():
        note = by_code.loc[row.code]
        source = " ".join([note.title, *note.includes, *note.also_includes]).lower()
        words = [w for w in re.findall(r"[a-z]{3,}", row.text.lower())]
        assert any(w[:5] in source for w in words), row.text
    low = generate_offline(notes, plan, seed=0, uppercase=False)
    assert (low["text"] == low["text"].str.lower()).all()


def test_splits_coordinations_and_enumerations(notes: pd.DataFrame) -> None:
    row = notes.set_index("code").loc["08.12"]
    lines = {line for _, line in candidate_lines([row.title, *row.includes], language="en")}
    assert {"gravel quarrying", "kaolin mining", "fire clays mining", "extraction of foundry sand"} <= lines
    assert "digging of clay" in lines  # the title split on ";"
    u = notes.set_index("code").loc["99.00"]
    u_lines = {line for _, line in candidate_lines([*u.includes, *u.also_includes], language="en")}
    assert "global fish council" in u_lines and "union of ports" in u_lines
    assert "consular missions of other states" in u_lines or "consulate" in u_lines
    assert "diplomatic missions of other states" in u_lines  # "diplomatic and consular missions" expanded


def test_negatives_are_never_written(notes: pd.DataFrame) -> None:
    lines = {line for _, line in candidate_lines(["extraction of sand, tar sand and gravel"], language="en",
                                                 excluded=["extraction of tar sand, see 06.10"])}
    assert "sand extraction" in lines
    assert not any(line in ("tar sand", "tar sand extraction", "extraction of tar sand") for line in lines)


def test_shortfall_reported_never_padded(notes: pd.DataFrame) -> None:
    plan = pd.DataFrame({"target": ["U"], "code": ["99.00"], "n_samples": [5000]})
    out = generate(notes, plan, generator=OfflineGenerator(), seed=0).lines
    assert 0 < len(out) < 5000 and out["text"].is_unique
    short = generate(notes, plan, seed=0).shortfall
    (row,) = short.to_dict("records")  # the reason is the offline generator's own, with its numbers
    assert {k: row[k] for k in ("code", "label", "planned", "produced")} == {
        "code": "99.00", "label": "U", "planned": 5000, "produced": len(out)}
    assert re.fullmatch(r"the notes give 1 Includes item\(s\) and 1 Also-includes item\(s\): only \d+ distinct "
                        r"phrasing\(s\)( \+ \d+ pair\(s\) of short lines)? for 5000 planned", row["reason"]), row["reason"]


def test_titles_and_naive_bullets(notes: pd.DataFrame) -> None:
    t = titles_baseline(notes, ["08.12", "10.71"])
    assert t["text"].tolist() == ["WORKING OF SAND AND GRAVEL PITS; DIGGING OF CLAY", "BAKING OF BREAD; MAKING OF FRESH CAKES"]
    assert t["label"].tolist() == ["B", "C"] and set(t["generator"]) == {"titles"}
    nb = naive_bullets(notes, ["08.12"], uppercase=False)
    assert nb["text"].tolist() == [*notes.set_index("code").loc["08.12", "includes"], "washing of sand at the pit"]
    assert list(nb.columns) == GENERATION_COLUMNS


def test_baselines_through_generate_equal_the_functions(notes: pd.DataFrame, plan: pd.DataFrame) -> None:
    def same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
        return a.drop(columns="created_at").equals(b.drop(columns="created_at"))

    codes = plan["code"].tolist()
    for name, gen, func in (("titles", TitlesBaseline(), titles_baseline), ("naive_bullets", NaiveBullets(), naive_bullets)):
        by_name, by_object = generate(notes, plan, generator=name, seed=2), generate(notes, plan, generator=gen, seed=2)
        assert same(by_name.lines, func(notes, codes, seed=2)) and same(by_object.lines, by_name.lines)
        assert set(by_name.lines["generator"]) == {name} and by_name.stats["generator"] == name
        assert set(by_name.shortfall["code"]) == set(codes)  # fewer lines than planned, and said so


def test_generator_option_is_validated(notes: pd.DataFrame, plan: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match=r"LLMGenerator\(LLMConfig\(\.\.\.\), journal_path=\.\.\.\)"):
        generate(notes, plan, generator="openai")
    with pytest.raises(ConfigError, match="The 'generator' parameter of generate must be one of"):
        generate(notes, plan, generator="gpt")
    with pytest.raises(ConfigError, match="The 'generator' parameter of generate must be a generator name"):
        generate(notes, plan, generator=object())
    with pytest.raises(ConfigError, match="The 'target_level' parameter of generate must be one of"):
        generate(notes, plan, target_level="sections")
    with pytest.raises(ConfigError, match="must have a 'target' column"):
        generate(notes, plan.drop(columns="target"))


def test_generation_result_saves_and_loads(notes: pd.DataFrame, tmp_path) -> None:  # type: ignore[no-untyped-def]
    plan = pd.DataFrame({"target": ["U", "B"], "code": ["99.00", "08.12"], "n_samples": [5000, 3]})
    res = generate(notes, plan, seed=0)
    res.save(tmp_path / "gen")
    back = GenerationResult.load(tmp_path / "gen")
    assert back.lines.equals(res.lines) and back.shortfall.equals(res.shortfall) and back.stats == res.stats
    assert list(back.rejected.columns) == list(res.rejected.columns) and back.rejected.empty
    assert not list((tmp_path / "gen").glob("*.tmp"))
    res.stats["when"] = pd.Timestamp("2026-01-01")
    with pytest.raises(ConfigError, match="JSON-able"):
        res.save(tmp_path / "bad")


def test_personas_are_applied_and_recorded(notes: pd.DataFrame, plan: pd.DataFrame) -> None:
    from statcodgen.personas.persona import Persona

    personas = [Persona(id="low", casing="lower", typo_rate=0.0, abbreviation_rate=0.0),
                Persona(id="up", casing="upper", typo_rate=0.0, abbreviation_rate=0.0)]
    out = generate_offline(notes, plan, seed=0, personas=personas)
    assert set(out["persona_id"]) == {"low", "up"}
    low = out[out["persona_id"] == "low"]["text"]
    assert (low == low.str.lower()).all()


def test_personas_fit_the_code(notes: pd.DataFrame, plan: pd.DataFrame) -> None:
    """Lines of section U are declared by the international body, mining and baking by market units;
    a persona table without business contexts is used whole."""
    from statcodgen.personas.persona import Persona

    personas = [Persona(id="embassy", business_context="international_body", casing="lower"),
                Persona(id="shop", business_context="sole_trader"), Persona(id="firm", business_context="sme"),
                Persona(id="family", business_context="household_employer")]
    out = generate_offline(notes, plan, seed=0, personas=personas)
    assert set(out.loc[out["label"] == "U", "persona_id"]) == {"embassy"}
    assert set(out.loc[out["label"] != "U", "persona_id"]) == {"shop", "firm"}
    bare = [Persona(id="a"), Persona(id="b")]
    assert set(generate_offline(notes, plan, seed=0, personas=bare)["persona_id"]) == {"a", "b"}


def test_small_persona_pools_are_reported(notes: pd.DataFrame, plan: pd.DataFrame, caplog: pytest.LogCaptureFixture) -> None:
    from statcodgen.personas.persona import Persona

    personas = [Persona(id=f"s{i}", business_context="sme") for i in range(25)] + [
        Persona(id="embassy", business_context="international_body")]
    with caplog.at_level("WARNING", logger="statcodgen"):
        generate_offline(notes, plan, seed=0, personas=personas)
    assert "1 planned code(s) draw their style from fewer than 20 personas (smallest: 99.00 with 1 of 26)" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="statcodgen"):
        generate_offline(notes, plan[plan["code"] != "99.00"], seed=0, personas=personas)
    assert caplog.text == ""


def test_styled_lines_keep_their_most_specific_word(notes: pd.DataFrame, plan: pd.DataFrame) -> None:
    """A persona who mistypes every word still leaves the word that says what the line is: its most
    specific word (a title word when it has one) escapes typos and truncation."""
    from statcodgen.personas.persona import Persona

    clumsy = [Persona(id="t", length="terse", typo_rate=1.0, abbreviation_rate=0.0, business_context="sme")]
    out = generate_offline(notes, plan[plan["code"] == "08.12"], seed=0, personas=clumsy)
    row = notes.set_index("code").loc["08.12"]
    note_words = set(re.sub(r"[^A-Z ]", " ", " ".join([row["title"], *row["includes"], *row["also_includes"]]).upper()).split())
    note_words -= {"OF", "AND", "AT", "THE"}
    kept = out["text"].map(lambda t: bool(note_words & set(re.sub(r"[^A-Z ]", " ", t).split())))
    assert kept.all(), out.loc[~kept, "text"].tolist()
    plain_words = generate_offline(notes, plan[plan["code"] == "08.12"], seed=0)["text"].str.split().map(len)
    assert out["text"].str.split().map(len).mean() <= plain_words.mean()


def test_bad_inputs(notes: pd.DataFrame, plan: pd.DataFrame) -> None:
    with pytest.raises(InputError, match="'07.10' is not in the notes"):
        generate_offline(notes, pd.DataFrame({"code": ["07.10"], "n_samples": [3]}))
    with pytest.raises(ConfigError, match="'language' parameter of generate_offline"):
        generate_offline(notes, plan, language="xx")
    with pytest.raises(ConfigError, match="code, n_samples"):
        generate_offline(notes, pd.DataFrame({"codes": ["08.12"]}))
    with pytest.raises(InputError, match="lacks column"):
        generate_offline(notes.drop(columns="title"), plan)


_LANG_WORDS = {
    "en": {"mining", "extraction", "quarrying", "manufacture", "production", "of"},
    "fr": {"extraction", "exploitation", "fabrication", "production", "de", "des", "du"},
    "es": {"extracción", "explotación", "fabricación", "producción", "de", "del"},
}
_OTHER_WORDS = {"en": {"de", "del", "des"}, "fr": {"of", "the", "del"}, "es": {"of", "the", "des", "du"}}


@pytest.mark.parametrize("folder,name,kwargs,lang", [
    ("nace_rev2_notes_en", "nace_rev2_notes_en.csv", {}, "en"),
    ("naf2025_notes_fr", "NAFclasses.xlsx", {}, "fr"),
    ("cnae2009_notes_es", "cnae2009_notes_es.csv", {"system": "nace_rev2"}, "es"),
])
def test_real_layouts(shared_data, folder: str, name: str, kwargs: dict, lang: str) -> None:
    from statcodgen.generation.plan import generation_plan
    from statcodgen.sources.notes import load_notes

    notes = load_notes(shared_data / folder / name, **kwargs)
    assert notes.attrs["language"] == lang
    plan = generation_plan(notes, targets=["B"], n_per_target=150)
    out = generate_offline(notes, plan, seed=0)
    short = generate(notes, plan, seed=0, progress=False).shortfall
    missing = int((short["planned"] - short["produced"]).sum())
    assert len(out) + missing == 150 and len(out) >= 140  # thin notes: a reported shortfall, never padding
    assert not out.duplicated(["code", "text"]).any()
    words = out["text"].str.lower().str.split().explode()
    assert words.isin(_LANG_WORDS[lang]).sum() > 0.2 * len(out)  # activity nouns of the right language
    assert words.isin(_OTHER_WORDS[lang]).sum() < 0.02 * len(out)
    by_code = notes.set_index("code")
    titles = " ".join(notes.loc[notes["section"] == "B", "title"]).lower()  # ancestors' titles are used too
    hits = 0
    for row in out.itertuples():
        note = by_code.loc[row.code]
        source = " ".join([titles, *note.includes, *note.also_includes, note.includes_text]).lower()
        hits += any(w[:5] in source for w in re.findall(r"\w{4,}", row.text.lower()))
    assert hits >= 0.95 * len(out)


@pytest.mark.slow
def test_reduced_measure_offline_beats_titles(shared_data) -> None:
    """One seed of benchmarks/bench_measure.py: offline lines must beat titles on mean F1 of B, O, T, U."""
    spec = importlib.util.spec_from_file_location("bench_measure", _bench_path())
    bm = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(bm)
    res = bm.run_measure(seeds=(0,), per_class=30, variants=("titles", "offline"), base=shared_data)
    scores = res.set_index("variant")["mean_F1_BOTU"]
    assert scores["offline"] > scores["titles"] + 0.1, scores.to_dict()
    acc = res.set_index("variant")["accuracy"]
    assert acc["offline"] >= acc["titles"] - 0.01


def _bench_path():
    from pathlib import Path

    return Path(__file__).resolve().parents[1] / "benchmarks" / "bench_measure.py"


def test_random_module_state_untouched(notes: pd.DataFrame, plan: pd.DataFrame) -> None:
    random.seed(123)
    before = random.random()
    random.seed(123)
    generate_offline(notes, plan, seed=0)
    assert random.random() == before


def test_a_preparation_of_ores_is_no_manufacture() -> None:
    """"mining and preparation of ores: cobalt" gave "COBALT MAKER" and "TANTALUM MANUFACTURER" (issue 11):
    preparing, processing and refining keep their own noun (our words, not an official text)."""
    lines = {line for _, line in candidate_lines(["mining and preparation of sapphire gravels: corundum, spinel"], language="en")}
    assert {"corundum preparation", "preparation of corundum", "corundum mining"} <= lines
    assert not any("maker" in line or "manufactur" in line for line in lines)
    made = {line for _, line in candidate_lines(["manufacture of glass beads"], language="en")}
    assert "glass beads manufacturer" in made  # a manufacture still has its maker
