"""Generation in-process (``generate`` with an ``LLMGenerator``) and through the CLI, offline and
against a real local server.

The OpenAI path runs against :class:`OpenAIStubServer` (a real HTTP server on 127.0.0.1), in
process and as ``statcodgen generate`` in a subprocess, and asserts on what the server received;
a run killed with SIGKILL mid-way and resumed sends no completed request twice and ends equal to
an uninterrupted run.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from statcodgen.errors import ConfigError
from statcodgen.generation import GenerationResult, LLMGenerator, generate
from statcodgen.llm import LLMConfig
from statcodgen.generation.results import OUTPUT_COLUMNS
from statcodgen.llm.journal import Journal
from statcodgen.generation.plan import generation_plan
from statcodgen.sources.notes import load_notes
from statcodgen.testing import Fault, OpenAIStubServer

NOTES = Path(__file__).resolve().parents[1] / "notes" / "sample_notes_en.csv"
SECRET = "sk-test-DO-NOT-LEAK-1234567890"


def _responder(body: dict) -> str:
    """Deterministic answers with the noise real models add (preamble, numbering, a blank line)."""
    digest = hashlib.sha256(json.dumps(body["messages"], sort_keys=True).encode()).hexdigest()
    lines = [f"{i}. Activity {digest[:6]} number {i}." for i in range(1, 6)]
    return "Here are the activities:\n\n" + "\n".join(lines)


def _cli(*args: str, env: dict[str, str] | None = None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "statcodgen", *args], capture_output=True, text=True, env={**os.environ, **(env or {})}, **kw)


def _gen_args(base_url: str, out: Path, *extra: str) -> list[str]:
    return [
        "generate", "--notes", str(NOTES), "--targets", "B", "O", "T", "U", "--n-per-target", "20",
        "--lines-per-request", "5", "--backend", "openai", "--base-url", base_url, "--model", "stub-model",
        "--api-key-env", "STUB_KEY", "--temperature", "0.7", "--out", str(out), *extra,
    ]


def _plan() -> tuple[pd.DataFrame, pd.DataFrame]:
    notes = load_notes(NOTES)
    return notes, generation_plan(notes, targets=["B", "O", "T", "U"], n_per_target=20)


def test_llm_generator_in_process_against_local_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUB_KEY", SECRET)
    notes, plan = _plan()
    cfg = LLMConfig(base_url="", model="stub-model", api_key_env="STUB_KEY", temperature=0.7, max_retries=0)
    with OpenAIStubServer(responder=_responder) as server:
        gen = LLMGenerator(cfg.model_copy(update={"base_url": server.base_url}), journal_path=tmp_path / "j.sqlite",
                           lines_per_request=5)
        res = generate(notes, plan, generator=gen, seed=3, progress=False)
        bodies = [r.body for r in server.requests]
        again = generate(notes, plan, generator=gen, seed=3, progress=False)  # resumed from the journal
        assert len(server.requests) == len(bodies)
    n_requests = sum(-(-int(n) // 5) for n in plan["n_samples"])
    assert len(bodies) == n_requests == res.stats["requests"]
    assert all(b["model"] == "stub-model" and b["temperature"] == 0.7 for b in bodies)
    prompts = "\n".join(m["content"] for b in bodies for m in b["messages"])
    for title in notes.loc[notes["code"].isin(plan["code"]), "title"]:
        assert str(title)[:20] in prompts
    assert list(res.lines.columns) == OUTPUT_COLUMNS and len(res.lines) == 5 * len(bodies)
    assert (res.lines["generator"] == "openai").all() and (res.lines["seed"] == 3).all()
    assert res.lines["text"].str.match(r"^ACTIVITY [0-9A-F]{6} NUMBER \d$").all()
    assert res.rejected["text"].str.contains("Here are").all() and len(res.rejected) == len(bodies)
    assert res.shortfall.empty  # 5 lines per answer cover every chunk
    assert res.stats["generator"] == "openai" and res.stats["lines"] == len(res.lines) and json.dumps(res.stats)
    assert again.lines[["text", "code", "request_key"]].equals(res.lines[["text", "code", "request_key"]])
    res.save(tmp_path / "out")
    back = GenerationResult.load(tmp_path / "out")
    assert back.lines.equals(res.lines) and back.rejected.equals(res.rejected) and back.stats == res.stats
    for path in tmp_path.rglob("*"):
        assert path.is_dir() or SECRET.encode() not in path.read_bytes(), path


def test_failed_requests_are_the_shortfall(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server fails every request about households (section T): those codes are in the
    shortfall with the failed requests as reason; the other codes get their lines."""
    monkeypatch.setenv("STUB_KEY", SECRET)
    notes, plan = _plan()

    def answer(body: dict) -> object:
        text = json.dumps(body["messages"])
        return Fault.server_error(500) if "households employing" in text.lower() else _responder(body)

    with OpenAIStubServer(responder=answer) as server:
        cfg = LLMConfig(base_url=server.base_url, model="stub-model", api_key_env="STUB_KEY", max_retries=0)
        res = generate(notes, plan, generator=LLMGenerator(cfg, journal_path=tmp_path / "j.sqlite", lines_per_request=5),
                       progress=False)
        failed = [r for r in server.requests if r.status == 500]
    t_codes = set(plan.loc[plan["target"] == "T", "code"])
    assert failed and set(res.shortfall["code"]) == t_codes and (res.shortfall["produced"] == 0).all()
    assert res.shortfall["reason"].str.contains(f"{len(failed)} request\\(s\\) failed").all()
    assert set(res.rejected.loc[res.rejected["reason"] == "request_failed", "code"]) == t_codes
    assert not set(res.lines["code"]) & t_codes and set(res.lines["label"]) == {"B", "O", "U"}


