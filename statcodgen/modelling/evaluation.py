"""Evaluation of a coder on REAL test data (never synthetic rows).

``evaluate`` gives overall accuracy (at the trained level and at every coarser level asked for,
when a hierarchy is given), macro and weighted F1, top-k accuracy, per-label precision / recall /
F1 / support (labels with no test row or never predicted included when passed in ``labels``) and a
confusion matrix. ``automatic_coding_curve`` gives the share of cases coded automatically against
the accuracy of those cases as the threshold on the confidence index p1 − p2 moves.
``tidy_metrics`` flattens a result to one row per (level, label) for the experiments and report
modules; ``summarise_seeds`` turns several seeds into mean and standard deviation.

Prediction frames are those of :meth:`statcodgen.modelling.train.FastTextClassifier.predict`
(``label_1..label_k``, ``prob_1..prob_k``, ``label``, ``prob``, ``confidence``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

from .._validation import check_type
from ..errors import ConfigError, InputError

__all__ = ["EvalResult", "evaluate", "automatic_coding_curve", "tidy_metrics", "summarise_seeds", "OVERALL"]

OVERALL = "__overall__"
_LABEL_COL = re.compile(r"^label_(\d+)$")


@dataclass(frozen=True)
class EvalResult:
    """Metrics of one evaluation.

    overall : DataFrame[level, n, accuracy, macro_f1, weighted_f1, top1_accuracy, ..., topK_accuracy]
        one row per level (``level_name`` first, then the hierarchy levels asked for).
    per_label : DataFrame[level, label, precision, recall, f1, support]
    confusion : DataFrame at ``confusion_level``: index = true label ("true"), columns =
        predicted label ("predicted"), counts.
    confusion_level : level of ``confusion`` (the first of ``levels`` when a hierarchy is given).
    confusions : every level's confusion matrix, by level name.
    """

    overall: pd.DataFrame
    per_label: pd.DataFrame
    confusion: pd.DataFrame
    confusion_level: str
    confusions: dict[str, pd.DataFrame] = field(default_factory=dict)


def _topk_columns(pred: pd.DataFrame) -> list[str]:
    cols = sorted((int(m.group(1)), c) for c in pred.columns if (m := _LABEL_COL.match(str(c))))
    return [c for _, c in cols]


def _as_pred_frame(pred: Any, n: int, func: str) -> pd.DataFrame:
    """Accept a prediction DataFrame or a sequence of predicted labels; return a frame with label_1."""
    if isinstance(pred, pd.DataFrame):
        frame = pred.reset_index(drop=True)
        if not _topk_columns(frame):
            if "label" not in frame.columns:
                raise InputError("prediction table has no 'label' nor 'label_1' column.", column="label",
                                 expected="the output of FastTextClassifier.predict")
            frame = frame.assign(label_1=frame["label"])
    elif isinstance(pred, str):
        raise ConfigError(f"The 'pred' parameter of {func} must be a DataFrame or a sequence of labels. Got a str instead.")
    else:
        frame = pd.DataFrame({"label_1": list(pred)})
    if len(frame) != n:
        raise InputError(f"y_true has {n} rows but the predictions have {len(frame)}.", expected="one prediction per test row")
    return frame


def _str_or_none(values: Iterable[Any]) -> np.ndarray:
    return np.array([None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in values], dtype=object)


def _aggregate(codes: np.ndarray, hierarchy: Any, level: str) -> np.ndarray:
    """Aggregate non-missing codes to ``level`` (missing stay None)."""
    out = np.full(len(codes), None, dtype=object)
    mask = np.array([c is not None for c in codes], dtype=bool)
    if mask.any():
        uniq = pd.unique(codes[mask])
        mapped = dict(zip(uniq, pd.Series(hierarchy.aggregate(list(uniq), level)).astype(str).tolist()))
        out[mask] = [mapped[c] for c in codes[mask]]
    return out


def evaluate(
    y_true: Sequence[Any] | pd.Series,
    pred: pd.DataFrame | Sequence[Any],
    *,
    labels: Sequence[Any] | None = None,
    hierarchy: Any = None,
    levels: Sequence[str] = ("section",),
    level_name: str = "label",
) -> EvalResult:
    """Score predictions against the real test labels.

    Parameters
    ----------
    y_true : true codes of the real test rows (the level the model was trained at).
    pred : prediction DataFrame (``label_1..label_k`` …) or a plain sequence of predicted labels.
    labels : labels to report per label at the trained level (e.g. every code of the
        classification, so never-predicted, zero-support codes show up); default: the union of
        true and predicted labels. Coarser levels always report the union.
    hierarchy : object with ``aggregate(codes, level) -> Series``; when given, every level in
        ``levels`` is scored too, on true and predicted codes aggregated up.
    level_name : name given to the level of ``y_true`` in the output (e.g. ``"class"``).

    Returns
    -------
    EvalResult (see its docstring). Top-k at a coarser level counts a hit when any of the k
    predicted codes aggregates to the true parent.
    """
    func = "evaluate"
    check_type("level_name", level_name, str, func=func)
    if isinstance(y_true, str):
        raise ConfigError(f"The 'y_true' parameter of {func} must be a sequence of labels. Got a str instead.")
    truth = _str_or_none(y_true)
    if len(truth) == 0:
        raise InputError("no test rows.", expected="at least one real test row")
    if any(t is None for t in truth):
        raise InputError("y_true contains missing labels.", expected="a label for every test row")
    frame = _as_pred_frame(pred, len(truth), func)
    top_cols = _topk_columns(frame)
    top = {c: _str_or_none(frame[c]) for c in top_cols}
    level_list = [level_name]
    if hierarchy is not None:
        if not hasattr(hierarchy, "aggregate"):
            raise ConfigError(f"The 'hierarchy' parameter of {func} must have an aggregate(codes, level) method. "
                              f"Got {type(hierarchy).__name__} instead.")
        if isinstance(levels, str):
            levels = (levels,)
        level_list += [lv for lv in levels if lv != level_name]

    overall_rows, per_label_frames, confusions = [], [], {}
    for lv in level_list:
        if lv == level_name:
            t, tops = truth, top
            lab_list = None if labels is None else [str(x) for x in labels]
        else:
            t = _aggregate(truth, hierarchy, lv)
            tops = {c: _aggregate(v, hierarchy, lv) for c, v in top.items()}
            lab_list = None
        p1 = tops[top_cols[0]]
        p1_filled = np.where(p1 == None, "__none__", p1).astype(object)  # noqa: E711
        present = sorted(set(t.tolist()) | set(p1_filled.tolist()) - {"__none__"})
        lab_list = sorted(set(lab_list) | set(present)) if lab_list is not None else present
        row: dict[str, Any] = {"level": lv, "n": len(t), "accuracy": float(np.mean(p1_filled == t))}
        row["macro_f1"] = float(f1_score(t, p1_filled, labels=lab_list, average="macro", zero_division=0))
        row["weighted_f1"] = float(f1_score(t, p1_filled, labels=lab_list, average="weighted", zero_division=0))
        hit = np.zeros(len(t), dtype=bool)
        for j, c in enumerate(top_cols, start=1):
            hit |= tops[c] == t
            row[f"top{j}_accuracy"] = float(hit.mean())
        overall_rows.append(row)
        prec, rec, f1, sup = precision_recall_fscore_support(t, p1_filled, labels=lab_list, zero_division=0)
        per_label_frames.append(pd.DataFrame({"level": lv, "label": lab_list, "precision": prec, "recall": rec,
                                              "f1": f1, "support": sup.astype(int)}))
        pred_labels = sorted(set(lab_list) | set(p1_filled.tolist()))
        cm = confusion_matrix(t, p1_filled, labels=pred_labels)
        conf = pd.DataFrame(cm, index=pd.Index(pred_labels, name="true"), columns=pd.Index(pred_labels, name="predicted"))
        confusions[lv] = conf.drop(index="__none__", errors="ignore")
    conf_level = level_list[1] if len(level_list) > 1 else level_name
    return EvalResult(
        overall=pd.DataFrame(overall_rows),
        per_label=pd.concat(per_label_frames, ignore_index=True),
        confusion=confusions[conf_level],
        confusion_level=conf_level,
        confusions=confusions,
    )


def automatic_coding_curve(
    pred: pd.DataFrame, y_true: Sequence[Any] | pd.Series, *, thresholds: Sequence[float] | None = None
) -> pd.DataFrame:
    """Share of cases coded automatically vs their accuracy as the confidence threshold moves.

    A case is coded automatically when its confidence (p1 − p2, column ``confidence``; computed
    from ``prob_1``/``prob_2`` when absent) is >= the threshold.

    Returns DataFrame[threshold, coverage, accuracy, n_auto]: coverage = share of cases coded
    automatically (non-increasing in the threshold), accuracy = top-1 accuracy among them (NaN
    when none). Default thresholds: 0, 0.05, …, 1.
    """
    func = "automatic_coding_curve"
    check_type("pred", pred, pd.DataFrame, func=func)
    truth = _str_or_none(y_true)
    frame = pred.reset_index(drop=True)
    if len(frame) != len(truth):
        raise InputError(f"y_true has {len(truth)} rows but the predictions have {len(frame)}.",
                         expected="one prediction per test row")
    if "confidence" in frame.columns:
        conf = frame["confidence"].to_numpy(dtype=float)
    elif {"prob_1", "prob_2"} <= set(frame.columns):
        conf = (frame["prob_1"] - frame["prob_2"]).to_numpy(dtype=float)
    else:
        raise InputError("prediction table has no 'confidence' column (nor prob_1 and prob_2).",
                         column="confidence", expected="the output of FastTextClassifier.predict with k >= 2")
    label = frame["label"] if "label" in frame.columns else frame["label_1"]
    correct = _str_or_none(label) == truth
    ths = np.round(np.linspace(0, 1, 21), 10) if thresholds is None else np.sort(np.asarray(list(thresholds), dtype=float))
    rows = []
    for th in ths:
        auto = conf >= th
        n_auto = int(auto.sum())
        rows.append({"threshold": float(th), "coverage": n_auto / len(conf) if len(conf) else np.nan,
                     "accuracy": float(correct[auto].mean()) if n_auto else np.nan, "n_auto": n_auto})
    return pd.DataFrame(rows)


def tidy_metrics(result: EvalResult, *, variant: str, seed: int) -> pd.DataFrame:
    """One row per (level, label) for the experiments/report modules.

    Columns: variant, seed, level, label, precision, recall, f1, support, accuracy, macro_f1,
    weighted_f1, top1_accuracy…topK_accuracy. Per-label rows have NaN in the overall columns;
    the row with label ``"__overall__"`` of each level carries them (support = number of test rows,
    precision/recall/f1 NaN).
    """
    check_type("result", result, EvalResult, func="tidy_metrics")
    per = result.per_label.copy()
    overall = result.overall.rename(columns={"n": "support"}).assign(label=OVERALL)
    out = pd.concat([per, overall], ignore_index=True, sort=False)
    out.insert(0, "seed", seed)
    out.insert(0, "variant", variant)
    first = ["variant", "seed", "level", "label", "precision", "recall", "f1", "support", "accuracy", "macro_f1", "weighted_f1"]
    rest = [c for c in out.columns if c not in first]
    return out[first + rest]


def summarise_seeds(tidy: pd.DataFrame, by: Sequence[str] = ("variant", "level", "label")) -> pd.DataFrame:
    """Mean and standard deviation (ddof=1; NaN for a single seed) over seeds.

    ``tidy`` is a concatenation of :func:`tidy_metrics` frames. Returns one row per group of
    ``by`` with ``n_seeds`` and ``<metric>_mean``, ``<metric>_std`` for every numeric column
    other than ``seed`` (groups keep their first-seen order).
    """
    func = "summarise_seeds"
    check_type("tidy", tidy, pd.DataFrame, func=func)
    by = [by] if isinstance(by, str) else list(by)
    missing = [c for c in [*by, "seed"] if c not in tidy.columns]
    if missing:
        raise ConfigError(f"The 'by' parameter of {func} must name columns of the table. Got missing column(s) {missing!r} instead.")
    metrics = [c for c in tidy.columns if c not in by and c != "seed" and pd.api.types.is_numeric_dtype(tidy[c])]
    grouped = tidy.groupby(by, sort=False, dropna=False)
    agg = grouped[metrics].agg(["mean", "std"])
    agg.columns = [f"{m}_{s}" for m, s in agg.columns]
    agg.insert(0, "n_seeds", grouped["seed"].nunique())
    return agg.reset_index()
