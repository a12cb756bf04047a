"""Text normalisation shared by every stage, and the per-language packs (``text.languages``)."""

from __future__ import annotations

from . import languages, normalize

__all__ = [*normalize.__all__, *languages.__all__]

from .languages import *  # noqa: F403
from .normalize import *  # noqa: F403
