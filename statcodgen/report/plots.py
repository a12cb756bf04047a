"""Figures of the gap-filling report, drawn headless with matplotlib's Agg canvas.

Every function takes tidy DataFrames (the :class:`statcodgen.report.results.StudyResults` columns) and
returns PNG bytes. Figures are built with :class:`matplotlib.figure.Figure` on a
:class:`~matplotlib.backends.backend_agg.FigureCanvasAgg`, so nothing touches pyplot's global
state (no backend switch in notebooks, no figure left open) and no display is needed.

Axes fit the data: a curve's limits are its data's range plus :data:`AXIS_MARGIN` of that range
(:func:`data_limits`), not the whole 0-1 span; bars keep their zero baseline. With more than
:data:`MANY_LABELS` labels, :func:`build_figures` draws no chart with a bar or a tick per label:
a histogram of codes by training rows (:func:`coverage_histogram_figure`) replaces the coverage
bars, an F1 before/after scatter (:func:`f1_scatter_figure`) the F1 bars, and the confusion
matrix is left to the report's table of the most confused pairs. Each figure is named
(``Figure.get_label()``: ``coverage``, ``f1``, ``confusion``, ...) so a test can find it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = [
    "coverage_figure",
    "f1_figure",
    "confusion_figure",
    "auto_coding_figure",
    "learning_curve_figure",
    "coverage_histogram_figure",
    "f1_scatter_figure",
    "data_limits",
    "row_bins",
    "AXIS_MARGIN",
    "MANY_LABELS",
    "TARGET_COLOUR",
    "variant_colours",
    "build_figures",
]

TARGET_COLOUR = "#c0392b"
_BAND = "#fdebd0"
_PALETTE = ["#7f8c8d", "#2e86c1", "#27ae60", "#8e44ad", "#d68910", "#17a589", "#cb4335", "#34495e"]
_DPI = 110
#: Share of the data's range added on each side of a fitted axis.
AXIS_MARGIN = 0.05
#: Above this many labels the report draws no chart with one bar or tick per label.
MANY_LABELS = 40


def _new_figure(width: float, height: float, name: str) -> Figure:
    fig = Figure(figsize=(width, height), dpi=_DPI, layout="constrained")
    fig.set_label(name)
    FigureCanvasAgg(fig)
    return fig


def data_limits(values: Any, *, margin: float = AXIS_MARGIN, low: float | None = None, high: float | None = None,
                min_span: float = 0.02) -> tuple[float, float]:
    """Axis limits that fit ``values`` (NaN ignored): ``[min − margin·span, max + margin·span]``.

    ``span`` is ``max − min``, at least ``min_span`` (one point or a flat curve still get a visible
    range); ``low`` / ``high`` clip the limits (e.g. 0 for counts). No finite value: ``(0, 1)``.
    """
    arr = np.asarray(values, dtype=float).ravel()
    arr = arr[np.isfinite(arr)]
    if not len(arr):
        return 0.0, 1.0
    lo, hi = float(arr.min()), float(arr.max())
    span = max(hi - lo, min_span)
    pad = margin * span + (span - (hi - lo)) / 2
    lo, hi = lo - pad, hi + pad
    return (lo if low is None else max(low, lo)), (hi if high is None else min(high, hi))


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    fig.clear()
    return buf.getvalue()


def _width(n_labels: int, per_label: float, minimum: float = 7.0, maximum: float = 26.0) -> float:
    return float(min(maximum, max(minimum, 1.5 + per_label * n_labels)))


def _highlight_targets(ax: Any, labels: Sequence[str], targets: Sequence[str]) -> None:
    """Shade the target labels' columns and write their x tick labels bold in the target colour."""
    tset = set(targets)
    for i, lab in enumerate(labels):
        if lab in tset:
            ax.axvspan(i - 0.5, i + 0.5, color=_BAND, zorder=0)
    for tick in ax.get_xticklabels():
        if tick.get_text() in tset:
            tick.set_color(TARGET_COLOUR)
            tick.set_fontweight("bold")


def variant_colours(variants: Sequence[str]) -> dict[str, str]:
    """A stable colour per variant: ``real_only`` grey, the others from a fixed palette in order."""
    colours: dict[str, str] = {}
    rest = iter(_PALETTE[1:])
    for v in variants:
        colours[v] = _PALETTE[0] if v == "real_only" else next(rest, "#555555")
    return colours


