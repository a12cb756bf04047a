"""Tests for statcodgen.cleaning.filters, statcodgen.cleaning._excluded and statcodgen.cleaning.stage."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from statcodgen.cleaning.dedup import DedupOptions
from statcodgen.cleaning.stage import CleanResult, clean, cleaning_report, format_cleaning_report
from statcodgen.errors import ConfigError, DataFormatError
from statcodgen.cleaning.filters import (FILTERS, Filter, LabelConsistencyFilter, LengthFilter, Verdict, apply_filters,
                                         check_echo, check_garbage, check_language, check_length, detect_language,
                                         register_filter)

# Short declarations in the style of business registers, written for these tests.
FR = ["VENTE DE FRUITS ET LEGUMES SUR LES MARCHES", "TRANSPORT ROUTIER DE MARCHANDISES", "FABRICATION DE MEUBLES EN BOIS",
      "LOCATION DE VOITURES SANS CHAUFFEUR", "SOINS INFIRMIERS A DOMICILE", "CONSEIL EN INFORMATIQUE POUR LES ENTREPRISES"]
EN = ["SELLING FRUIT AND VEGETABLES AT MARKETS", "ROAD HAULAGE OF GOODS", "MAKING WOODEN FURNITURE",
      "CAR RENTAL WITHOUT DRIVER", "HOME NURSING CARE", "IT CONSULTING FOR BUSINESSES"]
ES = ["VENTA DE FRUTAS Y VERDURAS EN MERCADOS", "TRANSPORTE DE MERCANCIAS POR CARRETERA", "FABRICACION DE MUEBLES DE MADERA",
      "ALQUILER DE COCHES SIN CONDUCTOR", "LIMPIEZA DE OFICINAS", "COMERCIO AL POR MAYOR DE VINOS"]


def test_length() -> None:
    assert check_length("VENTE DE PAIN") == (True, "")
    assert check_length("   ")[1].startswith("empty")
    assert check_length("AB")[1].startswith("too_short")
    assert check_length("mot " * 50)[1].startswith("too_long")
    assert check_length("vente de pain", min_words=4)[1].startswith("too_short")


@pytest.mark.parametrize("text", ["Voici 10 lignes :", "Here are the lines you asked for", "1. VENTE DE PAIN",
                                  "- vente de pain", "Aquí tienes las frases", "As an AI I cannot do that",
                                  "Output: vente de pain", "Lignes générées :", "the following five descriptions"])
def test_echo_positive(text: str) -> None:
    keep, reason = check_echo(text)
    assert not keep and reason.startswith("instruction_echo")


@pytest.mark.parametrize("text", ["CONSTRUCTION DE LIGNES ELECTRIQUES", "VENTE DE PAIN", "ISOLATION DES COMBLES 2 PIECES",
                                  "output filters manufacturing", "HERITAGE RESTORATION"])
def test_echo_negative(text: str) -> None:
    assert check_echo(text) == (True, "")


@pytest.mark.parametrize("text", ["VENTE DE %s", "VENTE DE {produit}", "VENTE DE <ACTIVITE>", "VENTE [A COMPLETER]",
                                  "lorem ipsum dolor", "**VENTE DE PAIN**", "# Lignes", "```", "PAIN PAIN PAIN",
                                  "12345 67 89 -- //", "vente xxx"])
def test_garbage_positive(text: str) -> None:
    keep, reason = check_garbage(text)
    assert not keep and reason.startswith("garbage")


@pytest.mark.parametrize("text", ["VENTE DE PAIN ET DE VIENNOISERIES", "COMMERCE DE DETAIL 24/24", "PAIN, PAIN DE MIE"])
def test_garbage_negative(text: str) -> None:
    assert check_garbage(text) == (True, "")


@pytest.mark.parametrize("lang,lines", [("fr", FR), ("en", EN), ("es", ES)])
def test_language_keeps_own_language(lang: str, lines: list[str]) -> None:
    for t in lines:
        assert check_language(t, expected=lang) == (True, ""), (t, detect_language(t))


@pytest.mark.parametrize("expected,lines", [("fr", EN), ("en", ES), ("es", FR)])
def test_language_drops_other_language(expected: str, lines: list[str]) -> None:
    dropped = [t for t in lines if not check_language(t, expected=expected)[0]]
    assert len(dropped) >= 3, [(t, detect_language(t)) for t in lines]
    assert check_language(lines[0], expected=expected, min_confidence=1.01)[0]  # threshold respected
    assert check_language("PAIN", expected="en")[0]  # too short: abstains


def _notes() -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "code": ["10.71", "10.71C", "47.24"],
            "parent": ["10.7", "10.71", "47.2"],
            "excludes": [["la fabrication de biscottes et de biscuits secs, voir 10.72Z"],
                         ["la vente de pain sans fabrication sur place, voir 47.24Z"], []],
        }
    )
    df.attrs["language"] = "fr"
    return df


def test_excluded_positive_and_negative() -> None:
    df = pd.DataFrame({"text": ["FABRICATION DE BISCUITS SECS ET BISCOTTES", "VENTE DE PAIN SANS FABRICATION",
                                "BOULANGERIE ARTISANALE AVEC FOURNIL", "FABRICATION DE PAIN"],
                       "code": ["10.71C", "10.71C", "10.71C", "10.71C"], "label": ["C"] * 4})
    res = apply_filters(df, notes=_notes(), filters=("excluded",), progress=False)
    assert res.dropped.index.tolist() == [0, 1]
    assert set(res.dropped["reason"]) == {"excluded_activity"}
    assert "10.72Z" in res.dropped.loc[0, "detail"] and "10.71C" in res.dropped.loc[0, "detail"]
    assert "47.24Z" in res.dropped.loc[1, "detail"]
    # another code: same line is fine
    other = df.assign(code="47.24")
    assert apply_filters(other, notes=_notes(), filters=("excluded",), progress=False).dropped.empty


class _Stub:
    """A classifier that believes any line mentioning 'pain' is section G."""

    def predict(self, texts: list[str], *, k: int = 1) -> pd.DataFrame:
        return pd.DataFrame({"label": ["G" if "PAIN" in t.upper() else "C" for t in texts],
                             "prob": [0.97 if "PAIN" in t.upper() else 0.6 for t in texts]})


def test_label_consistency_drop_and_flag() -> None:
    df = pd.DataFrame({"text": ["VENTE DE PAIN AU DETAIL", "FABRICATION DE MEUBLES"], "label": ["C", "C"]})
    res = apply_filters(df, filters=("label_consistency",), options={"label_consistency": {"classifier": _Stub()}},
                        progress=False)
    assert res.dropped.index.tolist() == [0] and "'G'" in res.dropped.loc[0, "detail"]
    flag = apply_filters(df, filters=[LabelConsistencyFilter(classifier=lambda t: _Stub().predict(t))], action="flag",
                         progress=False)
    assert len(flag.kept) == 2 and flag.flagged.index.tolist() == [0] and flag.dropped.empty
    assert apply_filters(df, filters=("label_consistency",), progress=False,
                         options={"label_consistency": {"classifier": _Stub(), "threshold": 0.99}}).dropped.empty


def test_apply_filters_all_and_skips() -> None:
    df = pd.DataFrame({"text": ["VENTE DE PAIN ET VIENNOISERIES", "", "Voici les lignes :", "VENTE DE %s",
                                "SELLING FRUIT AND VEGETABLES AT MARKETS"], "label": ["C"] * 5, "extra": range(5)})
    res = apply_filters(df, language="fr", progress=False)
    assert res.kept.index.tolist() == [0]
    assert res.dropped["reason"].tolist() == ["empty", "instruction_echo", "garbage", "wrong_language"]
    assert res.dropped["extra"].tolist() == [1, 2, 3, 4]  # every input column kept
    assert set(res.skipped) == {"excluded", "label_consistency"}
    assert "language" in apply_filters(df, progress=False).skipped
    with pytest.raises(ConfigError, match="'filters'"):
        apply_filters(df, filters=("nope",))
    with pytest.raises(DataFormatError):
        apply_filters(df.rename(columns={"text": "t"}))
    with pytest.raises(ConfigError, match="'options' parameter of apply_filters has options for 'lenght'"):
        apply_filters(df, options={"lenght": {"max_words": 3}})
    with pytest.raises(ConfigError, match="'max_words' parameter of LengthFilter must be an int >= 0"):
        apply_filters(df, filters=("length",), options={"length": {"max_words": -1}})


def test_verdicts_options_and_a_registered_filter() -> None:
    """A filter's verdict is a (tag, detail) pair that becomes the dropped row's reason and detail
    unchanged; a filter registered under a new name is usable by name like the shipped ones."""
    assert LengthFilter(max_words=2).check("VENTE DE PAIN", {}) == Verdict("too_long", "13 characters / 3 words (max 300 / 2)")
    assert LengthFilter().check("VENTE DE PAIN", {}) is None
    assert str(Verdict("empty", "the line is empty")) == "empty: the line is empty" and str(Verdict("x")) == "x"
    with pytest.raises(ConfigError, match="'tag' parameter of Verdict"):
        Verdict("")

    @register_filter
    class NoDigits(Filter):
        name = "no_digits_test"

        def check(self, text, row):  # type: ignore[no-untyped-def]
            return Verdict("has_digits", f"{sum(c.isdigit() for c in text)} digit(s): a colon: here") if any(
                c.isdigit() for c in text) else None

    try:
        df = pd.DataFrame({"text": ["VENTE DE PAIN 24/24", "VENTE DE PAIN", "AB"], "label": ["G"] * 3})
        res = apply_filters(df, filters=("length", "no_digits_test"), progress=False)
        assert res.dropped[["reason", "detail"]].values.tolist() == [
            ["has_digits", "4 digit(s): a colon: here"], ["too_short", "2 characters / 1 words (min 3 / 1)"]]
        assert res.kept["text"].tolist() == ["VENTE DE PAIN"]
    finally:
        del FILTERS["no_digits_test"]


def test_clean_and_report() -> None:
    texts = ["VENTE DE PAIN ET VIENNOISERIES"] * 5 + ["vente de pain et viennoiseries !", "Voici les lignes :",
                                                     "FABRICATION DE MEUBLES EN BOIS MASSIF"]
    df = pd.DataFrame({"text": texts, "label": ["G"] * 6 + ["G", "C"]})
    test = pd.DataFrame({"text": ["fabrication de meubles en bois massif"]})
    res = clean(df, real_test=test, language="fr", progress=False)
    assert len(res.kept) == 1
    rep = res.report
    summary = rep["summary"].set_index("metric")["value"]
    assert summary["rows_before"] == 8 and summary["rows_kept"] == 1 and summary["unique_share_after"] == 1.0
    assert summary["unique_share_before"] == pytest.approx(3 / 8)
    by_reason = rep["by_reason"].set_index("reason")["n"]
    assert by_reason["exact_duplicate"] == 5 and by_reason["instruction_echo"] == 1 and by_reason["duplicates_real_test"] == 1
    assert rep["by_label"].set_index("label").loc["G", "kept"] == 1
    assert set(rep["samples"]["reason"]) == set(by_reason.index)
    text = format_cleaning_report(rep)
    assert "exact_duplicate" in text and "unique lines" in text
    again = cleaning_report(df, res.dedup, res.filters, sample_per_reason=1)
    assert len(again["samples"]) == len(by_reason)


def test_clean_without_dedup_still_filters_and_removes_test_leaks(tmp_path) -> None:  # type: ignore[no-untyped-def]
    texts = ["VENTE DE PAIN ET VIENNOISERIES"] * 3 + ["Voici les lignes :", "FABRICATION DE MEUBLES EN BOIS MASSIF"]
    df = pd.DataFrame({"text": texts, "label": ["G"] * 4 + ["C"]})
    test = pd.DataFrame({"text": ["x", "fabrication de meubles en bois massif"]}, index=[10, 11])
    res = clean(df, real_test=test, language="fr", dedup=False, progress=False)
    assert res.kept.index.tolist() == [0, 1, 2]  # duplicates kept, the echo and the test leak dropped
    assert res.dropped["reason"].tolist() == ["instruction_echo", "duplicates_real_test"]
    assert res.dropped["duplicate_of"].tolist() == [None, "test:11"]
    assert clean(df, language="fr", dedup=False, progress=False).kept.index.tolist() == [0, 1, 2, 4]
    full = clean(df, real_test=test, language="fr", dedup_options=DedupOptions(threshold=0.8, method="exact"), progress=False)
    assert full.kept.index.tolist() == [0]
    with pytest.raises(ConfigError, match="'threshold' parameter of DedupOptions"):
        DedupOptions(threshold=0)

    res.save(tmp_path / "clean")
    back = CleanResult.load(tmp_path / "clean")
    assert back.kept.equals(res.kept.reset_index(drop=True))
    assert pd.isna(back.dropped["duplicate_of"][0]) and back.dropped["duplicate_of"][1] == "test:11"
    assert back.dropped["similarity"].dtype == float
    assert back.dropped[["text", "reason", "detail"]].equals(res.dropped[["text", "reason", "detail"]].reset_index(drop=True))
    assert back.report["by_reason"].equals(res.report["by_reason"]) and back.dedup is None and back.filters is None


@pytest.mark.parametrize("rel", ["nace_rev2_notes_en/nace_rev2_notes_en.csv", "naf2025_notes_fr/naf2025_subclass_notes_fr.csv"])
def test_excluded_on_real_notes(shared_data, rel: str) -> None:  # type: ignore[no-untyped-def]
    """Each Excludes item (up to its first comma) is caught under its own code; the code's own
    Includes items almost never are (measured: 0.88 / 0.008 en, 0.87 / 0.012 fr)."""
    from statcodgen.cleaning._excluded import ExcludesIndex
    from statcodgen.sources.notes import load_notes

    notes = load_notes(shared_data / rel)
    index = ExcludesIndex(notes)
    recs = notes.to_dict("records")
    own_ex = [not index.check(it.split(",")[0], r["code"])[0] for r in recs for it in r["excludes"]]
    own_inc = [not index.check(it, r["code"])[0] for r in recs for it in r["includes"]]
    assert len(own_ex) > 500 and sum(own_ex) / len(own_ex) > 0.8
    assert sum(own_inc) / len(own_inc) < 0.03


@pytest.mark.slow
def test_label_consistency_with_a_real_fasttext_classifier() -> None:
    from statcodgen.modelling import FastTextClassifier, FastTextParams

    bakery = ["vente de pain", "boulangerie de quartier", "pain et croissants", "viennoiseries et pain frais",
              "boulangerie patisserie", "depot de pain", "pain au levain", "baguettes et pain de campagne"]
    furniture = ["fabrication de meubles", "menuiserie de meubles en bois", "meubles de cuisine sur mesure",
                 "atelier de meubles", "ebenisterie et meubles anciens", "fabrication de tables et chaises",
                 "meubles de jardin en bois", "chaises et tables en chene"]
    texts, labels = bakery * 4 + furniture * 4, ["G"] * 32 + ["C"] * 32
    clf = FastTextClassifier(FastTextParams(dim=10, epoch=50, minn=0, maxn=0, bucket=10_000, thread=1),
                             language="fr").fit(texts, labels)
    df = pd.DataFrame({"text": ["BOULANGERIE ET PAIN FRAIS", "FABRICATION DE MEUBLES EN BOIS"], "label": ["C", "C"]})
    res = apply_filters(df, filters=("label_consistency",), options={"label_consistency": {"classifier": clf, "threshold": 0.7}},
                        progress=False)
    assert res.dropped.index.tolist() == [0]
    assert res.dropped.loc[0, "reason"] == "label_inconsistent" and "'G'" in res.dropped.loc[0, "detail"]


def test_siblings_drops_a_class_line_that_a_sibling_note_says_as_well() -> None:
    from statcodgen.sources import load_notes

    notes = load_notes(Path(__file__).resolve().parents[1] / "notes" / "sample_notes_en.csv")
    df = pd.DataFrame({"text": ["CRUSHING OF STONE", "CRUSHING AND DIGGING", "GRANITE BLOCK CUTTING", "FAMILY FIRM",
                                "CRUSHING AND DIGGING", "BAKING OF BREAD"],
                       "code": ["08.11", "08.11", "08.11", "08.11", "08.11", "10.71"],
                       "label": ["08.11", "08.11", "08.11", "08.11", "B", "10.71"]})
    res = apply_filters(df, notes=notes, filters=("siblings",), progress=False)
    # "crushing and digging": both words are in 08.12's note (crushing of gravel, digging of sand); "stone" and
    # "granite" are 08.11's own; "family firm" uses no note word; a section-level label is not checked; 10.71 has
    # no sibling in these notes
    assert res.dropped.index.tolist() == [1]
    assert res.dropped.loc[1, "reason"] == "sibling_words" and "08.12" in res.dropped.loc[1, "detail"]
    assert "siblings" not in res.skipped
    no_notes = apply_filters(df, filters=("siblings",), progress=False)
    assert no_notes.dropped.empty and no_notes.skipped["siblings"] == "no notes given"
