"""Match a generated line against the Excludes items of its own code (the ``excluded`` filter).

An Excludes item ("manufacture of wooden crates, see 16.24") describes an activity that belongs
to another class. The item is cut before its reference words ("see", "voir", "véase", "cfr",
"classified in"...), both texts are normalised, reduced to content words (stop words, tokens of
fewer than 3 letters and numbers removed) and stemmed (snowball, language of the notes when
known, from its language pack). The line matches the item when

* ``overlap / |line words| >= threshold`` (the line is explained by the item; default 0.8), and
* ``overlap / |item words| >= 0.6`` (the line covers most of the item), and
* ``overlap >= min(2, |item words|)`` (one shared word is not evidence).

Items are looked up for the row's code and its ancestors in the notes (``parent`` column), so a
subclass line is also checked against its class's Excludes.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..errors import NotesFormatError
from ..sources.notes import excluded_codes
from ..text.languages import available_languages, excludes_cut_pattern, get_language
from ..text.normalize import normalize_text

__all__ = ["ExcludesIndex", "content_words"]

#: Words never counted as content words, in every language (each pack's ``function_words``).
_STOP = frozenset().union(*(get_language(code).function_words for code in available_languages()))


def _stemmer(language: str | None) -> Any:
    """The Snowball stemmer of the notes' language, or ``None`` when it has no pack."""
    return get_language(language).stemmer() if language in available_languages() else None


def content_words(text: str, stemmer: Any = None) -> frozenset[str]:
    """Set of stemmed content words of ``text`` (normalised; stop words and short tokens out)."""
    words = [w for w in normalize_text(text).split() if len(w) >= 3 and not w.isdigit() and w not in _STOP]
    if stemmer is not None:
        words = stemmer.stemWords(words)
    else:
        words = [w[:-1] if w.endswith("s") and len(w) > 3 else w for w in words]
    return frozenset(words)


class ExcludesIndex:
    """Excludes items per code from a notes DataFrame (``code``, ``excludes``; ``parent`` optional)."""

    def __init__(self, notes: pd.DataFrame, *, threshold: float = 0.8) -> None:
        missing = {"code", "excludes"} - set(notes.columns)
        if missing:
            raise NotesFormatError(
                f"the notes table lacks the column(s) {sorted(missing)}", expected="a notes DataFrame from load_notes"
            )
        self.threshold = threshold
        self._stem = _stemmer(notes.attrs.get("language"))
        self._parent: dict[str, str] = {}
        self._items: dict[str, list[tuple[str, frozenset[str], list[str]]]] = {}
        for rec in notes.to_dict("records"):
            code = str(rec["code"])
            parent = rec.get("parent")
            if isinstance(parent, str) and parent:
                self._parent[code] = parent
            items = rec.get("excludes")
            if not isinstance(items, (list, tuple)):
                continue
            parsed = []
            for item in items:
                if not isinstance(item, str) or not item.strip():
                    continue
                head = excludes_cut_pattern().sub("", normalize_text(item))
                targets = excluded_codes(item)
                parsed.append((item, content_words(head, self._stem), targets))
            self._items[code] = parsed

    def items_for(self, code: str) -> list[tuple[str, frozenset[str], list[str]]]:
        """Excludes items of ``code`` and of its ancestors."""
        out: list[tuple[str, frozenset[str], list[str]]] = []
        seen: set[str] = set()
        c: str | None = code
        while c and c not in seen:
            seen.add(c)
            out.extend(self._items.get(c, []))
            c = self._parent.get(c)
        return out

    def check(self, text: str, code: Any) -> tuple[bool, str]:
        """(keep, reason) for one line and its code."""
        if code is None or (isinstance(code, float) and code != code):
            return True, ""
        words = content_words(text, self._stem)
        if not words:
            return True, ""
        best: tuple[float, str, list[str]] | None = None
        for item, iw, targets in self.items_for(str(code)):
            if not iw:
                continue
            overlap = len(words & iw)
            if overlap < min(2, len(iw)):
                continue
            cover_line, cover_item = overlap / len(words), overlap / len(iw)
            if cover_line >= self.threshold and cover_item >= 0.6 and (best is None or cover_line > best[0]):
                best = (cover_line, item, targets)
        if best is None:
            return True, ""
        where = f" (points to {', '.join(best[2])})" if best[2] else ""
        short = best[1] if len(best[1]) <= 90 else best[1][:87] + "..."
        return False, f"excluded_activity: matches an Excludes item of {code}: {short!r}{where}, overlap {best[0]:.2f}"
