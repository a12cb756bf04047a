"""Turning a generation plan into synthetic lines: the plan, the prompts, the generators behind one protocol
(offline, LLM in its write and rewrite modes, titles, naive bullets) and their typed result."""

from __future__ import annotations

from . import plan, prompts, generators, engine, results, offline, offline_phrases, offline_lines, baselines, rewrite

__all__ = [*plan.__all__, *prompts.__all__, *generators.__all__, *engine.__all__, *results.__all__, *offline.__all__, *offline_phrases.__all__, *offline_lines.__all__, *baselines.__all__, *rewrite.__all__]

from .plan import *  # noqa: F403
from .prompts import *  # noqa: F403
from .generators import *  # noqa: F403
from .engine import *  # noqa: F403
from .results import *  # noqa: F403
from .offline import *  # noqa: F403
from .offline_phrases import *  # noqa: F403
from .offline_lines import *  # noqa: F403
from .baselines import *  # noqa: F403
from .rewrite import *  # noqa: F403
