"""Declarant personas: sampling, loading, text-to-persona, assignment to requests, and the writing style they give a line."""

from __future__ import annotations

from . import persona, sources, style

__all__ = [*persona.__all__, *sources.__all__, *style.__all__, "style_transform"]

from .persona import *  # noqa: F403
from .sources import *  # noqa: F403
from .style import *  # noqa: F403

#: Another name for :func:`apply_style` (a persona's writing style applied to a line).
style_transform = style.apply_style
