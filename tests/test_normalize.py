"""Tests for statcodgen.text.normalize."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from statcodgen.errors import ConfigError
from statcodgen.text.normalize import normalize_series, normalize_text, tokenize


def test_normalize_text_defaults() -> None:
    assert normalize_text("  Élevage de BOVINS, (lait)! ") == "elevage de bovins lait"
    assert normalize_text("Ça_va\tbien ?") == "ca va bien"
    assert normalize_text("ﬁbre") == "fibre"
    assert normalize_text(None) == ""  # type: ignore[arg-type]


def test_normalize_text_switches() -> None:
    assert normalize_text("Élevage, Lait", lowercase=False) == "Elevage Lait"
    assert normalize_text("Élevage, lait", strip_accents=False) == "élevage lait"
    assert normalize_text("a,  b", strip_punct=False) == "a, b"
    assert normalize_text(" a  b ", collapse_space=False, strip_punct=False) == " a  b "


def test_bad_flag_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="'lowercase' parameter of normalize_text"):
        normalize_text("x", lowercase="yes")  # type: ignore[arg-type]


def test_series_keeps_index_and_handles_missing() -> None:
    s = pd.Series(["Vente de PAIN.", None, "vente de pain"], index=[5, 7, 9])
    out = normalize_series(s)
    assert out.index.tolist() == [5, 7, 9]
    assert out.tolist() == ["vente de pain", "", "vente de pain"]
    assert normalize_series(pd.Series([], dtype=object)).empty


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=30), max_size=20), st.booleans(), st.booleans(), st.booleans())
def test_series_equals_scalar(texts: list[str], low: bool, acc: bool, punct: bool) -> None:
    opts = dict(lowercase=low, strip_accents=acc, strip_punct=punct)
    got = normalize_series(pd.Series(texts, dtype=object), **opts).tolist()
    assert got == [normalize_text(t, **opts) for t in texts]


def test_tokenize() -> None:
    assert tokenize("a b a") == {"a", "b"}
    assert tokenize("a b c", ngram=2) == {"a b", "b c"}
    assert tokenize("a", ngram=2) == {"a"}
    assert tokenize("abcd", shingle="char", ngram=3) == {"abc", "bcd"}
    assert tokenize("") == set()
