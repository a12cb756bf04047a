"""Prompts: items, the Excludes and the levels above given to templates, hierarchy, persona slot,
languages, user override folder, JSON mode, examples (generic and real), prompt ids, bad input.
(Template version 3, issue 12: the package's prompts no longer list the Excludes, the levels above
and the wording conditions; tests/test_llm_prompts_plan.py covers the focus and the sibling titles.)"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from statcodgen.errors import ConfigError, DataFormatError, InputError
from statcodgen.generation.prompts import (TEMPLATE_VERSION, available_languages, build_messages, examples_from_real,
                                           prompt_id_for, render_context)

# One note row in the load_notes() schema, in our own words.
NOTE = {
    "code": "08.12",
    "level": "class",
    "parent": "08.1",
    "section": "B",
    "title": "Working of sand and gravel pits",
    "includes": ["dredging of building sand", "crushing of gravel: river gravel, sea gravel"],
    "also_includes": ["washing of sand at the pit"],
    "excludes": ["digging of tar sand, see 06.10", "cutting of stone away from the pit, see 23.70"],
    "includes_text": "", "also_includes_text": "", "excludes_text": "",
}


def _user(messages: list[dict[str, str]]) -> str:
    assert [m["role"] for m in messages] == ["system", "user"]
    return messages[1]["content"]


def test_items_negatives_and_codes_in_the_prompt() -> None:
    user = _user(build_messages(NOTE, language="en", n_lines=12))
    assert user.startswith("Class 08.12: Working of sand and gravel pits") and "Write 12 " in user
    for item in ("dredging of building sand", "washing of sand at the pit"):
        assert f"- {item}" in user
    assert "crushing of gravel: river gravel, sea gravel" in user
    assert "UPPERCASE" in user and "one per line" in user
    # version 3 leaves the Excludes out of the package's prompts (a weak model writes what it is told not to);
    # a user template still gets them, with their codes
    assert "tar sand" not in user
    ctx = render_context(NOTE)
    assert ctx["excludes"] == [{"text": "digging of tar sand", "codes": ["06.10"]},
                               {"text": "cutting of stone away from the pit", "codes": ["23.70"]}]


def test_series_row_and_hierarchy_titles() -> None:
    from statcodgen.classification.hierarchy import Hierarchy

    row = pd.Series(NOTE)
    user = _user(build_messages(row, language="en", hierarchy=Hierarchy.builtin("nace_rev2")))
    assert "Not this class" not in user  # the built-in tree has the codes, not their titles
    rows = [("B", "section", None, "PITS AND MINES"), ("08", "division", "B", "Other pits"),
            ("08.1", "group", "08", "Pits of sand and stone"), ("08.12", "class", "08.1", NOTE["title"]),
            ("08.11", "class", "08.1", "Stone quarries")]
    notes = pd.DataFrame(rows, columns=["code", "level", "parent", "title"])
    notes["section"] = "B"
    h = Hierarchy.from_notes(notes)
    assert "Not this class: Stone quarries." in _user(build_messages(row, language="en", hierarchy=h))
    ancestors = render_context(row, hierarchy=h)["ancestors"]  # the levels above, section first, for user templates
    assert [a["code"] for a in ancestors] == ["B", "08", "08.1"] and ancestors[0]["title"] == "PITS AND MINES"
    assert "Not this class" not in _user(build_messages(row, language="en"))


@pytest.mark.parametrize("lang,marker,negative", [
    ("fr", "MAJUSCULES", "Cette sous-classe comprend"),
    ("en", "UPPERCASE", "This class includes"),
    ("es", "MAYÚSCULAS", "Esta clase comprende"),
])
def test_language_selection(lang: str, marker: str, negative: str) -> None:
    messages = build_messages(NOTE, language=lang)
    assert marker in messages[1]["content"] and negative in messages[1]["content"]
    assert {"fr": "NAF", "en": "NACE", "es": "CNAE"}[lang] in messages[0]["content"]
    assert set(available_languages()) >= {"fr", "en", "es"}


def test_persona_slot() -> None:
    from statcodgen.personas.persona import Persona, personas_from_frame, sample_personas

    persona = Persona(id="p7", description="a retired quarry foreman from Wales", occupation="foreman",
                      register="informal", length="short")
    system = build_messages(NOTE, language="en", persona=persona)[0]["content"]
    assert system.count("a retired quarry foreman from Wales") == 1
    assert persona.to_prompt("en") in system  # the persona's own paragraph fills the slot
    assert "Write as this person would declare their activity." in system
    sampled = sample_personas(20, locale="fr_FR", seed=3)
    row = sampled.iloc[0]
    fr = build_messages(NOTE, language="fr", persona=personas_from_frame(sampled)[0])[0]["content"]
    assert f"{int(row['age'])} ans" in fr and row["city"] in fr and "Style d'écriture" in fr
    assert fr == build_messages(NOTE, language="fr", persona=row)[0]["content"]  # a frame row works too
    plain = build_messages(NOTE, language="en")[0]["content"]
    assert "declarant" not in plain
    as_dict = build_messages(NOTE, language="fr", persona={"persona_id": "x", "description": "une boulangère"})
    assert "une boulangère" in as_dict[0]["content"]


def test_json_mode_and_request_index() -> None:
    user = _user(build_messages(NOTE, language="en", json_output=True))
    assert '{"lines": ["...", "..."]}' in user
    assert '{"lines"' not in _user(build_messages(NOTE, language="en"))
    # version 3 does not ask a repeated request for "other wordings" (it made a weak model drift): the rank is
    # given to templates, and the package's use a focus instead (tests/test_llm_prompts_plan.py)
    assert _user(build_messages(NOTE, language="en", request_index=2)) == _user(build_messages(NOTE, language="en"))
    assert render_context(NOTE, request_index=2)["request_index"] == 2
    assert '{"lines"' in _user(build_messages(NOTE, language="es", json_output=True))


def test_examples_generic_and_real() -> None:
    generic = _user(build_messages(NOTE, language="en"))
    assert "bakery" in generic
    real = _user(build_messages(NOTE, language="en", examples=["Sand pit", "gravel digging"]))
    assert "SAND PIT\nGRAVEL DIGGING" in real and "bakery" not in real


def test_user_template_folder_overrides_and_adds_languages(tmp_path: Path) -> None:
    (tmp_path / "prompt_user.en.j2").write_text("CUSTOM {{ code }} {{ includes | length }} {{ excludes[0].codes[0] }}")
    messages = build_messages(NOTE, language="en", template_dir=tmp_path)
    assert messages[1]["content"] == "CUSTOM 08.12 2 06.10"
    assert "NACE" in messages[0]["content"]  # system template still from the package
    assert prompt_id_for(language="en", template_dir=tmp_path) != prompt_id_for(language="en")
    (tmp_path / "prompt_system.it.j2").write_text("Sei un esperto ATECO.")
    (tmp_path / "prompt_user.it.j2").write_text("Scrivi {{ n_lines }} righe per {{ code }}.")
    it = build_messages(NOTE, language="it", template_dir=tmp_path, n_lines=4)
    assert it[1]["content"] == "Scrivi 4 righe per 08.12."
    with pytest.raises(ConfigError, match="'language' parameter of build_messages"):
        build_messages(NOTE, language="it")
    with pytest.raises(ConfigError, match="template_dir"):
        build_messages(NOTE, language="en", template_dir=tmp_path / "missing")


def test_broken_user_template_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "prompt_user.en.j2").write_text("{{ no_such_variable }}")
    with pytest.raises(ConfigError, match="render_context"):
        build_messages(NOTE, language="en", template_dir=tmp_path)


def test_prompt_id_is_stable_and_mode_dependent() -> None:
    a = prompt_id_for(language="fr")
    assert a == prompt_id_for(language="fr") and a.startswith(f"fr-v{TEMPLATE_VERSION}-")
    assert a != prompt_id_for(language="fr", json_output=True) and a != prompt_id_for(language="en")


def test_bad_inputs() -> None:
    with pytest.raises(ConfigError, match="'note' parameter"):
        build_messages(["08.12"], language="en")
    with pytest.raises(InputError, match="lacks 'code' or 'title'"):
        build_messages({"code": "08.12"}, language="en")
    with pytest.raises(ConfigError, match="'n_lines' parameter"):
        build_messages(NOTE, language="en", n_lines=0)
    with pytest.raises(ConfigError, match="'language' parameter"):
        build_messages(NOTE, language="de")
    with pytest.raises(ConfigError, match="'persona' parameter"):
        build_messages(NOTE, language="en", persona=42)


def test_examples_from_real_same_code_then_siblings() -> None:
    real = pd.DataFrame({
        "text": ["sand pit", "gravel pit", "Sand pit ", "stone quarry", "clay pit", "bakery"],
        "code": ["08.12", "08.12", "08.12", "08.11", "08.12", "10.71"],
    })
    ex = examples_from_real(real, "08.12", k=2, seed=0)
    assert len(ex) == 2 and {e.casefold() for e in ex} <= {"sand pit", "gravel pit", "clay pit"}
    assert ex == examples_from_real(real, "08.12", k=2, seed=0)
    more = examples_from_real(real, "08.12", k=10, seed=0)
    assert {e.casefold() for e in more} == {"sand pit", "gravel pit", "clay pit", "stone quarry"}  # no 10.71
    assert len(more) == 4  # "Sand pit " and "sand pit" are one example
    assert more.index("stone quarry") == 3
    assert examples_from_real(real, "99.00", k=3) == []
    with pytest.raises(DataFormatError, match="'code'"):
        examples_from_real(real.rename(columns={"code": "nace"}), "08.12")
