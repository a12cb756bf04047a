"""Cleaning = filters then dedup, and the report of what was dropped and why.

Filters run first so that a garbage line never becomes the kept representative of a duplicate
cluster; dedup then runs on the lines that passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from .._validation import check_int, check_type
from .dedup import DedupResult, dedup
from .filters import FilterResult, apply_filters
from ..text.normalize import normalize_series

__all__ = ["CleanResult", "clean", "cleaning_report", "format_cleaning_report"]


@dataclass(frozen=True)
class CleanResult:
    """``kept`` rows, ``dropped`` rows (filters + dedup, with reason/detail/duplicate_of/similarity),
    ``flagged`` rows (kept, from ``action="flag"``) and the ``report`` (see :func:`cleaning_report`)."""

    kept: pd.DataFrame
    dropped: pd.DataFrame
    flagged: pd.DataFrame
    report: dict[str, Any]
    dedup: DedupResult
    filters: FilterResult


def clean(
    synthetic: pd.DataFrame,
    *,
    real_train: pd.DataFrame | None = None,
    real_test: pd.DataFrame | None = None,
    notes: pd.DataFrame | None = None,
    language: str | None = None,
    classifier: Any = None,
    filter_options: dict[str, Any] | None = None,
    dedup_options: dict[str, Any] | None = None,
    progress: bool = True,
) -> CleanResult:
    """Filter (:func:`statcodgen.cleaning.filters.apply_filters`) then deduplicate
    (:func:`statcodgen.cleaning.dedup.dedup`) ``synthetic``; options are passed through."""
    fres = apply_filters(synthetic, notes=notes, language=language, classifier=classifier,
                         progress=progress, **(filter_options or {}))  # fmt: skip
    dres = dedup(fres.kept, real_train=real_train, real_test=real_test, progress=progress, **(dedup_options or {}))
    text_col = (dedup_options or {}).get("text_col", "text")
    label_col = (dedup_options or {}).get("label_col", "label")
    report = cleaning_report(synthetic, dres, fres, text_col=text_col, label_col=label_col)
    dropped = pd.concat([fres.dropped, dres.dropped])
    return CleanResult(dres.kept, dropped, fres.flagged, report, dres, fres)


def _unique_share(df: pd.DataFrame, text_col: str) -> float:
    if len(df) == 0:
        return float("nan")
    return float(normalize_series(df[text_col]).nunique() / len(df))


def cleaning_report(
    before: pd.DataFrame,
    dedup_result: DedupResult | None,
    filter_result: FilterResult | None,
    *,
    text_col: str = "text",
    label_col: str | None = "label",
    sample_per_reason: int = 5,
    seed: int = 0,
) -> dict[str, Any]:
    """Summary of a cleaning run.

    Returns a dict: ``summary`` (DataFrame ``metric, value``: rows before/after, dropped,
    flagged, unique-line share before/after, normalised), ``by_reason`` (DataFrame ``stage,
    reason, n, share``), ``by_label`` (DataFrame ``label, before, kept, dropped, kept_share``),
    ``samples`` (DataFrame ``reason, text, detail, duplicate_of, similarity``: up to
    ``sample_per_reason`` dropped lines per reason, seeded).
    """
    check_type("before", before, pd.DataFrame, func="cleaning_report")
    check_int("sample_per_reason", sample_per_reason, 0, None, func="cleaning_report")
    parts = []
    if filter_result is not None:
        parts.append(filter_result.dropped.assign(stage="filter"))
    if dedup_result is not None:
        parts.append(dedup_result.dropped.assign(stage="dedup"))
    cols = [text_col, "reason", "detail", "duplicate_of", "similarity", "stage"]
    if label_col and label_col in before.columns:
        cols.insert(1, label_col)
    dropped = pd.concat([p[[c for c in cols if c in p.columns]] for p in parts]) if parts else pd.DataFrame(columns=cols)
    if dedup_result is not None:
        kept = dedup_result.kept
    elif filter_result is not None:
        kept = filter_result.kept
    else:
        kept = before
    flagged = filter_result.flagged if filter_result is not None else before.iloc[0:0]
    n0 = len(before)
    summary = pd.DataFrame(
        {
            "metric": ["rows_before", "rows_kept", "rows_dropped", "rows_flagged", "unique_share_before", "unique_share_after"],
            "value": [n0, len(kept), len(dropped), len(flagged), _unique_share(before, text_col), _unique_share(kept, text_col)],
        }
    )
    by_reason = (
        dropped.groupby(["stage", "reason"], sort=False).size().rename("n").reset_index()
        if len(dropped)
        else pd.DataFrame({"stage": [], "reason": [], "n": []})
    )
    if len(flagged):
        fl = flagged.groupby("reason").size().rename("n").reset_index().assign(stage="flagged")
        by_reason = pd.concat([by_reason, fl[["stage", "reason", "n"]]], ignore_index=True)
    by_reason["share"] = by_reason["n"] / n0 if n0 else float("nan")
    by_reason = by_reason.sort_values(["stage", "n"], ascending=[True, False], ignore_index=True)
    if label_col and label_col in before.columns:
        b = before[label_col].astype(str).value_counts().rename("before")
        k = kept[label_col].astype(str).value_counts().rename("kept")
        by_label = pd.concat([b, k], axis=1).fillna(0).astype(int)
        by_label["dropped"] = by_label["before"] - by_label["kept"]
        by_label["kept_share"] = by_label["kept"] / by_label["before"].where(by_label["before"] > 0)
        by_label = by_label.rename_axis("label").reset_index().sort_values("label", ignore_index=True)
    else:
        by_label = pd.DataFrame(columns=["label", "before", "kept", "dropped", "kept_share"])
    samples = []
    for (_, reason), grp in dropped.groupby(["stage", "reason"], sort=True) if len(dropped) else []:
        samples.append(grp.sample(n=min(sample_per_reason, len(grp)), random_state=seed))
    sample_cols = ["reason", text_col, "detail", "duplicate_of", "similarity"]
    samples_df = (
        pd.concat(samples)[sample_cols].reset_index(names="row") if samples else pd.DataFrame(columns=["row", *sample_cols])
    )
    return {"summary": summary, "by_reason": by_reason, "by_label": by_label, "samples": samples_df}


def format_cleaning_report(report: dict[str, Any], *, max_width: int = 100) -> str:
    """Plain-text rendering of :func:`cleaning_report` for a terminal or a log."""
    s = report["summary"].set_index("metric")["value"]
    lines = [
        "Cleaning report",
        f"  rows before {int(s['rows_before'])}, kept {int(s['rows_kept'])}, dropped {int(s['rows_dropped'])}, "
        f"flagged {int(s['rows_flagged'])}",
        f"  unique lines (normalised): {s['unique_share_before']:.1%} before, {s['unique_share_after']:.1%} after",
        "",
        "Dropped by reason",
        report["by_reason"].to_string(index=False, formatters={"share": "{:.1%}".format}) if len(report["by_reason"]) else "  (none)",
        "",
        "By label",
        report["by_label"].to_string(index=False, formatters={"kept_share": "{:.1%}".format}) if len(report["by_label"]) else "  (no label column)",
    ]
    if len(report["samples"]):
        lines += ["", "Samples of dropped lines"]
        for rec in report["samples"].to_dict("records"):
            text = str(rec.get("text", next(iter(rec.values()))))
            line = f"  [{rec['reason']}] {text}"
            if rec.get("duplicate_of"):
                line += f"  (dup of {rec['duplicate_of']}, sim {rec['similarity']:.2f})"
            elif rec.get("detail"):
                line += f"  ({rec['detail']})"
            lines.append(line[:max_width])
    return "\n".join(lines)
