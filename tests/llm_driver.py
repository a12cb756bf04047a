"""Driver for kill/resume tests: run N requests against a server, journal them, write the output.

Usage: python tests/llm_driver.py BASE_URL JOURNAL OUTPUT N [CONCURRENCY]

Requests are ``make_request([user: "describe activity i"], seed=0, sample_index=i)``; the output
file holds one JSON line per request, in request order: {"key", "lines"} (read from the journal).
"""

from __future__ import annotations

import json
import sys

from statcodgen.llm.journal import Journal
from statcodgen.llm.client import run_requests
from statcodgen.llm.config import LLMConfig, make_request


def build(base_url: str, n: int, concurrency: int = 8) -> tuple[LLMConfig, list]:
    cfg = LLMConfig(model="stub-model", base_url=base_url, concurrency=concurrency, max_retries=20,
                    backoff_base=0.05, backoff_max=0.5, temperature=0.7)
    reqs = [make_request([{"role": "user", "content": f"describe activity {i}"}], config=cfg, seed=0,
                         sample_index=i, metadata={"i": i}) for i in range(n)]
    return cfg, reqs


def write_output(journal: Journal, reqs: list, path: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for r in reqs:
            row = journal.get(r.key)
            f.write(json.dumps({"key": r.key, "lines": row["lines"] if row else None}) + "\n")


def main(argv: list[str]) -> None:
    base_url, jpath, out, n = argv[0], argv[1], argv[2], int(argv[3])
    conc = int(argv[4]) if len(argv) > 4 else 8
    cfg, reqs = build(base_url, n, conc)
    with Journal(jpath) as j:
        run_requests(reqs, config=cfg, journal=j, progress=False)
        write_output(j, reqs, out)


if __name__ == "__main__":
    main(sys.argv[1:])
