"""Classification systems: code normalisation and the section > division > group > class > subclass hierarchy."""

from __future__ import annotations

from .hierarchy import (
    LEVELS,
    SYSTEMS,
    normalize_code,
    code_level,
    structural_parent,
    section_of_division,
    Hierarchy,
)

__all__ = [
    "LEVELS",
    "SYSTEMS",
    "normalize_code",
    "code_level",
    "structural_parent",
    "section_of_division",
    "Hierarchy",
]
