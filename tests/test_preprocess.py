"""Preprocessing as production coders do it (our own example sentences)."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from statcodgen.errors import ConfigError
from statcodgen.modelling.preprocess import LANGUAGES, preprocess, preprocess_one, stopwords


def test_french_lowercase_accents_punct_digits_stopwords() -> None:
    out = preprocess(["Réparation de 2 VÉLOS, pièces détachées !", "Œuvres d'art"], language="fr")
    assert out == ["reparation velos pieces detachees", "oeuvres art"]


def test_keep_stopwords_and_stemming() -> None:
    assert preprocess(["vente de pains"], language="fr", remove_stopwords=False) == ["vente de pains"]
    assert preprocess(["les boulangeries et pâtisseries"], language="fr", stem=True) == ["boulanger patisser"]
    assert preprocess_one("Repairing the bicycles", language="en", stem=True) == "repair bicycl"


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("en", "Manufacture of the wooden toys", "manufacture wooden toys"),
        ("es", "Fabricación de los muebles de cocina", "fabricacion muebles cocina"),
        ("it", "Produzione della birra e del vino", "produzione birra vino"),
    ],
)
def test_other_languages(language: str, text: str, expected: str) -> None:
    assert preprocess([text], language=language) == [expected]


def test_missing_values_order_and_series_input() -> None:
    s = pd.Series(["b  b", None, float("nan"), "12 345", "b  b"], index=[10, 11, 12, 13, 14])
    assert preprocess(s, language="fr") == ["", "", "", "", ""]  # one-letter tokens dropped
    s2 = pd.Series(["Camion", None, "Boulangerie", "Camion"], index=[5, 6, 7, 8])
    assert preprocess(s2, language="fr") == ["camion", "", "boulangerie", "camion"]
    assert preprocess([], language="fr") == []


def test_stopword_lists_are_shipped_and_accentless() -> None:
    for language in LANGUAGES:
        words = stopwords(language)
        assert len(words) > 50
        assert all(w.isascii() and w == w.lower() for w in words)
    assert "etre" in stopwords("fr") and "the" in stopwords("en")


def test_bad_options() -> None:
    with pytest.raises(ConfigError, match=r"The 'language' parameter of preprocess must be one of 'fr', 'en', 'es', 'it'. Got 'de' instead."):
        preprocess(["x"], language="de")
    with pytest.raises(ConfigError, match="'stem' parameter"):
        preprocess(["x"], stem="yes")  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=40), max_size=8), st.sampled_from(LANGUAGES), st.booleans())
def test_properties(texts: list[str], language: str, stem: bool) -> None:
    out = preprocess(texts, language=language, stem=stem)
    assert len(out) == len(texts)
    for o, t in zip(out, texts):
        assert "\n" not in o and o == o.strip() and "  " not in o
        assert all(tok.isascii() and tok.isalpha() and tok.islower() for tok in o.split())
        assert o == preprocess_one(t, language=language, stem=stem)
