"""The ONS study table (issue: train and evaluate): real-only vs titles vs offline synthetic vs full real.

Runs the main job's configuration (configs/ons_study.toml: NACE Rev. 2 notes, ONS UK SIC index,
sections B, O, T, U reduced to 2 real training rows, offline generator, cleaning, 3 seeds) and
writes the per-section F1 and overall accuracy, mean ± std over the seeds, to
benchmarks/results/ons_study.md.

    .venv/bin/python benchmarks/bench_study.py [--seeds 0 1 2 3 4] [--out runs/bench_study]
"""

from __future__ import annotations

import argparse
import platform
import shutil
import time
from pathlib import Path

from statcodgen.study.config import load_config
from statcodgen.study.pipeline import run_pipeline

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=str(ROOT / "configs" / "ons_study.toml"))
    ap.add_argument("--seeds", type=int, nargs="+")
    ap.add_argument("--out", default=str(ROOT / "runs" / "bench_study"))
    ap.add_argument("--resume", action="store_true", help="reuse the stages already in --out (default: start afresh, so the time is a full run)")
    ap.add_argument("--results", default=str(ROOT / "benchmarks" / "results" / "ons_study.md"))
    args = ap.parse_args()
    cfg = load_config(args.config)
    update = {"output_dir": args.out}
    if args.seeds:
        update["training"] = cfg.training.model_copy(update={"seeds": args.seeds})
    cfg = cfg.model_copy(update=update)
    if not args.resume and Path(args.out).exists():
        shutil.rmtree(args.out)
    t0 = time.perf_counter()
    res = run_pipeline(cfg)
    elapsed = time.perf_counter() - t0
    t = res.targets
    targets = [c[: -len("_mean")] for c in t.columns if c.endswith("_mean") and len(c) == len("X_mean")]
    head = "| variant | " + " | ".join(f"F1 {x}" for x in targets) + " | mean F1 B/O/T/U | accuracy | macro F1 |"
    lines = [head, "|" + "---|" * (len(targets) + 4)]
    for row in t.itertuples(index=False):
        r = row._asdict()
        cells = [f"{r[f'{x}_mean']:.3f} ± {r[f'{x}_std']:.3f}" for x in targets]
        cells += [f"{r['target_mean_f1_mean']:.3f} ± {r['target_mean_f1_std']:.3f}", f"{r['accuracy_mean']:.4f} ± {r['accuracy_std']:.4f}", f"{r['macro_f1_mean']:.3f}"]
        lines.append(f"| {r['variant']} | " + " | ".join(cells) + " |")
    md = [
        "# ONS study: sections B, O, T, U reduced to 2 real training rows",
        "",
        f"Command: `.venv/bin/python benchmarks/bench_study.py` (config `{Path(args.config).name}`, seeds {list(cfg.training.seeds)}).",
        f"Machine: {platform.machine()}, {platform.system()}, Python {platform.python_version()}; whole study {elapsed:.0f} s{' (resumed)' if args.resume else ', from scratch'}.",
        "Test data: the real ONS index test part only (20 %, stratified, split seed 0). Mean ± std over training seeds.",
        "",
        *lines,
        "",
        "Plain-language summary (from the report):",
        "",
        res.summary,
        "",
    ]
    Path(args.results).write_text("\n".join(md), encoding="utf-8")
    print("\n".join(md))
    print(f"report: {res.report_html}")


if __name__ == "__main__":
    main()
