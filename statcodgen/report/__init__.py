"""The gap-filling report: tables, figures, HTML and Markdown."""

from __future__ import annotations

from .plots import (
    coverage_figure,
    f1_figure,
    confusion_figure,
    auto_coding_figure,
    learning_curve_figure,
    TARGET_COLOUR,
    variant_colours,
    build_figures,
)
from .writer import (
    StudyResults,
    ReportPaths,
    write_report,
    summarise,
    gap_summary,
    scrub_secrets,
    REDACTED,
)

__all__ = [
    "coverage_figure",
    "f1_figure",
    "confusion_figure",
    "auto_coding_figure",
    "learning_curve_figure",
    "TARGET_COLOUR",
    "variant_colours",
    "build_figures",
    "StudyResults",
    "ReportPaths",
    "write_report",
    "summarise",
    "gap_summary",
    "scrub_secrets",
    "REDACTED",
]
