"""Text preprocessing for fastText coders, as production coders do it.

``preprocess(texts, *, language)`` turns raw activity declarations into the token strings the
classifier sees: lowercase, accents stripped (``é`` → ``e``, ``œ`` → ``oe``), everything that is
not a letter (punctuation, digits) replaced by a space, one-letter tokens and stopwords removed,
optional Snowball stemming. Work is done once per *distinct* text and once per distinct word
(stemming), so 850,000 declarations with many repeats cost little more than their vocabulary.

The stop words and the stemmer of each language come from its pack
(:func:`statcodgen.text.languages.get_language`: short lists written for this project, nothing is
downloaded at run time); a language added as a pack works here too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd

from .._validation import check_in, check_type
from ..text.languages import available_languages, get_language
from ..text.normalize import strip_accents

__all__ = ["LANGUAGES", "preprocess", "preprocess_one", "stopwords"]

#: Languages shipped with the package (a pack registered later is accepted too).
LANGUAGES = available_languages()
_NON_LETTER = re.compile(r"[^a-z]+")


def stopwords(language: str) -> frozenset[str]:
    """Return the stopword set of ``language`` (lowercase, accents stripped, ligatures expanded)."""
    check_in("language", language, available_languages(), func="stopwords")
    return get_language(language).stop_words


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
    language : a pack code (``"fr"``, ``"en"``, ``"es"``, ``"it"``...): stopword list and stemmer.
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
    check_in("language", language, available_languages(), func=func)
    check_type("stem", stem, bool, func=func)
    check_type("remove_stopwords", remove_stopwords, bool, func=func)
    series = pd.Series(list(texts) if not isinstance(texts, pd.Series) else texts.to_numpy(), dtype=object)
    series = series.where(series.notna(), "").astype(str)
    codes, uniques = pd.factorize(series, sort=False)
    if len(uniques) == 0:
        return [""] * len(series)
    stop = stopwords(language) if remove_stopwords else frozenset()
    stemmer = get_language(language).stemmer() if stem else None
    stem_cache: dict[str, str] = {}
    out_uniques: list[str] = []
    for raw in uniques:
        clean = _NON_LETTER.sub(" ", strip_accents(raw.lower(), ligatures=True))
        words = [w for w in clean.split() if len(w) > 1 and w not in stop]
        if stemmer is not None:
            todo = [w for w in words if w not in stem_cache]
            if todo:
                stem_cache.update(zip(todo, stemmer.stemWords(todo)))
            words = [stem_cache[w] for w in words]
        out_uniques.append(" ".join(words))
    mapped = pd.Series(out_uniques, dtype=object).to_numpy()[codes]
    return list(mapped)