def coverage_figure(coverage: pd.DataFrame, targets: Sequence[str], *, level: str = "section") -> bytes:
    """Bars per label of real training rows (before) and real + kept synthetic rows (after), log scale.

    In: ``coverage`` with ``label, n_real_train, n_synthetic_kept``. Target labels are shaded and
    their tick labels drawn bold in :data:`TARGET_COLOUR`. Zero counts are written as "0" above the axis.
    """
    df = coverage.reset_index(drop=True)
    labels = df["label"].astype(str).tolist()
    before = df["n_real_train"].to_numpy(dtype=float)
    after = before + df["n_synthetic_kept"].to_numpy(dtype=float)
    n = len(labels)
    fig = _new_figure(_width(n, 0.42), 4.6, "coverage")
    ax = fig.add_subplot()
    x = np.arange(n)
    w = 0.4
    ax.bar(x - w / 2, np.where(before > 0, before, np.nan), w, label="real training rows (before)", color="#7f8c8d")
    ax.bar(x + w / 2, np.where(after > 0, after, np.nan), w, label="real + kept synthetic (after)", color="#2e86c1")
    ax.set_yscale("log")
    top = max(float(np.nanmax(after)) if n else 1.0, 1.0)
    positive = before[before > 0]
    bottom = 0.7 if (before == 0).any() or (after == 0).any() or not len(positive) else float(positive.min()) / 1.5
    ax.set_ylim(bottom, top * 3)
    for i in range(n):
        if before[i] == 0:
            ax.text(x[i] - w / 2, 0.8, "0", ha="center", va="bottom", fontsize=7, color="#7f8c8d")
        if after[i] == 0:
            ax.text(x[i] + w / 2, 0.8, "0", ha="center", va="bottom", fontsize=7, color="#2e86c1")
    ax.set_xticks(x, labels, rotation=90 if n > 30 else 0, fontsize=9 if n <= 30 else 7)
    ax.set_xlim(-0.6, n - 0.4)
    ax.set_ylabel("training rows (log scale)")
    ax.set_xlabel(f"{level} (targets highlighted)")
    ax.set_title(f"Training data per {level}, before and after adding synthetic data")
    ax.grid(axis="y", which="major", alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14 if n <= 30 else -0.2), ncol=2, fontsize=8)
    _highlight_targets(ax, labels, targets)
    return _png(fig)


def f1_figure(
    f1_stats: pd.DataFrame, labels: Sequence[str], variants: Sequence[str], targets: Sequence[str], *, level: str = "section"
) -> bytes:
    """Grouped bars of per-label F1 (mean over seeds, error bars = std) for each variant.

    In: ``f1_stats`` with ``variant, label, mean, std`` (std NaN when one seed: no error bar).
    """
    n, k = len(labels), max(len(variants), 1)
    fig = _new_figure(_width(n, 0.22 * k + 0.25), 4.6, "f1")
    ax = fig.add_subplot()
    x = np.arange(n)
    width = 0.8 / k
    colours = variant_colours(variants)
    stats = f1_stats.set_index(["variant", "label"])
    tops = [0.0]
    for j, variant in enumerate(variants):
        idx = pd.MultiIndex.from_product([[variant], list(labels)])
        sub = stats.reindex(idx)
        means = sub["mean"].to_numpy(dtype=float)
        stds = np.nan_to_num(sub["std"].to_numpy(dtype=float), nan=0.0)
        tops.append(float(np.nanmax(np.nan_to_num(means, nan=0.0) + stds)) if len(means) else 0.0)
        ax.bar(
            x - 0.4 + width * (j + 0.5),
            np.nan_to_num(means, nan=0.0),
            width,
            yerr=stds,
            capsize=2 if n <= 30 else 0,
            error_kw={"elinewidth": 0.8},
            label=variant,
            color=colours[variant],
        )
    ax.set_ylim(0, data_limits([0.0, max(tops)])[1] if max(tops) > 0 else 1.0)  # bars keep their zero baseline
    ax.set_xticks(x, list(labels), rotation=90 if n > 30 else 0, fontsize=9 if n <= 30 else 7)
    ax.set_xlim(-0.6, n - 0.4)
    ax.set_ylabel("F1 on real test data")
    ax.set_xlabel(f"{level} (targets highlighted)")
    ax.set_title("F1 per label: mean over seeds, error bars = standard deviation")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14 if n <= 30 else -0.2), ncol=min(k, 5), fontsize=8)
    _highlight_targets(ax, list(labels), targets)
    return _png(fig)


