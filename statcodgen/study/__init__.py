"""The study: its validated configuration, its stages as library calls, and the one composition of them.

``load_config`` reads a TOML study file into a :class:`StudyConfig`; :func:`run_pipeline` runs every
stage with checkpoints; :mod:`.stages` holds the config-driven calls the pipeline and the CLI share (notebooks call the same stage functions of each subpackage, or run_pipeline).
"""

from __future__ import annotations

from . import config, pipeline, stages

__all__ = [*config.__all__, *stages.__all__, *pipeline.__all__]

from .config import *  # noqa: F403  (the names of config.__all__)
from .pipeline import *  # noqa: F403
from .stages import *  # noqa: F403
