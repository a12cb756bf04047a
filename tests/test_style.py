"""Offline style transforms driven by a persona: rates, determinism, non-empty output."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from statcodgen.errors import ConfigError, DataFormatError
from statcodgen.personas.persona import Persona, personas_from_frame, sample_personas
from statcodgen.personas.style import (
    ABBREVIATIONS,
    abbreviate,
    add_context,
    add_typos,
    apply_casing,
    apply_style,
    drop_function_words,
    label_salience,
    reorder,
    style_frame,
    truncate,
    verbose_form,
    word_salience,
)

FR_LINES = ["Fabrication et commerce de produits alimentaires", "Réparation de véhicules automobiles",
            "Travaux de plomberie et chauffage", "Location de matériel de construction", "Taxi"]
EN_LINES = ["Repair and maintenance of motor vehicles", "Manufacture of wooden furniture",
            "Wholesale of agricultural machinery and equipment", "Hairdressing", "Building services"]


def _four_sigma(share: float, p: float, n: int) -> bool:
    return abs(share - p) <= 4 * np.sqrt(p * (1 - p) / n)


def test_abbreviate_at_the_configured_rate():
    words = ["FABRICATION", "COMMERCE", "SERVICES", "Réparation", "ENTRETIEN"] * 600
    text = " ".join(words)
    out = abbreviate(text, 0.3, language="fr", rng=np.random.default_rng(0)).split()
    assert len(out) == len(words)
    share = np.mean([a != b for a, b in zip(out, words)])
    assert _four_sigma(share, 0.3, len(words)), share
    assert abbreviate(text, 0.0, language="fr", rng=np.random.default_rng(0)) == text
    full = abbreviate("FABRICATION, COMMERCE ET Réparation maison", 1.0, language="fr", rng=np.random.default_rng(0))
    assert full == "FAB, CCE & REPAR maison"
    assert abbreviate("MANUFACTURE AND SERVICES", 1.0, language="en", rng=np.random.default_rng(0)) == "MFG & SVCS"
    assert abbreviate("FABRICATION", 1.0, language="it", rng=np.random.default_rng(0)) == "FABRICATION"
    assert all(k == k.upper() for table in ABBREVIATIONS.values() for k in table)


def test_typos_at_the_configured_rate():
    words = ["PLOMBERIE", "CHAUFFAGE", "MENUISERIE", "boulangerie"] * 750
    out = add_typos(" ".join(words), 0.05, language="fr", rng=np.random.default_rng(1)).split()
    assert len(out) == len(words)
    changed = [(a, b) for a, b in zip(words, out) if a != b]
    assert _four_sigma(len(changed) / len(words), 0.05, len(words)), len(changed)
    for a, b in changed:  # one edit: substitution, transposition or deletion
        assert len(b) in (len(a), len(a) - 1) and b
    assert add_typos("ET DE LA", 1.0, rng=np.random.default_rng(0)) == "ET DE LA"  # short words untouched
    assert add_typos("PLOMBERIE", 0.0, rng=np.random.default_rng(0)) == "PLOMBERIE"


def test_casing_truncation_order_context():
    assert apply_casing("Vente DE pain", "upper") == "VENTE DE PAIN"
    assert apply_casing("Vente DE pain", "lower") == "vente de pain"
    assert apply_casing("vente DE pain", "title") == "Vente De Pain"
    assert apply_casing("VENTE DE PAIN", "mixed") == "Vente de pain"
    with pytest.raises(ConfigError):
        apply_casing("x", "camel")
    assert truncate("REPARATION DE VEHICULES AUTOMOBILES", 2) == "REPARATION DE VEHICULES"
    assert truncate("CULTURE ET DE LEGUMES", 1) == "CULTURE"
    assert reorder("TANNAGE ET DE PEAUX", rng=np.random.default_rng(0)) == "PEAUX ET TANNAGE"
    assert truncate("TAXI", 0) == "TAXI"
    assert drop_function_words("REPARATION DE VEHICULES ET DE MOTOS") == "REPARATION VEHICULES MOTOS"
    assert drop_function_words("DE LA") == "DE LA"
    assert reorder("PLOMBERIE ET CHAUFFAGE", rng=np.random.default_rng(0)) == "CHAUFFAGE ET PLOMBERIE"
    assert reorder("BAKERY, CAFE", rng=np.random.default_rng(0)) == "CAFE, BAKERY"
    assert reorder("TAXI", rng=np.random.default_rng(0)) == "TAXI"
    rng = np.random.default_rng(3)
    added = {add_context("TAXI", language="en", rng=rng, city="Leeds") for _ in range(50)}
    assert "TAXI IN LEEDS" in added and any(a.startswith("TAXI FOR") for a in added)
    assert verbose_form("PLOMBERIE", language="fr", rng=np.random.default_rng(0)).endswith("PLOMBERIE")
    assert verbose_form("PLOMBERIE", language="it", rng=np.random.default_rng(0)) == "PLOMBERIE"


def test_apply_style_is_deterministic_and_never_empty():
    personas = personas_from_frame(sample_personas(300, locale="fr_FR", seed=4))
    outs = []
    for lang, lines in (("fr", FR_LINES), ("en", EN_LINES), ("es", ["Comercio al por menor de pan"]), ("it", ["Pane"])):
        a = [apply_style(t, p, language=lang, rng=np.random.default_rng([i, 9]))
             for i, p in enumerate(personas) for t in lines]
        b = [apply_style(t, p, language=lang, rng=np.random.default_rng([i, 9]))
             for i, p in enumerate(personas) for t in lines]
        assert a == b
        assert all(s.strip() for s in a)
        outs.append(pd.Series(a, index=[t for _ in personas for t in lines]))
    per_line = pd.concat(outs).groupby(level=0).nunique()
    assert (per_line[FR_LINES[:4] + EN_LINES[:3]] > 40).all(), per_line  # personas spread the phrasing
    assert apply_style("   ", personas[0], language="fr", rng=np.random.default_rng(0)) == ""


def test_style_follows_persona():
    rng = np.random.default_rng(0)
    plain = Persona(id="p", length="medium", register="plain", abbreviation_rate=0.0, typo_rate=0.0, casing="upper")
    same = [apply_style("Vente de pain", plain, language="fr", rng=rng) for _ in range(200)]
    assert np.mean([s == "VENTE DE PAIN" for s in same]) > 0.6
    terse = Persona(id="t", length="terse", abbreviation_rate=0.0, typo_rate=0.0, casing="lower")
    verbose = Persona(id="v", length="verbose", abbreviation_rate=0.0, typo_rate=0.0, casing="mixed", city="Tours")
    t_words = [len(apply_style(x, terse, language="fr", rng=rng).split()) for x in FR_LINES * 40]
    v_out = [apply_style(x, verbose, language="fr", rng=rng) for x in FR_LINES * 40]
    assert np.mean(t_words) + 2 < np.mean([len(s.split()) for s in v_out])
    assert any(s.startswith("Je souhaite exercer une activite de") for s in v_out)
    assert any("tours" in s.lower() for s in v_out)
    assert all(s == s.lower() for s in (apply_style(x, terse, language="fr", rng=rng) for x in FR_LINES))


def test_end_to_end_abbreviation_rate():
    rng = np.random.default_rng(5)
    p = {"length": "medium", "register": "plain", "abbreviation_rate": 0.5, "typo_rate": 0.0, "casing": "upper"}
    table = ABBREVIATIONS["fr"]
    full = short = 0
    for _ in range(400):
        for tok in apply_style("FABRICATION ET COMMERCE DE PRODUITS ALIMENTAIRES", p, language="fr", rng=rng).split():
            full += tok in table
            short += tok in set(table.values())
    share = short / (full + short)
    assert abs(share - 0.5) < 0.05, share


def test_apply_style_validation():
    with pytest.raises(ConfigError, match="'typo_rate'"):
        apply_style("x", {"typo_rate": 2.0}, language="fr", rng=np.random.default_rng(0))
    with pytest.raises(ConfigError, match="'rng'"):
        apply_style("x", Persona(id="a"), language="fr", rng=0)
    import random

    p = Persona(id="a", length="verbose", typo_rate=0.05, abbreviation_rate=0.3)
    a = [apply_style("Vente de pain", p, language="fr", rng=random.Random(4)) for _ in range(3)]
    assert len(set(a)) == 1  # stdlib generator accepted, deterministic


def test_style_frame():
    personas = sample_personas(5, locale="en_GB", seed=1)
    df = pd.DataFrame({"text": EN_LINES * 2, "persona_id": list(personas["persona_id"]) * 2, "code": "x"})
    out = style_frame(df, personas, language="en", seed=3)
    assert out["text_before_style"].tolist() == df["text"].tolist() and len(out) == len(df)
    assert out.equals(style_frame(df, personas, language="en", seed=3))
    # row i depends only on (seed, i)
    assert style_frame(df.iloc[:3], personas, language="en", seed=3)["text"].tolist() == out["text"].tolist()[:3]
    bad = df.assign(persona_id="nobody")
    with pytest.raises(DataFormatError, match="'nobody'"):
        style_frame(bad, personas, language="en")


# Notes of three made-up codes, in our own words: two of section T, one of section C.
_NOTES = ["COOKS AND GARDENERS EMPLOYED BY PRIVATE HOUSEHOLDS", "HOUSEHOLDS PRODUCING GOODS FOR THEIR OWN USE",
          "MANUFACTURE OF HOUSEHOLD APPLIANCES AND OTHER ACTIVITIES"]


def test_salience_tables():
    idf = word_salience(_NOTES)
    assert idf["COOKS"] > idf["HOUSEHOLDS"] > 0 and idf["COOKS"] == pytest.approx(np.log(3))
    lift = label_salience(_NOTES, ["T", "T", "C"])
    assert lift["T"]["HOUSEHOLDS"] > lift["T"]["APPLIANCES"]  # seen in both T notes, never in C
    assert lift["C"]["APPLIANCES"] > 0 > lift["C"]["HOUSEHOLDS"]
    assert set(lift) == {"T", "C"}


def test_salient_truncation_keeps_whole_phrases():
    sal = {"EXTRACTION": 0.1, "CRUDE": 1.0, "PETROLEUM": 2.0, "COOK": 2.5, "PRIVATE": 0.5, "HOUSEHOLD": 1.0}
    # the most specific run of words, never a word torn from its phrase ("COOK PRIVATE")
    assert truncate("EXTRACTION OF CRUDE PETROLEUM", 2, salience=sal) == "CRUDE PETROLEUM"
    assert truncate("EXTRACTION OF CRUDE PETROLEUM", 1, salience=sal) == "PETROLEUM"
    assert truncate("COOK IN PRIVATE HOUSEHOLD", 2, salience=sal) == "COOK"
    assert truncate("COOK (PRIVATE HOUSEHOLD)", 2, salience={**sal, "COOK": 1.0}) == "PRIVATE HOUSEHOLD"
    assert truncate("COOK IN PRIVATE HOUSEHOLD", 3, salience=sal) == "COOK IN PRIVATE HOUSEHOLD"  # short enough
    assert truncate("NEW WORD OF CRUDE PETROLEUM", 2, salience=sal) == "CRUDE PETROLEUM"  # unknown words weigh 0
    assert truncate("EXTRACTION OF CRUDE PETROLEUM", 2) == "EXTRACTION OF CRUDE"  # no table: the prefix


def test_protected_words_escape_typos_and_abbreviations():
    rng = np.random.default_rng(0)
    assert add_typos("HOUSEHOLDS EMPLOYING COOKS", 1.0, rng=rng, keep={"HOUSEHOLDS"}).startswith("HOUSEHOLDS ")
    assert abbreviate("REPAIR SERVICES", 1.0, language="en", rng=rng, keep={"SERVICES"}) == "RPR SERVICES"
    # apply_style spares the line's most salient word whatever the persona's typo rate
    typist = {"persona_id": "p", "typo_rate": 1.0, "abbreviation_rate": 1.0, "length": "medium", "casing": "upper"}
    sal = {"GOVERNESS": 3.0, "EMPLOYED": 0.5, "HOUSEHOLDS": 1.0}
    for i in range(30):
        out = apply_style("GOVERNESS EMPLOYED BY HOUSEHOLDS", typist, language="en", rng=np.random.default_rng(i), salience=sal)
        assert "GOVERNESS" in out.split()


def test_context_fits_the_declarant():
    """No client type and no small-business sentence for a household, a public body or an embassy."""
    for ctx in ("household_employer", "public_body", "international_body", "association"):
        rng = np.random.default_rng(1)
        added = {add_context("COOK", language="en", rng=rng, city="", business_context=ctx) for _ in range(40)}
        assert added == {"COOK"}
        placed = {add_context("COOK", language="en", rng=rng, city="Leeds", business_context=ctx) for _ in range(40)}
        assert placed == {"COOK IN LEEDS"}
        wrapped = {verbose_form("COOK", language="en", rng=rng, business_context=ctx) for _ in range(40)}
        assert not any("BUSINESS" in w or "SELF EMPLOYED" in w for w in wrapped)
    rng = np.random.default_rng(1)
    market = {add_context("TAXI", language="en", rng=rng, business_context="sole_trader") for _ in range(40)}
    assert any(m.startswith("TAXI FOR") for m in market)
    assert "BUSINESSES" not in ABBREVIATIONS["en"]  # "BUSES" is a word of its own (transport)


def test_terse_personas_leave_short_lines_whole():
    """Truncation only shortens lines longer than TERSE_WORDS content words."""
    from statcodgen.personas.style import TERSE_WORDS

    terse = {"persona_id": "p", "length": "terse", "typo_rate": 0.0, "abbreviation_rate": 0.0, "casing": "upper"}
    short = "COOK IN PRIVATE HOUSEHOLD"
    long = "EXTRACTION AND DREDGING OF BUILDING SAND FOUNDRY SAND AND GRAVEL"
    short_out = {apply_style(short, terse, language="en", rng=np.random.default_rng(i)) for i in range(40)}
    long_out = [apply_style(long, terse, language="en", rng=np.random.default_rng(i)) for i in range(40)]
    assert all({"COOK", "PRIVATE", "HOUSEHOLD"} <= set(o.split()) for o in short_out)
    assert min(len(o.split()) for o in long_out) <= TERSE_WORDS < len(long.split())
