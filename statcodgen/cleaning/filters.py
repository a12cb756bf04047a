"""Quality filters for generated lines: small objects in a registry, each saying why it drops a line.

A filter has a ``name`` and ``check(text, row) -> Verdict | None`` (``None`` keeps the line;
:class:`Verdict` ``(tag, detail)``: ``tag`` a short machine name such as ``too_short``, ``detail``
human text), or ``check_batch(texts, rows)`` for filters that work on many lines at once (a
classifier). Options are validated when the filter is made. :func:`apply_filters` runs filters
over a DataFrame (generation output schema) and keeps every dropped row with ``reason`` (the tag)
and ``detail``. :data:`FILTERS` maps names to filter classes; :func:`register_filter` adds one.

Filters (names usable in ``filters=``):

``length``     empty / too short / too long (characters and words)
``echo``       the model echoed the prompt or wrote a preamble ("voici", "here are", "lines:",
               leftover numbering, "as an AI", a trailing colon)
``garbage``    placeholders (``%s``, ``{}``, ``<...>``, ``[...]``, lorem ipsum), markdown
               (``**``, ``#``, code fences), a token repeated 3 times in a row, mostly non-letters
``well_formed`` cut in mid-phrase (a trailing function word, comma or hyphen), an unbalanced bracket or
               quote, a one-word line that names no activity or product of its code's notes
``language``   detected language (py3langid restricted to a few candidate languages) differs
               from the expected one with confidence >= ``min_confidence``; abstains on lines shorter
               than ``min_chars``. Measured on 45 short upper-case declarations we
               wrote (15 fr / en / es): 0 false drops at 0.8, while 37/45 reach 0.8 in their
               own language (so a line in another language is caught about 80% of the time).
``excluded``   the line matches an item of its own code's Excludes list (see
               :mod:`statcodgen.cleaning._excluded`)
``label_consistency``  a classifier predicts another label with prob >= ``threshold``

The ``check_*`` functions are the same filters as plain predicates ``(text, row) -> (keep, reason)``
with ``reason`` = ``""`` or ``"<tag>: <detail>"``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .._validation import check_in, check_int, check_range, check_type
from ..errors import ConfigError, DataFormatError
from ..text.languages import available_languages, head_words, line_problem, refusal_pattern, resolve_language
from ..text.normalize import normalize_text

__all__ = [
    "Verdict",
    "Filter",
    "FilterResult",
    "FILTERS",
    "DEFAULT_FILTERS",
    "register_filter",
    "LengthFilter",
    "EchoFilter",
    "GarbageFilter",
    "WellFormedFilter",
    "LanguageFilter",
    "LabelConsistencyFilter",
    "check_length",
    "check_echo",
    "check_garbage",
    "check_language",
    "detect_language",
    "apply_filters",
]

_F = "apply_filters"
#: What :func:`apply_filters` runs by default, in this order (filters without their input are skipped).
DEFAULT_FILTERS = ("length", "echo", "garbage", "well_formed", "language", "excluded", "label_consistency")
LANG_CANDIDATES = ("fr", "en", "es", "it", "de")


@dataclass(frozen=True)
class Verdict:
    """Why a filter drops a line: ``tag`` (machine name, e.g. ``too_short``) and ``detail`` (human text)."""

    tag: str
    detail: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.tag, str) or not self.tag:
            raise ConfigError(f"The 'tag' parameter of Verdict must be a non-empty str. Got {self.tag!r} instead.")

    def __str__(self) -> str:
        return f"{self.tag}: {self.detail}" if self.detail else self.tag


@dataclass(frozen=True)
class FilterResult:
    """``kept``: rows kept (input columns); ``dropped``: rows dropped, input columns +
    ``reason, detail, duplicate_of, similarity``; ``flagged``: rows kept but failing a filter
    when ``action="flag"`` (same extra columns); ``skipped``: filter → why it did not run."""

    kept: pd.DataFrame
    dropped: pd.DataFrame
    flagged: pd.DataFrame
    skipped: dict[str, str]


class Filter:
    """Base class of the filters. Subclasses set ``name`` and implement ``check`` (one line) or
    ``check_batch`` (many lines); ``build`` makes one from :func:`apply_filters`' context
    (``notes``, ``language``) and the user's options; ``skip_reason`` says why it cannot run on a table."""

    name: ClassVar[str] = ""

    @classmethod
    def build(cls, *, notes: pd.DataFrame | None, language: str | None, **options: Any) -> Filter:
        """The filter for one :func:`apply_filters` call (default: ``cls(**options)``)."""
        return cls(**options)

    def skip_reason(self, df: pd.DataFrame) -> str | None:
        """Why the filter cannot run on ``df`` (a missing input or column), or None."""
        return None

    def check(self, text: str, row: Mapping[str, Any]) -> Verdict | None:
        """The verdict on one line (``row``: its record); None keeps it."""
        raise NotImplementedError

    def check_batch(self, texts: list[str], rows: list[Mapping[str, Any]]) -> list[Verdict | None]:
        """The verdicts on many lines (default: :meth:`check` on each)."""
        return [self.check(t, r) for t, r in zip(texts, rows)]


