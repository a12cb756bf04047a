"""The study on an office's full data (issue 14): one training and the whole study on 850,000 rows.

Every figure comes with its baseline measured in the same run, on this machine:

- ``train``: one fastText training on the seeded 850,000-row stand-in (``benchmarks/standin.py``,
  NAF 2025 subclasses, 90/10 split), at subclass level (~730 labels) and at section level (21),
  each in its own spawned process (wall time, CPU, peak RSS, held-out accuracy, model size):
  the old defaults (30 epochs, softmax), the new ones (``epoch``/``loss`` "auto", every core) and
  the alternatives the rules were chosen from (softmax / hs / ova at the same epochs), plus the
  new model quantised;
- ``study``: ``statcodgen run`` end to end on the stand-in (NAF 2025 notes, sections O, B, U, T,
  three seeds, every variant and the learning curve) as a child process (wall time, peak RSS),
  and the capped vs uncapped experiment on the same split (target F1, accuracy, time);
- ``ons``: the ONS study with the new defaults against the old ones, and the cap's effect there.

    .venv/bin/python benchmarks/bench_scale.py                 # all parts (~50 min on 2 cores)
    .venv/bin/python benchmarks/bench_scale.py --part train    # or study, ons

Output: ``benchmarks/results/scale.md`` (one section per part, appended as each finishes).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
OUT = ROOT / "benchmarks" / "results" / "scale.md"
CACHE = ROOT / "data" / "cache" / "standin"
if not os.environ.get("STATCODGEN_MIRROR") and (ROOT.parent / "shared" / "data").is_dir():
    os.environ["STATCODGEN_MIRROR"] = str(ROOT.parent / "shared" / "data")


def standin_file(n_rows: int, seed: int = 0) -> Path:
    """The stand-in as a parquet file in the (git-ignored) cache, made once per size and seed."""
    from standin import make_standin

    path = CACHE / f"standin_{n_rows}_{seed}.parquet"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        make_standin(n_rows, seed=seed).to_parquet(path, index=False)
    return path


# ---------------------------------------------------------------------------------------- train
def _train_child(queue: Any, path: str, level: str, params: dict[str, Any], quantize: bool) -> None:
    from standin import split_standin

    from statcodgen.modelling import FastTextClassifier, FastTextParams

    df = pd.read_parquet(path)
    df["label"] = df["code"] if level == "subclass" else df["section"]
    train, test = split_standin(df, test_size=0.1, seed=0, label="label")
    clf = FastTextClassifier(FastTextParams(**params), language="fr")
    t0 = time.perf_counter()
    train_texts, test_texts = clf.preprocess_texts(train["text"]), clf.preprocess_texts(test["text"])
    prep_s = time.perf_counter() - t0
    r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    clf.fit(train_texts, train["label"], preprocessed=True)
    fit_s = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    y = test["label"].to_numpy()
    out = {"rows": len(train), "labels": len(clf.labels_), "epoch": clf.fitted_params_.epoch, "loss": clf.fitted_params_.loss,
           "thread": clf.fitted_params_.thread, "prep_s": prep_s, "fit_s": fit_s,
           "cpu_s": (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime),
           "acc": float((clf.predict(test_texts, k=1, preprocessed=True)["label"].to_numpy() == y).mean())}
    with tempfile.TemporaryDirectory() as tmp:
        out["size_mb"] = (Path(clf.save(tmp)) / "model.bin").stat().st_size / 1e6
        if quantize:
            t0 = time.perf_counter()
            clf.quantize()
            out["quantize_s"] = time.perf_counter() - t0
            out["q_acc"] = float((clf.predict(test_texts, k=1, preprocessed=True)["label"].to_numpy() == y).mean())
            out["q_size_mb"] = (Path(clf.save(tmp)) / "model.ftz").stat().st_size / 1e6
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put(out)


def train_once(path: Path, level: str, params: dict[str, Any], *, quantize: bool = False) -> dict[str, Any]:
    """One training in a spawned process (so peak RSS is its own); returns its measurements."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_train_child, args=(queue, str(path), level, params, quantize))
    proc.start()
    out = queue.get()
    proc.join()
    return out


