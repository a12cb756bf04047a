"""Tables that keep a report with hundreds of labels readable (private helper of :mod:`statcodgen.report._tables`).

Pure functions, numeric frames out (``_tables`` formats them): the F1 change of every label between
``real_only`` and the main variant (:func:`f1_changes`) and its most improved / most harmed rows
(:func:`most_changed`), F1 aggregated to a coarser level (:func:`aggregated_f1`: by the study's
hierarchy, else by the prefix of NACE-style codes) and the most confused pairs of labels
(:func:`confused_pairs`), which stand in for a confusion matrix too large to draw.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..classification.hierarchy import LEVELS, section_of_division
from ..errors import UnknownCodeError
from .results import StudyResults

__all__ = ["f1_changes", "most_changed", "coarser_levels", "parent_codes", "aggregated_f1", "confused_pairs", "TOP_N"]

#: Rows of the most improved / most harmed / most confused tables.
TOP_N = 25
_NACE = re.compile(r"^(\d{2})(?:\.(\d)(\d)?)?")


def _mean_f1(results: StudyResults, variant: str) -> pd.Series:
    pl = results.metrics_per_label
    sub = pl[pl["variant"] == variant]
    return sub.groupby("label")["f1"].mean()


def _support(results: StudyResults) -> pd.Series:
    return results.metrics_per_label.groupby("label")["support"].max().fillna(0).astype(int)


def f1_changes(results: StudyResults, main: str | None) -> pd.DataFrame:
    """Per label measured in both ``real_only`` and ``main``: DataFrame[label, title, target, support,
    n_real_train, n_after, f1_real_only, f1_main, change] (F1 mean over seeds; empty when either is missing)."""
    cols = ["label", "title", "target", "support", "n_real_train", "n_after", "f1_real_only", "f1_main", "change"]
    pl = results.metrics_per_label
    if pl.empty or main is None or not {"real_only", main} <= set(pl["variant"]):
        return pd.DataFrame(columns=cols)
    a, b = _mean_f1(results, "real_only"), _mean_f1(results, main)
    labels = sorted(set(a.index) & set(b.index))
    out = pd.DataFrame({"label": labels})
    cov = results.coverage.set_index("label") if not results.coverage.empty else pd.DataFrame()
    titles = cov["title"].fillna("").astype(str) if "title" in cov else pd.Series(dtype=str)
    out["title"] = out["label"].map(titles).fillna("")
    tset = set(results.targets)
    out["target"] = ["●" if lab in tset else "" for lab in labels]
    out["support"] = out["label"].map(_support(results)).fillna(0).astype(int)
    real_rows = cov["n_real_train"] if "n_real_train" in cov else pd.Series(dtype=float)
    kept = cov["n_synthetic_kept"] if "n_synthetic_kept" in cov else pd.Series(dtype=float)
    out["n_real_train"] = out["label"].map(real_rows).fillna(0).astype(int)
    out["n_after"] = out["n_real_train"] + out["label"].map(kept).fillna(0).astype(int)
    out["f1_real_only"] = out["label"].map(a).astype(float)
    out["f1_main"] = out["label"].map(b).astype(float)
    out["change"] = out["f1_main"] - out["f1_real_only"]
    return out[cols]


def most_changed(changes: pd.DataFrame, *, improved: bool, n: int = TOP_N) -> pd.DataFrame:
    """The ``n`` labels whose F1 rose most (``improved``) or fell most; only real rises / falls, ties: more test cases first."""
    if changes.empty:
        return changes
    sub = changes[changes["change"] > 0] if improved else changes[changes["change"] < 0]
    key = sub.assign(_abs=sub["change"].abs())
    return key.sort_values(["_abs", "support", "label"], ascending=[False, False, True], kind="stable").head(n).drop(columns="_abs")


def coarser_levels(level: str) -> list[str]:
    """The levels F1 is aggregated to below ``level``: ``division`` and ``section``, those coarser than it."""
    if level not in LEVELS:
        return []
    return [lv for lv in ("division", "section") if LEVELS.index(lv) < LEVELS.index(level)]


def _prefix_parent(code: str, level: str) -> str | None:
    m = _NACE.match(code)
    if not m:
        return None
    if level == "division":
        return m.group(1)
    if level == "group":
        return f"{m.group(1)}.{m.group(2)}" if m.group(2) else None
    if level == "section":
        try:
            return section_of_division(m.group(1))
        except UnknownCodeError:  # a division outside NACE Rev. 2's table: no section
            return None
    return None


def parent_codes(labels: list[str], level: str, hierarchy: object | None) -> list[str | None]:
    """Each label's ancestor at ``level``: from ``hierarchy`` (unknown codes -> None), else by NACE code prefix."""
    if hierarchy is not None:
        return list(hierarchy.aggregate(labels, level, errors="coerce"))  # type: ignore[attr-defined]
    return [_prefix_parent(lab, level) for lab in labels]