#: Filter name → filter class (see :func:`register_filter`).
FILTERS: dict[str, type[Filter]] = {}


def register_filter(cls: type[Filter]) -> type[Filter]:
    """Add a :class:`Filter` subclass to :data:`FILTERS` under its ``name`` (usable as a decorator)."""
    if not (isinstance(cls, type) and issubclass(cls, Filter)) or not cls.name:
        raise ConfigError(f"The 'cls' parameter of register_filter must be a Filter subclass with a name. Got {cls!r} instead.")
    FILTERS[cls.name] = cls
    return cls


def _text(text: Any) -> str:
    return (text or "").strip() if isinstance(text, str) else ""


@register_filter
class LengthFilter(Filter):
    """Empty, too short or too long (characters after stripping, whitespace-separated words)."""

    name = "length"

    def __init__(self, *, min_chars: int = 3, max_chars: int = 300, min_words: int = 1, max_words: int = 40) -> None:
        for opt, v in (("min_chars", min_chars), ("max_chars", max_chars), ("min_words", min_words), ("max_words", max_words)):
            check_int(opt, v, 0, None, func="LengthFilter")
        self.min_chars, self.max_chars, self.min_words, self.max_words = min_chars, max_chars, min_words, max_words

    def check(self, text: str, row: Mapping[str, Any] | None = None) -> Verdict | None:
        t = _text(text)
        if not t:
            return Verdict("empty", "the line is empty")
        n_words = len(t.split())
        if len(t) < self.min_chars or n_words < self.min_words:
            return Verdict("too_short", f"{len(t)} characters / {n_words} words (min {self.min_chars} / {self.min_words})")
        if len(t) > self.max_chars or n_words > self.max_words:
            return Verdict("too_long", f"{len(t)} characters / {n_words} words (max {self.max_chars} / {self.max_words})")
        return None


_ECHO_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^\s*(?:\d{1,3}\s*[.)\]:-]|[-*•–]\s|\(\d{1,3}\))"), "leftover numbering or bullet"),
    (re.compile(r"^\s*(?:voici|voila|here\s+(?:are|is)|aqui\s+(?:tienes|estan|hay)|estas\s+son|ecco|sure\b|certainly|of\s+course|bien\s+sur|claro|certainement)"), "preamble"),
    (refusal_pattern(), "assistant talk"),
    (re.compile(r"\b(?:\d+|ten|five|twenty|dix|cinq|vingt|diez|cinco|veinte|following|suivantes|siguientes)\s+(?:\w+\s+)?(?:lines|lignes|lineas|phrases|frases|sentences|descriptions|exemples|examples|ejemplos|declarations)\b"), "instruction echo"),
    (re.compile(r"^\s*(?:output|sortie|resultat|result|lines|lignes|lineas|phrases|frases|answer|reponse|respuesta)\s*:"), "instruction echo"),
    (re.compile(r":\s*$"), "ends with a colon (a heading, not a declaration)"),
]


@register_filter
class EchoFilter(Filter):
    """Preamble, prompt echo, assistant talk or leftover numbering (case and accents ignored)."""

    name = "echo"

    def check(self, text: str, row: Mapping[str, Any] | None = None) -> Verdict | None:
        t = normalize_text(text if isinstance(text, str) else "", strip_punct=False)
        for pattern, what in _ECHO_PATTERNS:
            m = pattern.search(t)
            if m:
                return Verdict("instruction_echo", f"{what} ({m.group(0).strip()[:30]!r})")
        return None


_GARBAGE_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"%[sdif]|\{\w*\}|<[^<>]{0,40}>|\[[^\[\]]{0,40}\]|\blorem\b|\bipsum\b|\bxxx+\b|\btodo\b|\bplaceholder\b", re.I), "placeholder"),
    (re.compile(r"\*\*|__|```|^\s*#|\|\s*---"), "markdown"),
    (re.compile(r"\b(\w+)(?:\W+\1\b){2,}", re.I), "token repeated 3 times"),
]