_COLS = ["level", "run", "labels", "epoch", "loss", "fit_s", "prep_s", "cpu_s", "acc", "size_mb", "peak_rss_mb"]


def _earlier_rows() -> list[dict[str, Any]]:
    """The rows of the training table already in the results file (to re-measure some runs only)."""
    rows: list[dict[str, Any]] = []
    text = OUT.read_text() if OUT.exists() else ""
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 13 and cells[0] in ("subclass", "section"):
            r = dict(zip(_COLS, cells))
            for k in _COLS[5:]:
                r[k] = float(r[k].replace(",", ""))
            rows.append(r)
    for line in text.splitlines():
        if line.startswith("Quantised ("):
            level = line.split("(")[1].split(",")[0]
            nums = [float(x) for x in re.findall(r"[-+]?\d+\.\d+", line)]
            for r in rows:
                if r["level"] == level and r["run"].startswith("new defaults"):
                    r.update(acc=nums[0], q_acc=nums[1], q_size_mb=nums[3], quantize_s=nums[4])
    return rows


def part_train(n_rows: int, only: str | None = None) -> str:
    """The training table; ``only``: re-measure the runs whose name starts with it, keep the other rows."""
    from statcodgen.modelling import FastTextParams

    path = standin_file(n_rows)
    old = FastTextParams.benchmark().model_dump()
    runs = [
        ("subclass", "old defaults: epoch 30, softmax", old, False),
        ("subclass", "new defaults: epoch/loss auto", {}, True),
        ("subclass", "softmax, epoch 5", {"loss": "softmax", "epoch": 5}, False),
        ("subclass", "ova, epoch 5", {"loss": "ova", "epoch": 5}, False),
        ("subclass", "hs, epoch 5", {"loss": "hs", "epoch": 5}, False),
        ("subclass", "hs, epoch 30", {"loss": "hs", "epoch": 30}, False),
        ("section", "old defaults: epoch 30, softmax", old, False),
        ("section", "new defaults: epoch/loss auto", {}, True),
    ]
    earlier = {(r["level"], r["run"]): r for r in _earlier_rows()} if only else {}
    rows = []
    for level, name, params, quantize in runs:
        if only and not name.startswith(only) and (level, name) in earlier:
            rows.append(earlier[(level, name)])
            continue
        r = train_once(path, level, params, quantize=quantize)
        rows.append({"level": level, "run": name, **r})
        print(f"  {level:8s} {name:34s} fit {r['fit_s']:7.1f} s  acc {r['acc']:.4f}  rss {r['peak_rss_mb']:,.0f} MB", flush=True)
    df = pd.DataFrame(rows)
    lines = [f"## One training on the {n_rows:,}-row stand-in (train 90 %, held-out 10 %)", "",
             "| level | run | labels | epoch | loss | fit (s) | preprocessing (s) | CPU (s) | held-out accuracy | "
             "model MB | peak RSS MB | vs old: time | vs old: accuracy |", "|" + "---|" * 13]
    for level, g in df.groupby("level", sort=False):
        base = g.iloc[0]
        for r in g.itertuples():
            lines.append(f"| {level} | {r.run} | {r.labels} | {r.epoch} | {r.loss} | {r.fit_s:.1f} | {r.prep_s:.1f} | {r.cpu_s:.0f} | "
                         f"{r.acc:.4f} | {r.size_mb:.0f} | {r.peak_rss_mb:,.0f} | {r.fit_s / base.fit_s:.3f}× | {100 * (r.acc - base.acc):+.2f} pt |")
    for r in df[df["q_acc"].notna()].itertuples() if "q_acc" in df else []:
        lines.append(f"\nQuantised ({r.level}, new defaults): accuracy {r.acc:.4f} → {r.q_acc:.4f} ({100 * (r.q_acc - r.acc):+.2f} pt), "
                     f"model {r.size_mb:.0f} MB → {r.q_size_mb:.1f} MB, {r.quantize_s:.1f} s.")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------- study
