"""SQLite run journal: keys, statuses, persistence across connections, totals."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from statcodgen.llm.journal import Journal, request_key

MSG = [{"role": "user", "content": "écrire des activités"}]


def test_request_key_is_deterministic_and_canonical() -> None:
    k = request_key("m", MSG, {"temperature": 0.5, "max_tokens": 10}, 1, 0)
    assert k == request_key("m", [{"content": "écrire des activités", "role": "user"}],
                            {"max_tokens": 10, "temperature": 0.5}, 1, 0)
    assert len(k) == 64 and int(k, 16) >= 0
    others = {
        request_key("n", MSG, {"temperature": 0.5, "max_tokens": 10}, 1, 0),
        request_key("m", MSG, {"temperature": 0.6, "max_tokens": 10}, 1, 0),
        request_key("m", MSG, {"temperature": 0.5, "max_tokens": 10}, 2, 0),
        request_key("m", MSG, {"temperature": 0.5, "max_tokens": 10}, 1, 1),
        request_key("m", [{"role": "user", "content": "autre"}], {"temperature": 0.5, "max_tokens": 10}, 1, 0),
    }
    assert k not in others and len(others) == 5


@given(st.text(), st.integers(), st.integers(min_value=0))
@settings(max_examples=50, deadline=None)
def test_request_key_never_collides_on_changed_sample(text: str, seed: int, idx: int) -> None:
    msgs = [{"role": "user", "content": text}]
    assert request_key("m", msgs, {}, seed, idx) != request_key("m", msgs, {}, seed, idx + 1)


def test_lifecycle_and_persistence(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "run.sqlite3"
    with Journal(path) as j:
        assert j.add_pending([("a", {"model": "m"}, {"code": "01.11Z"}), ("b", None, None), ("c", {"model": "m"}, None)]) == 3
        assert j.add_pending([("a", {"model": "m"}, None), ("d", None, None)]) == 1
        assert j.pending(["a", "b", "x"]) == ["a", "b", "x"]
        j.record_success("a", '{"raw": 1}', lines=["L1", "L2"], rejected=[("Voici :", "preamble")],
                         prompt_tokens=10, completion_tokens=5, attempts=2)
        j.record_failure("b", "HTTP 500: boom", raw="oops")
        j.record_failure("c", "401 bad key", status="fatal")
        j.record_failure("a", "late failure must not undo a success")
    with Journal(path) as j:  # a new connection sees everything
        a = j.get("a")
        assert a["status"] == "done" and a["lines"] == ["L1", "L2"] and a["rejected"] == [("Voici :", "preamble")]
        assert a["metadata"] == {"code": "01.11Z"} and a["attempts"] == 2 and a["error"] is None
        assert a["body"] == {"model": "m"}
        b = j.get("b")
        assert (b["status"], b["raw"], b["error"]) == ("failed", "oops", "HTTP 500: boom")
        assert j.get("c")["status"] == "fatal"
        assert j.get("zzz") is None
        assert j.done_keys() == {"a"}
        assert j.pending() == ["b", "c", "d"]
        assert [k for k, _ in j.pending_bodies()] == ["c"]
        assert j.usage_totals() == {"requests": 4, "done": 1, "failed": 1, "fatal": 1, "pending": 1,
                                    "prompt_tokens": 10, "completion_tokens": 5}
        df = j.records()
        assert list(df["key"]) == ["a", "b", "c", "d"]
        assert {"status", "attempts", "raw", "lines", "prompt_tokens", "error", "metadata"} <= set(df.columns)
        # a failed request that later succeeds accumulates its attempts
        j.record_success("b", "fine", lines=["X"])
        assert j.get("b")["status"] == "done" and j.get("b")["attempts"] == 2


def test_wal_mode_and_bad_status(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    with Journal(path) as j:
        with pytest.raises(ValueError, match="status"):
            j.record_failure("a", "x", status="done")
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_empty_records_frame(tmp_path: Path) -> None:
    with Journal(":memory:") as j:
        df = j.records()
        assert df.empty and "key" in df.columns
        assert j.usage_totals()["requests"] == 0
