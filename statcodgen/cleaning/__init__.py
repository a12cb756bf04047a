"""Cleaning synthetic lines: exact and MinHash deduplication, filters, and the diversity of a set; a reason for every dropped line."""

from __future__ import annotations

from .dedup import (
    DedupResult,
    dedup,
    shingle_lines,
    shingle_codes,
    DROP_COLUMNS,
)
from .diversity import (
    distinct_n,
    unique_share,
    mean_pairwise_jaccard,
    diversity_table,
)
from .filters import (
    FilterResult,
    FILTERS,
    check_length,
    check_echo,
    check_garbage,
    check_language,
    detect_language,
    apply_filters,
)
from .stage import (
    CleanResult,
    clean,
    cleaning_report,
    format_cleaning_report,
)

__all__ = [
    "DedupResult",
    "dedup",
    "shingle_lines",
    "shingle_codes",
    "DROP_COLUMNS",
    "distinct_n",
    "unique_share",
    "mean_pairwise_jaccard",
    "diversity_table",
    "FilterResult",
    "FILTERS",
    "check_length",
    "check_echo",
    "check_garbage",
    "check_language",
    "detect_language",
    "apply_filters",
    "CleanResult",
    "clean",
    "cleaning_report",
    "format_cleaning_report",
]
