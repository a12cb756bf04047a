"""Personas: sampler coherence and marginals, Persona records, loaders, text-to-persona, dedup, assignment."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from statcodgen.errors import ConfigError, DataFormatError
from statcodgen.personas import (
    BUSINESS_CONTEXTS,
    EDUCATION_LEVELS,
    MIN_AGE_BY_EDUCATION,
    PENSION_AGE,
    TRAITS,
    Persona,
    assign_personas,
    build_persona_expansion_requests,
    build_text_to_persona_requests,
    dedup_personas,
    load_marginals,
    load_personas,
    parse_persona_answers,
    personas_from_frame,
    sample_personas,
    text_to_persona,
    trait_description,
    trait_level,
)

FIX = Path(__file__).parent / "fixtures"
N = 10_000


@pytest.fixture(scope="module", params=["fr_FR", "en_GB"])
def big(request) -> pd.DataFrame:
    return sample_personas(N, locale=request.param, seed=7)


# ------------------------------------------------------------------------------------ sampler
def test_sample_is_deterministic_and_seed_sensitive():
    a = sample_personas(300, locale="fr_FR", seed=3)
    b = sample_personas(300, locale="fr_FR", seed=3)
    c = sample_personas(300, locale="fr_FR", seed=4)
    pd.testing.assert_frame_equal(a, b)
    assert not a.drop(columns=["persona_id", "source"]).equals(c.drop(columns=["persona_id", "source"]))
    assert a["persona_id"].is_unique
    assert a["persona_id"].iloc[12] == "fr_FR-s3-000012"
    # a prefix of a larger sample is not required, but the same call must give the same first rows
    assert sample_personas(0, seed=1).empty


def test_dependencies_hold_on_10000(big):
    locale = big["locale"].iloc[0]
    assert len(big) == N
    assert big["age"].between(18, 90).all()
    retired = big["employment_status"] == "retired"
    assert (big.loc[retired, "age"] >= 50).all()
    assert (big["early_retirement"] == (retired & (big["age"] < PENSION_AGE[locale]))).all()
    assert big["early_retirement"].sum() > 0  # the flag is exercised
    min_age = big["education"].map(MIN_AGE_BY_EDUCATION)
    assert min_age.notna().all() and (big["age"] >= min_age).all()
    assert not ((big["education"] == "doctorate") & (big["age"] < 26)).any()
    students = big["employment_status"] == "student"
    assert (big.loc[students, "age"] < 35).all()
    assert (big.loc[students, "occupation_group"] == "none").all()
    assert set(big["business_context"]) <= set(BUSINESS_CONTEXTS)
    intl = big[big["business_context"] == "international_body"]
    assert len(intl) > 0
    assert (intl["employment_status"] == "employee").all()
    assert set(intl["occupation_group"]) <= {"manager", "professional", "associate_professional", "clerical"}
    public = big[big["business_context"] == "public_body"]
    assert (public["employment_status"] == "employee").all()
    assert not set(public["occupation_group"]) & {"agricultural", "craft"}
    house = big[big["business_context"] == "household_employer"]
    ok = house["employment_status"].isin(["retired", "inactive"]) | house["occupation_group"].isin(
        ["manager", "professional", "associate_professional"])
    assert ok.all()
    self_emp = big["employment_status"] == "self_employed"
    assert big.loc[self_emp, "business_context"].isin(["sole_trader", "micro_enterprise", "sme", "association"]).all()
    # cities belong to their region
    regions = load_marginals(locale)["regions"]
    cities = {r: set(c.split(";")) for r, c in zip(regions["region"], regions["cities"])}
    assert all(city in cities[reg] for reg, city in zip(big["region"], big["city"]))


def test_big_five_and_style(big):
    for t in TRAITS:
        assert big[t].between(20, 80).all()
        assert abs(big[t].mean() - 50) < 0.5  # 4 sigma of the mean of N(50,10), n=10,000
        assert (big[t + "_label"] == big[t].map(trait_level)).all()
        assert 9.0 < big[t].std() < 10.5  # clipping only trims the tails
    assert set(big["length"]) == {"terse", "medium", "verbose"}
    assert set(big["register"]) == {"plain", "formal", "technical"}
    assert set(big["casing"]) == {"upper", "lower", "title", "mixed"}
    assert big["abbreviation_rate"].between(0, 0.7).all() and big["typo_rate"].between(0, 0.1).all()
    # style follows personality: conscientious people make fewer typos and abbreviate less
    hi = big["conscientiousness"] >= 60
    lo = big["conscientiousness"] <= 40
    assert big.loc[hi, "typo_rate"].mean() < big.loc[lo, "typo_rate"].mean()
    assert big.loc[hi, "abbreviation_rate"].mean() < big.loc[lo, "abbreviation_rate"].mean()
    assert big.loc[big["length"] == "terse", "abbreviation_rate"].mean() > big.loc[big["length"] == "verbose",
                                                                                  "abbreviation_rate"].mean()


def _within_4_sigma(observed: pd.Series, expected: pd.Series, n: int) -> None:
    exp = expected / expected.sum()
    obs = observed.reindex(exp.index, fill_value=0) / n
    sigma = np.sqrt(exp * (1 - exp) / n)
    bad = (obs - exp).abs() > 4 * sigma + 1e-12
    assert not bad.any(), pd.DataFrame({"observed": obs, "expected": exp, "sigma": sigma})[bad]


def test_marginals_match_stored_tables(big):
    locale = big["locale"].iloc[0]
    m = load_marginals(locale)
    _within_4_sigma(big["age_band"].value_counts(), m["age_bands"].set_index("age_band")["share"], N)
    _within_4_sigma(big["sex"].value_counts(), m["sex"].set_index("sex")["share"], N)
    _within_4_sigma(big["region"].value_counts(), m["regions"].set_index("region")["share"], N)
    # conditional tables, in bands where no age rule truncates them
    for band in ("35-49", "50-59", "65-74"):
        sub = big[big["age_band"] == band]
        edu = m["education"][m["education"]["age_band"] == band].set_index("education")["share"]
        _within_4_sigma(sub["education"].value_counts(), edu, len(sub))
        emp = m["employment"][m["employment"]["age_band"] == band].set_index("employment_status")["share"]
        _within_4_sigma(sub["employment_status"].value_counts(), emp, len(sub))
    sub = big[(big["education"] == "master") & (big["employment_status"] != "student")]
    og = m["occupation_groups"]
    _within_4_sigma(sub["occupation_group"].value_counts(),
                    og[og["education"] == "master"].set_index("occupation_group")["share"], len(sub))


def test_marginal_tables_are_well_formed():
    for locale in ("fr_FR", "en_GB"):
        m = load_marginals(locale)
        assert abs(m["age_bands"]["share"].sum() - 1) < 0.02
        assert abs(m["regions"]["share"].sum() - 1) < 0.02
        for key in ("education", "employment"):
            sums = m[key].groupby("age_band")["share"].sum()
            assert ((sums - 1).abs() < 0.011).all(), sums
        assert set(m["education"]["education"]) == set(EDUCATION_LEVELS)
        assert ((m["occupation_groups"].groupby("education")["share"].sum() - 1).abs() < 0.011).all()
    bc = load_marginals("fr_FR")["business_context"]
    assert ((bc.groupby("key")["share"].sum() - 1).abs() < 0.011).all()


def test_sampler_validation():
    with pytest.raises(ConfigError, match="'locale' parameter of sample_personas"):
        sample_personas(5, locale="de_DE")
    with pytest.raises(ConfigError, match="'n' parameter"):
        sample_personas(-1)
    with pytest.raises(ConfigError, match="'seed' parameter"):
        sample_personas(3, seed=1.5)


# -------------------------------------------------------------------------------- persona record
def test_trait_levels_and_descriptions():
    cases = {20: "very_low", 34.9: "very_low", 35: "low", 44.9: "low", 45: "average", 54.9: "average",
             55: "high", 64.9: "high", 65: "very_high", 80: "very_high"}
    for t, lab in cases.items():
        assert trait_level(t) == lab
    for trait in TRAITS:
        for level in ("very_low", "low", "average", "high", "very_high"):
            for lang in ("en", "fr", "es"):
                assert len(trait_description(trait, level, lang)) > 8
    with pytest.raises(DataFormatError):
        trait_description("openness", "high", "de")


def test_frame_round_trip_and_prompts():
    df = sample_personas(20, locale="fr_FR", seed=11)
    ps = personas_from_frame(df)
    assert all(isinstance(p, Persona) for p in ps)
    back = pd.DataFrame([p.to_dict() for p in ps])
    for col in ("persona_id", "age", "region", "city", "occupation", "business_context", "casing",
                "openness_label", "typo_rate"):
        assert back[col].tolist() == df[col].tolist(), col
    p = ps[0]
    with pytest.raises(Exception):
        p.age = 3  # frozen
    fr, en, es = p.to_prompt("fr"), p.to_prompt("en"), p.to_prompt("es")
    assert f"{p.age} ans" in fr and p.city in fr and fr.endswith("déclarerait son activité.")
    assert f"{p.age}-year-old" in en and "declare their activity" in en
    assert f"{p.age} años" in es and "declararía su actividad" in es
    assert len({fr, en, es}) == 3
    with pytest.raises(ConfigError, match="'language' parameter of Persona.to_prompt"):
        p.to_prompt("de")
    terse = Persona(id="x", length="terse", abbreviation_rate=0.5, typo_rate=0.05, uses_lists=True,
                    description="A roofer from Brest who writes in capitals")
    txt = terse.to_prompt("en")
    assert "A roofer from Brest" in txt and "abbreviates a lot" in txt and "typo" in txt and "commas" in txt


def test_personas_from_frame_needs_id():
    with pytest.raises(DataFormatError, match="persona_id"):
        personas_from_frame(pd.DataFrame({"description": ["a"]}))


# ------------------------------------------------------------------------------------ loaders
def test_load_nemotron_parquet():
    df = load_personas(FIX / "personas_nemotron.parquet")
    assert df.attrs["format"] == "nemotron" and df.attrs["text_column"] == "professional_persona"
    # the retired teacher has no professional persona: dropped and listed
    assert len(df) == 3 and df.attrs["dropped_rows"] == [(2, "empty_description")]
    assert df["persona_id"].tolist() == ["3f1c0a4e-0001", "3f1c0a4e-0002", "3f1c0a4e-0004"]
    assert df["sex"].tolist() == ["male", "female", "male"]
    assert df["age"].tolist() == [47, 33, 58]
    assert df["city"].iloc[1] == "Lille" and df["region"].iloc[2] == "Occitanie"
    assert df["occupation"].iloc[0] == "plombier chauffagiste"
    assert df["source_row"].tolist() == [0, 1, 3] and (df["source"] == "personas_nemotron.parquet").all()
    full = load_personas(FIX / "personas_nemotron.parquet", text_column="persona")
    assert len(full) == 4 and full["description"].iloc[2].startswith("Jeanne, 71")
    ps = personas_from_frame(full)
    assert ps[3].age == 58 and ps[3].description.startswith("Pedro")


def test_load_personahub_jsonl():
    df = load_personas(FIX / "personas_personahub.jsonl")
    assert df.attrs["format"] == "personahub" and df.attrs["text_column"] == "input persona"
    assert len(df) == 4 and df.attrs["dropped_rows"] == [(3, "empty_description")]
    assert df["persona_id"].tolist()[0] == "personas_personahub-000000"
    assert df["description"].iloc[1].startswith("An embassy administrator")


def test_load_generic_csv_needs_text_column():
    with pytest.raises(DataFormatError) as e:
        load_personas(FIX / "personas_generic.csv")
    msg = str(e.value)
    assert "personas_generic.csv" in msg and "text_column" in msg and "'who'" in msg
    df = load_personas(FIX / "personas_generic.csv", text_column="who")
    assert df["persona_id"].tolist() == ["g1", "g2", "g3"]
    assert df["sex"].tolist() == ["female", "male", "male"] and df["city"].tolist() == ["Rennes", "Nantes", "Lyon"]
    with pytest.raises(DataFormatError, match=r"column 'bio'"):
        load_personas(FIX / "personas_generic.csv", text_column="bio")


@pytest.mark.parametrize("name, pattern", [
    ("personas_empty.csv", "empty"),
    ("personas_badline.jsonl", r"row 2.*not valid JSON"),
    ("personas_corrupt.parquet", "cannot read"),
    ("does_not_exist.csv", "not found"),
])
def test_bad_files(name, pattern):
    with pytest.raises(DataFormatError, match=pattern) as e:
        load_personas(FIX / name)
    assert name in str(e.value)


def test_bad_files_written_here(tmp_path):
    header_only = tmp_path / "header.csv"
    header_only.write_text("persona\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match="no rows"):
        load_personas(header_only)
    blank = tmp_path / "blank.csv"
    blank.write_text("persona,age\n ,3\n,4\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match="every persona text is empty"):
        load_personas(blank)
    dup = tmp_path / "dup.csv"
    dup.write_text("id,persona\na,one person\na,another person\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match="duplicate persona id 'a'"):
        load_personas(dup)
    odd = tmp_path / "p.xml"
    odd.write_text("<x/>", encoding="utf-8")
    with pytest.raises(DataFormatError, match="extension"):
        load_personas(odd)
    with pytest.raises(ConfigError):
        load_personas(dup, format="yaml")


# --------------------------------------------------------------------------- text-to-persona
REAL = pd.DataFrame({
    "text": ["plomberie chauffage", "", "vente de pain et viennoiseries", "conseil en informatique",
             "taxi", "location de gites ruraux"],
    "code": ["43.22A", "47.24Z", "10.71C", "62.02A", "49.32Z", "55.20Z"],
}, index=[10, 11, 12, 13, 14, 15])


def test_build_text_to_persona_requests():
    req = build_text_to_persona_requests(REAL, language="fr", n=3, seed=2)
    assert len(req) == 3 and set(req["source_row"]) <= {10, 12, 13, 14, 15}
    assert req.equals(build_text_to_persona_requests(REAL, language="fr", n=3, seed=2))
    for r in req.to_dict("records"):
        assert r["messages"][0]["role"] == "system" and r["source_text"] in r["messages"][1]["content"]
        assert "Qui a probablement écrit" in r["messages"][1]["content"]
        assert r["code"] == REAL.loc[r["source_row"], "code"]
    all_rows = build_text_to_persona_requests(REAL, language="en", n=50, seed=0)
    assert len(all_rows) == 5  # the empty text is skipped
    with pytest.raises(DataFormatError, match="'libelle'"):
        build_text_to_persona_requests(REAL, language="en", n=2, seed=0, text_col="libelle")
    with pytest.raises(ConfigError):
        build_text_to_persona_requests(REAL, language="de", n=2, seed=0)


def test_parse_persona_answers_keeps_failures():
    meta = lambda i: {"request_id": f"t2p-0-{i:06d}", "prompt_id": "text_to_persona", "source_row": 10 + i,
                      "source_text": f"t{i}", "code": "01.11Z"}  # noqa: E731
    records = pd.DataFrame([
        {"key": "a" * 64, "status": "done", "raw": "Persona: A 50-year-old plumber from Lyon who writes tersely.",
         "error": None, "metadata": meta(0)},
        {"key": "b" * 64, "status": "done", "raw": "  ", "error": None, "metadata": meta(1)},
        {"key": "c" * 64, "status": "failed", "raw": None, "error": "HTTP 500", "metadata": meta(2)},
        {"key": "d" * 64, "status": "done", "raw": "Sorry, I cannot help with that request today.", "error": None,
         "metadata": meta(3)},
        {"key": "e" * 64, "status": "done", "raw": "A baker.", "error": None, "metadata": meta(4)},
        {"key": "f" * 64, "status": "done", "raw": "\"A young farmer in Brittany who sells eggs.\"\n\nExtra notes.",
         "error": None, "metadata": meta(5)},
    ])
    personas, failed = parse_persona_answers(records)
    assert personas["description"].tolist() == ["A 50-year-old plumber from Lyon who writes tersely.",
                                                "A young farmer in Brittany who sells eggs."]
    assert personas["source_row"].tolist() == [10, 15] and personas["persona_id"].iloc[0] == "text_to_persona-aaaaaaaaaaaa"
    assert dict(zip(failed["source_row"], failed["reason"])) == {11: "empty_answer", 12: "request_failed",
                                                                13: "refusal", 14: "too_short"}
    only = parse_persona_answers(records, requests=pd.DataFrame({"request_id": ["t2p-0-000000"]}))[0]
    assert len(only) == 1


def test_text_to_persona_through_local_server(tmp_path):
    from statcodgen.llm.config import LLMConfig
    from statcodgen.testing import OpenAIStubServer

    def responder(body):
        user = body["messages"][-1]["content"]
        activity = user.split('"')[1]
        return f"A self-employed person in Nantes whose business is {activity}, writing short lines."

    with OpenAIStubServer(responder=responder) as srv:
        cfg = LLMConfig(model="stub", base_url=srv.base_url, concurrency=2, max_retries=1, backoff_base=0.01)
        journal = tmp_path / "t2p.sqlite"
        personas, failed = text_to_persona(REAL, config=cfg, journal_path=journal, language="en", n=4, seed=1,
                                           expand=True, progress=False)
        assert failed.empty
        first = personas[personas["source"] == "text_to_persona"]
        assert len(first) == 4 and len(personas) == 8
        for r in first.to_dict("records"):
            assert REAL.loc[r["source_row"], "text"] in r["description"]
        sent = len(srv.requests)
        again, _ = text_to_persona(REAL, config=cfg, journal_path=journal, language="en", n=4, seed=1,
                                   expand=True, progress=False)
        assert len(srv.requests) == sent  # everything came from the journal
        pd.testing.assert_frame_equal(again, personas)
    expansion = build_persona_expansion_requests(first, language="fr", n=2, seed=0)
    assert set(expansion["source_row"]) <= set(first["persona_id"]) and "Décris" in expansion["messages"][0][1]["content"]


def test_dedup_personas():
    df = pd.DataFrame({
        "persona_id": ["p1", "p2", "p3", "p4"],
        "description": ["A retired baker in Lyon who writes short lines in capitals",
                        "a retired baker in Lyon, who writes short lines in capitals!",
                        "A young developer in Paris building shop websites",
                        "A retired baker in Lyon who writes short lines in capitals and abbreviates"],
    })
    kept, dropped = dedup_personas(df, threshold=0.8)
    assert len(kept) == 2 and "p3" in set(kept["persona_id"])
    baker = (set(kept["persona_id"]) - {"p3"}).pop()
    assert set(dropped["persona_id"]) == {"p1", "p2", "p4"} - {baker}
    assert (dropped["duplicate_of"] == baker).all()
    assert set(dropped["reason"]) <= {"exact_duplicate", "near_duplicate"}
    shuffled, _ = dedup_personas(df.iloc[::-1], threshold=0.8)
    assert set(shuffled["persona_id"]) == set(kept["persona_id"])  # order-independent choice
    strict, sdrop = dedup_personas(df, threshold=0.99)
    assert len(strict) == 3 and sdrop["reason"].tolist() == ["exact_duplicate"]
    with pytest.raises(ConfigError):
        dedup_personas(df, threshold=0)


# ---------------------------------------------------------------------------------- assignment
def test_assign_personas():
    df = sample_personas(40, locale="en_GB", seed=2)
    rr = assign_personas(45, df)
    assert rr[:40] == df["persona_id"].tolist() and rr[40:] == df["persona_id"].tolist()[:5]
    rnd = assign_personas(200, df, strategy="random", seed=5)
    assert rnd == assign_personas(200, df, strategy="random", seed=5) and set(rnd) <= set(df["persona_id"])
    assert rnd != assign_personas(200, df, strategy="random", seed=6)
    st = assign_personas(140, df, strategy="stratified", seed=1)
    ctx = df.set_index("persona_id")["business_context"]
    counts = pd.Series([ctx[i] for i in st]).value_counts()
    assert counts.max() - counts.min() <= 1 and len(counts) == df["business_context"].nunique()
    assert assign_personas(3, personas_from_frame(df.head(2))) == [df["persona_id"][0], df["persona_id"][1],
                                                                   df["persona_id"][0]]
    with pytest.raises(DataFormatError, match="'nope'"):
        assign_personas(3, df, strategy="stratified", by="nope")
    with pytest.raises(DataFormatError):
        assign_personas(3, df.iloc[0:0])
    with pytest.raises(ConfigError, match="'strategy'"):
        assign_personas(3, df, strategy="greedy")
    codes = [("97.00", "T"), ("84.11", "O"), ("05.10", "B"), ("97.00", "T")]
    matched = assign_personas(4, df, strategy="matched", seed=1, codes=codes)
    ctx_of = dict(zip(df["persona_id"], df["business_context"]))
    assert [ctx_of[i] for i in matched[:2]] == ["household_employer", "public_body"]
    assert ctx_of[matched[2]] in ("sole_trader", "micro_enterprise", "sme")
    n_households = int((df["business_context"] == "household_employer").sum())
    assert (matched[0] != matched[3]) == (n_households > 1)  # cycles through the fitting personas
    bare = df.drop(columns="business_context")  # no contexts: any persona will do
    assert len(assign_personas(4, bare, strategy="matched", codes=codes)) == 4
    with pytest.raises(DataFormatError, match="one \\(code, section\\) per request"):
        assign_personas(4, df, strategy="matched", codes=codes[:2])


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_sampled_personas_round_trip_through_files(tmp_path, suffix):
    df = sample_personas(30, locale="en_GB", seed=9)
    path = tmp_path / f"sampled{suffix}"
    df.to_csv(path, index=False) if suffix == ".csv" else df.to_parquet(path, index=False)
    back = load_personas(path)
    assert back.attrs["format"] == "statcodgen"
    assert personas_from_frame(back) == personas_from_frame(df)
    bad = df.astype({"age": object})
    bad.loc[4, "age"] = "forty"
    bad_path = tmp_path / "bad.csv"
    bad.to_csv(bad_path, index=False)
    with pytest.raises(DataFormatError, match=r"bad.csv.*row 6.*column 'age'"):  # spreadsheet row (header = 1)
        load_personas(bad_path)


def test_contexts_for_code():
    from statcodgen.personas.persona import BUSINESS_CONTEXTS, MARKET_CONTEXTS, contexts_for_code

    assert contexts_for_code("97.00", "T") == ("household_employer",)
    assert contexts_for_code("84.11", "O") == ("public_body",)
    assert contexts_for_code("99", "") == ("international_body",)
    assert contexts_for_code("94.99", "S") == ("association",)
    assert contexts_for_code("93.12", "R") == (*MARKET_CONTEXTS, "association")
    assert contexts_for_code("05.10", "B") == MARKET_CONTEXTS
    assert contexts_for_code("O", "O") == ("public_body",)  # a section code alone
    assert set(MARKET_CONTEXTS) <= set(BUSINESS_CONTEXTS)