@register_filter
class GarbageFilter(Filter):
    """Placeholders, markdown, a word repeated 3 times in a row, or under ``min_letter_share`` letters."""

    name = "garbage"

    def __init__(self, *, min_letter_share: float = 0.6) -> None:
        self.min_letter_share = check_range("min_letter_share", min_letter_share, 0, 1, func="GarbageFilter")

    def check(self, text: str, row: Mapping[str, Any] | None = None) -> Verdict | None:
        t = text if isinstance(text, str) else ""
        for pattern, what in _GARBAGE_PATTERNS:
            m = pattern.search(t)
            if m:
                return Verdict("garbage", f"{what} ({m.group(0)[:30]!r})")
        visible = [c for c in t if not c.isspace()]
        if visible:
            share = sum(c.isalpha() for c in visible) / len(visible)
            if share < self.min_letter_share:
                return Verdict("garbage", f"only {share:.0%} letters (min {self.min_letter_share:.0%})")
        return None


@register_filter
class WellFormedFilter(Filter):
    """Not a whole phrase in the line's language (its ``language`` column, else ``language``, else the notes'):
    :func:`statcodgen.text.languages.line_problem`'s ``cut_phrase``, ``unbalanced``, ``single_word``, ``generic_only``.
    ``single_words="notes"``: a one-word line must be a head noun of its code's title and items (and of its
    ancestors' titles) when ``notes`` are given; ``"generic"``: only generic words drop; ``"keep"``: none."""

    name = "well_formed"

    def __init__(self, *, language: str | None = None, notes: pd.DataFrame | None = None,
                 single_words: str = "notes") -> None:
        f = "WellFormedFilter"
        self.notes = None if notes is None else check_type("notes", notes, pd.DataFrame, func=f)
        self.language = check_in("language", resolve_language(language, notes), available_languages(), func=f)
        self.single_words = check_in("single_words", single_words, ("notes", "generic", "keep"), func=f)
        self._rows = {str(r["code"]): r for r in notes.to_dict("records")} if notes is not None and "code" in notes else {}
        self._heads: dict[tuple[str, str], frozenset[str]] = {}

    @classmethod
    def build(cls, *, notes: pd.DataFrame | None, language: str | None, **options: Any) -> Filter:
        return cls(**{"language": language, "notes": notes, **options})

    def heads(self, code: str, language: str) -> frozenset[str] | None:
        """Head nouns of ``code``'s notes in ``language`` (None: the code is not in the notes)."""
        row = self._rows.get(code)
        if (code, language) not in self._heads and row is not None:
            texts = [" ; ".join(map(str, row.get(c) if isinstance(row.get(c), (list, tuple, np.ndarray))
                                    else [row.get(c + "_text") or ""])) for c in ("includes", "also_includes")]
            while row is not None and len(texts) < 9:  # the code's title, then its ancestors' (a parent cycle stops)
                texts.append(str(row.get("title") or ""))
                row = self._rows.get(str(row.get("parent") or ""))
            self._heads[(code, language)] = head_words(texts, language=language)
        return self._heads.get((code, language))

    def check(self, text: str, row: Mapping[str, Any]) -> Verdict | None:
        own = (row or {}).get("language")
        lang = own if isinstance(own, str) and own in available_languages() else self.language
        heads = self.heads(str((row or {}).get("code")), lang) if self.single_words == "notes" else None
        problem = line_problem(_text(text), language=lang, heads=heads)
        keep = problem is None or (problem[0] == "single_word" and self.single_words == "keep")
        return None if keep else Verdict(*problem)


@lru_cache(maxsize=8)
def _identifier(candidates: tuple[str, ...]) -> Any:
    import py3langid.langid as langid

    ident = langid.LanguageIdentifier.from_modelpath(langid.MODEL_DIR / langid.MODEL_FILE, norm_probs=True)
    ident.set_languages(list(candidates))
    return ident


@lru_cache(maxsize=200_000)
def detect_language(text: str, candidates: tuple[str, ...] = LANG_CANDIDATES) -> tuple[str, float]:
    """(language, probability) of a line, lower-cased first (upper case confuses the model),
    with py3langid restricted to ``candidates``."""
    return tuple(_identifier(candidates).classify(text.lower()))  # type: ignore[return-value]


