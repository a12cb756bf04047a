"""Slow servers (issue 12): timeouts suited to the endpoint, timeouts lowering the adaptive concurrency,
one warning with the measured seconds, streaming with an idle timeout, the JSON schema of N lines
and its fallback, and the CLI options, all against the real scripted HTTP server on 127.0.0.1 and
asserted on what the server received."""

from __future__ import annotations

import http.client
import hashlib
import json
import logging
import re
import subprocess
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

import pytest

from statcodgen.errors import ConfigError
from statcodgen.generation import LLMGenerator, generate, generation_plan
from statcodgen.llm.client import LLMTimeoutWarning, run_requests
from statcodgen.llm.config import AUTO_TIMEOUT_HOSTED, AUTO_TIMEOUT_LOCAL, LLMConfig, is_local_url, make_request
from statcodgen.llm.journal import Journal
from statcodgen.llm.parsing import format_output
from statcodgen.sources import load_notes
from statcodgen.testing import Fault, OpenAIStubServer, default_responder

ROOT = Path(__file__).resolve().parents[1]
NOTES = ROOT / "notes" / "sample_notes_en.csv"


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-slow-0123456789")


def _cfg(srv: OpenAIStubServer, **kw) -> LLMConfig:
    base = dict(model="stub-model", base_url=srv.base_url, concurrency=4, max_retries=10, backoff_base=0.05,
                backoff_max=0.2, jitter=False, temperature=0.3)
    base.update(kw)
    return LLMConfig(**base)


def _reqs(cfg: LLMConfig, n: int, **meta) -> list:
    return [make_request([{"role": "user", "content": f"describe activity {i}"}], config=cfg, seed=1, sample_index=i,
                         metadata={"i": i, **meta}) for i in range(n)]


def _timeout_warnings(record: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in record if issubclass(w.category, LLMTimeoutWarning)]


# --- the auto timeout rule --------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/v1", "http://localhost:11434/v1", "http://[::1]:8000/v1", "http://0.0.0.0:5000/v1",
    "http://192.168.1.20/v1", "http://10.0.0.5:9000/v1", "http://172.20.3.4/v1", "http://100.101.102.103/v1",
    "http://gpu1:8000/v1", "http://llm.internal/v1", "http://box.local:7000/v1", "https://llm.example.org:8000/v1",
])
def test_auto_timeout_is_long_for_local_servers(url: str) -> None:
    cfg = LLMConfig(model="m", base_url=url)
    assert cfg.timeout == "auto" and is_local_url(url)
    assert cfg.timeout_for(url) == AUTO_TIMEOUT_LOCAL == 900.0


@pytest.mark.parametrize("url", [
    "https://api.openai.com/v1", "https://api.groq.com/openai/v1", "https://openrouter.ai/api/v1",
    "https://8.8.8.8/v1", "https://generativelanguage.googleapis.com/v1beta/openai/", "",
])
def test_auto_timeout_is_120_s_for_hosted_apis(url: str) -> None:
    cfg = LLMConfig(model="m", base_url=url)
    assert not is_local_url(url)
    assert cfg.timeout_for(url) == AUTO_TIMEOUT_HOSTED == 120.0


def test_explicit_timeouts_and_validation() -> None:
    assert LLMConfig(model="m", timeout=30).timeout_for("http://127.0.0.1/v1") == 30.0
    assert LLMConfig(model="m", timeout=2.5).timeout_for("https://api.openai.com/v1") == 2.5
    assert LLMConfig(model="m", timeout=None).timeout == "auto"
    for bad in (0, -1, "fast", True, float("nan"), float("inf")):
        with pytest.raises(ConfigError, match=r"timeout must be a number of seconds > 0 or 'auto'"):
            LLMConfig(model="m", timeout=bad)
    from statcodgen.study.config import load_config

    study = {"notes": {"fetch": "nace_rev2"}, "real": {"fetch": "ons_index"}, "targets": {"labels": ["B"]}}
    cfg = load_config({**study, "llm": {"model": "m", "timeout": 45, "max_tokens": 300, "stream": True}}).llm
    assert (cfg.timeout, cfg.max_tokens, cfg.stream) == (45.0, 300, True)
    with pytest.raises(ConfigError, match="timeout"):
        load_config({**study, "llm": {"model": "m", "timeout": "slow"}})


