"""THE MEASURE (issue #3): do offline lines from the notes rescue sections the real data lacks?

Protocol
--------
1. ONS UK SIC 2007 alphabetical index, 70 % part (``ons_uksic2007_index_en``), labels = NACE section.
2. Split once with seed 0: 80 % train / 20 % test, stratified by section (the split is FIXED across
   seeds; only the fastText seed and the synthetic sampling seed vary).
3. Scarcity: in train, sections B, O, T, U keep 2 rows each (sampled with the run seed).
4. Variants (each = scarce real train + extra lines for the B/O/T/U classes of the NACE Rev. 2 notes):
   ``real_only``; ``titles`` (one line per class title); ``naive_bullets`` (each raw Includes /
   Also-includes item); ``offline`` (statcodgen.generation.offline, N lines per class of the section, via generation_plan);
   plus ``full_real`` (the train part without scarcity) as the ceiling.
   Synthetic lines whose normalised text equals a test text are removed before training.
5. fastText: epoch 30, lr 0.5, wordNgrams 2, minn 3, maxn 5, dim 100 (``FastTextParams.benchmark``).
6. Evaluate on the real test part only: F1 of B, O, T, U, their mean, overall accuracy.
   Mean over seeds 0, 1, 2.

The generator learns nothing from the ONS index: it reads only the NACE notes.

Run: ``.venv/bin/python benchmarks/bench_measure.py [--seeds 0 1 2] [--per-class 30]``.
Writes the table to stdout and to ``benchmarks/results/measure.md``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from statcodgen.classification.hierarchy import section_of_division  # noqa: E402
from statcodgen.text.normalize import normalize_text  # noqa: E402
from statcodgen.generation.baselines import naive_bullets, titles_baseline  # noqa: E402
from statcodgen.generation.offline import generate_offline  # noqa: E402
from statcodgen.modelling import FastTextClassifier, FastTextParams  # noqa: E402

TARGETS = ("B", "O", "T", "U")
VARIANTS = ("real_only", "titles", "naive_bullets", "offline", "full_real")


def mirror() -> Path:
    """The shared data folder: env STATCODGEN_MIRROR or ../shared/data beside the repo."""
    return Path(os.environ.get("STATCODGEN_MIRROR") or (ROOT.parent / "shared" / "data"))


def load_ons(base: Path) -> pd.DataFrame:
    """ONS index as ``text, code, label`` (label = NACE section)."""
    path = base / "ons_uksic2007_index_en" / "uksic2007_alphabetical_index_train70.csv"
    df = pd.read_csv(path, dtype=str)
    out = pd.DataFrame({"text": df["activity"].astype(str), "code": df["nace_rev2_class"].astype(str)})
    out["label"] = [section_of_division(c[:2]) for c in out["code"]]
    return out


def load_nace_notes(base: Path) -> pd.DataFrame:
    """NACE Rev. 2 English notes through statcodgen.sources.notes.load_notes."""
    from statcodgen.sources.notes import load_notes

    return load_notes(base / "nace_rev2_notes_en" / "nace_rev2_notes_en.csv")


def split(real: pd.DataFrame, *, seed: int = 0, test_size: float = 0.2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stratified (by section) train/test split."""
    train, test = train_test_split(real, test_size=test_size, random_state=seed, stratify=real["label"])
    return train.reset_index(drop=True), test.reset_index(drop=True)


def make_scarce(train: pd.DataFrame, *, seed: int, keep: int = 2, targets: tuple[str, ...] = TARGETS) -> pd.DataFrame:
    """Keep ``keep`` rows of each target section in train (seeded)."""
    parts = [train[~train["label"].isin(targets)]]
    for t in targets:
        rows = train[train["label"] == t]
        parts.append(rows.sample(n=min(keep, len(rows)), random_state=seed))
    return pd.concat(parts, ignore_index=True)


def offline_lines(notes: pd.DataFrame, *, per_class: int, seed: int, targets: tuple[str, ...] = TARGETS) -> pd.DataFrame:
    """Offline generator lines for the target sections: ``per_class`` x (number of classes) per section.

    The volume follows the size of the section in the classification (B has 15 classes, U one),
    through one :func:`statcodgen.generation.plan.generation_plan` call per section.
    """
    from statcodgen.generation.plan import generation_plan

    plans = []
    for t in targets:
        n_classes = int(((notes["section"] == t) & (notes["level"] == "class")).sum())
        plans.append(generation_plan(notes, targets=[t], n_per_target=per_class * n_classes, level="section"))
    plan = pd.concat(plans, ignore_index=True)
    return generate_offline(notes, plan, seed=seed, language="en")


def class_codes(notes: pd.DataFrame, targets: tuple[str, ...] = TARGETS) -> list[str]:
    return notes[(notes["section"].isin(targets)) & (notes["level"] == "class")]["code"].tolist()


