"""The gap-filling report: its typed input (StudyResults), tables, figures, HTML and Markdown."""

from __future__ import annotations

from . import results, plots, writer

__all__ = [*results.__all__, *plots.__all__, *writer.__all__]

from .results import *  # noqa: F403
from .plots import *  # noqa: F403
from .writer import *  # noqa: F403