def test_a_run_uses_the_timeout_of_its_endpoint(tmp_path: Path) -> None:
    with OpenAIStubServer() as srv, Journal(tmp_path / "j.sqlite") as j:
        assert run_requests(_reqs(_cfg(srv), 1), config=_cfg(srv), journal=j, progress=False).timeout_s == [900.0]
        st = run_requests(_reqs(_cfg(srv, timeout=7), 2)[1:], config=_cfg(srv, timeout=7), journal=j, progress=False)
        assert st.timeout_s == [7.0]


# --- a server slower than the timeout ---------------------------------------------------------------------------


@pytest.mark.slow
def test_long_auto_timeout_completes_with_each_request_received_once(tmp_path: Path) -> None:
    # one slot computing 0.25 s per request: the third request in line waits 0.75 s in all
    with OpenAIStubServer(delay=0.25, max_concurrency=1) as srv:
        cfg = _cfg(srv, concurrency=3)
        reqs = _reqs(cfg, 8)
        with Journal(tmp_path / "j.sqlite") as j, warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            st = run_requests(reqs, config=cfg, journal=j, progress=False)
        got = srv.requests
    assert (st.succeeded, st.failed, st.retries, st.timeouts) == (8, 0, 0, 0)
    assert Counter(r.key for r in got) == {r.key: 1 for r in reqs}
    assert not any(r.disconnected for r in got) and {r.status for r in got} == {200}
    assert srv.peak_open(tolerance=0.02) <= 3
    assert _timeout_warnings(rec) == [] and st.warnings == []
    assert st.mean_request_s >= 0.25 and st.max_request_s >= 0.5  # queued behind the slot


@pytest.mark.slow
def test_short_timeout_retries_lowers_concurrency_and_warns_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # 0.3 s per request on one slot, 4 sent at once with a 0.8 s timeout: the last ones in line time out,
    # and the server (like llama.cpp) computes the abandoned requests anyway
    with OpenAIStubServer(delay=0.3, max_concurrency=1) as srv:
        cfg = _cfg(srv, concurrency=4, timeout=0.8, adaptive=True)
        reqs = _reqs(cfg, 12)
        caplog.set_level(logging.WARNING, logger="statcodgen.llm.client")
        with Journal(tmp_path / "j.sqlite") as j, warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            st = run_requests(reqs, config=cfg, journal=j, progress=False)
            attempts = {r.key: j.get(r.key)["attempts"] for r in reqs}
        got = srv.requests
    assert (st.succeeded, st.failed) == (12, 0)
    assert st.timeouts >= 3 and st.retries == st.timeouts == sum(r.disconnected for r in got)
    assert len(got) == 12 + st.retries and Counter(r.key for r in got) == attempts
    assert sum(r.status == 200 for r in got) == 12  # the abandoned ones were computed, never delivered
    # the limit was halved on timeouts, as on 429s; never more requests open than the limit allowed
    assert min(v for _, v in st.concurrency_trace[0]) <= 2
    assert srv.peak_open(tolerance=0.02) <= 4
    # one warning, in logging and in warnings, with the measured seconds, the timeout and what to change
    msgs = _timeout_warnings(rec)
    assert len(msgs) == 1 and st.warnings == msgs
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == msgs
    msg = msgs[0]
    assert "timed out after 0.8 s" in msg
    measured = float(re.search(r"Successful requests took (\d+\.\d) s each", msg).group(1))
    assert 0.25 <= measured <= 0.8
    assert re.search(r"--timeout \d+ on the command line, or timeout = \d+ under \[llm\]", msg)
    assert "--concurrency 2" in msg and "--adaptive" not in msg