def drop_test_duplicates(synth: pd.DataFrame, test: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Remove synthetic lines whose normalised text is a test text; returns (kept, n_dropped)."""
    test_norm = {normalize_text(t) for t in test["text"]}
    mask = synth["text"].map(lambda t: normalize_text(t) in test_norm).astype(bool)
    return synth[~mask].reset_index(drop=True), int(mask.sum())


def score(clf: FastTextClassifier, test: pd.DataFrame, targets: tuple[str, ...] = TARGETS) -> dict[str, float]:
    pred = clf.predict(test["text"].tolist(), k=1)["label"].astype(str).tolist()
    f1 = f1_score(test["label"], pred, labels=list(targets), average=None, zero_division=0)
    res = {f"F1_{t}": float(v) for t, v in zip(targets, f1)}
    res["mean_F1_BOTU"] = float(sum(f1) / len(f1))
    res["accuracy"] = float(accuracy_score(test["label"], pred))
    return res


def run_measure(*, seeds: tuple[int, ...] = (0, 1, 2), per_class: int = 30, variants: tuple[str, ...] = VARIANTS,
                base: Path | None = None, notes: pd.DataFrame | None = None, thread: int = 2) -> pd.DataFrame:
    """Run the protocol; one row per (variant, seed) with F1 per target, mean F1, accuracy, n_synthetic."""
    base = base or mirror()
    real = load_ons(base)
    notes = load_nace_notes(base) if notes is None else notes
    train, test = split(real, seed=0)
    codes = class_codes(notes)
    rows = []
    jobs = [(s, v) for s in seeds for v in variants]
    for seed, variant in tqdm(jobs, desc="measure", unit="model"):
        scarce = make_scarce(train, seed=seed)
        if variant == "full_real":
            texts, labels = train["text"].tolist(), train["label"].tolist()
            synth = pd.DataFrame(columns=["text", "label"])
        else:
            if variant == "real_only":
                synth = pd.DataFrame(columns=["text", "label"])
            elif variant == "titles":
                synth = titles_baseline(notes, codes, seed=seed)
            elif variant == "naive_bullets":
                synth = naive_bullets(notes, codes, seed=seed)
            else:
                synth = offline_lines(notes, per_class=per_class, seed=seed)
            synth, _ = drop_test_duplicates(synth, test)
            texts = scarce["text"].tolist() + synth["text"].tolist()
            labels = scarce["label"].tolist() + synth["label"].tolist()
        t0 = time.perf_counter()
        clf = FastTextClassifier(FastTextParams.benchmark(seed=seed, thread=thread), language="en")
        clf.fit(texts, labels)
        res = score(clf, test)
        rows.append({"variant": variant, "seed": seed, **res, "n_synthetic": len(synth),
                     "fit_seconds": round(time.perf_counter() - t0, 1)})
    return pd.DataFrame(rows)


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """Mean over seeds per variant (rounded), in VARIANTS order."""
    cols = [c for c in results.columns if c.startswith("F1_")] + ["mean_F1_BOTU", "accuracy", "n_synthetic"]
    out = results.groupby("variant")[cols].mean()
    out["std_mean_F1"] = results.groupby("variant")["mean_F1_BOTU"].std().fillna(0.0)
    order = [v for v in VARIANTS if v in out.index]
    return out.loc[order].round(3)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--per-class", type=int, default=30)
    ap.add_argument("--sweep", type=int, nargs="*", default=[10, 60],
                    help="extra per-class volumes for the offline variant (volume curve); none to skip")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "measure.md")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    results = run_measure(seeds=tuple(args.seeds), per_class=args.per_class)
    table = summarise(results)
    md = md_table(table)
    sweep_md = ""
    if args.sweep:
        rows = []
        for n in sorted({*args.sweep, args.per_class}):
            res = results[results["variant"] == "offline"] if n == args.per_class else run_measure(
                seeds=tuple(args.seeds), per_class=n, variants=("offline",))
            rows.append({"per_class": n, **summarise(res).loc["offline"].to_dict()})
        sweep = pd.DataFrame(rows).set_index("per_class").round(3)
        sweep_md = ("\n\nVolume curve of the offline variant (lines per class; mean over the same seeds):\n\n"
                    + md_table(sweep))
    _, test = split(load_ons(mirror()), seed=0)
    support = ", ".join(f"{t} {int((test['label'] == t).sum())}" for t in TARGETS)
    goal = table.loc["offline", "mean_F1_BOTU"] >= 0.55 and table.loc["offline", "accuracy"] >= table.loc["real_only", "accuracy"]
    text = (
        "# The measure (issue #3): ONS UK SIC index, sections B, O, T, U reduced to 2 train rows\n\n"
        f"Split fixed (seed 0, 80/20 stratified by section); seeds {args.seeds} vary the scarcity sample, "
        f"the synthetic sample and fastText. Offline: {args.per_class} lines per class (x number of classes per section) from the "
        "NACE Rev. 2 English notes; synthetic lines equal (normalised) to a test text removed. "
        "fastText epoch 30, lr 0.5, wordNgrams 2, minn 3, maxn 5, dim 100. Mean over seeds:\n\n"
        f"{md}{sweep_md}\n\nTest rows per target section: {support} (T and U F1 move in steps of whole rows; "
        f"{len(test)} test rows in all).\n\nGoal (offline mean F1 over B,O,T,U >= 0.55 and accuracy >= real_only): "
        f"{'MET' if goal else 'NOT MET'}. Total time {time.perf_counter() - t0:.0f} s.\n"
    )
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    return 0


def md_table(df: pd.DataFrame) -> str:
    """A GitHub markdown table (index as first column), without the optional tabulate package."""
    cols = [str(df.index.name or "")] + [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for idx, row in df.iterrows():
        lines.append("| " + " | ".join([str(idx)] + [f"{v:g}" if isinstance(v, float) else str(v) for v in row]) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