def aggregated_f1(results: StudyResults, main: str | None, level: str) -> pd.DataFrame:
    """F1 of the labels gathered by their ``level`` ancestor, per variant (``real_only``, ``main``), mean over seeds.

    DataFrame[<level>, title, labels, targets, support, macro_f1_real_only, macro_f1_main, change,
    weighted_f1_real_only, weighted_f1_main]: macro = plain mean of the labels' F1 (every label
    counts the same, thin ones too); weighted = weighted by test support. Empty when the labels
    cannot be aggregated or a variant is missing.
    """
    pl = results.metrics_per_label
    if pl.empty or main is None or not {"real_only", main} <= set(pl["variant"]):
        return pd.DataFrame()
    sub = pl[pl["variant"].isin(["real_only", main])].copy()
    labels = sorted(set(sub["label"]))
    parent = dict(zip(labels, parent_codes(labels, level, results.hierarchy)))
    sub["parent"] = sub["label"].map(parent)
    sub = sub.dropna(subset=["parent"])
    if sub.empty:
        return pd.DataFrame()
    sub["wf"] = sub["f1"] * sub["support"]
    g = sub.groupby(["variant", "seed", "parent"]).agg(macro=("f1", "mean"), wf=("wf", "sum"), sup=("support", "sum"))
    g["weighted"] = np.where(g["sup"] > 0, g["wf"] / g["sup"].where(g["sup"] > 0, 1), np.nan)
    per = g.groupby(["variant", "parent"])[["macro", "weighted"]].mean()
    out = pd.DataFrame(index=sorted(set(sub["parent"])))
    for v, name in (("real_only", "real_only"), (main, "main")):
        vals = per.xs(v, level="variant") if v in per.index.get_level_values("variant") else pd.DataFrame(columns=["macro", "weighted"])
        out[f"macro_f1_{name}"] = vals["macro"].reindex(out.index)
        out[f"weighted_f1_{name}"] = vals["weighted"].reindex(out.index)
    members = sub.drop_duplicates("label").groupby("parent")
    out["labels"] = members["label"].nunique()
    tset = set(results.targets)
    out["targets"] = members["label"].agg(lambda s: int(sum(x in tset for x in s)))
    out["support"] = sub[sub["variant"] == "real_only"].groupby(["parent", "label"])["support"].max().groupby("parent").sum()
    out["support"] = out["support"].fillna(0).astype(int)
    out["change"] = out["macro_f1_main"] - out["macro_f1_real_only"]
    h = results.hierarchy
    out["title"] = [h.title(c) if h is not None and c in h else "" for c in out.index]  # type: ignore[operator]
    out = out.rename_axis(level).reset_index()
    return out[[level, "title", "labels", "targets", "support", "macro_f1_real_only", "macro_f1_main", "change",
                "weighted_f1_real_only", "weighted_f1_main"]]


def confused_pairs(results: StudyResults, main: str | None, *, n: int = TOP_N) -> pd.DataFrame:
    """The ``n`` largest off-diagonal cells of the confusion matrices of ``real_only`` and ``main``.

    DataFrame[variant, true, predicted, count, share] with ``share`` = count / the true label's test
    cases in that matrix (its row sum), largest counts first, per variant.
    """
    shown = [v for v in dict.fromkeys(["real_only", main]) if v is not None and v in results.confusion]
    parts = []
    for v in shown:
        m = results.confusion[v]
        counts = m.to_numpy(dtype=float)
        rows, cols = [str(x) for x in m.index], [str(x) for x in m.columns]
        total = counts.sum(axis=1)
        i, j = np.nonzero(counts)
        keep = np.array([rows[a] != cols[b] for a, b in zip(i, j)], dtype=bool)
        i, j = i[keep], j[keep]
        df = pd.DataFrame({"variant": v, "true": [rows[a] for a in i], "predicted": [cols[b] for b in j],
                           "count": counts[i, j].astype(int), "share": counts[i, j] / np.where(total[i] > 0, total[i], 1)})
        parts.append(df.sort_values(["count", "share", "true", "predicted"], ascending=[False, False, True, True], kind="stable").head(n))
    if not parts:
        return pd.DataFrame(columns=["variant", "true", "predicted", "count", "share"])
    return pd.concat(parts, ignore_index=True)
