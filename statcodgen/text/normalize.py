"""Text normalisation shared by dedup, filters, evaluation leakage checks and diversity.

``normalize_text`` works on one string; ``normalize_series`` gives the same result on a whole
column and is fast on a million rows (each distinct text is normalised once, with pandas'
vectorised string methods).

>>> normalize_text("  Élevage de BOVINS, (lait)! ")
'elevage de bovins lait'
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import numpy as np
import pandas as pd

from .._validation import check_in, check_type

__all__ = ["normalize_text", "normalize_series", "tokenize", "strip_accents"]

# Combining marks left by NFKD decomposition (accents, cedillas, tildes...).
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
# Anything that is neither a letter/digit/underscore nor whitespace becomes a space, so that
# "bovins,lait" gives two words; the underscore goes too.
_PUNCT = re.compile(r"[^\w\s]|_")
# Ligatures and the typographic apostrophe, for ``strip_accents(..., ligatures=True)``.
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss", "’": "'"})
_MARKS = ("all", "blocks")


def strip_accents(text: str, *, ligatures: bool = False, marks: str = "all") -> str:
    """Return ``text`` without its accents: NFKD decomposition, then the combining marks dropped.

    ``marks="all"`` drops every character with a non-zero canonical combining class
    (``unicodedata.combining``); ``marks="blocks"`` drops only the characters of the Unicode
    combining-mark blocks (U+0300-036F, 1AB0-1AFF, 1DC0-1DFF, 20D0-20FF, FE20-FE2F), the rule of
    :func:`normalize_text` (it keeps, e.g., the Japanese voicing marks). ``ligatures=True`` first
    expands ``œ``/``Œ`` -> ``oe``, ``æ``/``Æ`` -> ``ae``, ``ß`` -> ``ss`` and makes ``’`` a straight
    apostrophe (the fastText preprocessing rule). Case is kept.

    >>> strip_accents("Œuvre d’Élevage", ligatures=True)
    "oeuvre d'Elevage"
    """
    check_type("text", text, str, func="strip_accents")
    check_type("ligatures", ligatures, bool, func="strip_accents")
    check_in("marks", marks, _MARKS, func="strip_accents")
    return _strip_accents(text, ligatures, marks == "blocks")


def _strip_accents(text: str, ligatures: bool = False, blocks: bool = False) -> str:
    """:func:`strip_accents` without argument checks (hot paths)."""
    if ligatures:
        text = text.translate(_LIGATURES)
    decomposed = unicodedata.normalize("NFKD", text)
    if blocks:
        return _COMBINING.sub("", decomposed)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _check_flags(func: str, **flags: object) -> None:
    for name, value in flags.items():
        check_type(name, value, bool, func=func)


def normalize_text(
    text: str,
    *,
    lowercase: bool = True,
    strip_accents: bool = True,
    strip_punct: bool = True,
    collapse_space: bool = True,
) -> str:
    """Return ``text`` normalised for comparison.

    Steps, each switchable: lower-casing (``str.casefold``-free ``lower`` so "ß" stays),
    accent removal (NFKD then drop combining marks, so "é" → "e", "ﬁ" → "fi"), punctuation
    removal (every non-word character becomes a space) and whitespace collapsing (runs of
    whitespace → one space, ends stripped). ``None``/NaN give ``""``.
    """
    _check_flags(
        "normalize_text",
        lowercase=lowercase,
        strip_accents=strip_accents,
        strip_punct=strip_punct,
        collapse_space=collapse_space,
    )
    if text is None or (isinstance(text, float) and text != text):
        return ""
    if not isinstance(text, str):
        check_type("text", text, str, func="normalize_text")
    return _normalize_fast(text, lowercase, strip_accents, strip_punct, collapse_space)


def normalize_series(
    s: pd.Series,
    *,
    lowercase: bool = True,
    strip_accents: bool = True,
    strip_punct: bool = True,
    collapse_space: bool = True,
) -> pd.Series:
    """Vectorised :func:`normalize_text` over a Series of strings (same index, dtype object).

    Missing values give ``""``. Each distinct value is normalised once, so heavily repeated
    synthetic data costs little.
    """
    _check_flags(
        "normalize_series",
        lowercase=lowercase,
        strip_accents=strip_accents,
        strip_punct=strip_punct,
        collapse_space=collapse_space,
    )
    check_type("s", s, pd.Series, func="normalize_series")
    if len(s) == 0:
        return pd.Series([], index=s.index, dtype=object, name=s.name)
    filled = s.astype(object).where(s.notna(), "")
    codes, uniques = pd.factorize(filled.map(str).to_numpy(dtype=object))
    flags = (lowercase, strip_accents, strip_punct, collapse_space)
    out = np.array([_normalize_fast(u, *flags) for u in uniques], dtype=object)
    return pd.Series(out[codes] if len(out) else np.array([], dtype=object), index=s.index, dtype=object, name=s.name)


@lru_cache(maxsize=8)
def _ascii_table(lowercase: bool, strip_punct: bool, collapse_space: bool) -> bytes:
    """256-byte ``bytes.translate`` table doing, on ASCII text, what the Unicode path does."""
    table = bytearray(range(256))
    for code in range(128):
        ch = chr(code)
        if lowercase and ch.isupper():
            table[code] = ord(ch.lower())
        elif strip_punct and not (ch.isalnum() or ch.isspace()):
            table[code] = 32  # punctuation and "_" -> space
        elif collapse_space and ch.isspace():
            table[code] = 32  # includes \x1c-\x1f, which str.split() also treats as spaces
    return bytes(table)


def _normalize_fast(text: str, lowercase: bool, strip_accents: bool, strip_punct: bool, collapse_space: bool) -> str:
    """Same result as :func:`normalize_text`, with a ``bytes.translate`` fast path for ASCII text."""
    if text.isascii():
        b = text.encode("ascii").translate(_ascii_table(lowercase, strip_punct, collapse_space))
        return b" ".join(b.split()).decode("ascii") if collapse_space else b.decode("ascii")
    if lowercase:
        text = text.lower()
    if strip_accents:
        text = _strip_accents(text, blocks=True)
    if strip_punct:
        text = _PUNCT.sub(" ", text)
    if collapse_space:
        text = " ".join(text.split())
    return text


def tokenize(norm: str, *, shingle: str = "word", ngram: int = 1) -> set[str]:
    """Shingle set of an already normalised string.

    ``shingle="word"``: word ``ngram``-grams joined by a space (a line shorter than ``ngram``
    words gives itself as the one shingle); ``"char"``: character ``ngram``-grams of the
    whole string (spaces included). An empty string gives an empty set.
    """
    if not norm:
        return set()
    if shingle == "word":
        words = norm.split()
        if ngram == 1:
            return set(words)
        if len(words) <= ngram:
            return {" ".join(words)}
        return {" ".join(words[i : i + ngram]) for i in range(len(words) - ngram + 1)}
    if len(norm) <= ngram:
        return {norm}
    return {norm[i : i + ngram] for i in range(len(norm) - ngram + 1)}
