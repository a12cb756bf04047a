"""SQLite run journal and cache of LLM requests.

Every request has a deterministic key (:func:`request_key`: sha256 of the canonical JSON of model,
messages, parameters, seed and sample index — never the API key). The :class:`Journal` keeps one
row per key with its status (``pending``/``done``/``failed``/``fatal``), attempts, raw response
text (kept even when parsing fails), parsed lines, token usage, error and metadata. Each completion
is committed at once in WAL mode, so a run killed with SIGKILL loses at most the requests that were
in flight, and a re-run sends only what is missing.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any


if TYPE_CHECKING:  # pandas is imported lazily: the run path must start fast
    import pandas as pd

__all__ = ["request_key", "Journal", "STATUSES"]

STATUSES = ("pending", "done", "failed", "fatal")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    key TEXT PRIMARY KEY,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    body TEXT,
    raw TEXT,
    lines TEXT,
    rejected TEXT,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    metadata TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS requests_status ON requests(status);
"""

_COLUMNS = [
    "key", "status", "attempts", "body", "raw", "lines", "rejected", "prompt_tokens",
    "completion_tokens", "error", "metadata", "created_at", "updated_at",
]


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def request_key(
    model: str,
    messages: Sequence[Mapping[str, Any]],
    params: Mapping[str, Any] | None = None,
    seed: int | None = None,
    sample_index: int = 0,
) -> str:
    """Deterministic key of one request: sha256 hex of the canonical JSON of its inputs.

    ``params`` are the sampling parameters that change the answer (temperature, max_tokens...);
    ``seed`` and ``sample_index`` make several samples of the same prompt distinct keys.
    The API key and the endpoint are never part of the key.
    """
    payload = {
        "model": model,
        "messages": [dict(m) for m in messages],
        "params": dict(params or {}),
        "seed": seed,
        "sample_index": sample_index,
    }
    return hashlib.sha256(_canonical(payload).encode("utf-8")).hexdigest()


