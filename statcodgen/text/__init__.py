"""Text normalisation shared by every stage, and the per-language packs (``text.languages``)."""

from __future__ import annotations

from .normalize import (
    normalize_text,
    normalize_series,
    tokenize,
)

__all__ = [
    "normalize_text",
    "normalize_series",
    "tokenize",
]
