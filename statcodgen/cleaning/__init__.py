"""Cleaning synthetic lines: filters (a registry of objects giving a Verdict), exact and MinHash deduplication,
the cleaning stage and the diversity of a set; a reason for every dropped line."""

from __future__ import annotations

from . import filters, notes_filters, dedup, stage, diversity

__all__ = [*filters.__all__, *notes_filters.__all__, *dedup.__all__, *stage.__all__, *diversity.__all__]

from .filters import *  # noqa: F403
from .notes_filters import *  # noqa: F403
from .dedup import *  # noqa: F403
from .stage import *  # noqa: F403
from .diversity import *  # noqa: F403
