"""format_output: clean lines out of raw LLM answers; every rejected line kept with a reason."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from statcodgen.llm.parsing import format_output


def test_numbering_bullets_markdown_quotes_dots() -> None:
    raw = (
        "1. Fabrication de tuiles en terre cuite.\n"
        "2) **Pose de carrelage**\n"
        "- « réparation de toitures »\n"
        "* \"vente de briques\"\n"
        "• culture de fraises sous serre...\n"
        "### Élevage de chèvres\n"
        "\n"
        "   `montage de charpentes`  \n"
    )
    r = format_output(raw)
    assert r.lines == [
        "FABRICATION DE TUILES EN TERRE CUITE", "POSE DE CARRELAGE", "RÉPARATION DE TOITURES",
        "VENTE DE BRIQUES", "CULTURE DE FRAISES SOUS SERRE", "ÉLEVAGE DE CHÈVRES", "MONTAGE DE CHARPENTES",
    ]
    assert r.rejected == []


def test_preambles_and_closings_in_three_languages() -> None:
    for pre in ("Voici 3 exemples d'activités :", "Here are some examples:", "Aquí tienes algunas actividades:"):
        r = format_output(f"{pre}\ntaille de pierres\nsciage de marbre\nJ'espère que cela vous aide !")
        assert r.lines == ["TAILLE DE PIERRES", "SCIAGE DE MARBRE"]
        assert r.rejected[0] == (pre, "preamble")
        assert r.rejected[1][1] == "closing"


def test_decimal_numbers_are_not_numbering() -> None:
    assert format_output("3.5 tonnes de ciment livrées\n2) a. sciage").lines == ["3.5 TONNES DE CIMENT LIVRÉES", "SCIAGE"]


def test_no_uppercase_and_whitespace() -> None:
    r = format_output("  fabrication   de\tpain  ", uppercase=False)
    assert r.lines == ["fabrication de pain"]


def test_prompt_echo_and_short_lines() -> None:
    prompt = ["Fabrication de tuiles et briques", "Exemple : pose de parquet"]
    raw = "fabrication de tuiles et briques.\nFabrication de tuiles et brique\nab\nvente de sable"
    r = format_output(raw, prompt_lines=prompt)
    assert r.lines == ["VENTE DE SABLE"]
    assert [reason for _, reason in r.rejected] == ["echo_prompt", "echo_prompt", "too_short"]


def test_json_list_and_objects() -> None:
    assert format_output('["a b c", "d e f"]').lines == ["A B C", "D E F"]
    r = format_output(json.dumps({"activities": ["1. sciage", "", 3, "tuilerie."]}), json_expected=True)
    assert r.json and r.lines == ["SCIAGE", "TUILERIE"]
    assert [reason for _, reason in r.rejected] == ["empty", "not_text"]
    r = format_output('```json\n{"lines": ["extraction de sel"]}\n```', json_expected=True)
    assert r.lines == ["EXTRACTION DE SEL"]
    r = format_output('{"lines": [{"text": "forage de puits"}]}')
    assert r.lines == ["FORAGE DE PUITS"]


def test_json_expected_falls_back_to_lines() -> None:
    r = format_output("- extraction de gravier\n- broyage de pierres", json_expected=True)
    assert not r.json and r.lines == ["EXTRACTION DE GRAVIER", "BROYAGE DE PIERRES"]
    r = format_output('{"lines": ["ok", broken', json_expected=True)
    assert not r.json and r.lines  # falls back to text lines, nothing raised


def test_empty_answers() -> None:
    assert format_output(None).rejected == [("", "empty")]
    assert format_output("   \n ").lines == []
    assert format_output("").rejected == [("", "empty")]


@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40), max_size=15))
@settings(max_examples=150, deadline=None)
def test_every_line_is_accounted_for(items: list[str]) -> None:
    raw = "\n".join(i.replace("\n", " ").replace("\r", " ") for i in items)
    r = format_output(raw)
    nonblank = [ln for ln in raw.splitlines() if ln.strip() and not ln.strip().startswith("```")]
    if not raw.lstrip().startswith(("[", "{")):
        assert len(r.lines) + len(r.rejected) >= len(nonblank) - 0
    assert all(line and line == line.strip() and line == line.upper() and "  " not in line for line in r.lines)
    assert all(isinstance(reason, str) for _, reason in r.rejected)