def test_timeouts_halve_the_adaptive_concurrency_exactly_as_429s(tmp_path: Path) -> None:
    traces = {}
    for name, setup, adaptive in (("timeout", {"delay": 0.6, "delay_first": 3}, True), ("429", {}, True),
                                  ("fixed", {"delay": 0.6, "delay_first": 3}, False)):
        with OpenAIStubServer(**setup) as srv:
            if name == "429":
                srv.script(*[Fault.rate_limit()] * 3)
            cfg = _cfg(srv, concurrency=3, timeout=0.25, adaptive=adaptive, backoff_base=0.3)
            with Journal(tmp_path / f"{name}.sqlite") as j, warnings.catch_warnings(record=True) as rec:
                warnings.simplefilter("always")
                st = run_requests(_reqs(cfg, 3), config=cfg, journal=j, progress=False)
            assert st.succeeded == 3 and len(srv.requests) == 6
        traces[name] = [v for _, v in st.concurrency_trace[0]]
        if name != "429":
            assert st.timeouts == 3 and len(_timeout_warnings(rec)) == 1
    # three failures of requests sent in the same window: one halving, for a timeout as for a 429
    assert traces["timeout"][:2] == traces["429"][:2] == [3.0, 1.5]
    assert traces["fixed"] == [3.0]
    assert "--adaptive" in _timeout_warnings(rec)[0]  # the fixed run's warning says how to let it adapt


# --- streaming: an idle timeout ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_stream_idle_timeout_lets_a_slow_but_steady_server_finish(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    # 20 pieces of content, 0.06 s apart: ~1.2 s per answer, a 0.4 s timeout
    with OpenAIStubServer(chunk_delay=0.06) as srv:
        cfg = _cfg(srv, concurrency=3, timeout=0.4, stream=True)
        reqs = _reqs(cfg, 3)
        with Journal(tmp_path / "s.sqlite") as j:
            st = run_requests(reqs, config=cfg, journal=j, progress=True)
            rows = [j.get(r.key) for r in reqs]
        got = srv.requests
        assert (st.succeeded, st.retries, st.timeouts) == (3, 0, 0)
        assert Counter(r.key for r in got) == {r.key: 1 for r in reqs}
        assert all(r.stream and r.body["stream_options"] == {"include_usage": True} for r in got)
        assert all(r.outcome == "stream" and not r.disconnected and r.end_time - r.time >= 1.0 for r in got)
        assert st.usage_estimated == 0 and st.to_dict()["usage_source"] == "server" and st.completion_tokens > 0
        expected = {r.key: format_output(default_responder(r.body)).lines for r in got}
        assert all(row["lines"] == expected[r.key] and len(row["lines"]) == 5 for r, row in zip(reqs, rows))
        assert "chunks=" in capsys.readouterr().err  # the progress bar shows the chunks received
        # the same server without streaming: the 0.4 s timeout is for the whole answer, which never comes
        srv.clear()
        cfg = _cfg(srv, concurrency=3, timeout=0.4, max_retries=0)
        with Journal(tmp_path / "n.sqlite") as j, pytest.warns(LLMTimeoutWarning, match="No request has succeeded yet"):
            st = run_requests(reqs, config=cfg, journal=j, progress=False)
        assert (st.succeeded, st.failed, st.timeouts) == (0, 3, 3)
        assert all(r.disconnected and not r.stream for r in srv.requests)


