"""Throughput of the LLM engine against the stub server (separate process), issue #7.

Measures, in one run on this machine:
* requests/s of ``run_requests`` for 1,000 requests at client concurrency 8, 16, 32, 64 against a
  server with a fixed latency and a server-side concurrency cap, next to the ideal
  min(client, cap) / latency and next to the seed-style sequential loop (one blocking request after
  the other, measured on a subset and extrapolated);
* the journal (SQLite, commit per request) + parsing overhead per request, in ms;
* adaptive (AIMD) concurrency against a server enforcing a requests-per-second limit.

Usage: python benchmarks/bench_throughput.py [--n 1000] [--latency 0.2] [--cap 64] [--rps 50]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from statcodgen.llm.journal import Journal
from statcodgen.llm.client import run_requests
from statcodgen.llm.config import LLMConfig, make_request
from statcodgen.llm.parsing import format_output

ROOT = Path(__file__).resolve().parents[1]


def start_server(*args: str) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "statcodgen.testing", *args], stdout=subprocess.PIPE, text=True, env=env)
    url = proc.stdout.readline().strip()
    return proc, url


def requests_for(cfg: LLMConfig, n: int, tag: str) -> list:
    return [make_request([{"role": "system", "content": "Tu es un expert de la NAF."},
                          {"role": "user", "content": f"Écris 5 activités pour la sous-classe {tag}-{i}."}],
                         config=cfg, seed=0, sample_index=i) for i in range(n)]


def sequential_loop(url: str, n: int) -> float:
    """The seed notebook's loop: one blocking request after the other, split on newlines."""
    import openai

    client = openai.OpenAI(api_key="local", base_url=url, max_retries=0)
    out = []
    t0 = time.perf_counter()
    for i in range(n):
        r = client.chat.completions.create(model="stub-model", messages=[{"role": "user", "content": f"seq {i}"}])
        out.extend(r.choices[0].message.content.split("\n"))
    client.close()
    return n / (time.perf_counter() - t0)


def overhead_ms(n: int = 2000) -> tuple[float, float]:
    raw = "Voici des exemples :\n1. FABRICATION DE TUILES EN TERRE CUITE.\n2. **Pose de carrelage**\n- vente de briques\n" * 2
    body = '{"id": "x", "choices": [{"message": {"content": %r}}], "usage": {"prompt_tokens": 90, "completion_tokens": 40}}' % raw
    with tempfile.TemporaryDirectory() as d, Journal(Path(d) / "j.sqlite3") as j:
        keys = [f"{i:064x}" for i in range(n)]
        j.add_pending((k, {"model": "m", "messages": [{"role": "user", "content": "x" * 400}]}, {"code": "01.11Z"}) for k in keys)
        t0 = time.perf_counter()
        for k in keys:
            p = format_output(raw, prompt_lines=["Fabrication de tuiles", "Exemple : pose de parquet"])
            j.record_success(k, body, lines=p.lines, rejected=p.rejected, prompt_tokens=90, completion_tokens=40,
                             metadata={"code": "01.11Z", "persona_id": "p1"})
        total = (time.perf_counter() - t0) / n * 1000
        t0 = time.perf_counter()
        for _ in range(n):
            format_output(raw, prompt_lines=["Fabrication de tuiles", "Exemple : pose de parquet"])
        parse = (time.perf_counter() - t0) / n * 1000
    return total, parse


def run(url: str, n: int, concurrency: int, tag: str, **kw) -> object:
    cfg = LLMConfig(model="stub-model", base_url=url, concurrency=concurrency, max_retries=50,
                    backoff_base=0.1, backoff_max=2.0, **kw)
    with tempfile.TemporaryDirectory() as d, Journal(Path(d) / "j.sqlite3") as j:
        return run_requests(requests_for(cfg, n, tag), config=cfg, journal=j, progress=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1024, help="1,024 ~ 1,000: a multiple of every concurrency tested")
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--cap", type=int, default=64)
    ap.add_argument("--rps", type=float, default=50)
    ap.add_argument("--seq-n", type=int, default=25)
    a = ap.parse_args()
    print(f"machine: {platform.machine()} {platform.processor() or ''} cpus={os.cpu_count()} python={platform.python_version()}")
    print(f"server: separate process, latency {a.latency*1000:.0f} ms, server concurrency cap {a.cap}; {a.n} requests per setting\n")
    proc, url = start_server("--latency", str(a.latency), "--max-concurrency", str(a.cap))
    try:
        seq = sequential_loop(url, a.seq_n)
        print(f"sequential seed-style loop ({a.seq_n} requests, extrapolated to {a.n}): {seq:.2f} req/s "
              f"-> {a.n / seq:.0f} s for {a.n} (ideal {1 / a.latency:.2f})")
        print(f"{'client conc.':>12} {'req/s':>8} {'ideal':>8} {'% ideal':>8} {'x seq':>7} {'elapsed s':>10}")
        for c in (1, 8, 16, 32, 64):
            n = a.seq_n if c == 1 else a.n
            st = run(url, n, c, f"c{c}")
            ideal = min(c, a.cap) / a.latency
            print(f"{c:>12} {st.requests_per_s:>8.1f} {ideal:>8.1f} {100 * st.requests_per_s / ideal:>7.1f}% "
                  f"{st.requests_per_s / seq:>6.1f}x {st.elapsed:>10.2f}" + ("  (subset)" if c == 1 else ""))
    finally:
        proc.terminate()
        proc.wait()
    total, parse = overhead_ms()
    print(f"\njournal (SQLite WAL, commit per request) + parsing overhead: {total:.3f} ms/request "
          f"(parsing alone {parse:.3f} ms)")

    print(f"\nadaptive concurrency: server limit {a.rps:g} req/s (429 without Retry-After beyond it), "
          f"latency {a.latency*1000:.0f} ms, client cap 64, {a.n // 2} requests")
    print(f"{'mode':>10} {'req/s':>8} {'429s':>6} {'sent':>6} {'final conc.':>12} {'elapsed s':>10}")
    for adaptive in (False, True):
        proc, url = start_server("--latency", str(a.latency), "--rps-limit", str(a.rps), "--no-retry-after")
        try:
            st = run(url, a.n // 2, 64, f"a{adaptive}", adaptive=adaptive)
        finally:
            proc.terminate()
            proc.wait()
        print(f"{'AIMD' if adaptive else 'fixed':>10} {st.requests_per_s:>8.1f} {st.rate_limited:>6} {st.sent:>6} "
              f"{st.final_concurrency[0]:>12.1f} {st.elapsed:>10.2f}")
        if adaptive:
            trace, shown, sec = st.concurrency_trace[0], [], 0.0
            for t, v in trace:
                if t >= sec:
                    shown.append(f"{t:4.1f}s:{v:.1f}")
                    sec = t + 1.0
            print(f"{'':>10} AIMD concurrency over time (first change per second): " + "  ".join(shown))
            print(f"{'':>10} ideal concurrency for {a.rps:g} req/s at {a.latency*1000:.0f} ms: {a.rps * a.latency:.0f}")


if __name__ == "__main__":
    main()
