"""Coverage of the real data per label at any level, and the gaps to fill (which labels, and why)."""

from __future__ import annotations

from .coverage import coverage_all_levels, coverage_table, find_gaps, format_table
from .targets import resolve_targets

__all__ = ["coverage_table", "coverage_all_levels", "find_gaps", "format_table", "resolve_targets"]
