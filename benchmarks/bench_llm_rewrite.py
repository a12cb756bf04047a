"""The LLM generator's rewrite mode against the real weak model (issue 12): share of asked lines kept, and F1.

The write mode asks the model for new lines from a code's note; with the 1.5B local model only 58-69 % of the
lines it is asked for survive parsing, cleaning and verification, mostly because its lines leave the class.
The rewrite mode (``--mode rewrite``, :mod:`statcodgen.generation.rewrite`) gives each request lines the
offline generator wrote for the code and asks for them in a declarant's words. This benchmark runs it on
sections B, O, T, U with the settings of ``bench_llm_real.py`` (same server, plan, 20 lines per request, one
request at a time; also ``--json``, 3 real examples, and 10 lines per request), kills the default run with
SIGKILL once and resumes it, and measures, each with its baselines from the same run:

- lines asked (top-ups included), parsed, copies of their seed (kept by default, ``echo_items="keep"``),
  cleaned and verified; the share of asked lines that became training lines, with and without the copies;
- F1 on the development measure (``_common.dev_measure``, never the test rows): real only, the offline
  generator, the seed's plain prompt and the write mode's runs (``bench_llm_real.py``'s journals: nothing is
  sent again), each rewrite run's first round alone (as many requests as the plain prompt), and offline +
  LLM lines mixed.

Server: ``.venv/bin/python benchmarks/bench_llm_real.py --serve``. Run: ``.venv/bin/python
benchmarks/bench_llm_rewrite.py`` (``--phase generate`` / ``evaluate``; ~35 min of server time for the four
runs, ~15 min of fastText). Output: ``benchmarks/results/llm_rewrite.md``; runs under ``runs/llm_real/``.
``--only NAME ...`` generates some runs; ``--sets NAME ... --out FILE.md`` evaluates some (the offline lines are
always measured) into another results file, with its table and measure as CSV beside it (the fourth stop's
evaluation of the default since then, ``cleaned``: ``llm_rewrite_pool.md``).
"""

from __future__ import annotations

import argparse
import json
import sys

import pandas as pd

import bench_llm_real as real
from _common import RESULTS, TARGETS, machine, to_markdown
from _llm_server import MODEL, URL, journal_done, kill_check

#: name -> how it runs (as in bench_llm_real.VARIANTS)
REWRITE: dict[str, tuple[str, object]] = {
    "rewrite": ("cli", ["--mode", "rewrite"]),
    "rewrite_json": ("cli", ["--mode", "rewrite", "--json"]),
    "rewrite_examples": ("worker", {"kind": "llm", "n_examples": 3, "generator": {"mode": "rewrite"}}),
    "rewrite_10": ("cli", ["--mode", "rewrite", "--lines-per-request", "10"]),  # the last --lines-per-request wins
    # the answer numbered like the list it rewrites (a trial template, runs/llm_real/templates_numbered)
    "rewrite_numbered": ("cli", ["--mode", "rewrite", "--template-dir", str(real.RUNS / "templates_numbered")]),
    # seeds the cleaning stage keeps and repeated lines topped up (the default since stop 21): text, and JSON
    # (cleaned_json was generated before the repeated_line rule and resumed after it: its journal holds the
    # top-ups of both, so only its first round is comparable)
    "cleaned": ("cli", ["--mode", "rewrite"]),
    "cleaned_json": ("cli", ["--mode", "rewrite", "--json"]),
    "cleaned_rep": ("cli", ["--mode", "rewrite", "--seed", "1"]),  # the default again, another seed: the spread of the share
    # a trial: the same, seeds reordered so that a request holds no two variants of the same content words
    # (rewrite.spread of commit 1e4c1fb, removed in eed5182: no gain); these commands rerun give "cleaned"
    "spread": ("cli", ["--mode", "rewrite"]),
    "spread_json": ("cli", ["--mode", "rewrite", "--json"]),
}
#: lines per request of the runs that do not use bench_llm_real.LINES_PER_REQUEST
PER_REQUEST = {"rewrite_10": 10}
#: the write mode's runs of bench_llm_real.py compared here (their journals; nothing is sent again)
WRITE = ["plain", "default_refill", "json"]


def numbered_templates() -> None:
    """The trial template of ``rewrite_numbered``: the package's English rewrite prompt, asking for the answer
    numbered like the list it rewrites."""
    from statcodgen.generation.prompts import _PACKAGE_TEMPLATES

    text = (_PACKAGE_TEMPLATES / "rewrite_user.en.j2").read_text(encoding="utf-8")
    old = "rewritten descriptions only, one per line, in the same order, in UPPERCASE."
    assert old in text, "the package's rewrite template changed: update numbered_templates()"
    folder = real.RUNS / "templates_numbered"
    folder.mkdir(parents=True, exist_ok=True)
    new = "rewritten descriptions only, numbered 1 to {{ n_lines }} as above, one per line, in UPPERCASE."
    (folder / "rewrite_user.en.j2").write_text(text.replace(old, new), encoding="utf-8")


