"""LLM client against a real HTTP server on 127.0.0.1: success, retries, fatal errors, budget, dry run."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from statcodgen.errors import BudgetExceededError, ConfigError, FatalLLMError
from statcodgen.llm.journal import Journal
from statcodgen.llm.client import run_requests, run_requests_async
from statcodgen.llm.config import Endpoint, LLMConfig, Prices, dry_run, make_request
from statcodgen.testing import Fault, OpenAIStubServer

SECRET = "sk-test-SECRET-0123456789abcdefXYZ"


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)


@pytest.fixture
def server():
    with OpenAIStubServer() as srv:
        yield srv


def _cfg(srv: OpenAIStubServer, **kw) -> LLMConfig:
    base = dict(model="stub-model", base_url=srv.base_url, concurrency=4, max_retries=5,
                backoff_base=0.02, backoff_max=0.1, temperature=0.3)
    base.update(kw)
    return LLMConfig(**base)


def _reqs(cfg: LLMConfig, n: int, text: str = "describe activity") -> list:
    return [make_request([{"role": "system", "content": "You write activities."},
                          {"role": "user", "content": f"{text} {i}"}], config=cfg, seed=1, sample_index=i,
                         metadata={"code": f"08.1{i % 10}", "prompt_id": "p1"}) for i in range(n)]


def test_success_path_server_receives_model_params_messages(server, tmp_path: Path) -> None:
    cfg = _cfg(server, max_tokens=200)
    reqs = _reqs(cfg, 12)
    with Journal(tmp_path / "j.sqlite3") as j:
        st = run_requests(reqs, config=cfg, journal=j, progress=False)
        assert (st.succeeded, st.failed, st.cached, st.sent) == (12, 0, 0, 12)
        got = server.requests
        assert len(got) == 12
        assert {r.body["model"] for r in got} == {"stub-model"}
        assert {r.body["temperature"] for r in got} == {0.3}
        assert {r.body["max_tokens"] for r in got} == {200}
        assert all(r.has_authorization for r in got)
        assert "authorization" not in got[0].headers
        assert {r.key for r in got} == {r.key for r in reqs}
        assert sorted(r.body["messages"][1]["content"] for r in got) == sorted(f"describe activity {i}" for i in range(12))
        assert "response_format" not in got[0].body
        row = j.get(reqs[3].key)
        assert row["status"] == "done" and row["attempts"] == 1
        assert len(row["lines"]) == 5 and row["lines"][0].startswith("ACTIVITE ")
        assert row["metadata"] == {"code": "08.13", "prompt_id": "p1"}
        assert st.prompt_tokens == j.usage_totals()["prompt_tokens"] > 0
        # re-run: nothing sent, everything cached
        st2 = run_requests(reqs, config=cfg, journal=j, progress=False)
        assert (st2.cached, st2.sent) == (12, 0)
        assert len(server.requests) == 12


def test_retry_after_is_honoured_server_side(server, tmp_path: Path) -> None:
    cfg = _cfg(server, concurrency=1)
    reqs = _reqs(cfg, 3)
    server.script(Fault.rate_limit(retry_after=1.0), Fault.server_error(500))
    with Journal(tmp_path / "j.sqlite3") as j:
        st = run_requests(reqs, config=cfg, journal=j, progress=False)
    got = server.requests
    assert [r.status for r in got[:3]] == [429, 500, 200]
    assert got[0].key == got[1].key == got[2].key
    assert got[1].time - got[0].end_time >= 0.95  # waited for Retry-After: 1
    assert (st.succeeded, st.retries, st.rate_limited) == (3, 2, 1)
    assert len(got) == 5


def test_timeout_is_retried(server, tmp_path: Path) -> None:
    cfg = _cfg(server, concurrency=1, timeout=0.4)
    reqs = _reqs(cfg, 2)
    server.script(Fault.slow(1.5))
    with Journal(tmp_path / "j.sqlite3") as j:
        st = run_requests(reqs, config=cfg, journal=j, progress=False)
        assert st.succeeded == 2 and st.retries == 1
        assert j.get(reqs[0].key)["attempts"] == 2
    assert Counter(r.key for r in server.requests)[reqs[0].key] == 2


@pytest.mark.parametrize(
    ("setup", "status", "needle"),
    [
        ({"api_key": "sk-the-right-one"}, 401, "$OPENAI_API_KEY (401)"),
        ({"known_models": ["other-model"]}, 404, "(404)"),
        ({"context_chars": 10}, 400, "longer than the model's context"),
    ],
)
def test_fatal_errors_stop_early(setup: dict, status: int, needle: str, tmp_path: Path) -> None:
    with OpenAIStubServer(**setup) as srv:
        cfg = _cfg(srv, concurrency=3)
        reqs = _reqs(cfg, 200)
        with Journal(tmp_path / "j.sqlite3") as j:
            with pytest.raises(FatalLLMError) as ei:
                run_requests(reqs, config=cfg, journal=j, progress=False)
            assert needle in str(ei.value)
            assert SECRET not in str(ei.value)
            totals = j.usage_totals()
            assert totals["fatal"] >= 1 and totals["done"] == 0
            assert totals["pending"] + totals["fatal"] == 200
        # stopped after the requests in flight, not 200 failures
        assert 1 <= len(srv.requests) <= 3
        assert {r.status for r in srv.requests} == {status}
        assert ei.value.stats.sent <= 3


def test_no_api_key_in_journal_or_outputs(server, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cfg = _cfg(server)
    reqs = _reqs(cfg, 10)
    server.script(Fault.server_error(503), Fault.malformed())
    path = tmp_path / "j.sqlite3"
    with Journal(path) as j:
        run_requests(reqs, config=cfg, journal=j, progress=True)
        records = j.records()
    out = capsys.readouterr()
    blobs = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert b"SECRET" not in blobs and SECRET not in out.out + out.err
    assert SECRET not in records.to_csv()
    assert all(r.has_authorization for r in server.requests)


def test_malformed_and_empty_bodies_kept_with_reason(server, tmp_path: Path) -> None:
    cfg = _cfg(server, concurrency=1, max_retries=0, max_consecutive_failures=5)
    reqs = _reqs(cfg, 3)
    server.script(Fault.malformed(), Fault.empty())
    with Journal(tmp_path / "j.sqlite3") as j:
        st = run_requests(reqs, config=cfg, journal=j, progress=False)
        assert (st.succeeded, st.failed) == (1, 2)
        a, b = j.get(reqs[0].key), j.get(reqs[1].key)
        assert a["status"] == "failed" and "malformed_response" in a["error"] and a["raw"].startswith('{"id"')
        assert b["status"] == "failed" and "empty_content" in b["error"] and '"content": ""' in b["raw"]
        # a later run retries the failed ones only
        st2 = run_requests(reqs, config=cfg, journal=j, progress=False)
        assert (st2.cached, st2.succeeded) == (1, 2)


def test_consecutive_failures_become_fatal(tmp_path: Path) -> None:
    with OpenAIStubServer(responder=lambda body: Fault.server_error(500)) as srv:
        cfg = _cfg(srv, concurrency=1, max_retries=1, max_consecutive_failures=3)
        with Journal(tmp_path / "j.sqlite3") as j, pytest.raises(FatalLLMError, match="3 requests in a row failed"):
            run_requests(_reqs(cfg, 50), config=cfg, journal=j, progress=False)
        assert len(srv.requests) == 6


def test_budget_stops_cleanly(server, tmp_path: Path) -> None:
    # every answer has 33 completion tokens -> 33e-6 * 30_000 ~ 0.99 per request
    cfg = _cfg(server, concurrency=2, prices=Prices(prompt=0, completion=30_000), max_cost=4.5)
    reqs = _reqs(cfg, 40)
    with Journal(tmp_path / "j.sqlite3") as j:
        with pytest.raises(BudgetExceededError, match="max_cost=4.5") as ei:
            run_requests(reqs, config=cfg, journal=j, progress=False)
        st = ei.value.stats
        assert st.cost >= 4.5 and st.stopped == "budget"
        assert j.usage_totals()["done"] == st.succeeded
        assert 5 <= st.succeeded <= 6
    assert len(server.requests) == st.succeeded


def test_dry_run_sends_nothing(server, tmp_path: Path) -> None:
    cfg = _cfg(server, max_tokens=100, prices=Prices(prompt=2.0, completion=8.0))
    reqs = _reqs(cfg, 20)
    with Journal(tmp_path / "j.sqlite3") as j:
        run_requests(reqs[:5], config=cfg, journal=j, progress=False)
        server.clear()
        s = dry_run(reqs, config=cfg, journal=j)
    assert server.requests == []
    assert (s.requests, s.cached, s.to_send) == (20, 5, 15)
    assert s.completion_tokens == 15 * 100
    assert s.cost == pytest.approx((s.prompt_tokens * 2.0 + s.completion_tokens * 8.0) / 1e6)
    assert "15 requests to send" in str(s)
    assert list(s.table.columns[:5]) == ["key", "cached", "prompt_tokens", "completion_tokens", "cost"]


def test_json_output_and_fallback(tmp_path: Path) -> None:
    with OpenAIStubServer(responder=lambda b: '{"lines": ["fabrication de tuiles", "1. pose de tuiles."]}') as srv:
        cfg = _cfg(srv, json_output=True, concurrency=1)
        with Journal(tmp_path / "a.sqlite3") as j:
            run_requests(_reqs(cfg, 2), config=cfg, journal=j, progress=False)
            assert j.records()["lines"].tolist()[0] == ["FABRICATION DE TUILES", "POSE DE TUILES"]
        assert srv.requests[0].body["response_format"] == {"type": "json_object"}
    with OpenAIStubServer(response_format_supported=False, responder=lambda b: "- tuiles\n- briques") as srv:
        cfg = _cfg(srv, json_output=True, concurrency=1)
        with Journal(tmp_path / "b.sqlite3") as j:
            st = run_requests(_reqs(cfg, 4), config=cfg, journal=j, progress=False)
            assert st.json_fallback and st.succeeded == 4
            assert all(r["lines"] == ["TUILES", "BRIQUES"] for r in j.records().to_dict("records"))
        statuses = [r.status for r in srv.requests]
        assert statuses == [400, 200, 200, 200, 200]
        assert all("response_format" not in r.body for r in srv.requests[1:])


def test_adaptive_concurrency_converges(tmp_path: Path) -> None:
    with OpenAIStubServer(latency=0.05, rps_limit=40, rps_retry_after=False) as srv:
        cfg = _cfg(srv, concurrency=16, adaptive=True, max_retries=30, backoff_base=0.1, backoff_max=0.5)
        with Journal(tmp_path / "j.sqlite3") as j:
            st = run_requests(_reqs(cfg, 80), config=cfg, journal=j, progress=False)
        assert st.succeeded == 80 and st.rate_limited > 0
        assert st.final_concurrency[0] < 16


def test_multiple_endpoints_share_the_work(tmp_path: Path) -> None:
    with OpenAIStubServer(latency=0.02) as a, OpenAIStubServer(latency=0.02) as b:
        cfg = LLMConfig(model="m", base_url=[Endpoint(base_url=a.base_url, concurrency=2),
                                             Endpoint(base_url=b.base_url, concurrency=3)], backoff_base=0.01)
        reqs = _reqs(cfg, 40)
        with Journal(tmp_path / "j.sqlite3") as j:
            st = run_requests(reqs, config=cfg, journal=j, progress=False)
        assert st.succeeded == 40
        assert len(a.requests) > 0 and len(b.requests) > 0 and len(a.requests) + len(b.requests) == 40
        assert a.max_in_flight <= 2 and b.max_in_flight <= 3


def test_bounded_concurrency_observed_by_server(tmp_path: Path) -> None:
    with OpenAIStubServer(latency=0.03) as srv:
        cfg = _cfg(srv, concurrency=5)
        with Journal(tmp_path / "j.sqlite3") as j:
            run_requests(_reqs(cfg, 60), config=cfg, journal=j, progress=False)
        assert srv.max_in_flight == 5


def test_missing_key_for_remote_endpoint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MY_LLM_KEY", raising=False)
    cfg = LLMConfig(model="m", base_url="https://api.example.org/v1", api_key_env="MY_LLM_KEY")
    with Journal(tmp_path / "j.sqlite3") as j, pytest.raises(ConfigError, match="MY_LLM_KEY"):
        run_requests(_reqs(cfg, 1), config=cfg, journal=j, progress=False)


def test_local_server_works_without_key(monkeypatch: pytest.MonkeyPatch, server, tmp_path: Path) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    cfg = _cfg(server)
    with Journal(tmp_path / "j.sqlite3") as j:
        assert run_requests(_reqs(cfg, 2), config=cfg, journal=j, progress=False).succeeded == 2


def test_config_validation() -> None:
    with pytest.raises(ConfigError, match="concurency"):
        LLMConfig(model="m", concurency=3)
    with pytest.raises(ConfigError, match="concurrency"):
        LLMConfig(model="m", concurrency=0)
    with pytest.raises(ConfigError, match="base_url"):
        LLMConfig(model="m", base_url=[]).endpoints()


def test_request_keys_depend_on_inputs() -> None:
    cfg = LLMConfig(model="m", temperature=0.5)
    m = [{"role": "user", "content": "x"}]
    k = make_request(m, config=cfg, seed=1).key
    assert k == make_request(m, config=cfg, seed=1).key
    assert len({k, make_request(m, config=cfg, seed=2).key, make_request(m, config=cfg, seed=1, sample_index=1).key,
                make_request(m, config=LLMConfig(model="m", temperature=0.6), seed=1).key,
                make_request(m, config=LLMConfig(model="n", temperature=0.5), seed=1).key}) == 5


def test_sync_wrapper_inside_running_loop(server, tmp_path: Path) -> None:
    cfg = _cfg(server)

    async def inner() -> int:
        with Journal(tmp_path / "j.sqlite3") as j:
            return run_requests(_reqs(cfg, 3), config=cfg, journal=j, progress=False).succeeded

    assert asyncio.run(inner()) == 3


def test_async_api(server, tmp_path: Path) -> None:
    cfg = _cfg(server)
    with Journal(tmp_path / "j.sqlite3") as j:
        st = asyncio.run(run_requests_async(_reqs(cfg, 3), config=cfg, journal=j, progress=False))
    assert st.succeeded == 3


def test_key_echoed_by_server_is_redacted(server, tmp_path: Path) -> None:
    server.script(Fault("status", 401, f"Incorrect API key provided: {SECRET}. Find your key at ...", "invalid_api_key"))
    cfg = _cfg(server, concurrency=1)
    path = tmp_path / "j.sqlite3"
    with Journal(path) as j, pytest.raises(FatalLLMError) as ei:
        run_requests(_reqs(cfg, 5), config=cfg, journal=j, progress=False)
    assert "SECRET" not in str(ei.value) and "provided: ***" in str(ei.value)
    assert b"SECRET" not in b"".join(p.read_bytes() for p in tmp_path.iterdir())


def test_stub_server_runs_as_a_process(tmp_path: Path) -> None:
    import json
    import os
    import subprocess
    import sys
    import urllib.request

    root = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen([sys.executable, "-m", "statcodgen.testing", "--latency", "0.01"], stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(root)})
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        with urllib.request.urlopen(url + "/models", timeout=10) as r:
            assert json.load(r)["data"][0]["object"] == "model"
        cfg = LLMConfig(model="m", base_url=url)
        with Journal(tmp_path / "j.sqlite3") as j:
            assert run_requests(_reqs(cfg, 3), config=cfg, journal=j, progress=False).succeeded == 3
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_aimd_limiter_rules() -> None:
    from statcodgen.llm.client import _Limiter

    async def go() -> None:
        lim = _Limiter(16, adaptive=True)
        epochs = [await lim.acquire() for _ in range(4)]
        for e in epochs:  # four 429s from requests sent in the same window: one halving
            lim.on_rate_limit(e)
        assert lim.limit == 8.0
        lim.on_rate_limit(await lim.acquire())  # a request sent after the decrease halves again
        assert lim.limit == 4.0
        for _ in range(4):  # +1 per window of `limit` successes
            lim.on_success()
        assert 4.9 < lim.limit < 5.1
        for _ in range(1000):
            lim.on_success()
        assert lim.limit == 16.0
        fixed = _Limiter(16, adaptive=False)
        fixed.on_rate_limit(0)
        assert fixed.limit == 16.0

    asyncio.run(go())


def test_dead_endpoint_requests_move_to_a_healthy_one(tmp_path: Path) -> None:
    with OpenAIStubServer(responder=lambda b: Fault.close()) as dead, OpenAIStubServer(latency=0.01) as ok:
        cfg = LLMConfig(model="m", base_url=[Endpoint(base_url=dead.base_url, concurrency=2),
                                             Endpoint(base_url=ok.base_url, concurrency=2)],
                        backoff_base=0.01, backoff_max=0.05, max_retries=50, max_consecutive_failures=1)
        reqs = _reqs(cfg, 30)
        with Journal(tmp_path / "j.sqlite3") as j:
            st = run_requests(reqs, config=cfg, journal=j, progress=False)
            assert j.usage_totals()["done"] == 30
        assert st.succeeded == 30 and st.failed == 0
        assert len(dead.requests) >= 2 and {r.outcome for r in dead.requests} == {"closed"}
        assert len({r.key for r in ok.requests}) == 30


@pytest.mark.timeout(60)
def test_unexpected_error_in_parser_stops_the_run(server, tmp_path: Path) -> None:
    cfg = _cfg(server, concurrency=3)

    def bad_parser(content: str, request) -> None:
        raise ValueError("parser exploded")

    with Journal(tmp_path / "j.sqlite3") as j, pytest.raises(ValueError, match="parser exploded"):
        run_requests(_reqs(cfg, 30), config=cfg, journal=j, progress=False, parser=bad_parser)
    assert len(server.requests) <= 3
