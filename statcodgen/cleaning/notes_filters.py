"""The filters that read the explanatory notes: ``excluded`` (the line is one of its own code's Excludes items) and
``siblings`` (at the level a study codes to, the line does not tell its code from the codes next to it).

``siblings``: a line labelled with its own code (class- or subclass-level targets: ``label == code``) is dropped when every
word of it that the notes know (the content words of the code's and its siblings' titles, Includes and
Also-includes items; stemmed with the notes' language pack) is also in one sibling's note: "ORE MINING" for
07.10 (*Mining of iron ores*) says nothing 07.29 (*Mining of other non-ferrous metal ores*) does not say, while
"IRON ORE MINING" does. Siblings are the other children of the code's parent in the notes; an only child's are the
codes of the same level under its grandparent (07.10, alone in group 07.1: the classes of division 07). Words no note
uses ("company", "owner") are ignored: they neither save a line nor condemn it; a line without any note word
is kept (the other filters judge it). Lines labelled with a coarser code (a section study) are not checked:
their siblings share their label.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any

import pandas as pd

from .._validation import check_range, check_type
from ._excluded import ExcludesIndex, _stemmer, content_words
from .filters import Filter, Verdict, register_filter

__all__ = ["NotesFilter", "ExcludedFilter", "SiblingsFilter"]


class NotesFilter(Filter):
    """A filter that reads the notes (given by :func:`apply_filters`) and the lines' ``code_col``."""

    notes: pd.DataFrame | None
    code_col: str

    @classmethod
    def build(cls, *, notes: pd.DataFrame | None, language: str | None, **options: Any) -> Filter:
        return cls(**{"notes": notes, **options})

    def skip_reason(self, df: pd.DataFrame) -> str | None:
        if self.notes is None:
            return "no notes given"
        return None if self.code_col in df.columns else f"no {self.code_col!r} column"


@register_filter
class ExcludedFilter(NotesFilter):
    """The line matches an item of its own code's Excludes list (``notes``: ``code, parent,
    excludes``; rows matched on ``code_col``; see :mod:`statcodgen.cleaning._excluded`)."""

    name = "excluded"

    def __init__(self, *, notes: pd.DataFrame | None = None, threshold: float = 0.8, code_col: str = "code") -> None:
        f = "ExcludedFilter"
        self.notes = None if notes is None else check_type("notes", notes, pd.DataFrame, func=f)
        self.threshold = check_range("threshold", threshold, 0, 1, low_open=True, func=f)
        self.code_col = check_type("code_col", code_col, str, func=f)

    @cached_property
    def _index(self) -> ExcludesIndex:
        return ExcludesIndex(self.notes, threshold=self.threshold)

    def check(self, text: str, row: Mapping[str, Any]) -> Verdict | None:
        keep, reason = self._index.check(text, row.get(self.code_col))
        if keep:
            return None
        tag, _, detail = reason.partition(": ")  # ExcludesIndex.check speaks "(keep, 'tag: detail')"
        return Verdict(tag, detail)


@register_filter
class SiblingsFilter(NotesFilter):
    """Drop a line whose note words all belong to a sibling's note too (see the module doc). ``notes``: ``code,
    parent, title, includes, also_includes`` (from :func:`~statcodgen.sources.notes.load_notes`)."""

    name = "siblings"

    def __init__(self, *, notes: pd.DataFrame | None = None, code_col: str = "code", label_col: str = "label") -> None:
        f = "SiblingsFilter"
        self.notes = None if notes is None else check_type("notes", notes, pd.DataFrame, func=f)
        self.code_col = check_type("code_col", code_col, str, func=f)
        self.label_col = check_type("label_col", label_col, str, func=f)

    def skip_reason(self, df: pd.DataFrame) -> str | None:
        why = super().skip_reason(df)
        if why is None and "parent" not in self.notes.columns:
            return "the notes have no 'parent' column"
        return why if why is not None or self.label_col in df.columns else f"no {self.label_col!r} column"

    @cached_property
    def _index(self) -> tuple[dict[str, frozenset[str]], dict[str, list[str]], Any]:
        stem = _stemmer(self.notes.attrs.get("language"))
        words: dict[str, frozenset[str]] = {}
        children: dict[str, list[str]] = {}
        parent_of: dict[str, str] = {}
        for rec in self.notes.to_dict("records"):
            code = str(rec["code"])
            items = [str(rec.get("title") or "")]
            for col in ("includes", "also_includes"):
                value = rec.get(col)
                items += [str(x) for x in value] if isinstance(value, (list, tuple)) else []
            words[code] = frozenset().union(*(content_words(t, stem) for t in items))
            parent = rec.get("parent")
            if isinstance(parent, str) and parent:
                parent_of[code] = parent
                children.setdefault(parent, []).append(code)
        level = {str(c): str(v) for c, v in zip(self.notes["code"], self.notes["level"])} if "level" in self.notes else {}
        siblings = {}
        for c, p in parent_of.items():
            sibs = [s for s in children.get(p, []) if s != c]
            if not sibs and p in parent_of:  # an only child (05.10 alone in 05.1): the same-level codes of its grandparent
                below = [g for q in children.get(parent_of[p], []) for g in children.get(q, [])]
                sibs = [s for s in below if s != c and level.get(s) == level.get(c)]
            siblings[c] = sibs
        return words, siblings, stem

    def check(self, text: str, row: Mapping[str, Any]) -> Verdict | None:
        code, label = str(row.get(self.code_col) or ""), str(row.get(self.label_col) or "")
        words, siblings, stem = self._index
        sibs = siblings.get(code)
        if not sibs or code != label or code not in words:
            return None
        known = words[code].union(*(words[s] for s in sibs))
        line = content_words(text, stem) & known
        if not line:
            return None
        for s in sibs:
            if line <= words[s]:
                shown = ", ".join(sorted(line)[:6])
                return Verdict("sibling_words", f"every note word of the line ({shown}) is in {s}'s note too: "
                                                f"it does not tell {code} from {s}")
        return None
