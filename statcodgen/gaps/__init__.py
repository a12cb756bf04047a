"""Coverage of the real data per label at any level, and the gaps to fill (which labels, and why)."""

from __future__ import annotations

from .coverage import coverage_all_levels, coverage_table, find_gaps, format_table
from .crossval import cross_validated_f1
from .targets import read_target_file, resolve_targets, target_reasons

__all__ = ["coverage_table", "coverage_all_levels", "find_gaps", "format_table", "resolve_targets", "target_reasons",
           "read_target_file", "cross_validated_f1"]
