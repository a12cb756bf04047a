"""OpenAI Batch API export/import with files built in the documented format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from statcodgen.llm.batch import batch_paths, export_batch, import_batch, import_batch_results
from statcodgen.errors import ConfigError, DataFormatError
from statcodgen.llm.journal import Journal
from statcodgen.llm.client import run_requests
from statcodgen.llm.config import LLMConfig, make_request
from statcodgen.testing import OpenAIStubServer


def _completion(content: str | None) -> dict:
    return {"id": "chatcmpl-1", "object": "chat.completion", "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 20, "completion_tokens": 7, "total_tokens": 27}}


def _journal_with_pending(tmp_path: Path, n: int = 4) -> tuple[Journal, list]:
    cfg = LLMConfig(model="gpt-x", temperature=0.4, max_tokens=50)
    reqs = [make_request([{"role": "user", "content": f"décrire {i}"}], config=cfg, seed=3, sample_index=i,
                         metadata={"code": f"10.{i}"}) for i in range(n)]
    j = Journal(tmp_path / "j.sqlite3")
    j.add_pending((r.key, {"model": cfg.model, "messages": r.messages, **r.params}, r.metadata) for r in reqs)
    return j, reqs


def test_export_writes_documented_lines(tmp_path: Path) -> None:
    j, reqs = _journal_with_pending(tmp_path)
    j.record_success(reqs[0].key, "{}", lines=["X"])
    assert export_batch(j, tmp_path / "batch.jsonl") == 3
    paths = batch_paths(tmp_path / "batch.jsonl", 3)
    assert paths == [tmp_path / "batch.jsonl"] and paths[0].is_file()
    lines = [json.loads(s) for s in paths[0].read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 3
    assert {x["custom_id"] for x in lines} == {r.key for r in reqs[1:]}
    first = lines[0]
    assert set(first) == {"custom_id", "method", "url", "body"}
    assert first["method"] == "POST" and first["url"] == "/v1/chat/completions"
    assert first["body"]["model"] == "gpt-x" and first["body"]["temperature"] == 0.4 and first["body"]["max_tokens"] == 50
    assert first["body"]["messages"][0]["content"].startswith("décrire")
    # split into several files
    assert export_batch(j, tmp_path / "parts" / "b.jsonl", max_requests=2, model="gpt-batch") == 3
    parts = batch_paths(tmp_path / "parts" / "b.jsonl", 3, max_requests=2)
    assert [p.name for p in parts] == ["b-001.jsonl", "b-002.jsonl"] and all(p.is_file() for p in parts)
    assert json.loads(parts[1].read_text().splitlines()[0])["body"]["model"] == "gpt-batch"
    assert sum(len(p.read_text().splitlines()) for p in parts) == 3
    with pytest.raises(ConfigError, match="max_requests"):
        export_batch(j, tmp_path / "x.jsonl", max_requests=0)
    j.close()


def test_export_from_a_real_run_is_empty_when_done(tmp_path: Path) -> None:
    with OpenAIStubServer() as srv, Journal(tmp_path / "j.sqlite3") as j:
        cfg = LLMConfig(model="m", base_url=srv.base_url)
        run_requests([make_request([{"role": "user", "content": "a"}], config=cfg)], config=cfg, journal=j, progress=False)
        assert export_batch(j, tmp_path / "b.jsonl") == 0 and not (tmp_path / "b.jsonl").exists()


def test_import_results_and_errors(tmp_path: Path) -> None:
    j, reqs = _journal_with_pending(tmp_path, 5)
    k = [r.key for r in reqs]
    out = tmp_path / "out.jsonl"
    out.write_text("\n".join(json.dumps(x) for x in [
        {"id": "batch_req_1", "custom_id": k[0], "response": {"status_code": 200, "request_id": "r1",
                                                               "body": _completion('{"lines": ["1. sciage de bois", "rabotage."]}')}, "error": None},
        {"id": "batch_req_2", "custom_id": k[1], "response": {"status_code": 200, "request_id": "r2",
                                                               "body": _completion("")}, "error": None},
        {"id": "batch_req_3", "custom_id": "not-a-key", "response": {"status_code": 200, "body": _completion("x")}, "error": None},
        {"id": "batch_req_4", "custom_id": k[2], "response": {"status_code": 400, "request_id": "r4",
                                                               "body": {"error": {"message": "context too long"}}}, "error": None},
    ]) + "\n\n", encoding="utf-8")
    err = tmp_path / "err.jsonl"
    err.write_text(json.dumps({"id": "batch_req_5", "custom_id": k[3], "response": None,
                               "error": {"code": "batch_expired", "message": "This request could not be executed before the completion window expired."}}) + "\n")
    rep = import_batch(j, out, errors_path=err)
    assert list(rep["outcome"]) == ["done", "failed", "unknown_key", "failed", "failed"]
    a = j.get(k[0])
    assert a["status"] == "done" and a["lines"] == ["SCIAGE DE BOIS", "RABOTAGE"]
    assert (a["prompt_tokens"], a["completion_tokens"]) == (20, 7)
    assert a["metadata"] == {"code": "10.0", "endpoint": "batch"}
    assert j.get(k[1])["error"] == "empty_content" and j.get(k[1])["raw"]
    assert "context too long" in j.get(k[2])["error"]
    assert "completion window expired" in j.get(k[3])["error"]
    assert j.get("not-a-key") is None
    assert j.pending([r.key for r in reqs]) == k[1:]
    # importing again leaves the done one untouched
    rep2 = import_batch_results(j, out)
    assert rep2["outcome"].iloc[0] == "already_done"
    j.close()


def test_import_bad_files(tmp_path: Path) -> None:
    j, _ = _journal_with_pending(tmp_path, 1)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"custom_id": "a", "response": null}\nnot json\n')
    with pytest.raises(DataFormatError, match="line 2 is not JSON"):
        import_batch(j, bad)
    bad.write_text('{"id": "x"}\n')
    with pytest.raises(DataFormatError, match="custom_id"):
        import_batch(j, bad)
    with pytest.raises(DataFormatError, match="not found"):
        import_batch(j, tmp_path / "missing.jsonl")
    j.close()
