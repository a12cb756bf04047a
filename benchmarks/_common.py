"""Shared set-up of the benchmark scripts: the ONS measure of the generation issue.

ONS UK SIC 2007 index (mirror or fetched), label = NACE Rev. 2 section, split seed 0 (80/20,
stratified), sections B, O, T, U reduced to 2 training rows; fastText with the protocol's fixed
settings (epoch 30, lr 0.5, wordNgrams 2, minn 3, maxn 5, dim 100); evaluated on the real test
part only; mean over seeds.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
TARGETS = ["B", "O", "T", "U"]
PROTOCOL_PARAMS = {"epoch": 30, "lr": 0.5, "wordNgrams": 2, "minn": 3, "maxn": 5, "dim": 100}

if not os.environ.get("STATCODGEN_MIRROR") and (ROOT.parent / "shared" / "data").is_dir():
    os.environ["STATCODGEN_MIRROR"] = str(ROOT.parent / "shared" / "data")


def machine() -> str:
    """One line naming the machine the benchmark ran on."""
    return f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def ons_measure_data(*, keep: int = 2, seed: int = 0) -> dict[str, object]:
    """Notes, hierarchy and the ONS split of the measure: ``train`` (scarce), ``train_full``, ``test``."""
    from statcodgen.sources import datasets
    from statcodgen.classification.hierarchy import Hierarchy
    from statcodgen.modelling.experiments import simulate_scarcity, split_real
    from statcodgen.sources.notes import load_notes

    notes = load_notes(datasets.fetch_nace_rev2_notes())
    h = Hierarchy.from_notes(notes)
    real = datasets.load_ons_index()
    real = pd.DataFrame(real)
    real.attrs = {}
    real["label"] = h.aggregate(real["code"], "section").to_numpy()
    train_full, test = split_real(real, test_size=0.2, seed=seed)
    train = simulate_scarcity(train_full, {t: keep for t in TARGETS}, seed=seed)
    return {"notes": notes, "hierarchy": h, "train": train, "train_full": train_full, "test": test}


def measure(data: dict[str, object], synthetic: dict[str, pd.DataFrame], *, seeds: list[int] = (0, 1, 2), full_real: bool = False) -> pd.DataFrame:
    """Mean ± std over seeds of per-target F1, their mean and overall accuracy, per variant."""
    from statcodgen.modelling.experiments import run_experiments, target_summary

    exp = run_experiments(
        data["train"], data["test"], synthetic, seeds=list(seeds), params=PROTOCOL_PARAMS, language="en",
        full_real=data["train_full"] if full_real else None, progress=False,
    )
    return target_summary(exp, TARGETS)


def dev_measure(data: dict[str, object], synthetic: dict[str, pd.DataFrame], *, inner_seeds: list[int] = (1, 2, 3, 4, 5, 6),
                seeds: list[int] = (0, 1), keep: int = 2) -> pd.DataFrame:
    """The measure on development splits: the training part of the measure's split is split again
    (80/20, stratified) with each of ``inner_seeds``, B/O/T/U reduced to ``keep`` rows in each
    inner train part, predictions pooled over inner splits and fastText ``seeds``. The measure's
    test rows are never used, so design choices can be made here. One row per variant: per-target
    F1, their mean, accuracy and the number of pooled predictions per target."""
    from sklearn.metrics import accuracy_score, f1_score

    from statcodgen.modelling.experiments import drop_test_leaks, fit_predict, simulate_scarcity, split_real, training_set

    pooled: dict[str, tuple[list[str], list[str]]] = {"real_only": ([], []), **{f"real+{n}": ([], []) for n in synthetic}}
    for inner in inner_seeds:
        train_full, dev = split_real(data["train_full"], test_size=0.2, seed=inner)
        train = simulate_scarcity(train_full, {t: keep for t in TARGETS}, seed=inner)
        texts_dev, y_dev = dev["text"].astype(str).tolist(), dev["label"].astype(str).tolist()
        for name, syn in [("real_only", None), *((f"real+{n}", s) for n, s in synthetic.items())]:
            if syn is not None:
                syn, _ = drop_test_leaks(syn, dev)
            for seed in seeds:
                texts, labels, weights = training_set(train, syn)
                _, pred = fit_predict(texts, labels, weights, texts_dev, params=PROTOCOL_PARAMS, language="en", seed=seed)
                pooled[name][0].extend(y_dev)
                pooled[name][1].extend(pred["label"].astype(str))
    rows = []
    for name, (y, p) in pooled.items():
        f1 = f1_score(y, p, labels=TARGETS, average=None, zero_division=0)
        rows.append({"variant": name, **{t: float(v) for t, v in zip(TARGETS, f1)}, "target_mean_f1": float(f1.mean()),
                     "accuracy": float(accuracy_score(y, p)), **{f"n_{t}": sum(v == t for v in y) for t in TARGETS}})
    return pd.DataFrame(rows)


def to_markdown(df: pd.DataFrame, floatfmt: str = ".3f") -> str:
    """A DataFrame as a Markdown table (no extra dependency)."""
    cols = list(df.columns)
    out = ["| " + " | ".join(str(c) for c in cols) + " |", "|" + "---|" * len(cols)]
    for row in df.itertuples(index=False):
        cells = [format(v, floatfmt) if isinstance(v, float) else str(v) for v in row]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)
