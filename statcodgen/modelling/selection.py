"""Choose how much synthetic data to use, and how strongly to correct the prior, on a validation split.

In: the real training rows (before any scarcity simulation), the verified synthetic lines, the
targets, a label prior. Out: a :class:`Selection`: the chosen share of synthetic lines and prior
strength, why, and every candidate's validation figures. The real test rows are never seen here.

A validation part is split off the real training rows (stratified, ``val_size``); the rest,
reduced by the same scarcity simulation as the study, trains one model per synthetic share
(plus a real-only model, and a full-real model when a simulation makes one possible). Each
model's validation probabilities are corrected with every prior strength (no retraining: the
correction is post hoc). The criterion is the target gain subject to the damage to the other
labels: among the candidates whose mean non-target F1 change is at least ``-max_mean_harm``,
and whose attraction rate is at most the full-real model's (when a simulation gives one; one
row of slack), the one with the best target mean F1; ties go to the lower attraction rate.
The worst non-target label's change (over the labels with at least ``min_label_rows`` validation
rows: at class level most labels have one or two, and one row flips F1 between 0 and 1) is reported
but gates only beyond ``max_label_harm`` (default 0.15): on a validation split of a few thousand rows a single small label moves by
±0.1 between two trainings that differ only in the target rows (measured: real-only against
full-real on the ONS study's validation part, label E, −0.12). When validation holds fewer than ``min_target_rows`` target rows, the
target gain cannot be measured: the full share with the Bayes correction (strength 1) is kept if
it does no harm, and the reason says so.

The target gate (``gate``): a row the synthetic model does not assign to a target keeps the real-only
model's answer. With ``gate=True`` every candidate is scored with it, and the same candidates without it are
listed (``gated`` False, never chosen); with ``"auto"`` both are candidates. The gate changes only the rows
predicted outside the targets, so a setting's target F1 is the same with and without it: between the two, the
feasible one with the larger mean non-target change is kept (ties: the gate). On a section study the ungated
models move single labels by 0.05-0.15 on validation and fail a tight per-label gate; at class level, where
the lines of 200 targets also sort out their neighbours, the ungated model gains overall accuracy (0.47 gated
against 0.50 ungated on the ONS class study) and the per-label gate is off.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .._io import frames_exist, read_frames, read_json, write_frames, write_json
from ..errors import ConfigError
from .prior import attraction_rate

__all__ = ["Selection", "choose_synthetic_use"]


@dataclass(frozen=True)
class Selection:
    """The chosen ``fraction`` of synthetic lines and prior ``strength``, the ``reason``, the
    validation ``candidates`` (one row per fraction x strength x ``gated``, plus ``real_only`` / ``full_real``
    reference rows with ``fraction`` NaN), ``n_validation`` / ``n_target_rows`` and ``gate`` (the target gate is on)."""

    fraction: float
    strength: float
    reason: str
    candidates: pd.DataFrame
    n_validation: int = 0
    n_target_rows: int = 0
    gate: bool = False

    def save(self, directory: str | Path) -> None:
        """Write ``selection.json`` and ``candidates.parquet`` to ``directory``."""
        write_frames(directory, {"candidates": self.candidates})
        write_json({"fraction": self.fraction, "strength": self.strength, "reason": self.reason,
                    "n_validation": self.n_validation, "n_target_rows": self.n_target_rows, "gate": self.gate},
                   Path(directory) / "selection.json")

    @classmethod
    def exists(cls, directory: str | Path) -> bool:
        """Whether ``directory`` holds a saved selection."""
        return (Path(directory) / "selection.json").is_file() and frames_exist(directory, ("candidates",))

    @classmethod
    def load(cls, directory: str | Path) -> "Selection":
        """Read a selection written by :meth:`save`."""
        meta = read_json(Path(directory) / "selection.json")
        return cls(candidates=read_frames(directory, ("candidates",))["candidates"], **meta)


def _f1(y: np.ndarray, p: np.ndarray, labels: Sequence[str]) -> pd.Series:
    from sklearn.metrics import f1_score

    return pd.Series(f1_score(y, p, labels=list(labels), average=None, zero_division=0), index=list(labels))


def choose_synthetic_use(
    real_train: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    targets: Sequence[str],
    scarcity: dict[str, int] | None = None,
    fractions: Sequence[float] = (0.25, 0.5, 1.0),
    strengths: Sequence[float] = (0.0, 0.5, 1.0, 1.5, 2.0),
    prior: dict[str, float] | None = None,
    params: Any = None,
    language: str = "en",
    seed: int = 0,
    val_size: float = 0.2,
    max_mean_harm: float = 0.0,
    max_label_harm: float = 0.15,
    min_target_rows: int = 5,
    min_label_rows: int = 10,
    default: tuple[float, float] = (1.0, 1.0),
    min_gain: float = 0.05,
    gate: bool | str = False,
    progress: bool = False,
) -> Selection:
    """Pick the synthetic share and prior strength on a validation split of ``real_train`` (see module docstring).

    ``real_train``: the real training rows with ``text, label`` (the full ones when ``scarcity``
    simulates the gap); ``synthetic``: ``text, label``; ``prior``: label -> share toward which the
    predictions are corrected (None: strength 0 only); ``default`` (fraction, strength): the setting
    kept unless another feasible one beats its target F1 by ``min_gain`` (validation holds a few
    dozen target rows: smaller differences are noise; every line with the Bayes correction is the
    principled choice). Out: :class:`Selection`.
    """
    from .experiments import drop_test_leaks, simulate_scarcity, split_real
    from .params import FastTextParams
    from .preprocess import preprocess
    from .train import FastTextClassifier

    if gate not in (True, False, "auto"):
        raise ConfigError(f"The 'gate' parameter of choose_synthetic_use must be True, False or 'auto'. Got {gate!r}.")
    if not fractions or any(not 0 < f <= 1 for f in fractions):
        raise ConfigError(f"The 'fractions' parameter of choose_synthetic_use must be shares in (0, 1]. Got {list(fractions)!r}.")
    strengths = [float(s) for s in strengths] if prior is not None else [0.0]
    p = params if isinstance(params, FastTextParams) else FastTextParams(**(params or {}))
    p = p.model_copy(update={"seed": seed})
    fit_full, val = split_real(real_train, test_size=val_size, seed=seed + 101)
    fit = simulate_scarcity(fit_full, {k: v for k, v in scarcity.items() if k in set(fit_full["label"])}, seed=seed) if scarcity else fit_full
    syn, _ = drop_test_leaks(synthetic, val)
    targets = [str(t) for t in targets]
    y = val["label"].astype(str).to_numpy()
    texts_raw = val["text"].astype(str).tolist()
    val_p = preprocess(texts_raw, language=language)
    labels = sorted(set(y) | set(fit_full["label"].astype(str)) | set(syn["label"].astype(str)))
    others = [l for l in labels if l not in targets and (y == l).any()]
    counts = pd.Series(y).value_counts()
    large = [l for l in others if counts.get(l, 0) >= min_label_rows] or others  # the worst-label gate: labels with enough rows
    present = [t for t in targets if (y == t).any()]
    n_target_rows = int(np.isin(y, targets).sum())

    def fit_predict_proba(df: pd.DataFrame) -> tuple[np.ndarray, list[str], FastTextClassifier]:
        clf = FastTextClassifier(p, language=language).fit(df["text"].astype(str).tolist(), df["label"].astype(str).tolist())
        return clf.predict_proba(val_p, preprocessed=True).to_numpy(), clf.labels_, clf

    def figures(pred: np.ndarray) -> dict[str, Any]:
        f = _f1(y, pred, labels)
        att = attraction_rate(y, pred, targets, texts_raw)
        return {"f1": f, "target_mean_f1": float(f[present].mean()) if present else float("nan"),
                "attraction": att["attraction"], "attraction_short": att.get("attraction_short", 0.0),
                "accuracy": float((pred == y).mean())}

    jobs = [("real_only", fit, None)] + ([("full_real", fit_full, None)] if scarcity else [])
    jobs += [(f, pd.concat([fit, syn.sample(frac=f, random_state=seed)[["text", "label"]]], ignore_index=True), f) for f in fractions]
    rows, base = [], None
    ref_attraction, base_pred = None, None
    for name, df, frac in tqdm(jobs, desc="select on validation", unit="model", disable=not progress):
        proba, classes, clf = fit_predict_proba(df)
        cls = np.asarray(classes, dtype=object)
        if frac is None:
            fig = figures(cls[proba.argmax(axis=1)])
            if name == "real_only":
                base, base_pred = fig, cls[proba.argmax(axis=1)]
            else:
                ref_attraction = fig["attraction"]
            rows.append({"variant": name, "fraction": np.nan, "strength": np.nan, "gated": False, "n_synthetic": 0,
                         **_summary(fig, base, others, large)})
            continue
        for s in strengths:
            adj = proba
            if s > 0:
                clf.set_prior(prior, strength=s)
                adj = clf.prior_.adjust(proba, classes)
            pred = cls[adj.argmax(axis=1)]
            scored = [(False, pred)] + ([(True, np.where(np.isin(pred, targets), pred, base_pred))] if gate else [])
            for gated, pr in scored:
                rows.append({"variant": "real+synthetic", "fraction": float(frac), "strength": s, "gated": gated,
                             "n_synthetic": int(round(len(syn) * frac)), **_summary(figures(pr), base, others, large)})
        del clf
    cand = pd.DataFrame(rows)
    syn_rows = (cand["variant"] == "real+synthetic") & (cand["gated"] if gate is True else True)
    feasible = (cand["nontarget_mean_change"] >= -max_mean_harm) & (cand["nontarget_worst_change"] >= -max_label_harm)
    if ref_attraction is not None:
        feasible &= cand["attraction"] <= ref_attraction + 1.0 / max(1, int((~np.isin(y, targets)).sum())) + 1e-12
    cand["feasible"] = feasible & syn_rows
    fraction, strength, gated, reason = _choose(cand[syn_rows], n_target_rows >= min_target_rows and bool(present), ref_attraction,
                                                max_mean_harm, max_label_harm, n_target_rows, default if prior is not None else
                                                (max(fractions), 0.0), min_gain)
    if gate is True:
        reason += ("; every candidate is scored with the target gate (a row the synthetic model does not assign to a "
                   "target keeps the real-only model's answer; the ungated figures are listed for comparison)")
    elif gate == "auto":
        pair = cand[syn_rows & (cand["fraction"] == fraction) & (cand["strength"] == strength)].set_index("gated")
        reason += (f"; the target gate is {'on' if gated else 'off'}: mean non-target change "
                   f"{pair.loc[True, 'nontarget_mean_change']:+.3f} gated, {pair.loc[False, 'nontarget_mean_change']:+.3f} "
                   f"ungated (worst label {pair.loc[True, 'nontarget_worst_change']:+.3f} / "
                   f"{pair.loc[False, 'nontarget_worst_change']:+.3f}; accuracy {pair.loc[True, 'accuracy']:.3f} / "
                   f"{pair.loc[False, 'accuracy']:.3f})")
    return Selection(fraction, strength, reason, cand, n_validation=len(val), n_target_rows=n_target_rows, gate=bool(gated))


def _summary(fig: dict[str, Any], base: dict[str, Any] | None, others: list[str], large: list[str]) -> dict[str, Any]:
    change = (fig["f1"][others] - base["f1"][others]) if base is not None and others else pd.Series(0.0, index=others or ["-"])
    worst = change[[l for l in large if l in change.index]] if large else change
    worst = worst if len(worst) else change
    return {"target_mean_f1": fig["target_mean_f1"], "nontarget_mean_change": float(change.mean()),
            "nontarget_worst_change": float(worst.min()), "nontarget_worst_label": str(worst.idxmin()),
            "attraction": fig["attraction"], "attraction_short": fig["attraction_short"], "accuracy": fig["accuracy"]}


def _choose(cand: pd.DataFrame, measurable: bool, ref_attraction: float | None, max_mean_harm: float, max_label_harm: float,
            n_target_rows: int, default: tuple[float, float] = (1.0, 1.0), min_gain: float = 0.05) -> tuple[float, float, bool, str]:
    """(fraction, strength, gated, reason) from the synthetic candidates (see the module docstring)."""
    rule = (f"mean non-target F1 change >= {-max_mean_harm:+.3f}, no non-target label losing more than {max_label_harm:.2f}"
            + (f", attraction rate <= the full-real model's {ref_attraction:.2%}" if ref_attraction is not None else ""))
    order = ["target_mean_f1", "attraction", "fraction", "nontarget_mean_change", "gated"]
    up = [False, True, False, False, False]
    ok = cand[cand["feasible"]].sort_values(order, ascending=up)

    def pick(row: pd.Series, why: str) -> tuple[float, float, bool, str]:
        return float(row["fraction"]), float(row["strength"]), bool(row["gated"]), why

    if measurable and len(ok):
        best = ok.iloc[0]
        base = ok[(ok["fraction"] == default[0]) & (ok["strength"] == default[1])]
        if len(base) and best["target_mean_f1"] - base["target_mean_f1"].iloc[0] < min_gain:
            b = base.iloc[0]
            return pick(b, f"the default ({b['fraction']:.0%} of the lines, strength {b['strength']:g}) does no harm ({rule}) and no other "
                           f"setting beats its target mean F1 on validation ({b['target_mean_f1']:.3f}, {n_target_rows} target rows) by "
                           f"{min_gain:.2f} or more (best: {best['target_mean_f1']:.3f})")
        return pick(best, f"best target mean F1 on validation ({best['target_mean_f1']:.3f}, {n_target_rows} target rows) among the "
                          f"{len(ok)} of {len(cand)} settings that do no harm ({rule})"
                          + (f", {min_gain:.2f} or more above the default's" if len(base) else "; the default did harm"))
    if not measurable:
        full = ok[(ok["fraction"] == cand["fraction"].max())]
        full = full[full["strength"] == 1.0] if (full["strength"] == 1.0).any() else full
        if len(full):
            best = full.sort_values(["attraction", "nontarget_mean_change", "gated"], ascending=[True, False, False]).iloc[0]
            return pick(best, f"validation has {n_target_rows} target rows: too few to measure the target gain; kept every line with "
                              f"the Bayes prior correction, which does no harm there ({rule})")
    best = cand.sort_values(["nontarget_mean_change", "attraction", "gated"], ascending=[False, True, False]).iloc[0]
    return pick(best, f"no setting met every condition ({rule}); chose the least harmful one (mean non-target change "
                      f"{best['nontarget_mean_change']:+.3f}, attraction {best['attraction']:.2%})")
