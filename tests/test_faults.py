"""Fault suite (issue #7): server down then back, 429 bursts, cut bodies, SIGKILL and resume.

In every case the final journal equals an uninterrupted run, no completed request is sent again,
and nothing is lost: every request ends done (or failed with its reason).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from statcodgen.llm.journal import Journal
from statcodgen.llm.client import run_requests
from statcodgen.llm.config import LLMConfig, make_request
from statcodgen.testing import Fault, OpenAIStubServer

ROOT = Path(__file__).resolve().parents[1]
DRIVER = ROOT / "tests" / "llm_driver.py"
sys.path.insert(0, str(ROOT / "tests"))
import llm_driver  # noqa: E402


def _cfg(srv: OpenAIStubServer, **kw) -> LLMConfig:
    base = dict(model="stub-model", base_url=srv.base_url, concurrency=8, max_retries=40,
                backoff_base=0.05, backoff_max=1.0, temperature=0.7)
    base.update(kw)
    return LLMConfig(**base)


def _reqs(cfg: LLMConfig, n: int) -> list:
    return [make_request([{"role": "user", "content": f"activity {i}"}], config=cfg, seed=0, sample_index=i)
            for i in range(n)]


def _expected_lines(reqs: list, tmp_path: Path) -> dict[str, list[str]]:
    """The uninterrupted run, against a fresh server without faults."""
    with OpenAIStubServer() as clean:
        cfg = _cfg(clean)
        with Journal(tmp_path / "reference.sqlite3") as j:
            run_requests(reqs, config=cfg, journal=j, progress=False)
            return {r.key: j.get(r.key)["lines"] for r in reqs}


def _successes_per_key(srv: OpenAIStubServer) -> Counter:
    return Counter(r.key for r in srv.requests if r.status == 200 and r.outcome == "ok")


@pytest.mark.slow
def test_server_down_10s_then_back(tmp_path: Path) -> None:
    with OpenAIStubServer(latency=0.02) as srv:
        cfg = _cfg(srv, concurrency=4)
        reqs = _reqs(cfg, 120)

        def watch() -> None:
            while len(srv.requests) < 30:
                time.sleep(0.005)
            srv.down_for(10.0)

        threading.Thread(target=watch, daemon=True).start()
        t0 = time.monotonic()
        with Journal(tmp_path / "j.sqlite3") as j:
            st = run_requests(reqs, config=cfg, journal=j, progress=False)
            lines = {r.key: j.get(r.key)["lines"] for r in reqs}
        elapsed = time.monotonic() - t0
    assert elapsed >= 10.0  # the outage was really crossed
    assert st.succeeded == 120 and st.failed == 0 and st.retries > 0
    assert set(_successes_per_key(srv).values()) == {1}
    assert lines == _expected_lines(reqs, tmp_path)


@pytest.mark.parametrize("retry_after", [0.5, None])
def test_burst_of_429(retry_after: float | None, tmp_path: Path) -> None:
    with OpenAIStubServer(latency=0.01) as srv:
        srv.script(*[Fault.rate_limit(retry_after) for _ in range(12)])
        cfg = _cfg(srv, concurrency=6)
        reqs = _reqs(cfg, 40)
        with Journal(tmp_path / "j.sqlite3") as j:
            st = run_requests(reqs, config=cfg, journal=j, progress=False)
            lines = {r.key: j.get(r.key)["lines"] for r in reqs}
        log = srv.requests
    assert st.succeeded == 40 and st.rate_limited == 12
    assert set(_successes_per_key(srv).values()) == {1}
    if retry_after is not None:  # each retry came after the announced delay (server-side clock)
        by_key = defaultdict(list)
        for r in log:
            by_key[r.key].append(r)
        for rs in by_key.values():
            for prev, nxt in zip(rs, rs[1:]):
                if prev.status == 429:
                    assert nxt.time - prev.end_time >= retry_after - 0.05
    assert lines == _expected_lines(reqs, tmp_path)


def test_truncated_bodies_and_closed_connections(tmp_path: Path) -> None:
    with OpenAIStubServer() as srv:
        srv.script(Fault.truncated(), Fault.close(), Fault.truncated(), Fault.server_error(502), Fault.truncated())
        cfg = _cfg(srv, concurrency=3)
        reqs = _reqs(cfg, 30)
        with Journal(tmp_path / "j.sqlite3") as j:
            st = run_requests(reqs, config=cfg, journal=j, progress=False)
            lines = {r.key: j.get(r.key)["lines"] for r in reqs}
            assert j.records()["attempts"].sum() == 35
    assert st.succeeded == 30 and st.retries == 5
    assert set(_successes_per_key(srv).values()) == {1}
    assert lines == _expected_lines(reqs, tmp_path)


def _run_driver(base_url: str, journal: Path, out: Path, n: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, str(DRIVER), base_url, str(journal), str(out), str(n), "8"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.slow
def test_sigkill_at_random_points_then_resume(tmp_path: Path) -> None:
    """SIGKILL the driver 20 times at random points; the final output equals an uninterrupted run."""
    n, kills = 400, 20
    rng = random.Random(0)
    jpath, out = tmp_path / "j.sqlite3", tmp_path / "out.jsonl"
    with OpenAIStubServer(latency=0.03) as srv:
        cycles: list[tuple[int, set[str]]] = []  # (server log length at the kill, keys done at the kill)
        for _ in range(kills):
            start = len(srv.requests)
            target = start + rng.randint(1, 25)
            proc = _run_driver(srv.base_url, jpath, out, n)
            deadline = time.monotonic() + 20
            while len(srv.requests) < target and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.002)
            time.sleep(rng.uniform(0, 0.05))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            time.sleep(0.05)  # let the server finish answering the dead client's requests
            with Journal(jpath) as j:
                cycles.append((len(srv.requests), j.done_keys()))
        proc = _run_driver(srv.base_url, jpath, out, n)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err.decode()[-2000:]
        log = srv.requests

    # no key completed before a kill was ever sent again after it
    for log_len, done in cycles:
        resent = {r.key for r in log[log_len:]} & done
        assert not resent, f"{len(resent)} completed requests were sent again"
    assert len(cycles[-1][1]) < n, "the kills did not interrupt the run"
    assert len(cycles[-1][1]) > 0, "no progress between kills"
    # duplicates are only requests that were in flight at a kill (at most 8 per kill)
    dup = sum(c - 1 for c in Counter(r.key for r in log).values())
    assert dup <= 8 * kills
    # the final output equals an uninterrupted run
    cfg, reqs = llm_driver.build("http://127.0.0.1:1/v1", n)
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert [g["key"] for g in got] == [r.key for r in reqs]
    expected = _expected_lines(reqs, tmp_path)
    assert {g["key"]: g["lines"] for g in got} == expected
    with Journal(jpath) as j:
        assert j.usage_totals()["done"] == n