def test_llm_dry_run_and_options_in_process(tmp_path: Path) -> None:
    notes, plan = _plan()
    with OpenAIStubServer(responder=_responder) as server:
        cfg = LLMConfig(base_url=server.base_url, model="stub-model", api_key_env="STUB_KEY")
        res = generate(notes, plan, generator=LLMGenerator(cfg, journal_path=tmp_path / "j.sqlite", dry_run=True,
                                                           lines_per_request=5), progress=False)
        assert server.requests == []
    est = res.stats["dry_run"]
    assert est["to_send"] == est["requests"] == sum(-(-int(n) // 5) for n in plan["n_samples"])
    assert "requests to send" in est["summary"] and json.loads(json.dumps(res.stats)) == res.stats
    assert res.lines.empty and list(res.lines.columns) == OUTPUT_COLUMNS
    with pytest.raises(ConfigError, match="The 'lines_per_request' parameter of LLMGenerator must be an int >= 1"):
        LLMGenerator(cfg, journal_path=tmp_path / "j.sqlite", lines_per_request=0)
    with pytest.raises(ConfigError, match="The 'persona_strategy' parameter of LLMGenerator must be one of"):
        LLMGenerator(cfg, journal_path=tmp_path / "j.sqlite", persona_strategy="best")
    with pytest.raises(ConfigError, match="The 'llm' parameter of LLMGenerator must be of type LLMConfig"):
        LLMGenerator({"model": "x"}, journal_path=tmp_path / "j.sqlite")  # type: ignore[arg-type]


def test_offline_generate_cli_is_deterministic(tmp_path: Path) -> None:
    outs = []
    for name in ("a", "b"):
        out = tmp_path / f"{name}.parquet"
        proc = _cli("generate", "--notes", str(NOTES), "--targets", "B", "O", "T", "U", "--n-per-target", "40", "--out", str(out))
        assert proc.returncode == 0, proc.stderr
        outs.append(pd.read_parquet(out))
    a, b = outs
    assert list(a.columns) == OUTPUT_COLUMNS
    assert a["text"].tolist() == b["text"].tolist()
    assert set(a["label"]) == {"B", "O", "T", "U"}
    assert (a["generator"] == "offline").all()


def test_openai_backend_against_local_server(tmp_path: Path) -> None:
    out = tmp_path / "gen.parquet"
    with OpenAIStubServer(responder=_responder) as server:
        proc = _cli(*_gen_args(server.base_url, out, "--mode", "write"), env={"STUB_KEY": SECRET})
        assert proc.returncode == 0, proc.stderr
        received = server.requests
    bodies = [r.body for r in received]
    assert all(b["model"] == "stub-model" and b["temperature"] == 0.7 for b in bodies)
    assert all(r.has_authorization for r in received)
    notes = pd.read_csv(NOTES)
    # each planned code's note reached the server: its title, its items, its siblings' titles as "not this class"
    # (prompt version 3 leaves the Excludes out: issue 12)
    prompts = "\n".join(m["content"] for b in bodies for m in b["messages"])
    for title in notes.loc[notes["section"].isin(["B", "O", "T", "U"]), "title"]:
        assert str(title)[:20] in prompts
    assert "- dredging and digging of sand and gravel for building work" in prompts
    assert "Not this class: Sand and gravel pits; extraction of clay and kaolin." in prompts
    df = pd.read_parquet(out)
    distinct = {json.dumps(b["messages"], sort_keys=True) for b in bodies}  # same prompt, same scripted answer
    assert len(df) == 5 * len(distinct)  # 5 lines per answer, preamble and numbering stripped
    assert df["text"].str.match(r"^ACTIVITY [0-9A-F]{6} NUMBER \d$").all()
    assert (df["model"] == "stub-model").all() and df["request_key"].str.len().gt(10).all()
    rejected = pd.read_parquet(tmp_path / "gen.rejected.parquet")
    assert rejected["text"].str.contains("Here are").any()
    assert (rejected["reason"] == "repeated_line").sum() == 5 * (len(bodies) - len(distinct))  # a code's repeats, kept aside
    # the key never reaches a file
    for path in tmp_path.iterdir():
        assert SECRET.encode() not in path.read_bytes(), path


def test_real_examples_and_templates_from_the_cli(tmp_path: Path) -> None:
    import shutil

    real = tmp_path / "real.csv"
    pd.DataFrame({"activity": ["Granite quarry on the moor", "Slate splitting yard", "Town hall services"],
                  "naf": ["08.11", "08.11", "84.11"]}).to_csv(real, index=False)
    templates = tmp_path / "templates"
    shutil.copytree(Path(__file__).resolve().parents[1] / "statcodgen" / "generation" / "templates", templates)
    for name in ("prompt_user.en.j2", "rewrite_user.en.j2"):  # the CLI's default mode is rewrite
        user = templates / name
        user.write_text("OUR OWN TEMPLATE MARKER\n" + user.read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path / "gen.parquet"
    with OpenAIStubServer(responder=_responder) as server:
        proc = _cli(*_gen_args(server.base_url, out, "--real", str(real), "--text-column", "activity", "--code-column", "naf",
                               "--n-examples", "2", "--template-dir", str(templates)), env={"STUB_KEY": SECRET})
        assert proc.returncode == 0, proc.stderr
        bodies = [r.body for r in server.requests]
    users = ["\n".join(m["content"] for m in b["messages"] if m["role"] == "user") for b in bodies]
    assert users and all(u.startswith("OUR OWN TEMPLATE MARKER") for u in users)
    assert all("Rewrite each description" in u for u in users)  # the default mode
    own = [u for u in users if "Class 08.11" in u]  # examples are shown in capitals, like the answers
    assert own and all("GRANITE QUARRY ON THE MOOR" in u and "SLATE SPLITTING YARD" in u for u in own)
    town = [u for u in users if "Class 84.11" in u]
    assert town and all("TOWN HALL SERVICES" in u and "GRANITE" not in u for u in town)
    offline = _cli("generate", "--notes", str(NOTES), "--targets", "B", "--real", str(real), "--out", str(out))
    assert offline.returncode == 2 and "--backend openai" in offline.stderr
    missing = _cli(*_gen_args("http://127.0.0.1:9/v1", out, "--template-dir", str(tmp_path / "nope")), env={"STUB_KEY": SECRET})
    assert missing.returncode == 2 and "--template-dir" in missing.stderr


def test_personas_reach_every_prompt_and_the_provenance(tmp_path: Path) -> None:
    from statcodgen.personas.persona import personas_from_frame, sample_personas

    out = tmp_path / "gen.parquet"
    with OpenAIStubServer(responder=_responder) as server:
        proc = _cli(*_gen_args(server.base_url, out, "--personas", "7", "--persona-locale", "fr_FR"), env={"STUB_KEY": SECRET})
        assert proc.returncode == 0, proc.stderr
        bodies = [r.body for r in server.requests]
    personas = personas_from_frame(sample_personas(7, locale="fr_FR", seed=0))
    df = pd.read_parquet(out)
    assert set(df["persona_id"]) <= {p.id for p in personas} and df["persona_id"].nunique() > 1
    paragraphs = {p.to_prompt("en"): p.id for p in personas}
    seen = []
    for body in bodies:  # every request carries exactly one persona paragraph in its system message
        hits = [pid for text, pid in paragraphs.items() if text in body["messages"][0]["content"]]
        assert len(hits) == 1, body["messages"][0]["content"]
        seen.append(hits[0])
    assert Counter(seen).keys() == set(df["persona_id"])


def test_matched_personas_fit_each_code_on_the_wire(tmp_path: Path) -> None:
    """--persona-strategy matched: every request the server received for a code of section T
    carries a household employer's paragraph, O a public body's, B a market unit's."""
    from statcodgen.personas.persona import MARKET_CONTEXTS, contexts_for_code, personas_from_frame, sample_personas

    out = tmp_path / "gen.parquet"
    with OpenAIStubServer(responder=_responder) as server:
        proc = _cli(*_gen_args(server.base_url, out, "--personas", "300", "--persona-strategy", "matched"),
                    env={"STUB_KEY": SECRET})
        assert proc.returncode == 0, proc.stderr
        bodies = [r.body for r in server.requests]
    personas = {p.id: p for p in personas_from_frame(sample_personas(300, locale="en_GB", seed=0))}
    paragraphs = {p.to_prompt("en"): p for p in personas.values()}
    df = pd.read_parquet(out)
    contexts_seen = {}
    for body in bodies:
        persona = next(p for text, p in paragraphs.items() if text in body["messages"][0]["content"])
        contexts_seen.setdefault(persona.business_context, 0)
        contexts_seen[persona.business_context] += 1
    for row in df.drop_duplicates("request_key").itertuples():
        fits = contexts_for_code(row.code, row.label)
        assert personas[row.persona_id].business_context in fits, (row.code, personas[row.persona_id].business_context)
    assert set(df.loc[df["label"] == "T", "persona_id"].map(lambda i: personas[i].business_context)) == {"household_employer"}
    assert set(df.loc[df["label"] == "B", "persona_id"].map(lambda i: personas[i].business_context)) <= set(MARKET_CONTEXTS)
    assert sum(contexts_seen.values()) == len(bodies)


def test_several_endpoints_from_the_cli(tmp_path: Path) -> None:
    out = tmp_path / "gen.parquet"
    with OpenAIStubServer(responder=_responder, latency=0.05) as a, OpenAIStubServer(responder=_responder, latency=0.05) as b:
        args = _gen_args(a.base_url, out, "--base-url", f"{b.base_url}@3", "--adaptive")
        proc = _cli(*args, env={"STUB_KEY": SECRET})
        assert proc.returncode == 0, proc.stderr
        n_a, n_b = len(a.requests), len(b.requests)
    df = pd.read_parquet(out)
    assert n_a > 0 and n_b > 0  # both servers did part of the work
    assert n_a + n_b == df["request_key"].nunique()  # and no request went to both
    bad = _cli(*_gen_args("http://127.0.0.1:9/v1@many", out), env={"STUB_KEY": SECRET})
    assert bad.returncode == 2 and "URL@N" in bad.stderr


def test_batch_api_round_trip_from_the_cli(tmp_path: Path) -> None:
    """generate --batch-export -> (the Batch API, played here from the exported file) -> batch-import
    -> generate again: nothing is sent, the lines come from the imported results."""
    out, jsonl, results = tmp_path / "gen.parquet", tmp_path / "requests.jsonl", tmp_path / "results.jsonl"
    with OpenAIStubServer(responder=_responder) as server:
        proc = _cli(*_gen_args(server.base_url, out, "--batch-export", str(jsonl)), env={"STUB_KEY": SECRET})
        assert proc.returncode == 0, proc.stderr
        assert server.requests == [] and not out.exists()
        exported = [json.loads(line) for line in jsonl.read_text().splitlines()]
        assert exported and all(e["url"] == "/v1/chat/completions" and e["body"]["model"] == "stub-model" for e in exported)
        with results.open("w") as f:  # the documented output format, one line per request
            for i, e in enumerate(exported):
                body = {"id": f"c{i}", "object": "chat.completion", "model": "stub-model",
                        "choices": [{"index": 0, "finish_reason": "stop",
                                     "message": {"role": "assistant", "content": _responder(e["body"])}}],
                        "usage": {"prompt_tokens": 100, "completion_tokens": 30, "total_tokens": 130}}
                f.write(json.dumps({"id": f"b{i}", "custom_id": e["custom_id"], "error": None,
                                    "response": {"status_code": 200, "request_id": f"r{i}", "body": body}}) + "\n")
        journal = out.with_suffix(".journal.sqlite")
        assert _cli("batch-import", str(journal), str(results)).returncode == 0
        proc = _cli(*_gen_args(server.base_url, out), env={"STUB_KEY": SECRET})
        assert proc.returncode == 0, proc.stderr
        assert server.requests == []  # everything came from the batch results
    df = pd.read_parquet(out)
    assert len(df) == 5 * len(exported) and df["text"].str.match(r"^ACTIVITY [0-9A-F]{6} NUMBER \d$").all()
    assert set(df["request_key"]) == {e["custom_id"] for e in exported}


def test_dry_run_sends_nothing(tmp_path: Path) -> None:
    with OpenAIStubServer(responder=_responder) as server:
        proc = _cli(*_gen_args(server.base_url, tmp_path / "g.parquet", "--dry-run"), env={"STUB_KEY": SECRET})
        assert proc.returncode == 0, proc.stderr
        assert server.requests == []
    assert "request" in proc.stdout.lower()


def test_fatal_error_stops_early_with_clear_message(tmp_path: Path) -> None:
    with OpenAIStubServer(responder=_responder, api_key="the-right-key") as server:
        proc = _cli(*_gen_args(server.base_url, tmp_path / "g.parquet"), env={"STUB_KEY": SECRET})
        n = len(server.requests)
    assert proc.returncode == 2
    assert "401" in proc.stderr and "STUB_KEY" in proc.stderr
    assert SECRET not in proc.stderr
    assert n <= 10  # stopped early, not one failed request per planned request


@pytest.mark.slow
def test_sigkill_mid_run_then_resume_equals_uninterrupted(tmp_path: Path) -> None:
    ref_out, out = tmp_path / "ref" / "gen.parquet", tmp_path / "run" / "gen.parquet"
    ref_out.parent.mkdir()
    out.parent.mkdir()
    with OpenAIStubServer(responder=_responder) as server:
        proc = _cli(*_gen_args(server.base_url, ref_out), env={"STUB_KEY": SECRET})
        assert proc.returncode == 0, proc.stderr
    reference = pd.read_parquet(ref_out)

    with OpenAIStubServer(responder=_responder, latency=0.25, max_concurrency=2) as server:
        args = [sys.executable, "-m", "statcodgen", *_gen_args(server.base_url, out, "--concurrency", "2")]
        child = subprocess.Popen(args, env={**os.environ, "STUB_KEY": SECRET}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while len(server.requests) < 6 and time.time() < deadline:
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert not out.exists()  # killed before the end
        with Journal(out.with_suffix(".journal.sqlite")) as j:
            done_before = set(j.done_keys())
        assert done_before, "nothing completed before the kill"
        n_before = len(server.requests)
        proc = _cli(*_gen_args(server.base_url, out, "--concurrency", "2"), env={"STUB_KEY": SECRET})
        assert proc.returncode == 0, proc.stderr
        after = [r.key for r in server.requests[n_before:]]
        all_keys = Counter(r.key for r in server.requests)
    assert not done_before & set(after), "a completed request was sent again"
    assert max(all_keys.values()) <= 2  # only requests in flight at the kill may be sent twice
    resumed = pd.read_parquet(out)
    cols = ["text", "code", "label", "request_key"]
    assert resumed[cols].reset_index(drop=True).equals(reference[cols].reset_index(drop=True))

    # a completed run re-run sends nothing
    with OpenAIStubServer(responder=_responder) as server:
        proc = _cli(*_gen_args(server.base_url, out), env={"STUB_KEY": SECRET})
        assert proc.returncode == 0 and server.requests == []
