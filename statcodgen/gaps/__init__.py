"""Coverage of the real data per label at any level, and the gaps to fill."""

from __future__ import annotations

from .coverage import (
    coverage_table,
    coverage_all_levels,
    find_gaps,
    generation_plan,
    allocate,
    format_table,
)

__all__ = [
    "coverage_table",
    "coverage_all_levels",
    "find_gaps",
    "generation_plan",
    "allocate",
    "format_table",
]