def confusion_figure(matrices: dict[str, pd.DataFrame], targets: Sequence[str], *, level: str = "section") -> bytes:
    """One heatmap per variant (rows = true label, columns = predicted), coloured by row share.

    Cells show counts when there are at most 25 labels. Target labels are bold in both axes.
    """
    k = len(matrices)
    n = max(len(m) for m in matrices.values())
    side = float(min(12.0, max(4.5, 0.33 * n + 1.8)))
    fig = _new_figure(side * k + 0.8, side, "confusion")
    axes = fig.subplots(1, k, squeeze=False)[0]
    image = None
    for ax, (variant, m) in zip(axes, matrices.items()):
        counts = m.to_numpy(dtype=float)
        rows = counts.sum(axis=1, keepdims=True)
        share = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)
        image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1, aspect="equal")
        labels = [str(c) for c in m.columns]
        fs = 8 if len(labels) <= 25 else 6
        ax.set_xticks(np.arange(len(labels)), labels, rotation=90, fontsize=fs)
        ax.set_yticks(np.arange(len(m.index)), [str(c) for c in m.index], fontsize=fs)
        ax.set_xlabel(f"predicted {level}")
        ax.set_ylabel(f"true {level}")
        ax.set_title(variant)
        if len(labels) <= 25:
            for i in range(counts.shape[0]):
                for j in range(counts.shape[1]):
                    if counts[i, j]:
                        ax.text(j, i, f"{int(counts[i, j])}", ha="center", va="center", fontsize=6,
                                color="white" if share[i, j] > 0.6 else "black")
        for tick in [*ax.get_xticklabels(), *ax.get_yticklabels()]:
            if tick.get_text() in set(targets):
                tick.set_color(TARGET_COLOUR)
                tick.set_fontweight("bold")
    if image is not None:
        fig.colorbar(image, ax=list(axes), shrink=0.7, label="share of the true label's test cases")
    return _png(fig)


def auto_coding_figure(curve: pd.DataFrame, variants: Sequence[str]) -> bytes:
    """Automatic-coding curve: share of cases coded automatically (x) vs accuracy on them (y), per variant."""
    fig = _new_figure(7.0, 4.6, "auto-coding")
    ax = fig.add_subplot()
    colours = variant_colours(variants)
    xs, ys = [], []
    for variant in variants:
        sub = curve[curve["variant"] == variant].sort_values("coverage")
        sub = sub[np.isfinite(sub["coverage"].to_numpy(dtype=float)) & np.isfinite(sub["accuracy"].to_numpy(dtype=float))]
        if sub.empty:
            continue
        xs += sub["coverage"].tolist()
        ys += sub["accuracy"].tolist()
        ax.plot(sub["coverage"], sub["accuracy"], marker=".", markersize=3, lw=1.5, label=variant, color=colours[variant])
    ax.set_xlim(*data_limits(xs))
    ax.set_ylim(*data_limits(ys))
    ax.set_xlabel("share of cases coded automatically (confidence above threshold)")
    ax.set_ylabel("accuracy on the automatically coded cases")
    ax.set_title("Automatic coding: coverage vs accuracy as the threshold moves")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    return _png(fig)


