"""Cleaning = filters then dedup, and the report of what was dropped and why.

In: generated lines (generation output schema), the real train/test lines, the notes. Out: a
:class:`CleanResult` (kept rows, dropped rows each with ``reason, detail, duplicate_of,
similarity``, flagged rows, the report), which saves itself to a folder and loads back.

Filters run first so that a garbage line never becomes the kept representative of a duplicate
cluster; dedup then runs on the lines that passed. The filters always run; dedup can be turned
off, but the real test lines are always deduplicated against (an exact copy of a test line is
dropped whatever the options), so the evaluation never sees its own lines in training.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .._io import frames_exist, read_frames, write_frames
from .._validation import check_int, check_type
from .dedup import DedupOptions, DedupResult, dedup as dedup_lines, remove_test_leaks
from .filters import DEFAULT_FILTERS, Filter, FilterResult, apply_filters
from ..text.normalize import normalize_series

__all__ = ["CleanResult", "clean", "storable", "cleaning_report", "format_cleaning_report"]

_REPORT = ("summary", "by_reason", "by_label", "samples")


@dataclass(frozen=True)
class CleanResult:
    """``kept`` rows, ``dropped`` rows (filters + dedup, with reason/detail/duplicate_of/similarity),
    ``flagged`` rows (kept, from ``action="flag"``), the ``report`` (see :func:`cleaning_report`) and
    the per-stage results ``dedup`` and ``filters`` (None when loaded from files, or ``dedup`` when
    neither dedup nor a real test set ran)."""

    kept: pd.DataFrame
    dropped: pd.DataFrame
    flagged: pd.DataFrame
    report: dict[str, Any]
    dedup: DedupResult | None = None
    filters: FilterResult | None = None

    def save(self, directory: str | Path) -> None:
        """Write ``kept``, ``dropped``, ``flagged`` and ``report_<part>`` as parquet in ``directory``,
        atomically; the index is not kept, ``reason``/``detail``/``duplicate_of`` are written as text
        (``astype(str)``: a missing ``duplicate_of`` stays missing) and ``similarity`` as a float."""
        frames = {"kept": self.kept, "dropped": storable(self.dropped), "flagged": storable(self.flagged)}
        frames.update({f"report_{k}": self.report[k] for k in _REPORT if k in self.report})
        write_frames(directory, frames)

    @classmethod
    def exists(cls, directory: str | Path) -> bool:
        """Whether ``directory`` holds a saved result."""
        return frames_exist(directory, ("kept", "dropped", "flagged"))

    @classmethod
    def load(cls, directory: str | Path) -> CleanResult:
        """Read a result written by :meth:`save` (``dedup`` and ``filters`` are None)."""
        frames = read_frames(directory, ("kept", "dropped", "flagged"))
        names = tuple(f"report_{k}" for k in _REPORT)
        report = ({k: df for k, df in zip(_REPORT, read_frames(directory, names).values())}
                  if frames_exist(directory, names) else {})
        return cls(frames["kept"], frames["dropped"], frames["flagged"], report)


def storable(df: pd.DataFrame) -> pd.DataFrame:
    """Dropped or flagged lines as they are written to parquet: no index, ``reason``/``detail``/``duplicate_of``
    as text, ``similarity`` as a float."""
    df = df.reset_index(drop=True)
    for col in ("duplicate_of", "detail", "reason"):
        if col in df:
            df[col] = df[col].astype(str)
    if "similarity" in df:
        df["similarity"] = pd.to_numeric(df["similarity"], errors="coerce")
    return df


def clean(
    synthetic: pd.DataFrame,
    *,
    real_train: pd.DataFrame | None = None,
    real_test: pd.DataFrame | None = None,
    notes: pd.DataFrame | None = None,
    language: str | None = None,
    filters: Sequence[str | Filter] = DEFAULT_FILTERS,
    filter_options: Mapping[str, Mapping[str, Any]] | None = None,
    dedup: bool = True,
    dedup_options: DedupOptions | None = None,
    progress: bool = True,
) -> CleanResult:
    """Filter (:func:`statcodgen.cleaning.filters.apply_filters`) then deduplicate
    (:func:`statcodgen.cleaning.dedup.dedup`) ``synthetic`` (columns ``text``, ``label``).

    ``filters`` / ``filter_options``: as ``apply_filters``' ``filters`` / ``options`` (e.g.
    ``{"label_consistency": {"classifier": clf}}``); ``notes`` and ``language`` feed the
    ``excluded`` and ``language`` filters. ``dedup=True``: exact and near duplicates within the
    synthetic lines and against ``real_test`` / ``real_train``, with ``dedup_options``
    (:class:`~statcodgen.cleaning.dedup.DedupOptions`: threshold, num_perm, shingle, method, seed;
    default ``DedupOptions()``). ``dedup=False``: only the exact copies of a ``real_test`` line are
    removed (:func:`~statcodgen.cleaning.dedup.remove_test_leaks`).
    """
    check_type("dedup", dedup, bool, func="clean")
    opts = DedupOptions() if dedup_options is None else check_type("dedup_options", dedup_options, DedupOptions, func="clean")
    fres = apply_filters(synthetic, filters=filters, notes=notes, language=language, options=filter_options,
                         progress=progress)  # fmt: skip
    dres: DedupResult | None = None
    if dedup:
        dres = dedup_lines(fres.kept, real_train=real_train, real_test=real_test, progress=progress, **opts.as_kwargs())
    elif real_test is not None:
        dres = remove_test_leaks(fres.kept, real_test)
    report = cleaning_report(synthetic, dres, fres)
    dropped = fres.dropped if dres is None else pd.concat([fres.dropped, dres.dropped])
    return CleanResult(fres.kept if dres is None else dres.kept, dropped, fres.flagged, report, dres, fres)


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