def test_stream_without_usage_estimates_the_tokens(tmp_path: Path) -> None:
    with OpenAIStubServer(stream_usage=False) as srv:
        cfg = _cfg(srv, stream=True)
        with Journal(tmp_path / "j.sqlite") as j:
            st = run_requests(_reqs(cfg, 4), config=cfg, journal=j, progress=False)
        assert st.succeeded == 4 and st.usage_estimated == 4 and st.to_dict()["usage_source"] == "estimated"
        contents = [default_responder(r.body) for r in srv.requests]
        assert st.completion_tokens == sum(len(c) // 4 for c in contents)
        assert all(r.stream and r.outcome == "stream" for r in srv.requests)


# --- structured output: a JSON schema of N lines ----------------------------------------------------------------


def _n_lines(body: dict) -> int | None:
    fmt = body.get("response_format") or {}
    if fmt.get("type") != "json_schema":
        return None
    items = fmt["json_schema"]["schema"]["properties"]["lines"]
    assert items["minItems"] == items["maxItems"]
    return items["minItems"]


def _json_or_text(body: dict) -> str:
    n = _n_lines(body)
    if n is None:
        return "Here are the lines:\n- making of roof tiles\n- 2. firing of bricks."
    tag = hashlib.sha256(json.dumps(body["messages"]).encode()).hexdigest()[:6]  # another prompt, other lines
    return json.dumps({"lines": [f"{i}. activity {tag} number {i}." for i in range(1, n + 1)]})


def test_json_schema_asks_for_the_n_lines_of_each_request(tmp_path: Path) -> None:
    notes = load_notes(NOTES)
    plan = generation_plan(notes, targets=["B", "O"], n_per_target=13, min_per_code=1)
    chunks = sorted(min(5, int(n) - k) for n in plan["n_samples"] for k in range(0, int(n), 5))
    with OpenAIStubServer(responder=_json_or_text) as srv:
        cfg = _cfg(srv, json_output=True)
        res = generate(notes, plan, generator=LLMGenerator(cfg, journal_path=tmp_path / "j.sqlite", lines_per_request=5),
                       progress=False)
        bodies = [r.body for r in srv.requests]
    assert 1 in chunks or 3 in chunks  # some requests ask for fewer than 5 lines
    assert sorted(_n_lines(b) for b in bodies) == chunks
    fmt = bodies[0]["response_format"]
    assert fmt["json_schema"]["name"] == "lines" and fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["schema"]["required"] == ["lines"]
    assert fmt["json_schema"]["schema"]["additionalProperties"] is False
    assert len(res.lines) == sum(chunks) and res.lines["text"].str.match(r"^ACTIVITY [0-9A-F]{6} NUMBER \d$").all()
    assert res.stats["json_fallback"] is False and res.stats["json_schema_fallback"] is False


@pytest.mark.parametrize("status", [400, 500])
def test_refused_json_schema_falls_back_once_to_plain_json(tmp_path: Path, caplog: pytest.LogCaptureFixture, status: int) -> None:
    # like an older llama.cpp (400), or llama-cpp-python's server (a 500 naming response_format):
    # json_object is known, json_schema is not; neither status is retried
    with OpenAIStubServer(response_format_types={"json_object"}, response_format_status=status, responder=_json_or_text,
                          latency=0.02) as srv:
        cfg = _cfg(srv, json_output=True, concurrency=3)
        reqs = _reqs(cfg, 9, n_lines=2)
        caplog.set_level(logging.WARNING, logger="statcodgen.llm.client")
        with Journal(tmp_path / "j.sqlite") as j:
            st = run_requests(reqs, config=cfg, journal=j, progress=False)
            lines = [j.get(r.key)["lines"] for r in reqs]
        got = srv.requests
    refused = [r for r in got if r.status == status]
    assert 1 <= len(refused) <= 3 and all(r.body["response_format"]["type"] == "json_schema" for r in refused)
    last = max(r.index for r in refused)
    assert all(r.body["response_format"] == {"type": "json_object"} for r in got if r.index > last)
    assert Counter(r.key for r in got if r.status == 200) == {r.key: 1 for r in reqs}
    assert st.json_schema_fallback and not st.json_fallback and st.succeeded == 9 and st.retries == 0
    assert lines == [["MAKING OF ROOF TILES", "FIRING OF BRICKS"]] * 9
    logged = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(logged) == 1 and "json_object" in logged[0] and st.warnings == logged


def test_a_server_refusing_any_json_mode_gets_text_prompts(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with OpenAIStubServer(response_format_supported=False, responder=_json_or_text) as srv:
        cfg = _cfg(srv, json_output=True, concurrency=1)
        reqs = _reqs(cfg, 4, n_lines=2)
        caplog.set_level(logging.WARNING, logger="statcodgen.llm.client")
        with Journal(tmp_path / "j.sqlite") as j:
            st = run_requests(reqs, config=cfg, journal=j, progress=False)
        got = srv.requests
    kinds = [(r.body.get("response_format") or {}).get("type") for r in got]
    assert kinds[:3] == ["json_schema", "json_object", None] and set(kinds[3:]) == {None}
    assert [r.status for r in got[:2]] == [400, 400] and st.succeeded == 4 and st.retries == 0
    assert st.json_schema_fallback and st.json_fallback and len(st.warnings) == 2


def test_parser_reads_the_lines_object_arrays_and_text() -> None:
    want = ["MAKING OF ROOF TILES", "FIRING OF BRICKS"]
    assert format_output('{"lines": ["making of roof tiles", "firing of bricks."]}', json_expected=True).lines == want
    assert format_output('["1. making of roof tiles", "firing of bricks"]', json_expected=True).lines == want
    assert format_output("- making of roof tiles\n- firing of bricks", json_expected=True).lines == want


# --- the scripted server itself ---------------------------------------------------------------------------------


def _post(srv: OpenAIStubServer, body: dict, timeout: float) -> tuple[int, bytes] | None:
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=timeout)
    try:
        conn.request("POST", "/v1/chat/completions", json.dumps(body), {"Content-Type": "application/json"})
        resp = conn.getresponse()
        return resp.status, resp.read()
    except TimeoutError:
        return None
    finally:
        conn.close()


def _wait_outcome(rec, seconds: float = 3.0) -> None:
    """Wait until the server has finished with ``rec`` (it computes abandoned requests to the end)."""
    deadline = time.time() + seconds
    while not rec.outcome and time.time() < deadline:
        time.sleep(0.02)


def test_stub_delays_the_first_k_records_disconnects_and_streams() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "x"}]}
    with OpenAIStubServer(delay=0.5, delay_first=1) as srv:
        assert _post(srv, body, timeout=0.15) is None  # the client gives up
        status, _ = _post(srv, body, timeout=5)
        assert status == 200
        status, raw = _post(srv, {**body, "stream": True, "stream_options": {"include_usage": True}}, timeout=5)
        slow, fast, streamed = srv.requests
        _wait_outcome(slow)
    assert slow.disconnected and 0.1 < slow.disconnect_time - slow.time < 0.4
    assert slow.outcome == "client_gone" and slow.end_time - slow.time >= 0.5  # computed anyway
    assert not fast.disconnected and fast.end_time - fast.time < 0.2 and (slow.index, fast.index) == (0, 1)
    events = [ln[len("data: "):] for ln in raw.decode().split("\n\n") if ln.startswith("data: ")]
    assert status == 200 and events[-1] == "[DONE]" and streamed.chunks == len(events) - 1
    chunks = [json.loads(e) for e in events[:-1]]
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"]) == default_responder(body)
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] > 0
    with OpenAIStubServer(delay=0.6, cancel_on_disconnect=True) as srv:
        assert _post(srv, body, timeout=0.15) is None
        _wait_outcome(srv.requests[0])
        assert srv.requests[0].outcome == "cancelled" and srv.requests[0].end_time - srv.requests[0].time < 0.45
    with pytest.raises(ValueError, match="'delay' parameter of OpenAIStubServer"):
        OpenAIStubServer(delay=-1)