def generate_runs(only: list[str] | None) -> None:
    real.VARIANTS.update(REWRITE)
    numbered_templates()
    for name in only or REWRITE:
        info = real.run_variant(name, kill=name in ("rewrite", "cleaned_json", "cleaned", "spread"))
        print(name, json.dumps({k: info[k] for k in ("rc", "wall_s", "server")}))
        if "kill" in info:
            print(kill_check(info, journal_done(real.RUNS / name / "lines.journal.sqlite", status=None)))


def seed_copies(name: str, lines: pd.DataFrame) -> pd.Series:
    """Which ``lines`` of a run copy one of their request's seeds (the journal keeps the seeds; a write-mode
    run has none: all False)."""
    from statcodgen.generation.rewrite import copies_seed

    jf = real.journal_frame(name)
    if "seeds" not in jf:
        return pd.Series(False, index=lines.index)
    return copies_seed(lines, {k: v if isinstance(v, list) else [] for k, v in zip(jf["key"], jf["seeds"])})


def evaluate(only: list[str] | None = None, out: str = "llm_rewrite.md") -> None:
    """Measure the offline lines and the runs ``only`` (default: every write and rewrite run on disk) and write
    ``benchmarks/results/<out>``."""
    from _common import PROTOCOL_PARAMS, dev_measure, ons_measure_data

    from statcodgen.cleaning import clean
    from statcodgen.generation import generate, generation_plan
    from statcodgen.llm.parsing import echo_key
    from statcodgen.modelling import FastTextParams
    from statcodgen.verification import verify

    params = FastTextParams(**PROTOCOL_PARAMS)
    d = ons_measure_data()
    notes, h = d["notes"], d["hierarchy"]
    plan = generation_plan(notes, targets=TARGETS, n_per_target=real.N_PER_TARGET, min_per_code=5, weight="richness")
    offline = generate(notes, plan, generator="offline", language="en", seed=0, hierarchy=h, progress=False).lines
    offline_keys = set(zip(offline["code"].astype(str), offline["text"].map(echo_key)))
    rows, sets = [], {}
    for name, run, lines, keys in inputs(plan, offline, only):
        c = clean(lines, real_train=d["train"], real_test=d["test"], notes=notes, language="en", progress=False)
        v = verify(c.kept.reset_index(drop=True), real_train=d["train"], notes=notes, hierarchy=h, targets=TARGETS,
                   target_level="section", language="en", params=params, progress=False)
        row: dict = {"set": name, "parsed": len(lines), "cleaned": len(c.kept), "verified": len(v.verified)}
        if run is not None:
            jf = real.journal_frame(run)
            rp = real.RUNS / run / "lines.rejected.parquet"  # the CLI writes none when nothing was rejected
            rej = pd.read_parquet(rp) if rp.exists() else pd.DataFrame(columns=["code", "request_key", "text", "reason"])
            jf = jf[jf["key"].isin(keys if keys is not None else set(lines["request_key"]) | set(rej["request_key"]))]
            rej = rej[rej["request_key"].isin(set(jf["key"]))]
            asked = int(jf["n_lines"].sum())
            ver = v.verified
            fresh = pd.Series([(str(c_), echo_key(t)) not in offline_keys for c_, t in zip(ver["code"], ver["text"])],
                              index=ver.index)
            novel = int((~seed_copies(run, ver) & fresh).sum())
            row.update({"requests": len(jf), "asked": asked, "seed_copies": int(seed_copies(run, lines).sum()),
                        "kept_share": len(ver) / asked, "novel_verified": novel, "novel_share": novel / asked,
                        "parse_rejects": real.reasons(rej), "verify_drops": real.reasons(v.dropped)})
        rows.append(row)
        sets[name] = v.verified.drop(columns=["old_code", "old_label"], errors="ignore")
    for name in [n for n in sets if n != "offline" and "first round" not in n and n != "plain"]:
        sets[f"offline + {name}"] = pd.concat([sets["offline"], sets[name]], ignore_index=True)
    measure = dev_measure(d, {f"{k}, verified": s for k, s in sets.items()})
    table = pd.DataFrame(rows)
    stem = RESULTS / out.removesuffix(".md")
    table.to_csv(f"{stem}.table.csv", index=False)  # kept before the report is written
    measure.to_csv(f"{stem}.measure.csv", index=False)
    write(table, measure, out)


