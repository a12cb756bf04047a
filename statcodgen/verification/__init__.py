"""Verification: every synthetic line is checked before it is trained on (classifier evidence with
cleanlab, notes evidence, an optional LLM judge), and the real rows that look mislabelled are listed."""

from __future__ import annotations

from . import evidence, notes_match, judge, siblings, stage

__all__ = [*evidence.__all__, *notes_match.__all__, *judge.__all__, *siblings.__all__, *stage.__all__]

from .evidence import *  # noqa: F403
from .notes_match import *  # noqa: F403
from .judge import *  # noqa: F403
from .siblings import *  # noqa: F403
from .stage import *  # noqa: F403