def learning_curve_figure(curve: pd.DataFrame, variants: Sequence[str]) -> bytes:
    """Two panels vs the number of synthetic lines: mean target F1 and overall accuracy (mean ± std over seeds)."""
    fig = _new_figure(10.0, 4.2, "learning-curve")
    axes = fig.subplots(1, 2)
    colours = variant_colours(variants)
    for ax, col, title in zip(axes, ["target_mean_f1", "accuracy"], ["mean F1 of the target labels", "overall accuracy"]):
        xs, ys = [], []
        for variant in variants:
            sub = curve[curve["variant"] == variant]
            if sub.empty:
                continue
            g = sub.groupby("n_synthetic")[col].agg(["mean", "std"]).reset_index().sort_values("n_synthetic")
            ax.errorbar(g["n_synthetic"], g["mean"], yerr=g["std"].fillna(0.0), marker="o", capsize=3,
                        label=variant, color=colours[variant])
            xs += g["n_synthetic"].tolist()
            ys += (g["mean"] - g["std"].fillna(0.0)).tolist() + (g["mean"] + g["std"].fillna(0.0)).tolist()
        ax.set_xlim(*data_limits(xs, min_span=1.0))
        ax.set_ylim(*data_limits(ys))
        ax.set_xlabel("synthetic lines added to training")
        ax.set_ylabel(title)
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return _png(fig)


def row_bins(max_rows: float) -> list[int]:
    """Left edges of the row-count bins of :func:`coverage_histogram_figure`: 0, 1, 2, 3, 5, 10, 20, 50, 100, ... up to ``max_rows``."""
    edges, step = [0, 1, 2, 3, 5], 10
    while edges[-1] <= max_rows:
        edges += [step, 2 * step, 5 * step]
        step *= 10
    return [e for e in edges if e <= max(max_rows, 0)]


def _bin_names(edges: Sequence[int]) -> list[str]:
    names = []
    for i, a in enumerate(edges):
        b = edges[i + 1] if i + 1 < len(edges) else None
        names.append(f"≥ {a:,}" if b is None else (f"{a:,}" if b == a + 1 else f"{a:,}–{b - 1:,}"))
    return names


def coverage_histogram_figure(coverage: pd.DataFrame, targets: Sequence[str], *, level: str = "section") -> bytes:
    """How many codes have how many training rows, before (real) and after (real + kept synthetic).

    For many labels, in place of :func:`coverage_figure`: one pair of bars per bin of rows
    (:func:`row_bins`: 0, 1, 2, 3-4, 5-9, 10-19, ...), whatever the number of codes.
    """
    before = coverage["n_real_train"].to_numpy(dtype=float)
    after = before + coverage["n_synthetic_kept"].to_numpy(dtype=float)
    edges = row_bins(float(max(after.max(initial=0.0), 1.0)))
    idx_before = np.searchsorted(edges, before, side="right") - 1
    idx_after = np.searchsorted(edges, after, side="right") - 1
    n_bins = len(edges)
    fig = _new_figure(max(7.0, 0.55 * n_bins + 2.5), 4.4, "coverage-histogram")
    ax = fig.add_subplot()
    x = np.arange(n_bins)
    w = 0.4
    cb, ca = np.bincount(idx_before, minlength=n_bins), np.bincount(idx_after, minlength=n_bins)
    ax.bar(x - w / 2, cb, w, label="real training rows (before)", color="#7f8c8d")
    ax.bar(x + w / 2, ca, w, label="real + kept synthetic (after)", color="#2e86c1")
    n_targets = len(set(targets) & set(coverage["label"].astype(str)))
    ax.set_xticks(x, _bin_names(edges), rotation=45 if n_bins > 10 else 0, ha="right" if n_bins > 10 else "center", fontsize=8)
    ax.set_xlim(-0.6, n_bins - 0.4)
    ax.set_ylim(0, data_limits([0, max(cb.max(initial=0), ca.max(initial=0))])[1])
    ax.set_xlabel(f"training rows per {level}")
    ax.set_ylabel(f"number of {level} codes")
    ax.set_title(f"{len(coverage):,} {level} codes ({n_targets:,} targets) by training rows, before and after")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    return _png(fig)