def inputs(plan: pd.DataFrame, offline: pd.DataFrame,
           only: list[str] | None = None) -> list[tuple[str, str | None, pd.DataFrame, set[str] | None]]:
    """The sets measured: (name, run whose journal it comes from, lines, request keys or None for all): the
    offline generator's ``offline`` lines, the write-mode runs and the rewrite runs. The
    rewrite runs also give their first round alone (the requests of the plan, no top-up: 34, as the plain
    prompt's, or 68 of 10 lines), to compare at the same number of requests."""
    out: list[tuple[str, str | None, pd.DataFrame, set[str] | None]] = [("offline", None, offline, None)]
    for n in only or [*WRITE, *REWRITE]:
        if not (real.RUNS / n / "lines.parquet").exists():
            continue
        lines = pd.read_parquet(real.RUNS / n / "lines.parquet")
        out.append((n, n, lines, None))
        if n in REWRITE:
            jf = real.journal_frame(n)
            per = PER_REQUEST.get(n, real.LINES_PER_REQUEST)
            first = {str(c): -(-int(k) // per) for c, k in zip(plan["code"], plan["n_samples"])}
            keys = set(jf.loc[[int(i) < first[str(c)] for c, i in zip(jf["code"], jf["request_index"])], "key"])
            out.append((f"{n}, first round", n, lines[lines["request_key"].isin(keys)], keys))
    return out


def write(table: pd.DataFrame, measure: pd.DataFrame, name: str = "llm_rewrite.md") -> None:
    measured = set(table["set"])
    runs = {n: json.loads((real.RUNS / n / "run.json").read_text()) for n in REWRITE
            if n in measured and (real.RUNS / n / "run.json").exists()}
    out = [f"# The rewrite mode against the real weak model (issue 12)\n\n{machine()}; server {MODEL} at {URL}; "
           f"{real.N_PER_TARGET} lines per target for B, O, T, U ({real.LINES_PER_REQUEST} lines per request), "
           f"temperature {real.TEMPERATURE}, concurrency 1, one round of top-ups. Commands:\n"]
    out += [f"- `{n}`: `{r['command']}`" for n, r in runs.items()]
    out += [f"\nServer time of the rewrite runs: {sum(r['server']['server_s'] for r in runs.values()) / 60:.1f} min "
            f"(wall {sum(r['wall_s'] for r in runs.values()) / 60:.1f} min); server share of wall per run: "
            + ", ".join(f"{n} {r['server']['server_s'] / r['wall_s']:.3f}" for n, r in runs.items()) + ".\n"]
    for n in [n for n, r in runs.items() if "kill" in r]:
        k, n_req = runs[n]["kill"], int(table.set_index("set").loc[n, "requests"])
        out.append(f"Kill and resume (`{n}`): {kill_check(runs[n], n_req)} (SIGKILL after {k['after_s']} s "
                   f"with {k['done_at_kill']} requests done, then the same command again).\n")
    t = table.copy()
    for c in ("requests", "asked", "parsed", "seed_copies", "cleaned", "verified", "novel_verified"):
        t[c] = t[c].map(lambda v: "" if pd.isna(v) else int(v))
    out += ["## Lines: asked (top-ups included), parsed, cleaned, verified\n",
            to_markdown(t[["set", "requests", "asked", "parsed", "seed_copies", "cleaned", "verified", "kept_share",
                           "novel_verified", "novel_share"]].fillna(""), ".3f"), "",
            "`seed_copies`: parsed lines equal to one of their request's seeds (kept, `echo_items=\"keep\"`); "
            "`novel_verified`: verified lines that copy neither a seed of their request nor one of the offline generator's "
            "lines for the plan; "
            "`novel_share`: those over the lines asked.\n",
            to_markdown(t[["set", "parse_rejects", "verify_drops"]].fillna(""), ".3f"), "",
            "## F1 on the development measure (6 inner splits x 2 fastText seeds, never the test rows)\n",
            to_markdown(measure.drop(columns=[c for c in measure.columns if c.startswith("n_")]), ".3f"), ""]
    text = "\n".join(out) + "\n"
    (RESULTS / name).write_text(text, encoding="utf-8")
    print(text)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--phase", choices=["generate", "evaluate", "all"], default="all")
    p.add_argument("--only", nargs="*", help="rewrite runs to generate (default: all)")
    p.add_argument("--sets", nargs="*", help="runs to evaluate (default: every run on disk)")
    p.add_argument("--out", default="llm_rewrite.md", help="results file under benchmarks/results/")
    args = p.parse_args()
    if args.phase in ("generate", "all"):
        generate_runs(args.only)
    if args.phase in ("evaluate", "all"):
        evaluate(args.sets, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