STUDY_TOML = """title = "Stand-in: sections O, B, U, T of NAF 2025 on {rows:,} rows"
output_dir = "{out}"

[notes]
fetch = "naf2025"

[real]
path = "{real}"
text_column = "text"
code_column = "code"
test_size = 0.2
split_seed = 0

[targets]
labels = ["O", "B", "U", "T"]
level = "section"
n_per_target = 800
min_per_code = 5
weight = "richness"

[generation]
backend = "offline"

[training]
seeds = [0, 1, 2]
simulate_scarcity = {{ O = 2, B = 2 }}   # U (11 rows) and T (none) are scarce already
titles_variant = true
full_real_ceiling = true
learning_curve = [0.25, 0.5, 1.0]
{cap}
"""


def _run_study(config: Path) -> tuple[float, float, str]:
    """``statcodgen run`` as a child process: (wall s, peak RSS MB of the child, its stdout)."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, "-m", "statcodgen", "run", str(config)], stdout=out, stderr=err, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak RSS, not the other parts'
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode:
        raise RuntimeError(stderr[-3000:])
    return wall, usage.ru_maxrss / 1024, stdout


def part_study(n_rows: int, cap: int | None, compare_cap: int = 20_000) -> str:
    """The study end to end (``cap``: its ``max_rows_per_label``, None for none), then no cap vs ``compare_cap``."""
    from statcodgen.modelling import run_experiments, target_summary
    from statcodgen.study import RealSplit

    path = standin_file(n_rows)
    work = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    cfg = work / "study.toml"
    cfg.write_text(STUDY_TOML.format(rows=n_rows, out=work / "out", real=path, cap=f"max_rows_per_label = {cap}" if cap else ""))
    dry = subprocess.run([sys.executable, "-m", "statcodgen", "run", str(cfg), "--dry-run"], capture_output=True, text=True, cwd=ROOT)
    wall, rss, stdout = _run_study(cfg)
    print(f"  study with cap {cap}: {wall:.0f} s, peak RSS {rss:,.0f} MB", flush=True)
    lines = [f"## The whole study on the {n_rows:,}-row stand-in (`statcodgen run`, 3 seeds, every variant)", "",
             (f"Cap: `max_rows_per_label = {cap:,}`." if cap else "No cap (the default).") + f" Wall time end to end **{wall:.0f} s = {wall / 60:.1f} min**, "
             f"peak RSS of the study process **{rss:,.0f} MB**.", "", "Dry run's estimate (`statcodgen run --dry-run`):", "",
             "```", dry.stdout.strip().splitlines()[-1] if dry.stdout.strip() else dry.stderr[-500:], "```", "",
             "Summary printed by the study:", "", "```", *[l for l in stdout.splitlines() if l.startswith(("- ", "Overall", "Other"))], "```"]
    # the cap's effect, same split and synthetic lines, one seed, no titles or curve
    split = RealSplit.load(work / "out")
    kept = pd.read_parquet(work / "out" / "cleaning" / "kept.parquet")
    targets = ["O", "B", "U", "T"]
    rows = []
    for name, c in (("no cap", None), (f"cap {compare_cap:,}", compare_cap)):
        t0 = time.perf_counter()
        res = run_experiments(split.train, split.test, {"offline": kept}, seeds=[0], language="fr", full_real=split.train_full,
                              max_rows_per_label=c, progress=False)
        s = target_summary(res, targets).set_index("variant")
        rows.append((name, time.perf_counter() - t0, s))
        print(f"  experiment {name}: {rows[-1][1]:.0f} s", flush=True)
    lines += ["", "Cap against no cap (same split and synthetic lines, seed 0, real only / real+offline / full real):", "",
              "| | time (s) | " + " | ".join(f"{v}: target F1 | {v}: accuracy" for v in ("real_only", "real+offline", "full_real")) + " |",
              "|---|---|" + "---|---|" * 3]
    for name, secs, s in rows:
        cells = " | ".join(f"{s.loc[v, 'target_mean_f1_mean']:.3f} | {s.loc[v, 'accuracy_mean']:.4f}" for v in ("real_only", "real+offline", "full_real"))
        lines.append(f"| {name} | {secs:.0f} | {cells} |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------- ons
def part_ons() -> str:
    from statcodgen.modelling import FastTextParams, run_experiments, target_summary
    from statcodgen.study import RealSplit, load_config, run_pipeline

    cfg = load_config(ROOT / "configs" / "ons_study.toml")
    targets = ["B", "O", "T", "U"]
    lines = ["## The ONS study: new defaults against old, and the cap", ""]
    out: dict[str, Any] = {}
    for name, params in (("old defaults (epoch 30, softmax)", FastTextParams.benchmark()), ("new defaults (auto)", FastTextParams())):
        c = cfg.model_copy(update={"output_dir": tempfile.mkdtemp(prefix="bench-ons-"),
                                   "training": cfg.training.model_copy(update={"params": params})})
        t0 = time.perf_counter()
        res = run_pipeline(c, progress=False, echo=lambda _: None)
        out[name] = (time.perf_counter() - t0, res.targets.set_index("variant"), c.output_dir)
    lines += ["| defaults | study time (s) | real+offline target F1 (mean ± std over 3 seeds) | accuracy |", "|---|---|---|---|"]
    for name, (secs, s, _) in out.items():
        r = s.loc["real+offline"]
        lines.append(f"| {name} | {secs:.0f} | {r['target_mean_f1_mean']:.3f} ± {r['target_mean_f1_std']:.3f} | {r['accuracy_mean']:.4f} |")
    split = RealSplit.load(out["new defaults (auto)"][2])
    kept = pd.read_parquet(Path(out["new defaults (auto)"][2]) / "cleaning" / "kept.parquet")
    lines += ["", "Independent trainings in parallel processes (same split and lines, 3 seeds, real only and real+offline):", ""]
    for n_jobs in (1, 2):
        t0 = time.perf_counter()
        run_experiments(split.train, split.test, {"offline": kept}, seeds=[0, 1, 2], language="en", n_jobs=n_jobs, progress=False)
        lines.append(f"- `n_jobs={n_jobs}` (each fastText with {max(1, (os.cpu_count() or 1) // n_jobs)} thread(s)): "
                     f"{time.perf_counter() - t0:.1f} s")
    lines += ["", "Cap per label on the ONS study (same split and lines, 3 seeds):", "",
              "| cap | time (s) | real+offline target F1 | accuracy |", "|---|---|---|---|"]
    for cap in (None, 1000, 300):
        t0 = time.perf_counter()
        res = run_experiments(split.train, split.test, {"offline": kept}, seeds=[0, 1, 2], language="en", max_rows_per_label=cap, progress=False)
        r = target_summary(res, targets).set_index("variant").loc["real+offline"]
        lines.append(f"| {cap or 'none'} | {time.perf_counter() - t0:.0f} | {r['target_mean_f1_mean']:.3f} ± {r['target_mean_f1_std']:.3f} | "
                     f"{r['accuracy_mean']:.4f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=["train", "study", "ons", "all"], default="all")
    ap.add_argument("--rows", type=int, default=850_000)
    ap.add_argument("--cap", type=int, default=0, help="max_rows_per_label of the stand-in study (0: none, the default)")
    ap.add_argument("--only", help="train part: re-measure only the runs whose name starts with this, keep the others' rows")
    args = ap.parse_args(argv)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    header = f"# Scaling to an office's full data ({time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores)\n"
    for part in (["train", "study", "ons"] if args.part == "all" else [args.part]):
        print(f"[{part}]", flush=True)
        text = {"train": lambda: part_train(args.rows, args.only), "study": lambda: part_study(args.rows, args.cap or None), "ons": part_ons}[part]()
        _write_part(header, part, text)
        print(text)


_TITLES = {"train": "## One training", "study": "## The whole study", "ons": "## The ONS study"}


def _write_part(header: str, part: str, text: str) -> None:
    """Put ``text`` in the results file in place of that part's earlier section (parts stay in order)."""
    old = OUT.read_text() if OUT.exists() else header
    sections = {name: "" for name in _TITLES}
    for chunk in old.split("\n## ")[1:]:
        for name, title in _TITLES.items():
            if ("## " + chunk).startswith(title):
                sections[name] = "## " + chunk.strip() + "\n"
    sections[part] = text.strip() + "\n"
    OUT.write_text(header + "".join("\n" + sections[n] for n in _TITLES if sections[n]))


if __name__ == "__main__":
    main()