def f1_scatter_figure(f1_stats: pd.DataFrame, main: str, targets: Sequence[str], *, support: dict[str, int] | None = None,
                      level: str = "section") -> bytes:
    """F1 per code, ``real_only`` (x) against ``main`` (y), mean over seeds, with the diagonal.

    For many labels, in place of :func:`f1_figure`. Targets in :data:`TARGET_COLOUR`, the other codes
    grey; point area grows with the test support. Above the diagonal: improved; below: harmed.
    """
    wide = f1_stats.pivot_table(index="label", columns="variant", values="mean").reindex(columns=["real_only", main]).dropna()
    tset = set(targets)
    is_target = np.array([lab in tset for lab in wide.index])
    sup = np.array([(support or {}).get(lab, 1) for lab in wide.index], dtype=float)
    size = 6 + 40 * np.sqrt(sup / max(sup.max(initial=1.0), 1.0))
    x, y = wide["real_only"].to_numpy(dtype=float), wide[main].to_numpy(dtype=float)
    fig = _new_figure(6.4, 6.0, "f1-scatter")
    ax = fig.add_subplot()
    lo, hi = data_limits(np.concatenate([x, y]) if len(x) else [0.0, 1.0])
    ax.plot([lo, hi], [lo, hi], color="#555555", lw=1, ls="--", label="no change", zorder=1)
    ax.scatter(x[~is_target], y[~is_target], s=size[~is_target], color="#b3b6b7", alpha=0.6, label="other codes", zorder=2)
    ax.scatter(x[is_target], y[is_target], s=size[is_target], color=TARGET_COLOUR, alpha=0.7, label="targets", zorder=3)
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal")
    up, down = int((y > x).sum()), int((y < x).sum())
    ax.set_xlabel("F1 real_only (mean over seeds)")
    ax.set_ylabel(f"F1 {main} (mean over seeds)")
    ax.set_title(f"F1 per {level}: {up:,} above the line (improved), {down:,} below (harmed)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    return _png(fig)


def build_figures(
    *,
    coverage: pd.DataFrame,
    f1_stats: pd.DataFrame,
    confusion: dict[str, pd.DataFrame],
    auto_coding: pd.DataFrame,
    learning_curve: pd.DataFrame | None,
    labels: Sequence[str],
    variants: Sequence[str],
    targets: Sequence[str],
    main: str | None,
    level: str = "section",
    support: dict[str, int] | None = None,
    many: bool | None = None,
) -> dict[str, bytes]:
    """Every report figure whose data exist, keyed by its HTML id; absent keys mean "not computed".

    Up to :data:`MANY_LABELS` labels (``many`` False): ``fig-coverage``, ``fig-f1``, ``fig-confusion``
    (``real_only`` and ``main``, whichever exist, reindexed to the union of their labels so the
    matrices are square). With more (``many`` True; ``None`` decides from the number of labels in
    ``labels`` and ``coverage``): ``fig-coverage-histogram`` and ``fig-f1-scatter`` (needs
    ``real_only`` and ``main``), no confusion figure. Always ``fig-auto-coding`` and
    ``fig-learning-curve`` when their data exist.
    """
    out: dict[str, bytes] = {}
    if many is None:
        many = max(len(labels), len(coverage)) > MANY_LABELS
    if not coverage.empty:
        out["fig-coverage-histogram" if many else "fig-coverage"] = (coverage_histogram_figure if many else coverage_figure)(
            coverage, targets, level=level)
    if many:
        if main is not None and not f1_stats.empty and {"real_only", main} <= set(f1_stats["variant"]):
            out["fig-f1-scatter"] = f1_scatter_figure(f1_stats, main, targets, support=support, level=level)
    elif not f1_stats.empty and labels:
        out["fig-f1"] = f1_figure(f1_stats, labels, variants, targets, level=level)
    shown = [v for v in dict.fromkeys(["real_only", main]) if v is not None and v in confusion]
    if not shown and confusion:
        shown = list(confusion)[:2]
    if shown and not many:
        union: list[str] = []
        for v in shown:
            union += [str(x) for x in list(confusion[v].index) + list(confusion[v].columns)]
        order = sorted(dict.fromkeys(union))
        mats = {}
        for v in shown:
            m = confusion[v].copy()
            m.index, m.columns = [str(x) for x in m.index], [str(x) for x in m.columns]
            mats[v] = m.reindex(index=order, columns=order, fill_value=0).fillna(0)
        out["fig-confusion"] = confusion_figure(mats, targets, level=level)
    if not auto_coding.empty:
        out["fig-auto-coding"] = auto_coding_figure(auto_coding, [v for v in variants if v in set(auto_coding["variant"])] or sorted(set(auto_coding["variant"])))
    if learning_curve is not None and not learning_curve.empty:
        lv = sorted(set(learning_curve["variant"].astype(str)))
        out["fig-learning-curve"] = learning_curve_figure(learning_curve, lv)
    return out
