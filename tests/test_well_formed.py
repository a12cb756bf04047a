"""The ``well_formed`` filter and the offline generator's cutting (issue 11 item 7).

Fixtures are written here (short notes in the layout of ``load_notes``, codes and titles only
borrowed from the classifications): lines cut in mid-phrase, unbalanced brackets, one-word lines
that name nothing the code does, in English, French, Spanish and Italian; and the offline
generator run on notes whose items hold the phrasings that used to be cut badly.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import tomllib

import pandas as pd
import pytest

from statcodgen.cleaning.filters import DEFAULT_FILTERS, FILTERS, Verdict, WellFormedFilter, apply_filters
from statcodgen.errors import ConfigError
from statcodgen.generation.engine import generate
from statcodgen.generation.offline import generate_offline
from statcodgen.generation.plan import generation_plan
from statcodgen.generation.results import SHORTFALL_COLUMNS, format_shortfall
from statcodgen.text.languages import (
    LanguagePack, get_language, head_words, line_problem, singular_phrase, starts_clause, trim_dangling,
)


def _notes(rows: list[tuple[str, str, str, list[str]]], language: str) -> pd.DataFrame:
    """A notes frame in the ``load_notes`` schema: (code, section, title, includes) per row."""
    df = pd.DataFrame([{"code": c, "level": "class", "parent": "", "section": s, "title": t, "includes": inc,
                        "also_includes": [], "excludes": [], "includes_text": " - ".join(inc),
                        "also_includes_text": "", "excludes_text": ""} for c, s, t, inc in rows])
    df.attrs["language"] = language
    return df


FR_NOTES = _notes([
    ("05.10", "B", "Extraction de houille", [
        "l'extraction de la houille : extraction souterraine ou à ciel ouvert, ainsi que l'extraction minière "
        "en ayant recours à des procédés de liquéfaction"]),
    ("08.11", "B", "Extraction de pierres ornementales et de construction", [
        "la production de granules et de poudres de pierres extraites, traités thermiquement ou non",
        "l'extraction de pierres de taille (par exemple le marbre, le granit)"]),
    ("08.93", "B", "Production de sel", ["l'extraction souterraine du sel, y compris par dissolution et pompage"]),
    ("09.90", "B", "Activités de soutien aux autres industries extractives", [
        "les sondages et forages d'essai", "le pompage des mines"]),
    ("10.71", "C", "Boulangerie et boulangerie-pâtisserie", ["la fabrication de pain et de viennoiseries"]),
    ("84.13", "O", "Administration publique (tutelle) des activités économiques", [
        "la mise en œuvre de mesures de politique régionale (par exemple pour réduire le chômage)",
        "la gestion du commerce extérieur, ainsi que des affaires financières et techniques"]),
    ("84.30", "O", "Sécurité sociale obligatoire", [
        "la gestion des prestations en cas de maladie, de maternité ou de décès"]),
    ("98.10", "T", "Activités indifférenciées des ménages en tant que producteurs de biens pour usage propre", []),
], "fr")

EN_NOTES = _notes([
    ("08.12", "B", "Operation of gravel and sand pits", ["extraction of sand for construction, used mainly as fill"]),
    ("10.71", "C", "Manufacture of bread; manufacture of fresh pastry goods and cakes", [
        "manufacture of bakery products", "test baking of new recipes"]),
    ("84.22", "O", "Defence activities", [
        "administration of military logistics (provision of equipment, structures, supplies, etc.)",
        "operation of auxiliary police forces supported by public funds"]),
    ("84.30", "O", "Compulsory social security activities", [
        "funding and administration of programmes covering losses of income due to sickness"]),
], "en")


def _check(text: str, code: str = "", notes: pd.DataFrame | None = None, language: str = "fr") -> Verdict | None:
    return WellFormedFilter(language=language, notes=notes).check(text, {"code": code})


# --- the filter: cut lines, brackets, one-word lines ---------------------------------------------


@pytest.mark.parametrize("language,text,tail", [
    ("fr", "EXTRACTION SOUTERRAINE OU", "OU"),
    ("fr", "RÉGLEMENTATION DE COMMERCE EXTÉRIEUR, AINSI", "AINSI"),
    ("fr", "FABRICATION DE", "DE"),
    ("fr", "COMMERCE DE GROS DES", "DES"),
    ("fr", "VENTE DU", "DU"),
    ("fr", "EXTRACTION D'", "D'"),
    ("fr", "BOULANGERIE ET", "ET"),
    ("en", "MANUFACTURE OF", "OF"),
    ("en", "COAL AND", "AND"),
    ("en", "REPAIR OF CARS BY", "BY"),
    ("en", "SALE OR", "OR"),
    ("en", "SERVICES TO THE", "THE"),
    ("en", "PROGRAMMES COVERING LOSSES OF INCOME DUE", "DUE"),
    ("es", "VENTA DE PAN Y", "Y"),
    ("es", "FABRICACIÓN DE", "DE"),
    ("es", "COMERCIO AL POR MAYOR O", "O"),
    ("it", "VENDITA DI PANE E", "E"),
    ("it", "PRODUZIONE DI", "DI"),
    ("it", "COMMERCIO O", "O"),
])
def test_trailing_function_word_is_caught_in_every_language(language: str, text: str, tail: str) -> None:
    verdict = _check(text, language=language)
    assert verdict == Verdict("cut_phrase", f"ends with function word {tail!r}")


def test_trailing_phrase_punctuation_and_leading_conjunction() -> None:
    assert _check("MÉNAGES EN TANT (SERVICES)") == Verdict("cut_phrase", "ends with function words 'EN TANT'")
    assert _check("EXPLOITATION DE PAR EXEMPLE") == Verdict("cut_phrase", "ends with function words 'PAR EXEMPLE'")
    assert _check("BOULANGERIE,") == Verdict("cut_phrase", "ends with punctuation ','")
    assert _check("GARDE-", language="fr") == Verdict("cut_phrase", "ends with punctuation '-'")
    assert _check("AND COAL MINING", language="en") == Verdict("cut_phrase", "starts with conjunction 'AND'")
    assert _check("E.G. TRADITIONAL PROSPECTING METHODS", language="en").detail == \
        "starts with enumeration marker 'E.G.'"


@pytest.mark.parametrize("text,bad", [
    ("MILITARY LOGISTICS (PROVISION OF STRUCTURES", "("),
    ("MESURES DE POLITIQUE RÉGIONALE (PAR EXEMPLE", "("),
    ("BAKERY)", ")"),
    ("« PAIN DE CAMPAGNE", "«"),
    ('VENTE DE "PAIN', '"'),
    ("FABRICATION (DE [PAIN)]", ")"),
])
def test_unbalanced_brackets_and_quotes(text: str, bad: str) -> None:
    assert _check(text) == Verdict("unbalanced", f"unbalanced {bad!r}")


def test_one_word_lines_must_name_an_activity_or_product_of_their_own_code() -> None:
    assert _check("DÉCÈS", "84.30", FR_NOTES).tag == "single_word"  # only "en cas de décès" in its notes
    assert "names no activity or product" in _check("ESSAI", "09.90", FR_NOTES).detail  # "forages d'essai"
    assert _check("SERVICES", "09.90", FR_NOTES) == Verdict("single_word", "single generic word 'SERVICES'")
    assert _check("ACTIVITÉS", "09.90", FR_NOTES).detail == "single generic word 'ACTIVITÉS'"
    assert _check("MÉNAGES", "98.10", FR_NOTES).detail == "single generic word 'MÉNAGES'"  # who, not what
    assert _check("BOULANGERIE", "84.30", FR_NOTES).tag == "single_word"  # another code's product
    for word, code in (("BOULANGERIE", "10.71"), ("PAIN", "10.71"), ("VIENNOISERIES", "10.71"),
                       ("SONDAGES", "09.90"), ("POMPAGE", "09.90"), ("MARBRE", "08.11"), ("SEL", "08.93")):
        assert _check(word, code, FR_NOTES) is None, word
    en = dict(notes=EN_NOTES, language="en")
    assert _check("BAKERY", "10.71", **en) is None  # "bakery products": the word before a generic head
    assert _check("BREAD", "10.71", **en) is None and _check("CAKES", "10.71", **en) is None
    assert _check("RECIPES", "10.71", **en).tag == "single_word"  # "baking of new recipes": a complement
    assert _check("ACTIVITIES", "10.71", **en).detail == "single generic word 'ACTIVITIES'"
    assert _check("HOUSEHOLDS", "", language="en").tag == "single_word"  # generic even without notes
    assert _check("DÉCÈS") is None  # without notes only the generic words are known


def test_generic_only_lines() -> None:
    assert _check("SERVICE ACTIVITIES", language="en") == Verdict(
        "generic_only", "only generic words ('SERVICE ACTIVITIES')")
    assert _check("AUTRES SERVICES").tag == "generic_only"
    assert _check("ACTIVITÉS DES MÉNAGES").tag == "generic_only"
    assert _check("SERVICES DE BOULANGERIE") is None


@pytest.mark.parametrize("language,text", [
    ("fr", "EXTRACTION DE HOUILLE"), ("fr", "EXTRACTION D'OR"), ("fr", "FABRICATION DE PAIN"),
    ("fr", "« SPUDDING IN » (SERVICES)"), ("fr", "SEL (EXTRACTION)"), ("fr", "VENTE DE PAIN, VIENNOISERIES"),
    ("en", "MINING OF COAL"), ("en", "RETAIL SALE OF BREAD (BAKERY)"), ("en", "IT CONSULTANCY"),
    ("en", "BUILT-IN KITCHENS"), ("es", "VENTA DE PAN"), ("es", "EXTRACCIÓN DE SAL"), ("it", "PRODUZIONE DI PANE"),
    ("it", "VENDITA DI PANE E DOLCI"),
])
def test_good_lines_are_kept(language: str, text: str) -> None:
    assert line_problem(text, language=language) is None
    assert _check(text, language=language) is None


def test_filter_is_registered_default_configured_and_validated(repo_root) -> None:
    assert FILTERS["well_formed"] is WellFormedFilter
    assert DEFAULT_FILTERS.index("well_formed") == DEFAULT_FILTERS.index("garbage") + 1
    cfg = tomllib.loads((repo_root / "configs" / "ons_study.toml").read_text(encoding="utf-8"))
    assert "well_formed" in cfg["cleaning"]["filters"]
    with pytest.raises(ConfigError, match="'single_words' parameter of WellFormedFilter"):
        WellFormedFilter(single_words="never")
    with pytest.raises(ConfigError, match="'language' parameter of WellFormedFilter"):
        WellFormedFilter(language="zz")


def test_apply_filters_with_notes_and_row_languages() -> None:
    df = pd.DataFrame({"text": ["EXTRACTION DE SEL", "EXTRACTION SOUTERRAINE OU", "DÉCÈS", "SERVICES", "COAL AND",
                                "SEL"],
                       "code": ["08.93", "08.93", "84.30", "09.90", "08.93", "08.93"],
                       "language": ["fr", "fr", "fr", "fr", "en", "fr"]})
    res = apply_filters(df, filters=("well_formed",), notes=FR_NOTES, progress=False)
    assert res.kept["text"].tolist() == ["EXTRACTION DE SEL", "SEL"]
    assert res.dropped["reason"].tolist() == ["cut_phrase", "single_word", "single_word", "cut_phrase"]
    assert res.dropped["detail"].tolist()[-1] == "ends with function word 'AND'"  # the row's own language
    keep_words = apply_filters(df, filters=("well_formed",), notes=FR_NOTES, progress=False,
                               options={"well_formed": {"single_words": "keep"}})
    assert set(keep_words.dropped["reason"]) == {"cut_phrase"}


def test_a_pack_without_word_lists_checks_brackets_only() -> None:
    for name in ("dangling_words", "dangling_phrases", "linking_words", "enum_words", "generic_words",
                 "activity_words", "holder_words"):
        assert not LanguagePack.__dataclass_fields__[name].default, name  # a new pack can leave them out
    bare = dataclasses.replace(get_language("fr"), dangling_words=frozenset(), linking_words=frozenset(),
                               conjunctions=(), generic_words=frozenset(), holder_words=frozenset())
    from statcodgen.text.languages import _wellformed

    assert _wellformed.line_problem("EXTRACTION SOUTERRAINE OU", bare) is None
    assert _wellformed.line_problem("EXTRACTION (SOUTERRAINE", bare) == ("unbalanced", "unbalanced '('")


def test_language_helpers() -> None:
    assert trim_dangling("gestion du commerce extérieur, ainsi", language="fr") == "gestion du commerce extérieur"
    assert trim_dangling("mesures de politique (par exemple", language="fr") == "mesures de politique"
    assert trim_dangling("extraction souterraine ou", language="fr") == "extraction souterraine"
    assert trim_dangling("ménages en tant", language="fr") == "ménages"
    assert trim_dangling("losses of income due", language="en") == "losses of income"
    assert singular_phrase("forces armées navales", language="fr") == "force armée navale"
    assert singular_phrase("minerais exploités", language="fr") == "minerai exploité"
    assert singular_phrase("corps réguliers", language="fr") == "corps réguliers"  # invariable head: kept whole
    assert singular_phrase("minéraux chimiques", language="fr") == "minéral chimique"
    assert singular_phrase("puits de pétrole", language="fr") == "puits de pétrole"
    assert singular_phrase("iron ores", language="en") == "iron ore"
    assert starts_clause("par dissolution et pompage", language="fr")
    assert starts_clause("dans les locaux d'organisations", language="fr")
    assert not starts_clause("des forces armées", language="fr")
    assert starts_clause("to reduce unemployment", language="en")
    heads = head_words(["Fabrication de produits de boulangerie", "les sondages d'essai"], language="fr")
    assert {"boulanger", "sondag"} <= heads and "essai" not in heads


# --- the offline generator cuts at phrase boundaries --------------------------------------------


_FUNCTION_WORDS = {"fr": {"OU", "ET", "DE", "DU", "DES", "D'", "AINSI", "TANT", "LA", "LE", "LES", "À", "AU", "AUX",
                          "PAR", "POUR", "EN", "QUE", "QUI"},
                   "en": {"OF", "AND", "OR", "BY", "THE", "TO", "FOR", "IN", "WITH", "DUE", "SUCH", "AS"}}


@pytest.mark.parametrize("notes,language", [(FR_NOTES, "fr"), (EN_NOTES, "en")])
def test_offline_lines_end_at_phrase_boundaries(notes: pd.DataFrame, language: str) -> None:
    plan = pd.DataFrame({"target": notes["section"], "code": notes["code"], "n_samples": 200})
    out = generate_offline(notes, plan, seed=0)
    assert len(out) > 40
    for text in out["text"]:
        body = re.sub(r"\s*\([^()]*\)$", "", text)  # "X (SERVICES)": the phrase before the tag ends too
        assert body.split()[-1] not in _FUNCTION_WORDS[language] and not body.endswith((",", "-")), text
        assert text.count("(") == text.count(")") and text.count("«") == text.count("»"), text
        assert line_problem(text, language=language) is None, (text, line_problem(text, language=language))
    return None


def test_offline_cutting_keeps_the_phrase_not_a_fragment() -> None:
    plan = pd.DataFrame({"target": FR_NOTES["section"], "code": FR_NOTES["code"], "n_samples": 200})
    lines = set(generate_offline(FR_NOTES, plan, seed=0)["text"])
    # cut at a phrase boundary, not dropped: "ou à ciel ouvert", ", ainsi que", "(par exemple pour ..."
    assert "EXTRACTION SOUTERRAINE" in lines
    assert {"GESTION DU COMMERCE EXTÉRIEUR", "GESTION DE COMMERCE EXTÉRIEUR"} & lines
    assert {"MISE EN ŒUVRE DE MESURES DE POLITIQUE RÉGIONALE", "MESURES DE POLITIQUE RÉGIONALE"} & lines
    assert "MARBRE" in lines and "EXTRACTION DE SEL" in lines and "FABRICATION DE PAIN" in lines
    # no means clause as an object, no qualifier, no complement of a non-activity standing alone
    bad = re.compile(r"POMPAGE \(EXTRACTION\)|DE POMPAGE|DISSOLUTION|TRAITÉS? THERMIQUEMENT|RECOURS?\b|"
                     r"^ESSAI|^DÉCÈS$|EN TANT$|RÉDUIRE|AINSI")
    assert not [line for line in lines if bad.search(line)], sorted(line for line in lines if bad.search(line))
    plan_en = pd.DataFrame({"target": EN_NOTES["section"], "code": EN_NOTES["code"], "n_samples": 200})
    en = set(generate_offline(EN_NOTES, plan_en, seed=0)["text"])
    assert {"ADMINISTRATION OF MILITARY LOGISTICS", "ADMINISTRATION OF PROGRAMMES COVERING LOSSES OF INCOME"} <= en
    assert not [line for line in en if re.search(r"\bSUPPORTED$|\bDUE$|\(PROVISION OF STRUCTURES$|^RECIPES$", line)]


def test_shortfall_names_each_code_and_why(caplog) -> None:
    plan = generation_plan(FR_NOTES, targets=["T", "B"], n_per_target=400, level="section")
    with caplog.at_level(logging.WARNING, logger="statcodgen"):
        res = generate(FR_NOTES, plan, language="fr", seed=0, progress=False)
    short = res.shortfall
    assert list(short.columns) == SHORTFALL_COLUMNS == ["code", "label", "planned", "produced", "reason"]
    row = short.set_index("code").loc["98.10"]
    assert row["planned"] == 400 and row["produced"] < 400  # a title-only note can give nothing at all
    assert re.fullmatch(r"the notes give no Includes items \(title only\): only \d+ distinct phrasing\(s\)"
                        r"( \+ \d+ pair\(s\) of short lines)? for 400 planned", row["reason"]), row["reason"]
    assert set(short["code"]) <= set(plan["code"]) and (short["produced"] < short["planned"]).all()
    assert "98.10 (" in caplog.text and "fewer lines than planned" in caplog.text
    text = format_shortfall(short)
    assert text.startswith(f"{len(short)} code(s) got ") and "98.10 (T): " in text
    assert format_shortfall(short.iloc[0:0]) == ""
