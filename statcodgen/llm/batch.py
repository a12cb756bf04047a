"""OpenAI Batch API round trip for a run journal (the cheapest way to generate at scale).

:func:`export_batch` writes the journal's pending requests as Batch API input JSONL, one line
``{"custom_id": <request key>, "method": "POST", "url": "/v1/chat/completions", "body": {...}}``,
split into files of at most ``max_requests`` lines (the API accepts 50,000 per file).
:func:`import_batch` reads the output file (and the error file) the API returns, lines
``{"id", "custom_id", "response": {"status_code", "body"}, "error"}``, and records each result in
the journal: successes with their raw body, parsed lines and usage, the rest as failures with the
reason. Lines whose ``custom_id`` is not a journal key are reported, never silently dropped.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from .._validation import check_int
from ..errors import DataFormatError
from .journal import Journal
from .parsing import ParseResult, format_output

__all__ = ["export_batch", "batch_paths", "import_batch", "import_batch_results"]

_URL = "/v1/chat/completions"


def export_batch(journal: Journal, path: str | Path, *, max_requests: int = 50_000, model: str | None = None) -> int:
    """Write every pending request of ``journal`` (with a stored body) to Batch API JSONL.

    ``path`` is used as is when one file suffices, else ``stem-001.jsonl``, ``stem-002.jsonl``...
    (see :func:`batch_paths`). ``model`` replaces the model of every body when given (the
    ``custom_id`` stays the journal key). Returns the number of requests written (0: no file).
    """
    check_int("max_requests", max_requests, 1, 50_000, func="export_batch")
    items = journal.pending_bodies()
    if not items:
        return 0
    if model is not None:
        items = [(k, {**b, "model": model}) for k, b in items]
    path = Path(path)
    chunks = [items[i : i + max_requests] for i in range(0, len(items), max_requests)]
    out: list[Path] = []
    for n, chunk in enumerate(chunks, 1):
        p = path if len(chunks) == 1 else path.with_name(f"{path.stem}-{n:03d}{path.suffix or '.jsonl'}")
        p.parent.mkdir(parents=True, exist_ok=True)
        with p.open("w", encoding="utf-8") as f:
            for key, body in chunk:
                line = {"custom_id": key, "method": "POST", "url": _URL, "body": body}
                f.write(json.dumps(line, ensure_ascii=False) + "\n")
        out.append(p)
    return len(items)


def batch_paths(path: str | Path, n_requests: int, *, max_requests: int = 50_000) -> list[Path]:
    """The files :func:`export_batch` writes for ``n_requests`` requests."""
    path = Path(path)
    n_files = -(-n_requests // max_requests)
    if n_files <= 1:
        return [path] if n_requests else []
    return [path.with_name(f"{path.stem}-{n:03d}{path.suffix or '.jsonl'}") for n in range(1, n_files + 1)]


def _read_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    rows = []
    with path.open(encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError as e:
                raise DataFormatError(f"line {i} is not JSON ({e.msg})", file=path,
                                      expected="one Batch API result object per line") from None
            if not isinstance(obj, dict) or "custom_id" not in obj:
                raise DataFormatError(f"line {i} has no 'custom_id'", file=path,
                                      expected='objects like {"custom_id": ..., "response": {...}, "error": ...}')
            rows.append((i, obj))
    return rows


def import_batch(
    journal: Journal,
    results_path: str | Path,
    *,
    errors_path: str | Path | None = None,
    parser: Callable[[str], ParseResult] | None = None,
) -> pd.DataFrame:
    """Record Batch API results (and errors) in ``journal``.

    ``parser(content) -> ParseResult`` defaults to :func:`~statcodgen.llm.parsing.format_output`.
    Returns one row per result line: ``custom_id, file, line, outcome, reason`` with outcome
    ``done``, ``failed`` (kept in the journal with its reason), ``unknown_key`` (not in the journal,
    not recorded) or ``already_done`` (left untouched).
    """
    parse = parser or (lambda content: format_output(content, json_expected=True))
    paths = [Path(results_path)] + ([Path(errors_path)] if errors_path is not None else [])
    report = []
    for p in paths:
        if not p.is_file():
            raise DataFormatError("file not found", file=p, expected="a Batch API output or error JSONL file")
        for lineno, obj in _read_jsonl(p):
            key = str(obj["custom_id"])
            row = {"custom_id": key, "file": str(p), "line": lineno, "outcome": "", "reason": ""}
            report.append(row)
            known = journal.get(key)
            if known is None:
                row["outcome"], row["reason"] = "unknown_key", "custom_id is not a request of this journal"
                continue
            if known["status"] == "done":
                row["outcome"] = "already_done"
                continue
            meta = {**(known.get("metadata") or {}), "endpoint": "batch"}
            resp = obj.get("response") or {}
            err = obj.get("error")
            status = resp.get("status_code")
            body = resp.get("body")
            if err or status != 200 or not isinstance(body, dict):
                msg = err.get("message") if isinstance(err, dict) else None
                if msg is None and isinstance(body, dict) and isinstance(body.get("error"), dict):
                    msg = body["error"].get("message")
                reason = f"batch error (status {status}): {msg or err or 'no body'}"
                journal.record_failure(key, reason, raw=json.dumps(body) if body is not None else None, metadata=meta)
                row["outcome"], row["reason"] = "failed", reason
                continue
            raw = json.dumps(body, ensure_ascii=False)
            try:
                content = body["choices"][0]["message"].get("content")
            except (KeyError, IndexError, TypeError, AttributeError):
                content = None
            if content is None or not str(content).strip():
                reason = "empty_content" if content is not None else "malformed_response: no choices[0].message.content"
                journal.record_failure(key, reason, raw=raw, metadata=meta)
                row["outcome"], row["reason"] = "failed", reason
                continue
            usage = body.get("usage") or {}
            parsed = parse(str(content))
            journal.record_success(
                key, raw, lines=parsed.lines, rejected=parsed.rejected, metadata=meta,
                prompt_tokens=int(usage.get("prompt_tokens") or 0),
                completion_tokens=int(usage.get("completion_tokens") or 0),
            )
            row["outcome"] = "done"
    return pd.DataFrame(report, columns=["custom_id", "file", "line", "outcome", "reason"])


import_batch_results = import_batch
"""Alias of :func:`import_batch`."""
