"""The optional LLM judge: the same endpoint as generation picks a line's code among a few candidates.

In: lines (``text, code``), the notes' hierarchy and Excludes, an :class:`~statcodgen.llm.LLMConfig`
and a journal path. Out: per line, the candidates shown, the code the judge picked (None when its
answer named no candidate), whether it confirms the line's own code, and the raw answer; plus
the token cost. Requests go through :func:`statcodgen.llm.run_requests`, journalled in SQLite
like generation: an interrupted judge resumes without re-sending answered requests.

Candidates of a line: its own code, its siblings (the other children of its parent), and the
codes its Excludes point to ("see 09.90"), at most ``max_candidates``, each with its title.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from ..llm.client import run_requests
from ..llm.config import LLMConfig, make_request
from ..llm.journal import Journal
from ..llm.parsing import ParseResult
from ..sources.notes import excluded_codes

__all__ = ["judge_candidates", "judge_prompt", "llm_judge", "JUDGE_COLUMNS"]

#: Columns of the frame :func:`llm_judge` returns.
JUDGE_COLUMNS = ["candidates", "judged_code", "confirms", "judge_raw"]

_SYSTEM = ("You check the training data of a statistical classifier of business activities ({system}). "
           "Given one activity description and candidate codes with their titles, answer with the single code "
           "the description belongs to, exactly as written in the list, and nothing else.")


def judge_candidates(code: str, hierarchy: Any, notes: pd.DataFrame, *, max_candidates: int = 8) -> list[str]:
    """``code``, its siblings, then the codes its Excludes point to (leaves of the hierarchy), without repeats."""
    from ..generation.offline import note_items

    out = [code]
    if code in hierarchy and hierarchy.parent(code):
        out += [c for c in hierarchy.children(hierarchy.parent(code)) if c != code]
    rec = notes[notes["code"].astype(str) == code]
    if len(rec):
        for item in note_items(rec.iloc[0].to_dict(), "excludes"):
            for c in excluded_codes(item):
                out += hierarchy.leaves(c) if c in hierarchy else [c]
    seen: dict[str, None] = {}
    for c in out:
        if c not in seen and (c in hierarchy or c == code):
            seen[c] = None
    return list(seen)[:max_candidates]


def judge_prompt(text: str, candidates: list[str], hierarchy: Any, *, system: str = "NACE") -> list[dict[str, str]]:
    """The chat messages asking the judge to pick one of ``candidates`` for ``text``."""
    listing = "\n".join(f"- {c}: {hierarchy.title(c) if c in hierarchy else ''}" for c in candidates)
    return [{"role": "system", "content": _SYSTEM.format(system=system)},
            {"role": "user", "content": f"Activity: {text}\n\nCandidate codes:\n{listing}\n\nCode:"}]


def _picker(candidates_of: dict[str, list[str]]) -> Any:
    def parse(content: str, request: Any) -> ParseResult:
        cands = candidates_of.get(request.key, [])
        hits = [(m.start(), c) for c in cands for m in [re.search(rf"(?<![\w.]){re.escape(c)}(?![\w]|\.\d)", content or "")] if m]
        if not hits:
            return ParseResult(lines=[], rejected=[((content or "")[:200], "no_candidate")])
        return ParseResult(lines=[min(hits)[1]])

    return parse


def llm_judge(
    lines: pd.DataFrame,
    *,
    hierarchy: Any,
    notes: pd.DataFrame,
    config: LLMConfig,
    journal_path: str | Path,
    system: str = "NACE",
    max_candidates: int = 8,
    progress: bool = True,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Ask the judge about every line; returns (frame[:data:`JUDGE_COLUMNS`] aligned with ``lines``, stats).

    ``stats`` holds the run's counters (requests, sent, cached, prompt/completion tokens, cost).
    Lines whose code has a single candidate are not sent (``confirms`` True, nothing to judge).
    """
    cands = [judge_candidates(str(c), hierarchy, notes, max_candidates=max_candidates) for c in lines["code"].astype(str)]
    requests, key_of = [], []
    for text, cs in zip(lines["text"].astype(str), cands):
        if len(cs) < 2:
            key_of.append(None)
            continue
        r = make_request(judge_prompt(text, cs, hierarchy, system=system), config=config, params={"temperature": 0.0},
                         metadata={"task": "judge"})
        requests.append(r)
        key_of.append(r.key)
    candidates_of = {k: cs for k, cs in zip(key_of, cands) if k is not None}
    stats: dict[str, Any] = {"requests": 0}
    Path(journal_path).parent.mkdir(parents=True, exist_ok=True)
    journal = Journal(journal_path)
    try:
        if requests:
            stats = run_requests(requests, config=config, journal=journal, progress=progress, parser=_picker(candidates_of)).to_dict()
        rows = []
        for code, cs, key in zip(lines["code"].astype(str), cands, key_of):
            if key is None:
                rows.append((cs, code, True, ""))
                continue
            rec = journal.get(key) or {}
            picked = (rec.get("lines") or [None])[0] if rec.get("status") == "done" else None
            rows.append((cs, picked, picked == code if picked is not None else None, rec.get("raw") or ""))
    finally:
        journal.close()
    stats.update(journal_usage(journal_path))
    return pd.DataFrame(rows, columns=JUDGE_COLUMNS, index=lines.index), stats


def journal_usage(path: str | Path) -> dict[str, int]:
    """Token totals of every request in a judge journal (what the judge cost, resumed runs included)."""
    with Journal(path) as j:
        return {f"total_{k}": v for k, v in j.usage_totals().items()}
