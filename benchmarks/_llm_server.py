"""The real local LLM server of the benchmarks: where it listens, what its own log records, and how to (re)start it.

``../shared/tools/local-llm.sh`` builds and serves Qwen2.5-Coder-1.5B-Instruct (Q4_K_M) with llama-cpp-python on
http://127.0.0.1:8765/v1 (model ``qwen-1.5b``). :func:`serve` restarts it from the same files with llama.cpp's AMX
weight buffers off (they crash the server at the first completion on a CPU whose hypervisor hides AMX from guests).
:func:`server_record` reads the server's log between two offsets: completions answered and computed, the sum of
its per-request times, its tokens/s. Used by ``bench_llm_real.py`` and ``bench_class_study.py --part llm``.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

URL = "http://127.0.0.1:8765/v1"
MODEL = "qwen-1.5b"
LLM_DIR = Path(os.environ.get("LLM_DIR", Path.home() / ".cache" / "statcodgen-local-llm"))
SERVER_LOG = LLM_DIR / "server.log"

_TOTAL = re.compile(r"llama_perf_context_print:\s+total time =\s+([\d.]+) ms /\s+(\d+) tokens")
_EVAL = re.compile(r"llama_perf_context_print:\s+eval time =\s+([\d.]+) ms /\s+(\d+) runs")
_POST = re.compile(r'"POST /v1/chat/completions HTTP/1\.1" (\d+)')


def log_offset() -> int:
    return SERVER_LOG.stat().st_size if SERVER_LOG.exists() else 0


def server_record(start: int, end: int | None = None) -> dict[str, float]:
    """What the server logged between two offsets of its log: completions answered (``POST ... 200``), the
    sum of its per-request ``total time``, and its generation speed (``eval time`` over ``runs``)."""
    with open(SERVER_LOG, "rb") as f:
        f.seek(start)
        text = f.read(None if end is None else end - start).decode("utf-8", "replace")
    totals = [float(m.group(1)) / 1000 for m in _TOTAL.finditer(text)]
    evals = [(float(m.group(1)) / 1000, int(m.group(2))) for m in _EVAL.finditer(text)]
    posts = [int(m.group(1)) for m in _POST.finditer(text)]
    eval_s, runs = sum(e for e, _ in evals), sum(r for _, r in evals)
    return {"completions": sum(p == 200 for p in posts), "posts": len(posts), "server_s": sum(totals),
            "computed": len(totals), "eval_tokens": runs, "tokens_per_s": runs / eval_s if eval_s else 0.0}


def journal_done(path: Path, *, status: str | None = "done") -> int:
    """Requests of a journal (``status`` None: all of them); 0 while it does not exist yet."""
    import sqlite3

    if not path.exists():
        return 0
    db = sqlite3.connect(path)
    try:
        where = "" if status is None else f" WHERE status = '{status}'"
        return int(db.execute(f"SELECT COUNT(*) FROM requests{where}").fetchone()[0])
    except sqlite3.Error:
        return 0
    finally:
        db.close()


def kill_check(run: dict, n: int) -> str:
    """Assert from the server's own log that no finished request of a killed and resumed run was sent twice:
    every request answered once, and at most the one in flight at the kill (concurrency 1) computed twice."""
    srv = run["server"]
    assert srv["completions"] == n, f"the server answered {srv['completions']} completions for {n} requests"
    assert n <= srv["computed"] <= n + 1, f"the server computed {srv['computed']} completions for {n} requests"
    return (f"the server answered {srv['completions']} completions for {n} distinct requests and computed "
            f"{srv['computed']}: {srv['computed'] - n} computed twice, the one in flight at the kill")


def serve() -> int:
    """(Re)start the local server from local-llm.sh's files with the AMX weight buffers off (see the module doc)."""
    py = LLM_DIR / "venv" / "bin" / "python"
    boot = ("import sys, llama_cpp.llama_cpp as C\n_o = C.llama_model_default_params\n"
            "def _p():\n    p = _o(); p.use_extra_bufts = False; return p\n"
            "C.llama_model_default_params = _p\nfrom llama_cpp.server.__main__ import main\nsys.argv[0] = 'llama_cpp.server'\nmain()\n")
    pid = LLM_DIR / "server.pid"
    if pid.exists():
        try:
            os.kill(int(pid.read_text()), signal.SIGTERM)
            time.sleep(2)
        except (ProcessLookupError, ValueError):
            pass
    port = os.environ.get("LLM_PORT", "8765")
    args = [str(py), "-c", boot, "--model", str(LLM_DIR / "model.gguf"), "--host", "127.0.0.1", "--port", port,
            "--n_ctx", "4096", "--n_threads", os.environ.get("LLM_THREADS", "2"), "--model_alias", MODEL]
    with open(SERVER_LOG, "ab") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"},
                                start_new_session=True)
    pid.write_text(str(proc.pid))
    print(f"serving http://127.0.0.1:{port}/v1 (model {MODEL}), pid {proc.pid}, log {SERVER_LOG}")
    return 0
