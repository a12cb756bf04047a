"""Comparison baselines: lines taken from the notes as they are, without the offline generator's rewording.

In: the notes DataFrame (:func:`statcodgen.sources.load_notes`) and the codes to cover. Out: the
generation output schema (ARCHITECTURE.md), one row per distinct line:

- :func:`titles_baseline` -- one line per code, its official title (what production coders add
  for empty classes today);
- :func:`naive_bullets` -- each raw Includes / Also-includes item as one line.

:class:`statcodgen.generation.generators.TitlesBaseline` and ``NaiveBullets`` run them for a plan.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any

import pandas as pd

from ..errors import InputError
from .offline import label_for, line_key, lines_frame, note_items, note_lookup

__all__ = ["titles_baseline", "naive_bullets"]


def _simple_variant(notes: pd.DataFrame, codes: Iterable[str], *, generator: str, seed: int,
                    label_of: Callable[[str, dict[str, Any]], str],
                    lines_of: Callable[[dict[str, Any]], list[str]], uppercase: bool) -> pd.DataFrame:
    rows_by_code = note_lookup(notes)
    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    out = []
    for code in codes:
        code = str(code)
        if code not in rows_by_code:
            raise InputError(f"code {code!r} is not in the notes table.", expected="codes of the notes file")
        row = rows_by_code[code]
        seen: set[str] = set()
        for i, line in enumerate(lines_of(row)):
            text = line.upper() if uppercase else line
            if not text.strip() or text in seen:
                continue
            seen.add(text)
            out.append({"text": text, "code": code, "label": label_of(code, row), "generator": generator,
                        "model": "", "prompt_id": generator, "persona_id": "", "temperature": float("nan"),
                        "seed": seed, "request_key": line_key(generator, code, seed, i, text), "created_at": created})
    return lines_frame(out)


def _labeller(hierarchy: Any, target_level: str, labels: dict[str, str] | None) -> Callable[[str, dict[str, Any]], str]:
    def label_of(code: str, row: dict[str, Any]) -> str:
        if labels and code in labels:
            return labels[code]
        return label_for(code, "", row, hierarchy, target_level)
    return label_of


def titles_baseline(notes: pd.DataFrame, codes: Iterable[str], *, seed: int = 0, hierarchy: Any = None,
                    target_level: str = "section", uppercase: bool = True,
                    labels: dict[str, str] | None = None) -> pd.DataFrame:
    """One line per code: its official title (what production coders add for empty classes today)."""
    return _simple_variant(notes, codes, generator="titles", seed=seed, uppercase=uppercase,
                           label_of=_labeller(hierarchy, target_level, labels),
                           lines_of=lambda row: [re.sub(r"\s+", " ", str(row.get("title", ""))).strip()])


def naive_bullets(notes: pd.DataFrame, codes: Iterable[str], *, seed: int = 0, hierarchy: Any = None,
                  target_level: str = "section", uppercase: bool = True,
                  labels: dict[str, str] | None = None) -> pd.DataFrame:
    """Each raw Includes / Also-includes item of each code as one line (no splitting, no rewording)."""
    def lines_of(row: dict[str, Any]) -> list[str]:
        return [re.sub(r"\s+", " ", i).strip(" -;.") for i in note_items(row, "includes") + note_items(row, "also_includes")]
    return _simple_variant(notes, codes, generator="naive_bullets", seed=seed, uppercase=uppercase,
                           label_of=_labeller(hierarchy, target_level, labels), lines_of=lines_of)
