"""The values a gap-filling report is made from: :class:`StudyResults`, checked and normalised.

In: tidy DataFrames filled by the experiments/pipeline stage. Out: a :class:`StudyResults`,
:func:`validate` (raises on a wrong type or a missing column) and :func:`normalise` (a copy with
labels as text and per-label/overall rows split). Used by :mod:`statcodgen.report._tables` and
:mod:`statcodgen.report.writer`; imports neither.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from .._validation import check_type
from ..classification.hierarchy import Hierarchy
from ..errors import ConfigError, DataFormatError

__all__ = ["StudyResults", "validate", "normalise", "OVERALL_LABEL"]


@dataclass
class StudyResults:
    """Everything the report shows; every frame is tidy and measured on real test data only.

    Attributes:
        title: title of the study, printed at the top.
        targets: labels (at ``level``) the study tried to fill, e.g. ``["B", "O", "T", "U"]``.
        level: level of the labels (``"section"``, ``"division"``, ...).
        coverage: one row per label at ``level`` (all labels, not only targets), columns
            ``label, title, n_real_train, n_synthetic_generated, n_synthetic_kept``.
        metrics_per_label: ``variant, seed, label, precision, recall, f1, support`` (support = real
            test cases of the label). Variants: ``real_only``, ``real+titles``, ``real+offline``,
            ``real+openai``, ``full_real`` (ceiling: all real data, optional), ...
        metrics_overall: ``variant, seed, accuracy, macro_f1, weighted_f1, top3_accuracy``
            (columns after ``accuracy`` may be missing).
        confusion: variant → square DataFrame of counts (rows = true label, columns = predicted), one seed.
        auto_coding: ``variant, threshold, coverage, accuracy``: automatic-coding curve (share of
            cases whose confidence passes ``threshold`` and accuracy on them).
        diversity: one row per label + ``"ALL"``; columns such as ``label, n_lines, unique_share,
            distinct_1, distinct_2, distinct_3, mean_jaccard`` (optionally ``stage``). May be empty.
        cleaning: ``reason, label, count``: synthetic lines dropped by dedup/filters. May be empty.
        cleaning_samples: ``reason, label, text, detail``: a sample of dropped lines. May be empty.
        learning_curve: ``variant, n_synthetic, seed, target_mean_f1, accuracy`` or ``None``.
        settings: the study configuration, nested as given (secrets are scrubbed on output).
        costs: ``backend, model, requests, prompt_tokens, completion_tokens, cost, currency`` (any subset).
        notes: free-text remarks from the pipeline, printed in the summary.
        main_variant: the augmented variant compared with ``real_only`` in the summary; ``None``
            picks ``real+openai``, else the first other ``real+*`` variant, ``real+titles`` last.
        hierarchy: the :class:`~statcodgen.classification.Hierarchy` of the labels, or ``None``. With
            many labels the report aggregates F1 to the division and section with it (without it,
            NACE-style codes are aggregated by their prefix: ``47.11`` -> ``47`` -> ``G``).
        target_reasons: target label -> why it was chosen (the ``reason`` column of
            :func:`statcodgen.gaps.target_reasons`, e.g. "12 real rows < 20"); shown beside the
            targets in the coverage table and the summary. May be empty.
    """

    title: str
    targets: list[str]
    level: str = "section"
    coverage: pd.DataFrame = field(default_factory=pd.DataFrame)
    metrics_per_label: pd.DataFrame = field(default_factory=pd.DataFrame)
    metrics_overall: pd.DataFrame = field(default_factory=pd.DataFrame)
    confusion: dict[str, pd.DataFrame] = field(default_factory=dict)
    auto_coding: pd.DataFrame = field(default_factory=pd.DataFrame)
    diversity: pd.DataFrame = field(default_factory=pd.DataFrame)
    cleaning: pd.DataFrame = field(default_factory=pd.DataFrame)
    cleaning_samples: pd.DataFrame = field(default_factory=pd.DataFrame)
    learning_curve: pd.DataFrame | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    costs: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    main_variant: str | None = None
    hierarchy: Hierarchy | None = None
    target_reasons: dict[str, str] = field(default_factory=dict)
    verification: Any = None  # a statcodgen.verification.VerifyResult (report/verification.py renders it)
    selection: Any = None  # a statcodgen.modelling.selection.Selection (what was chosen on validation, and why)


_REQUIRED = {
    "coverage": ["label", "n_real_train", "n_synthetic_kept"],
    "metrics_per_label": ["variant", "seed", "label", "f1", "support"],
    "metrics_overall": ["variant", "seed", "accuracy"],
    "auto_coding": ["variant", "coverage", "accuracy"],
    "cleaning": ["reason", "label", "count"],
    "cleaning_samples": ["reason", "text"],
    "learning_curve": ["variant", "n_synthetic", "seed", "target_mean_f1", "accuracy"],
}


def validate(results: StudyResults) -> None:
    """Raise ConfigError (wrong type) or DataFormatError (a non-empty frame lacks a required column)."""
    check_type("results", results, StudyResults, func="write_report")
    check_type("results.targets", results.targets, (list, tuple), func="write_report")
    for name, cols in _REQUIRED.items():
        df = getattr(results, name)
        if df is None:
            continue
        if not isinstance(df, pd.DataFrame):
            raise ConfigError(f"The 'results.{name}' field of write_report must be a pandas DataFrame. Got {type(df).__name__} instead.")
        missing = [c for c in cols if c not in df.columns]
        if len(df) and missing:
            raise DataFormatError(f"StudyResults.{name} lacks columns {missing}.", column=missing[0], expected=f"columns {cols}")
    if results.hierarchy is not None:
        check_type("results.hierarchy", results.hierarchy, Hierarchy, func="write_report")
    check_type("results.target_reasons", results.target_reasons, dict, func="write_report")
    for variant, m in results.confusion.items():
        if not isinstance(m, pd.DataFrame):
            raise ConfigError(f"StudyResults.confusion[{variant!r}] must be a pandas DataFrame. Got {type(m).__name__} instead.")


OVERALL_LABEL = "__overall__"


def _at_level(df: pd.DataFrame, level: str) -> pd.DataFrame:
    if "level" in df.columns and (df["level"] == level).any():
        return df[df["level"] == level].drop(columns="level")
    return df


def normalise(results: StudyResults) -> StudyResults:
    """Copy of ``results`` with labels and targets as text. Accepts the long output of
    :func:`statcodgen.modelling.evaluation.tidy_metrics` too: keep rows of ``results.level`` only
    and split its ``__overall__`` rows into ``metrics_overall`` when that frame is empty."""
    pl, ov = results.metrics_per_label, results.metrics_overall
    if not pl.empty:
        pl = _at_level(pl, results.level).assign(label=lambda d: d["label"].astype(str))
        if ov.empty and "accuracy" in pl.columns and (pl["label"] == OVERALL_LABEL).any():
            ov = pl[pl["label"] == OVERALL_LABEL]
        pl = pl[pl["label"] != OVERALL_LABEL]
    if not ov.empty:
        ov = _at_level(ov, results.level)
        if "label" in ov.columns:
            ov = ov[ov["label"].astype(str) == OVERALL_LABEL] if (ov["label"].astype(str) == OVERALL_LABEL).any() else ov
    for frame_name in ("coverage", "cleaning", "cleaning_samples"):
        df = getattr(results, frame_name)
        if not df.empty and "label" in df.columns:
            results = replace(results, **{frame_name: df.assign(label=df["label"].astype(str))})
    reasons = {str(k): str(v) for k, v in (results.target_reasons or {}).items()}
    return replace(results, metrics_per_label=pl.reset_index(drop=True), metrics_overall=ov.reset_index(drop=True),
                   targets=[str(t) for t in results.targets], target_reasons=reasons)
