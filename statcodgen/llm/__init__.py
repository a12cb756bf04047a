"""The OpenAI-compatible engine: configuration, the async client (bounded and adaptive concurrency, retries,
budget), the resumable SQLite journal, answer parsing and the Batch API files. Used by generation and personas."""

from __future__ import annotations

from . import config, client, journal, parsing, batch

__all__ = [*config.__all__, *client.__all__, *journal.__all__, *parsing.__all__, *batch.__all__]

from .config import *  # noqa: F403
from .client import *  # noqa: F403
from .journal import *  # noqa: F403
from .parsing import *  # noqa: F403
from .batch import *  # noqa: F403
