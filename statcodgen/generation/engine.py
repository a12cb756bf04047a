"""Generation stage: turn a generation plan into synthetic lines with one of the generators.

In: the notes DataFrame (:func:`statcodgen.sources.load_notes`) and a plan
(:func:`statcodgen.generation.generation_plan`: ``target, code, n_samples``). Out: a
:class:`~statcodgen.generation.results.GenerationResult` whose ``lines`` follow the generation
output schema of ARCHITECTURE.md (``text, code, label, generator, model, prompt_id, persona_id,
temperature, seed, request_key, created_at``), whose ``rejected`` keeps every line or request
that did not become a training line with its reason and raw text, whose ``shortfall`` lists the
codes that got fewer lines than planned, and whose ``stats`` are JSON-able.

The generators (offline, LLM, baselines) are in :mod:`statcodgen.generation.generators`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from .._validation import check_in, check_int, check_type
from ..classification.hierarchy import LEVELS
from ..errors import ConfigError, DataFormatError
from ..text.languages import resolve_language
from .generators import GENERATORS, Generator, LLMGenerator
from .results import OUTPUT_COLUMNS, GenerationResult

__all__ = ["generate", "write_generated", "load_generated"]

_F = "generate"


def _generator(generator: Generator | str) -> Generator:
    if isinstance(generator, str):
        if generator == LLMGenerator.name:
            raise ConfigError(f"The 'generator' parameter of {_F} cannot be the name {generator!r}: an LLM needs its "
                              "configuration; pass generator=LLMGenerator(LLMConfig(...), journal_path=...) instead.")
        return GENERATORS[check_in("generator", generator, [*GENERATORS, LLMGenerator.name], func=_F)]()
    if not isinstance(generator, Generator):
        raise ConfigError(f"The 'generator' parameter of {_F} must be a generator name ({', '.join(GENERATORS)}) or an "
                          f"object with a 'name' and a 'generate' method (Generator). Got {generator!r} instead.")
    return generator


def generate(
    notes: pd.DataFrame,
    plan: pd.DataFrame,
    *,
    generator: Generator | str = "offline",
    language: str | None = None,
    seed: int = 0,
    personas: Any = None,
    hierarchy: Any = None,
    target_level: str = "section",
    progress: bool = True,
) -> GenerationResult:
    """Generate synthetic lines for every code of ``plan`` with ``generator``.

    ``generator``: ``"offline"`` (default, no LLM), ``"titles"``, ``"naive_bullets"``, or a
    generator object -- ``OfflineGenerator()``, ``TitlesBaseline()``, ``NaiveBullets()``, or
    ``LLMGenerator(LLMConfig(...), journal_path=...)`` (its options: dry run, Batch API export,
    personas strategy, examples, templates). ``language``: language of the lines (default: the
    notes' ``attrs["language"]``, else ``"en"``). ``personas``: a DataFrame or list of personas
    that style the lines (offline) or are described in the prompts (LLM). ``hierarchy`` and
    ``target_level``: how a code's label is found when its plan row's ``target`` is empty.
    """
    gen = _generator(generator)
    check_type("notes", notes, pd.DataFrame, func=_F)
    check_type("plan", plan, pd.DataFrame, func=_F)
    for col in ("target", "code", "n_samples"):
        if col not in plan.columns:
            raise ConfigError(f"The 'plan' parameter of {_F} must have a {col!r} column. Got columns {list(plan.columns)} instead.")
    if language is not None:
        check_type("language", language, str, func=_F)
    check_int("seed", seed, func=_F)
    check_in("target_level", target_level, LEVELS, func=_F)
    check_type("progress", progress, bool, func=_F)
    language = resolve_language(language, notes)
    return gen.generate(notes, plan, language=language, seed=seed, personas=personas, hierarchy=hierarchy,
                        target_level=target_level, progress=progress)


def write_generated(df: pd.DataFrame, path: str | Path) -> Path:
    """Write generated lines to ``path`` (``.parquet`` or ``.csv``), atomically. Returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    if path.suffix == ".parquet":
        df.to_parquet(tmp, index=False)
    elif path.suffix == ".csv":
        df.to_csv(tmp, index=False)
    else:
        raise ConfigError(f"The 'path' parameter of write_generated must end in .parquet or .csv. Got {str(path)!r} instead.")
    tmp.replace(path)
    return path


def load_generated(path: str | Path) -> pd.DataFrame:
    """Read a generated-lines file (parquet or csv) and check it has ``text``, ``code``, ``label``."""
    path = Path(path)
    if not path.exists():
        raise DataFormatError("file not found.", file=path, expected="a generated-lines file written by write_generated")
    try:
        df = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path, dtype=str, keep_default_na=False)
    except Exception as exc:  # noqa: BLE001 - reported with the file name
        raise DataFormatError(f"cannot be read ({exc.__class__.__name__}: {exc}).", file=path) from exc
    for col in ("text", "code", "label"):
        if col not in df.columns:
            raise DataFormatError(
                f"missing column {col!r} (has {list(df.columns)}).", file=path, column=col, expected="columns text, code, label"
            )
    return df
