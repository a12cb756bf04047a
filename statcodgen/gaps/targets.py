"""Which labels to fill, and why each one: the one reading of target items.

Items (any mix; their selections union):

- a code of the level (``"B"``, ``"47.11"``): reason "named in config" (or "named in the targets");
- ``"under:N"``: every code of the level with fewer than N real rows (zero included), in tree
  order: reason "12 real rows < 20";
- ``"worst:K"``: the K codes with the lowest cross-validated F1 of a fastText model trained on the
  real rows alone (:func:`statcodgen.gaps.crossval.cross_validated_f1`; ties: more rows first),
  worst first: reason "CV F1 0.18 on 12 real rows (rank 3 of 594), confused with 47.11". Codes with a single row
  have no CV F1 and are skipped (``under:N`` selects them); "of 594" counts the scored codes;
- ``"file:path"``, or a path ending ``.csv`` / ``.txt``: the codes listed in the file, one per line
  (blank lines and ``#`` comments skipped) or, for a CSV with a header, its ``code`` column: reason
  "listed in targets.csv". A code that is unknown or of another level is an error naming the file
  and the row.

In: the items, the hierarchy the targets belong to, the real labelled rows (``under:N``, ``worst:K``).
Out: :func:`target_reasons` gives DataFrame[code, selected_by, reason], one row per code in the
order the items first name it (a code several items name has their reasons joined by "; ");
:func:`resolve_targets` gives its codes as a list. Used by
:func:`statcodgen.generation.generation_plan`, the study and the CLI.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .._validation import check_in, check_type
from ..classification.hierarchy import LEVELS, Hierarchy
from ..errors import ConfigError, DataFormatError, UnknownCodeError
from .coverage import coverage_table
from .crossval import CV_COLUMNS, cross_validated_f1

__all__ = ["resolve_targets", "target_reasons", "read_target_file", "REASON_COLUMNS"]

#: Columns of :func:`target_reasons`.
REASON_COLUMNS = ["code", "selected_by", "reason"]
_FILE_SUFFIXES = (".csv", ".txt")


def _number(item: str, func: str) -> int:
    kind = item.split(":", 1)[0]
    try:
        n = int(item.split(":", 1)[1])
    except ValueError:
        n = -1
    if n < (0 if kind == "under" else 1):
        raise ConfigError(f"The 'targets' parameter of {func} must use '{kind}:N' with an integer N"
                          f"{' >= 1' if kind == 'worst' else ''}. Got {item!r} instead.")
    return n


def _is_file_item(item: str) -> bool:
    return item.startswith("file:") or item.lower().endswith(_FILE_SUFFIXES)


def _file_path(item: str, base_dir: str | Path | None) -> Path:
    path = Path(item.removeprefix("file:")).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    return path


def read_target_file(path: str | Path) -> list[tuple[int, str, str | None]]:
    """The codes a targets file lists: ``(row, code, column)`` with 1-based line numbers.

    A ``.csv`` whose first row has a ``code`` cell is read by that column (``column="code"``); any
    other file is one code per line (a CSV's first field). Blank lines and lines starting with
    ``#`` are skipped. Raises :class:`DataFormatError` when the file is missing or lists no code.
    """
    p = Path(path)
    if not p.is_file():
        raise DataFormatError("file not found.", file=p, expected="a targets file (.csv or .txt): one code per line or a 'code' column")
    text = p.read_text(encoding="utf-8-sig")
    out: list[tuple[int, str, str | None]] = []
    if p.suffix.lower() == ".csv":
        rows = list(csv.reader(text.splitlines()))
        header = [c.strip().lower() for c in rows[0]] if rows else []
        col, column, first = (header.index("code"), "code", 1) if "code" in header else (0, None, 0)
        for i, row in enumerate(rows[first:], start=first + 1):
            cell = row[col].strip() if len(row) > col else ""
            if cell and not cell.startswith("#"):
                out.append((i, cell, column))
    else:
        for i, line in enumerate(text.splitlines(), start=1):
            cell = line.strip()
            if cell and not cell.startswith("#"):
                out.append((i, cell, None))
    if not out:
        raise DataFormatError("the file lists no code.", file=p, expected="one code per line or a 'code' column")
    return out


def _file_codes(path: Path, hierarchy: Hierarchy, level: str) -> list[str]:
    examples = hierarchy.codes(level)[:4]
    codes = []
    for row, code, column in read_target_file(path):
        if code not in hierarchy:
            raise UnknownCodeError(f"unknown code {code!r}.", file=path, row=row, column=column,
                                   expected=f"{level} codes of the {hierarchy.name} hierarchy, e.g. {examples}")
        if hierarchy.level(code) != level:
            raise UnknownCodeError(f"{code!r} is a {hierarchy.level(code)} code, not a {level} code.", file=path, row=row,
                                   column=column, expected=f"{level} codes of the {hierarchy.name} hierarchy, e.g. {examples}")
        codes.append(hierarchy.ancestor(code, level))
    return codes


def _rows(n: int) -> str:
    return f"{n} real row{'' if n == 1 else 's'}"


def _worst_reason(r: Any, n_scored: int) -> str:
    text = f"CV F1 {r.f1:.2f} on {_rows(int(r.support))} (rank {int(r.rank)} of {n_scored})"
    return text + (f", confused with {r.most_confused_with}" if isinstance(r.most_confused_with, str) else "")


def target_reasons(
    targets: str | Sequence[str],
    *,
    hierarchy: Hierarchy,
    level: str,
    real: pd.DataFrame | pd.Series | None = None,
    real_hierarchy: Hierarchy | None = None,
    func: str = "resolve_targets",
    cv: pd.DataFrame | None = None,
    cv_folds: int = 3,
    params: Any = None,
    language: str | None = None,
    seed: int = 0,
    base_dir: str | Path | None = None,
) -> pd.DataFrame:
    """Resolve target items into codes of ``level``, each with why it was chosen.

    ``targets``: the items of the module docstring. ``real``: the real *training* rows (a labelled
    frame with ``code``, and ``text`` for ``worst:K``; a Series of codes is enough for ``under:N``),
    counted after aggregating with ``real_hierarchy`` (default ``hierarchy``; give it when the real
    codes use another version of the classification). ``worst:K`` runs
    :func:`~statcodgen.gaps.crossval.cross_validated_f1` once (``cv_folds`` folds, fastText
    ``params``, ``language`` — default ``"en"`` —, ``seed``) unless ``cv`` gives its table; a code
    scored there but absent from ``hierarchy`` is skipped. ``base_dir``: the folder relative file
    paths are read from (a config file's folder; default the working directory). ``func`` names the
    caller in error messages; when it is a config key (``"[targets] labels"``) a named code's
    reason is "named in config".

    Out: DataFrame[code, selected_by, reason] (``selected_by``: the items that chose the code,
    joined by ", "). Raises :class:`ConfigError` naming the bad item, :class:`UnknownCodeError` /
    :class:`DataFormatError` naming the file and row of a bad targets file.
    """
    check_type("hierarchy", hierarchy, Hierarchy, func=func)
    check_in("level", level, LEVELS, func=func)
    items = [targets] if isinstance(targets, str) else list(targets)
    if not items:
        raise ConfigError(f"The 'targets' parameter of {func} must name at least one label. Got [] instead.")
    level_codes = hierarchy.codes(level)
    in_level = set(level_codes)
    named = "named in config" if func.startswith("[") else "named in the targets"
    chosen: dict[str, tuple[list[str], list[str]]] = {}

    def add(code: str, item: str, reason: str) -> None:
        by, why = chosen.setdefault(code, ([], []))
        if item not in by:
            by.append(item)
            why.append(reason)

    def need_real(item: str) -> None:
        if real is None:
            raise ConfigError(f"target {item!r} needs the real data: pass real= (and real_hierarchy= when the "
                              "real codes use another classification version).")

    for item in items:
        check_type("targets", item, str, func=func)
        if item.startswith("under:"):
            threshold = _number(item, func)
            need_real(item)
            cov = coverage_table(real, real_hierarchy or hierarchy, level=level)
            counts = dict(zip(cov["code"], cov["n_rows"]))
            for c in level_codes:
                if counts.get(c, 0) < threshold:
                    add(c, item, f"{_rows(int(counts.get(c, 0)))} < {threshold}")
        elif item.startswith("worst:"):
            n_worst = _number(item, func)
            need_real(item)
            if cv is None:
                if not isinstance(real, pd.DataFrame) or "text" not in real.columns:
                    raise ConfigError(f"target {item!r} needs the real rows with their text (a frame with 'text' and "
                                      "'code' columns), to train fastText on them.")
                cv = cross_validated_f1(real, level=level, k=cv_folds, params=params, language=language or "en",
                                        seed=seed, hierarchy=real_hierarchy or hierarchy)
            missing = [c for c in CV_COLUMNS if c not in cv.columns]
            if missing:
                raise ConfigError(f"The 'cv' parameter of {func} must be a table of cross_validated_f1. "
                                  f"Got a frame without {missing} instead.")
            scored = cv[cv["rank"].notna()].sort_values("rank", kind="stable")
            picked = scored[scored["label"].astype(str).isin(in_level)].head(n_worst)
            for r in picked.itertuples():
                add(str(r.label), item, _worst_reason(r, len(scored)))
        elif _is_file_item(item):
            path = _file_path(item, base_dir)
            for c in _file_codes(path, hierarchy, level):
                add(c, item, f"listed in {path.name}")
        elif item not in hierarchy or hierarchy.level(item) != level:
            raise ConfigError(f"The 'targets' parameter of {func} must hold {level} codes of the notes "
                              f"(e.g. {level_codes[:4]}), 'under:N', 'worst:K' or 'file:path'. Got {item!r} instead.")
        else:
            add(hierarchy.ancestor(item, level), item, named)
    rows = [(code, ", ".join(by), "; ".join(why)) for code, (by, why) in chosen.items()]
    return pd.DataFrame(rows, columns=REASON_COLUMNS)


def resolve_targets(
    targets: str | Sequence[str],
    *,
    hierarchy: Hierarchy,
    level: str,
    real: pd.DataFrame | pd.Series | None = None,
    real_hierarchy: Hierarchy | None = None,
    func: str = "resolve_targets",
    cv: pd.DataFrame | None = None,
    cv_folds: int = 3,
    params: Any = None,
    language: str | None = None,
    seed: int = 0,
    base_dir: str | Path | None = None,
) -> list[str]:
    """The codes of :func:`target_reasons` (same items and options), as a list without repeats.

    ``targets``: codes of ``level`` in ``hierarchy`` (a code of a finer level is an error),
    ``"under:N"``, ``"worst:K"``, ``"file:path"`` (see the module docstring), in the order the
    items name them.
    """
    table = target_reasons(targets, hierarchy=hierarchy, level=level, real=real, real_hierarchy=real_hierarchy,
                           func=func, cv=cv, cv_folds=cv_folds, params=params, language=language, seed=seed,
                           base_dir=base_dir)
    return table["code"].tolist()