class Journal:
    """SQLite journal of requests at ``path`` (created if missing; ``":memory:"`` works too).

    Use as a context manager or call :meth:`close`. One connection, used from one thread
    (the asyncio loop of :func:`statcodgen.llm.client.run_requests`).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # durable against process kills in WAL mode
        self._db.executescript(_SCHEMA)

    # -- lifecycle ---------------------------------------------------------------------------
    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- writes ------------------------------------------------------------------------------
    def add_pending(self, items: Iterable[tuple[str, Mapping[str, Any] | None, Mapping[str, Any] | None]]) -> int:
        """Register ``(key, body, metadata)`` rows as pending when the key is not known yet.

        ``body`` is the request JSON (model, messages, params) used by the Batch API export.
        Returns the number of new rows. One transaction.
        """
        now = time.time()
        rows = [
            (k, _canonical(b) if b is not None else None, _canonical(m) if m is not None else None, now, now)
            for k, b, m in items
        ]
        with self._db:
            self._db.execute("BEGIN")
            before = self._db.total_changes
            self._db.executemany(
                "INSERT OR IGNORE INTO requests(key, status, body, metadata, created_at, updated_at) "
                "VALUES (?, 'pending', ?, ?, ?, ?)",
                rows,
            )
            return self._db.total_changes - before

    def record_success(
        self,
        key: str,
        raw: str,
        *,
        lines: Sequence[str] | None = None,
        rejected: Sequence[tuple[str, str]] | None = None,
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
        attempts: int = 1,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        """Mark ``key`` done with its raw answer, parsed lines and usage (committed at once)."""
        now = time.time()
        self._db.execute(
            "INSERT INTO requests(key, status, attempts, raw, lines, rejected, prompt_tokens, completion_tokens, "
            "error, metadata, created_at, updated_at) VALUES (?, 'done', ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET status='done', attempts=requests.attempts+excluded.attempts, "
            "raw=excluded.raw, lines=excluded.lines, rejected=excluded.rejected, "
            "prompt_tokens=requests.prompt_tokens+excluded.prompt_tokens, "
            "completion_tokens=requests.completion_tokens+excluded.completion_tokens, error=NULL, "
            "metadata=COALESCE(excluded.metadata, requests.metadata), updated_at=excluded.updated_at",
            (
                key, attempts, raw,
                None if lines is None else json.dumps(list(lines), ensure_ascii=False),
                None if rejected is None else json.dumps([list(r) for r in rejected], ensure_ascii=False),
                int(prompt_tokens), int(completion_tokens),
                None if metadata is None else _canonical(metadata), now, now,
            ),
        )

    def record_failure(
        self,
        key: str,
        error: str,
        *,
        status: str = "failed",
        raw: str | None = None,
        attempts: int = 1,
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        """Mark ``key`` failed (retryable on a later run) or fatal, keeping ``raw`` and the reason."""
        if status not in ("failed", "fatal"):
            raise ValueError(f"status must be 'failed' or 'fatal', got {status!r}")
        now = time.time()
        self._db.execute(
            "INSERT INTO requests(key, status, attempts, raw, prompt_tokens, completion_tokens, error, metadata, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET status=excluded.status, attempts=requests.attempts+excluded.attempts, "
            "raw=COALESCE(excluded.raw, requests.raw), error=excluded.error, "
            "prompt_tokens=requests.prompt_tokens+excluded.prompt_tokens, "
            "completion_tokens=requests.completion_tokens+excluded.completion_tokens, "
            "metadata=COALESCE(excluded.metadata, requests.metadata), updated_at=excluded.updated_at "
            "WHERE requests.status != 'done'",
            (key, status, attempts, raw, int(prompt_tokens), int(completion_tokens), error,
             None if metadata is None else _canonical(metadata), now, now),
        )

    # -- reads -------------------------------------------------------------------------------
    def get(self, key: str) -> dict[str, Any] | None:
        """The row of ``key`` as a dict (``lines``, ``rejected``, ``body``, ``metadata`` decoded), or None."""
        cur = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM requests WHERE key = ?", (key,))
        row = cur.fetchone()
        return None if row is None else _decode(dict(zip(_COLUMNS, row)))

    def done_keys(self) -> set[str]:
        """Keys whose status is ``done``."""
        return {r[0] for r in self._db.execute("SELECT key FROM requests WHERE status = 'done'")}

    def pending(self, keys: Iterable[str] | None = None) -> list[str]:
        """Of ``keys`` (in order), those not done yet; with no ``keys``, every non-done key in the journal."""
        done = self.done_keys()
        if keys is None:
            return [r[0] for r in self._db.execute("SELECT key FROM requests WHERE status != 'done' ORDER BY created_at, key")]
        return [k for k in keys if k not in done]

    def pending_bodies(self) -> list[tuple[str, dict[str, Any]]]:
        """``(key, body)`` of every non-done row that has a stored request body (Batch API export)."""
        cur = self._db.execute(
            "SELECT key, body FROM requests WHERE status != 'done' AND body IS NOT NULL ORDER BY created_at, key"
        )
        return [(k, json.loads(b)) for k, b in cur]

    def records(self) -> pd.DataFrame:
        """Every row as a DataFrame (columns as in the table; JSON columns decoded)."""
        import pandas as pd

        cur = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM requests ORDER BY created_at, key")
        rows = [_decode(dict(zip(_COLUMNS, r))) for r in cur]
        return pd.DataFrame(rows, columns=_COLUMNS)

    def usage_totals(self) -> dict[str, int]:
        """Sums over the journal: ``requests``, ``done``, ``failed``, ``fatal``, ``pending``, tokens."""
        cur = self._db.execute(
            "SELECT COUNT(*), SUM(status='done'), SUM(status='failed'), SUM(status='fatal'), SUM(status='pending'), "
            "COALESCE(SUM(prompt_tokens),0), COALESCE(SUM(completion_tokens),0) FROM requests"
        )
        n, d, f, ft, p, pt, ct = cur.fetchone()
        return {
            "requests": n or 0, "done": d or 0, "failed": f or 0, "fatal": ft or 0, "pending": p or 0,
            "prompt_tokens": pt, "completion_tokens": ct,
        }


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    for col in ("body", "lines", "rejected", "metadata"):
        if row.get(col) is not None:
            row[col] = json.loads(row[col])
    if row.get("rejected") is not None:
        row["rejected"] = [tuple(r) for r in row["rejected"]]
    return row
