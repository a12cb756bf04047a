"""The typed result of an experiment run, and how it saves and loads itself.

In: the tidy frames :func:`statcodgen.modelling.run_experiments` computes. Out: files in a folder
(``metrics_per_label``, ``metrics_overall``, ``auto_coding``, ``confusion`` in long form,
``learning_curve`` and ``learning_curve_f1`` as parquet), read back into the same object, so a
resumed study reports exactly what a fresh one does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .._io import frames_exist, read_frames, write_frames

__all__ = ["ExperimentResult"]

_CURVE = ["variant", "fraction", "n_synthetic", "seed", "accuracy"]


@dataclass
class ExperimentResult:
    """Tidy results of :func:`run_experiments` (all measured on real test data only).

    ``metrics_per_label``: variant, seed, label, precision, recall, f1, support.
    ``metrics_overall``: variant, seed, accuracy, macro_f1, weighted_f1, top3_accuracy.
    ``confusion``: per variant, a true × predicted count matrix (first seed).
    ``auto_coding``: variant, threshold, coverage, accuracy (mean over seeds).
    ``learning_curve``: variant, fraction, n_synthetic, seed, accuracy, f1_by_label (dict), or None.
    ``models``: the first seed's fitted classifier per variant when asked for (not saved).
    """

    metrics_per_label: pd.DataFrame
    metrics_overall: pd.DataFrame
    confusion: dict[str, pd.DataFrame] = field(default_factory=dict)
    auto_coding: pd.DataFrame = field(default_factory=pd.DataFrame)
    learning_curve: pd.DataFrame | None = None
    models: dict[str, Any] = field(default_factory=dict)

    FILES = ("metrics_per_label", "metrics_overall", "auto_coding", "confusion", "learning_curve", "learning_curve_f1")

    def save(self, directory: str | Path) -> None:
        """Write the result's frames to ``directory`` (parquet, atomic); models are saved by their owner."""
        confusion = [m.rename_axis(index="true", columns="predicted").stack().rename("count").reset_index().assign(variant=v)
                     for v, m in self.confusion.items()]
        lc = self.learning_curve
        curve = pd.DataFrame(columns=_CURVE) if lc is None or lc.empty else lc[_CURVE]
        f1 = pd.DataFrame(
            [{"variant": r.variant, "fraction": r.fraction, "seed": r.seed, "label": label, "f1": float(v)}
             for r in ([] if lc is None else lc.itertuples(index=False)) for label, v in r.f1_by_label.items()],
            columns=["variant", "fraction", "seed", "label", "f1"],
        )
        write_frames(directory, {
            "metrics_per_label": self.metrics_per_label,
            "metrics_overall": self.metrics_overall,
            "auto_coding": self.auto_coding,
            "confusion": pd.concat(confusion, ignore_index=True) if confusion else pd.DataFrame(columns=["true", "predicted", "count", "variant"]),
            "learning_curve": curve,
            "learning_curve_f1": f1,
        })

    def write_csv(self, directory: str | Path) -> None:
        """Write ``metrics_per_label.csv``, ``metrics_overall.csv`` and ``auto_coding.csv`` to ``directory`` (for spreadsheets)."""
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("metrics_per_label", "metrics_overall", "auto_coding"):
            getattr(self, name).to_csv(folder / f"{name}.csv", index=False)

    @classmethod
    def exists(cls, directory: str | Path) -> bool:
        """Whether ``directory`` holds a saved result."""
        return frames_exist(directory, cls.FILES)

    @classmethod
    def load(cls, directory: str | Path) -> "ExperimentResult":
        """Read a result written by :meth:`save`."""
        f = read_frames(directory, cls.FILES)
        confusion = {
            v: g.pivot_table(index="true", columns="predicted", values="count", aggfunc="sum", fill_value=0)
            for v, g in f["confusion"].groupby("variant")
        }
        curve = f["learning_curve"]
        if len(curve):
            by_run = {k: dict(zip(g["label"], g["f1"])) for k, g in f["learning_curve_f1"].groupby(["variant", "fraction", "seed"])}
            curve = curve.assign(f1_by_label=[by_run.get((r.variant, r.fraction, r.seed), {}) for r in curve.itertuples(index=False)])
        return cls(f["metrics_per_label"], f["metrics_overall"], confusion, f["auto_coding"], curve if len(curve) else None)
