"""Classification systems: code normalisation and the section > division > group > class > subclass hierarchy."""

from __future__ import annotations

from . import hierarchy

__all__ = [*hierarchy.__all__]

from .hierarchy import *  # noqa: F403
