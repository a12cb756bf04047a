"""Text preprocessing for fastText coders, as production coders do it.

``preprocess(texts, *, language)`` turns raw activity declarations into the token strings the
classifier sees: lowercase, accents stripped (``é`` → ``e``, ``œ`` → ``oe``), everything that is
not a letter (punctuation, digits) replaced by a space, one-letter tokens and stopwords removed,
optional Snowball stemming. Work is done once per *distinct* text and once per distinct word
(stemming), so 850,000 declarations with many repeats cost little more than their vocabulary.

The stopword lists are short lists written for this project, shipped in
``statcodgen/data/stopwords_{fr,en,es,it}.txt`` (nothing is downloaded at run time).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from .._validation import check_in, check_type

__all__ = ["LANGUAGES", "preprocess", "preprocess_one", "stopwords"]

LANGUAGES = ("fr", "en", "es", "it")
_SNOWBALL = {"fr": "french", "en": "english", "es": "spanish", "it": "italian"}
_DATA = Path(__file__).resolve().parent.parent / "data"
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss", "’": "'"})
_NON_LETTER = re.compile(r"[^a-z]+")


def _strip_accents(text: str) -> str:
    """Return ``text`` with ligatures expanded and combining accents removed."""
    text = text.translate(_LIGATURES)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@functools.lru_cache(maxsize=None)
def stopwords(language: str) -> frozenset[str]:
    """Return the stopword set of ``language`` (lowercase, accents stripped)."""
    check_in("language", language, LANGUAGES, func="stopwords")
    words: set[str] = set()
    for line in (_DATA / f"stopwords_{language}.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            continue
        words.update(_strip_accents(w.lower()) for w in line.split())
    return frozenset(words)


@functools.lru_cache(maxsize=None)
def _stemmer(language: str):  # type: ignore[no-untyped-def]
    import snowballstemmer

    return snowballstemmer.stemmer(_SNOWBALL[language])


def preprocess_one(text: str, *, language: str = "fr", stem: bool = False, remove_stopwords: bool = True) -> str:
    """Preprocess a single text; see :func:`preprocess`."""
    return preprocess([text], language=language, stem=stem, remove_stopwords=remove_stopwords)[0]


def preprocess(
    texts: Iterable[str] | pd.Series,
    *,
    language: str = "fr",
    stem: bool = False,
    remove_stopwords: bool = True,
) -> list[str]:
    """Normalise texts for fastText.

    Parameters
    ----------
    texts : iterable of str (a list or a pandas Series); ``None``/NaN count as "".
    language : ``"fr"``, ``"en"``, ``"es"`` or ``"it"``: stopword list and stemmer.
    stem : apply the Snowball stemmer of ``language`` to each remaining word.
    remove_stopwords : drop the words of :func:`stopwords`.

    Returns
    -------
    list[str], same length and order as ``texts``: words separated by single spaces, no
    newline, possibly "" when nothing is left.

    >>> preprocess(["Réparation de 2 vélos, pièces détachées !"], language="fr")
    ['reparation velos pieces detachees']
    """
    func = "preprocess"
    check_in("language", language, LANGUAGES, func=func)
    check_type("stem", stem, bool, func=func)
    check_type("remove_stopwords", remove_stopwords, bool, func=func)
    series = pd.Series(list(texts) if not isinstance(texts, pd.Series) else texts.to_numpy(), dtype=object)
    series = series.where(series.notna(), "").astype(str)
    codes, uniques = pd.factorize(series, sort=False)
    if len(uniques) == 0:
        return [""] * len(series)
    stop = stopwords(language) if remove_stopwords else frozenset()
    stemmer = _stemmer(language) if stem else None
    stem_cache: dict[str, str] = {}
    out_uniques: list[str] = []
    for raw in uniques:
        clean = _NON_LETTER.sub(" ", _strip_accents(raw.lower()))
        words = [w for w in clean.split() if len(w) > 1 and w not in stop]
        if stemmer is not None:
            todo = [w for w in words if w not in stem_cache]
            if todo:
                stem_cache.update(zip(todo, stemmer.stemWords(todo)))
            words = [stem_cache[w] for w in words]
        out_uniques.append(" ".join(words))
    mapped = pd.Series(out_uniques, dtype=object).to_numpy()[codes]
    return list(mapped)