@register_filter
class LanguageFilter(Filter):
    """A line detected in another language than expected (the row's ``language`` column, else
    ``expected``) with prob >= ``min_confidence``; abstains (keeps) below ``min_chars`` characters
    or when the expected language is not one of ``candidates``."""

    name = "language"

    def __init__(self, *, expected: str | None = None, min_confidence: float = 0.8, min_chars: int = 12,
                 candidates: Sequence[str] = LANG_CANDIDATES) -> None:
        f = "LanguageFilter"
        self.expected = None if expected is None else check_type("expected", expected, str, func=f)
        self.min_confidence = check_range("min_confidence", min_confidence, 0, None, func=f)  # above 1: never drops
        self.min_chars = check_int("min_chars", min_chars, 0, None, func=f)
        self.candidates = tuple(candidates)

    @classmethod
    def build(cls, *, notes: pd.DataFrame | None, language: str | None, **options: Any) -> Filter:
        return cls(**{"expected": language, **options})

    def skip_reason(self, df: pd.DataFrame) -> str | None:
        if self.expected is None and "language" not in df.columns:
            return "no expected language (pass language= or a 'language' column)"
        return None

    def check(self, text: str, row: Mapping[str, Any] | None = None) -> Verdict | None:
        own = (row or {}).get("language")
        expected = own if isinstance(own, str) and own else str(self.expected)
        t = _text(text)
        if len(t) < self.min_chars or expected not in self.candidates:
            return None
        lang, prob = detect_language(t, self.candidates)
        if lang != expected and prob >= self.min_confidence:
            return Verdict("wrong_language", f"detected {lang!r} (p={prob:.2f}), expected {expected!r}")
        return None


def _predict(classifier: Any, texts: list[str]) -> pd.DataFrame:
    out = classifier.predict(texts, k=1) if hasattr(classifier, "predict") else classifier(texts)
    if not isinstance(out, pd.DataFrame) or not {"label", "prob"} <= set(out.columns) or len(out) != len(texts):
        raise ConfigError(
            "The 'classifier' parameter of apply_filters must return a DataFrame with columns 'label' and "
            f"'prob' and one row per text. Got {type(out).__name__} instead."
        )
    return out.reset_index(drop=True)


@register_filter
class LabelConsistencyFilter(Filter):
    """A classifier predicts another label than ``label_col`` with prob >= ``threshold``.
    ``classifier``: an object with ``.predict(texts, k=1)`` or a callable ``texts -> DataFrame[label, prob]``."""

    name = "label_consistency"

    def __init__(self, *, classifier: Any = None, threshold: float = 0.9, label_col: str = "label") -> None:
        f = "LabelConsistencyFilter"
        if classifier is not None and not (hasattr(classifier, "predict") or callable(classifier)):
            raise ConfigError(f"The 'classifier' parameter of {f} must have a predict method or be callable. "
                              f"Got {classifier!r} instead.")
        self.classifier = classifier
        self.threshold = check_range("threshold", threshold, 0, 1, func=f)
        self.label_col = check_type("label_col", label_col, str, func=f)

    def skip_reason(self, df: pd.DataFrame) -> str | None:
        if self.classifier is None:
            return "no classifier given"
        return None if self.label_col in df.columns else f"no {self.label_col!r} column"

    def check(self, text: str, row: Mapping[str, Any]) -> Verdict | None:
        return self.check_batch([text], [row])[0]

    def check_batch(self, texts: list[str], rows: list[Mapping[str, Any]]) -> list[Verdict | None]:
        if not texts:
            return []
        pred = _predict(self.classifier, texts)
        out: list[Verdict | None] = []
        for row, plab, pprob in zip(rows, pred["label"].astype(str), pred["prob"].astype(float)):
            truth = str(row.get(self.label_col))
            bad = plab != truth and pprob >= self.threshold
            out.append(Verdict("label_inconsistent", f"classifier predicts {plab!r} (p={pprob:.2f}) instead of {truth!r}")
                       if bad else None)
        return out


def _pair(verdict: Verdict | None) -> tuple[bool, str]:
    return (True, "") if verdict is None else (False, str(verdict))


def check_length(text: str, row: Mapping[str, Any] | None = None, **options: Any) -> tuple[bool, str]:
    """:class:`LengthFilter` as a predicate: ``(keep, "" or "tag: detail")``; options as the class's."""
    return _pair(LengthFilter(**options).check(text, row))


