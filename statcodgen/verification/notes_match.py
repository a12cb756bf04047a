"""Notes evidence: does a line match another code's Includes much better than its own code's notes?

In: the notes (``load_notes`` schema) and lines with their ``code``. Out: per line, its best
score against its own code's title and Includes items, the best other code among the codes near it
(same division, plus the codes its Excludes point to), that code's score and the item it matched.

Scores are TF-IDF cosines over stemmed content words (the ``excluded`` filter's reduction:
stop words of every language pack, tokens under 3 letters and numbers out, Snowball stem of the
notes' language), fitted on every note item. A line is *closer to another code* when that code's
best item scores at least ``min_score`` and beats the line's own code by ``margin``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..cleaning._excluded import _stemmer, content_words
from ..errors import InputError
from ..sources.notes import excluded_codes

__all__ = ["NotesMatcher", "NOTES_MATCH_COLUMNS"]

#: Columns of :meth:`NotesMatcher.match`.
NOTES_MATCH_COLUMNS = ["own_score", "matched_code", "matched_score", "matched_item", "closer_code"]


class NotesMatcher:
    """TF-IDF index of the notes' items, queried per line among the codes near its own.

    ``near_level``: codes sharing the line's ancestor at this level are candidates (default
    ``"division"``); the codes named in the line's code's Excludes ("see 09.90") are added.
    """

    def __init__(self, notes: pd.DataFrame, hierarchy: Any, *, near_level: str = "division", min_score: float = 0.35,
                 margin: float = 0.2) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        from ..generation.offline import note_items

        if "code" not in notes.columns:
            raise InputError("the notes table has no 'code' column.", expected="a notes DataFrame from load_notes")
        self.hierarchy, self.near_level, self.min_score, self.margin = hierarchy, near_level, min_score, margin
        self._stem = _stemmer(notes.attrs.get("language"))
        texts, owners, self._excl = [], [], {}
        for rec in notes.to_dict("records"):
            code = str(rec["code"])
            for t in [str(rec.get("title") or "")] + note_items(rec, "includes") + note_items(rec, "also_includes"):
                if t.strip():
                    texts.append(t)
                    owners.append(code)
            self._excl[code] = sorted({c for item in note_items(rec, "excludes") for c in excluded_codes(item)})
        self._items = np.asarray(texts, dtype=object)
        self._owner = np.asarray(owners, dtype=object)
        self._vec = TfidfVectorizer(analyzer=self._words, sublinear_tf=True, norm="l2")
        self._matrix = self._vec.fit_transform(texts)
        self._rows_of: dict[str, np.ndarray] = {c: np.flatnonzero(self._owner == c) for c in set(owners)}
        self._near: dict[str, list[str]] = {}

    def _words(self, text: str) -> list[str]:
        return sorted(content_words(text, self._stem))

    def near(self, code: str) -> list[str]:
        """Codes with note items sharing ``code``'s ``near_level`` ancestor, plus its Excludes targets (``code`` excluded)."""
        if code not in self._near:
            h, out = self.hierarchy, set()
            if code in h:
                try:
                    top = h.ancestor(code, self.near_level)
                except Exception:  # noqa: BLE001 - the code is coarser than near_level: itself
                    top = code
                out = set(h.leaves(top)) | {a for leaf in h.leaves(top) for a in h.ancestors(leaf)}
            for c in self._excl.get(code, []) + [e for a in (h.ancestors(code) if code in h else []) for e in self._excl.get(a, [])]:
                out |= set(h.leaves(c)) if c in h else {c}
            self._near[code] = sorted(c for c in out if c != code and c in self._rows_of)
        return self._near[code]

    def code_scores(self, texts: list[str], codes: list[str]) -> np.ndarray:
        """Per line, its best score against the note items of ``codes[i]`` itself and its
        descendants (not its ancestors, whose items siblings share). Out: float array, 0 for a code
        without items."""
        if len(texts) != len(codes):
            raise InputError("texts and codes must have the same length.", expected="one code per line")
        q = self._vec.transform([str(t) for t in texts])
        out = np.zeros(len(texts))
        for i, code in enumerate(str(c) for c in codes):
            own = [code] + ([c for c in self.hierarchy.leaves(code) if c != code] if code in self.hierarchy else [])
            rows = [self._rows_of[c] for c in own if c in self._rows_of]
            if rows and q[i].nnz:
                r = np.concatenate(rows)
                out[i] = float((self._matrix[r] @ q[i].T).toarray().max())
        return out

    def match(self, texts: list[str], codes: list[str]) -> pd.DataFrame:
        """Per line: ``own_score``, the best near ``matched_code`` with its score and item, and
        ``closer_code`` (the matched code when it beats the own code by ``margin``, else None)."""
        if len(texts) != len(codes):
            raise InputError("texts and codes must have the same length.", expected="one code per line")
        q = self._vec.transform([str(t) for t in texts])
        rows = []
        for i, code in enumerate(str(c) for c in codes):
            own_rows = np.concatenate([self._rows_of.get(c, np.array([], dtype=int)) for c in
                                       [code, *([] if code not in self.hierarchy else self.hierarchy.ancestors(code))]])
            cand = self.near(code)
            sims = (self._matrix @ q[i].T).toarray().ravel() if q[i].nnz else np.zeros(len(self._items))
            own = float(sims[own_rows].max()) if len(own_rows) else 0.0
            best = (0.0, None, "")
            for c in cand:
                r = self._rows_of[c]
                j = int(r[np.argmax(sims[r])])
                if sims[j] > best[0]:
                    best = (float(sims[j]), c, str(self._items[j]))
            closer = best[1] if best[1] is not None and best[0] >= self.min_score and best[0] >= own + self.margin else None
            rows.append((own, best[1], best[0], best[2], closer))
        return pd.DataFrame(rows, columns=NOTES_MATCH_COLUMNS)
