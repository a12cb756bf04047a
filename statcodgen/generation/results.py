"""The typed result of a generation run, and how it saves and loads itself.

In: what a generator (:mod:`statcodgen.generation.generators`) produced for a plan. Out: a
:class:`GenerationResult` -- ``lines`` (generation output schema), ``rejected`` (lines and requests
that did not become training lines), ``shortfall`` (codes that got fewer lines than planned) and
``stats`` (JSON-able counts, usage and cost) -- saved as ``lines``, ``rejected``, ``shortfall``
(parquet) and ``stats.json`` in a folder, atomically, and read back into the same object.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .._io import frames_exist, read_frames, read_json, write_frames, write_json
from ..errors import ConfigError

__all__ = ["OUTPUT_COLUMNS", "REJECTED_COLUMNS", "SHORTFALL_COLUMNS", "SHORTFALL_ATTR", "GenerationResult",
           "shortfall_table", "format_shortfall"]

#: The generation output schema (ARCHITECTURE.md): one row per generated line.
OUTPUT_COLUMNS = ["text", "code", "label", "generator", "model", "prompt_id", "persona_id",
                  "temperature", "seed", "request_key", "created_at"]
#: Lines removed by parsing and requests that failed.
REJECTED_COLUMNS = ["code", "request_key", "text", "reason", "raw"]
#: One row per planned code that got fewer lines than planned.
SHORTFALL_COLUMNS = ["code", "label", "planned", "produced", "reason"]
#: Key of ``lines.attrs`` where a generator leaves its per-code shortfall reasons (``{code: reason}``).
SHORTFALL_ATTR = "shortfall_reasons"
_FRAMES = ("lines", "rejected", "shortfall")


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(columns=columns)


@dataclass
class GenerationResult:
    """What a generation run produced.

    ``lines``: generated lines (:data:`OUTPUT_COLUMNS`). ``rejected``: lines dropped by parsing and
    requests that failed (:data:`REJECTED_COLUMNS`). ``shortfall``: planned codes that got fewer
    lines than planned (:data:`SHORTFALL_COLUMNS`, see :func:`shortfall_table`). ``stats``: a dict of
    JSON-able values -- ``generator``, ``lines`` and, for an LLM run, the request counts, tokens and
    cost (``dry_run`` / ``batch_export`` when the run only estimated or exported).
    """

    lines: pd.DataFrame
    rejected: pd.DataFrame = field(default_factory=lambda: _empty(REJECTED_COLUMNS))
    shortfall: pd.DataFrame = field(default_factory=lambda: _empty(SHORTFALL_COLUMNS))
    stats: dict[str, Any] = field(default_factory=dict)

    def save(self, directory: str | Path) -> None:
        """Write ``lines.parquet``, ``rejected.parquet``, ``shortfall.parquet`` and ``stats.json`` to
        ``directory`` (each atomically). Raises :class:`ConfigError` if ``stats`` is not JSON-able."""
        try:
            json.dumps(self.stats)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"The 'stats' of a GenerationResult must be JSON-able to be saved. Got {exc} instead.") from exc
        write_frames(directory, {"lines": self.lines, "rejected": self.rejected, "shortfall": self.shortfall})
        write_json(self.stats, Path(directory) / "stats.json")

    @classmethod
    def exists(cls, directory: str | Path) -> bool:
        """Whether ``directory`` holds a saved result."""
        return frames_exist(directory, _FRAMES) and (Path(directory) / "stats.json").exists()

    @classmethod
    def load(cls, directory: str | Path) -> GenerationResult:
        """Read a result written by :meth:`save` from ``directory``."""
        frames = read_frames(directory, _FRAMES)
        return cls(lines=frames["lines"], rejected=frames["rejected"], shortfall=frames["shortfall"],
                   stats=read_json(Path(directory) / "stats.json"))


def shortfall_table(plan: pd.DataFrame, lines: pd.DataFrame, rejected: pd.DataFrame | None = None, *,
                    reason: str = "", reasons: dict[str, str] | None = None) -> pd.DataFrame:
    """The planned codes (``plan``: ``code, n_samples``, ``target`` optional) that got fewer ``lines``
    than planned: ``code, label`` (the plan's target), ``planned``, ``produced``, ``reason`` -- what
    ``rejected`` holds for the code (failed requests, lines removed by parsing with their reasons:
    "2 line(s) removed by parsing (repeated_line 2)"), else the generator's
    own reason for the code (``reasons``, else ``lines.attrs["shortfall_reasons"]`` as
    :func:`~statcodgen.generation.offline.generate_offline` returns it, e.g. "the notes give 3
    Includes item(s): only 41 distinct phrasing(s) for 200 planned"), else ``reason``."""
    produced = lines["code"].astype(str).value_counts() if len(lines) else pd.Series(dtype=int)
    own = reasons if reasons is not None else (lines.attrs.get(SHORTFALL_ATTR) or {})
    lost = rejected.assign(kind=rejected["reason"].astype(str).str.startswith("request_")) \
        if rejected is not None and len(rejected) else None
    planned: dict[str, list[Any]] = {}
    for row in plan.itertuples(index=False):
        code = str(row.code)
        entry = planned.setdefault(code, [str(getattr(row, "target", "") or ""), 0])
        entry[1] += int(row.n_samples)
    rows = []
    for code, (label, n) in planned.items():
        got = int(produced.get(code, 0))
        if got >= n:
            continue
        why = str(own.get(code) or reason)
        if lost is not None:
            mine = lost[lost["code"].astype(str) == code]
            parts = [f"{int(mine['kind'].sum())} request(s) failed"] if mine["kind"].any() else []
            if (~mine["kind"]).any():
                counts = mine.loc[~mine["kind"], "reason"].astype(str).value_counts()
                parts.append(f"{int((~mine['kind']).sum())} line(s) removed by parsing ("
                             + ", ".join(f"{r} {int(k)}" for r, k in counts.items()) + ")")
            why = ", ".join(parts) or why
        rows.append({"code": code, "label": label, "planned": n, "produced": got, "reason": why})
    return pd.DataFrame(rows, columns=SHORTFALL_COLUMNS)


def format_shortfall(shortfall: pd.DataFrame, *, limit: int = 10) -> str:
    """One line per code of a :func:`shortfall_table` (the first ``limit``), for a log or the console:
    ``"99.00Y (U): 214 of 800 -- the notes give ..."``; "" when nothing is short."""
    if shortfall is None or not len(shortfall):
        return ""
    rows = [f"{r.code} ({r.label}): {int(r.produced)} of {int(r.planned)} -- {r.reason}" if r.label else
            f"{r.code}: {int(r.produced)} of {int(r.planned)} -- {r.reason}" for r in shortfall.head(limit).itertuples()]
    more = f"\n... and {len(shortfall) - limit} more code(s)" if len(shortfall) > limit else ""
    total = int((shortfall["planned"] - shortfall["produced"]).sum())
    return f"{len(shortfall)} code(s) got {total:,} fewer lines than planned:\n" + "\n".join(rows) + more