def check_echo(text: str, row: Mapping[str, Any] | None = None) -> tuple[bool, str]:
    """:class:`EchoFilter` as a predicate: ``(keep, "" or "tag: detail")``."""
    return _pair(EchoFilter().check(text, row))


def check_garbage(text: str, row: Mapping[str, Any] | None = None, **options: Any) -> tuple[bool, str]:
    """:class:`GarbageFilter` as a predicate: ``(keep, "" or "tag: detail")``; options as the class's."""
    return _pair(GarbageFilter(**options).check(text, row))


def check_language(text: str, row: Mapping[str, Any] | None = None, *, expected: str, **options: Any) -> tuple[bool, str]:
    """:class:`LanguageFilter` as a predicate: ``(keep, "" or "tag: detail")``; options as the class's."""
    return _pair(LanguageFilter(expected=expected, **options).check(text, row))


def _resolve(filters: Sequence[str | Filter], notes: pd.DataFrame | None, language: str | None,
             options: Mapping[str, Mapping[str, Any]]) -> list[Filter]:
    names = [f for f in filters if isinstance(f, str)]
    for name in options:
        if name not in names:
            raise ConfigError(f"The 'options' parameter of {_F} has options for {name!r}, which is not a filter name "
                              f"in 'filters'. Got filters {list(names)} instead.")
    out = []
    for f in filters:
        if isinstance(f, str):
            check_in("filters", f, FILTERS, func=_F)
            out.append(FILTERS[f].build(notes=notes, language=language, **dict(options.get(f, {}))))
        elif isinstance(f, Filter):
            out.append(f)
        else:
            raise ConfigError(f"The 'filters' parameter of {_F} must hold filter names ({', '.join(FILTERS)}) or Filter "
                              f"objects. Got {f!r} instead.")
    return out


def apply_filters(
    df: pd.DataFrame,
    *,
    filters: Sequence[str | Filter] = DEFAULT_FILTERS,
    notes: pd.DataFrame | None = None,
    language: str | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    action: str = "drop",
    progress: bool = True,
) -> FilterResult:
    """Run ``filters`` in order over ``df`` (a ``text`` column); a row fails on the first filter
    that rejects it, and each filter only sees the rows the previous ones kept.

    ``filters``: names of :data:`FILTERS` or :class:`Filter` objects. ``options``: filter name →
    its options, e.g. ``{"length": {"max_words": 30}, "label_consistency": {"classifier": clf}}``.
    ``language``: expected language for every row (a ``language`` column overrides it per row).
    ``notes``: notes DataFrame (``code, parent, excludes``) for ``excluded``. ``action``: ``"drop"``
    removes failing rows; ``"flag"`` keeps them and lists them in ``flagged``. A filter that lacks
    its input (no notes, no language, no classifier, a missing column) is skipped and listed in ``skipped``.
    """
    check_type("df", df, pd.DataFrame, func=_F)
    if "text" not in df.columns:
        raise DataFormatError(f"the table has no 'text' column (columns: {list(df.columns)})", column="text",
                              expected="the generated lines in a text column")  # fmt: skip
    if isinstance(filters, str):
        raise ConfigError(f"The 'filters' parameter of {_F} must be a sequence of names. Got {filters!r} instead.")
    check_in("action", action, ("drop", "flag"), func=_F)
    if language is not None:
        check_type("language", language, str, func=_F)
    active = _resolve(filters, notes, language, options or {})

    skipped: dict[str, str] = {}
    texts = df["text"].astype(object).where(df["text"].notna(), "").astype(str).tolist()
    records = df.to_dict("records")
    n = len(df)
    tag = np.full(n, "", dtype=object)
    detail = np.full(n, "", dtype=object)
    for f in tqdm(active, desc="filters", disable=not progress or n < 10_000, leave=False):
        why = f.skip_reason(df)
        if why is not None:
            skipped[f.name] = why
            continue
        pending = np.flatnonzero(tag == "")
        for i, verdict in zip(pending, f.check_batch([texts[i] for i in pending], [records[i] for i in pending])):
            if verdict is not None:
                tag[i], detail[i] = verdict.tag, verdict.detail

    fail = tag != ""
    failed = df.loc[fail].copy()
    failed["reason"] = list(tag[fail])
    failed["detail"] = list(detail[fail])
    failed["duplicate_of"] = None
    failed["similarity"] = np.nan
    if action == "drop":
        return FilterResult(df.loc[~fail].copy(), failed, failed.iloc[0:0].copy(), skipped)
    return FilterResult(df.copy(), failed.iloc[0:0].copy(), failed, skipped)
