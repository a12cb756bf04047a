"""Atomic writes of the files stage results are saved as (private; used by every ``save``/``load``).

A file is written to ``<name>.tmp`` in the same folder, then renamed over the target, so a crash
never leaves a half-written result that a resumed run would load.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["write_frames", "read_frames", "write_json", "read_json", "frames_exist"]


def write_frames(directory: str | Path, frames: Mapping[str, pd.DataFrame]) -> None:
    """Write each frame as ``<directory>/<name>.parquet`` (name without suffix), atomically."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        path = folder / f"{name}.parquet"
        tmp = path.with_name(path.name + ".tmp")
        frame.to_parquet(tmp, index=False)
        tmp.replace(path)


def read_frames(directory: str | Path, names: list[str] | tuple[str, ...]) -> dict[str, pd.DataFrame]:
    """Read ``<directory>/<name>.parquet`` for each name: {name: DataFrame}."""
    folder = Path(directory)
    return {name: pd.read_parquet(folder / f"{name}.parquet") for name in names}


def frames_exist(directory: str | Path, names: list[str] | tuple[str, ...]) -> bool:
    """Whether every ``<directory>/<name>.parquet`` exists."""
    folder = Path(directory)
    return all((folder / f"{name}.parquet").exists() for name in names)


def write_json(obj: Any, path: str | Path) -> None:
    """Write ``obj`` as indented JSON to ``path``, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str), encoding="utf-8")
    tmp.replace(path)


def read_json(path: str | Path) -> Any:
    """The JSON content of ``path``."""
    return json.loads(Path(path).read_text(encoding="utf-8"))