# --- the CLI ----------------------------------------------------------------------------------------------------


def _gen(base_url: str, out: Path, *extra: str) -> list[str]:
    return ["generate", "--notes", str(NOTES), "--targets", "B", "--n-per-target", "6", "--min-per-code", "1",
            "--lines-per-request", "3", "--backend", "openai", "--base-url", base_url, "--model", "stub-model",
            "--concurrency", "1", "--out", str(out), *extra]


def test_cli_timeout_max_tokens_max_retries_reach_the_server(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from statcodgen.cli import main

    with OpenAIStubServer() as srv:
        srv.script(Fault.slow(1.0), Fault.slow(1.0))  # the first request times out twice, then gives up
        code = main(_gen(srv.base_url, tmp_path / "g.parquet", "--timeout", "0.4", "--max-tokens", "300",
                         "--max-retries", "1"))
        got = srv.requests
    assert code == 0, capsys.readouterr().err
    assert {r.body["max_tokens"] for r in got} == {300}
    counts = Counter(r.key for r in got)
    assert counts[got[0].key] == 2 and all(n == 1 for k, n in counts.items() if k != got[0].key)  # 1 retry, not 6
    first = [r for r in got if r.key == got[0].key]
    assert all(r.disconnected and 0.3 < r.disconnect_time - r.time < 0.9 for r in first)  # gave up after 0.4 s
    assert "response_format" not in got[-1].body and "stream" not in got[-1].body


def test_cli_rejects_bad_values_with_a_clear_message(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from statcodgen.cli import main

    for opt, value, needle in (("--timeout", "0", "timeout must be a number of seconds > 0 or 'auto'"),
                               ("--timeout", "soon", "timeout must be a number of seconds > 0 or 'auto'"),
                               ("--max-tokens", "0", "max_tokens: Input should be greater than or equal to 1"),
                               ("--max-retries", "-1", "max_retries: Input should be greater than or equal to 0")):
        assert main(_gen("http://127.0.0.1:9/v1", tmp_path / "x.parquet", opt, value)) == 2
        err = capsys.readouterr().err
        assert err.startswith("statcodgen generate: error: Invalid LLMConfig:") and needle in err and err.count("\n") == 1


@pytest.mark.slow
def test_cli_subprocess_sends_max_tokens_and_stream(tmp_path: Path) -> None:
    import os

    with OpenAIStubServer() as srv:
        srv.script(Fault.server_error(500), Fault.server_error(500))  # --max-retries 1: the first request fails
        proc = subprocess.run([sys.executable, "-m", "statcodgen", *_gen(
            srv.base_url, tmp_path / "g.parquet", "--timeout", "5", "--max-tokens", "300", "--max-retries", "1",
            "--stream", "--json")], capture_output=True, text=True, env={**os.environ}, timeout=300)
        got = srv.requests
    assert proc.returncode == 0, proc.stderr
    assert {r.body["max_tokens"] for r in got} == {300}
    assert all(r.stream and r.body["response_format"]["type"] == "json_schema" for r in got)
    counts = Counter(r.key for r in got)
    assert counts[got[0].key] == 2 and sum(counts.values()) == len(counts) + 1


def test_every_request_has_a_token_cap_unless_the_config_sets_one(tmp_path: Path) -> None:
    from statcodgen.llm.client import answer_token_cap

    with OpenAIStubServer() as srv:
        cfg = _cfg(srv)
        with Journal(tmp_path / "a.sqlite") as j:
            run_requests(_reqs(cfg, 3, n_lines=7), config=cfg, journal=j, progress=False)
        capped = [r.body for r in srv.requests]
        srv.clear()
        own = _cfg(srv, max_tokens=50)
        with Journal(tmp_path / "b.sqlite") as j:
            run_requests(_reqs(own, 2, n_lines=7), config=own, journal=j, progress=False)
        mine = [r.body for r in srv.requests]
    assert [b["max_tokens"] for b in capped] == [answer_token_cap(7)] * 3 == [344] * 3
    assert [b["max_tokens"] for b in mine] == [50, 50]
