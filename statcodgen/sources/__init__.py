"""Reading what offices publish: explanatory notes, labelled real data, and the fetchers (cache, checksum, local mirror)."""

from __future__ import annotations

from . import notes, datasets

__all__ = [*notes.__all__, *datasets.__all__]

from .notes import *  # noqa: F403
from .datasets import *  # noqa: F403
