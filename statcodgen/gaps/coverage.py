"""Coverage of the real data per code and the gaps (pure functions).

Real data coded in one version and notes in another (the tutorial: NAF rév. 2 ``8220Z`` real
rows, NAF 2025 ``82.20Y`` notes) are compared at section level: aggregate the real codes with
their own hierarchy (``real_hierarchy=Hierarchy.builtin("naf_rev2")``) and the targets with the
notes' hierarchy; the ``NAFclasses.xlsx`` section letters are the Rev. 2 ones, so they line up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from .._validation import check_in, check_int, check_type
from ..classification.hierarchy import LEVELS, Hierarchy
from ..errors import DataFormatError

__all__ = ["coverage_table", "coverage_all_levels", "find_gaps", "format_table"]


def _codes_of(real: pd.DataFrame | pd.Series | Iterable[str], func: str, code_column: str = "code") -> pd.Series:
    if isinstance(real, pd.DataFrame):
        if code_column not in real.columns:
            raise DataFormatError(f"the real data has no {code_column!r} column; columns are {list(real.columns)}.",
                                  column=code_column, expected=f"a {code_column!r} column (see sources.datasets.load_labelled)")
        return real[code_column]
    if isinstance(real, pd.Series):
        return real
    return pd.Series(list(real), dtype=object)


def coverage_table(
    real: pd.DataFrame | pd.Series | Iterable[str],
    hierarchy: Hierarchy,
    *,
    level: str = "section",
    code_column: str = "code",
    errors: str = "raise",
    reasons: pd.DataFrame | Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Real rows per code of ``level``: DataFrame[code, title, n_rows, share] (+ ``reason``).

    Every code of ``level`` in ``hierarchy`` appears, in tree order, including those with zero
    rows; ``share`` is ``n_rows`` / total rows. ``real`` is a labelled frame (``code`` column) or a
    sequence of codes at any finer level. With ``errors="coerce"`` codes outside the hierarchy
    are counted in one last row whose ``code`` is ``None`` (title "(not in the hierarchy)").
    ``reasons`` (the :func:`statcodgen.gaps.target_reasons` table, or a code -> reason mapping)
    adds a ``reason`` column: why each target was chosen, "" for the other codes.
    """
    func = "coverage_table"
    check_in("level", level, LEVELS, func=func)
    check_type("hierarchy", hierarchy, Hierarchy, func=func)
    check_in("errors", errors, ("raise", "coerce"), func=func)
    labels = hierarchy.aggregate(_codes_of(real, func, code_column), level, errors=errors)
    counts = labels.value_counts(dropna=True)
    codes = hierarchy.codes(level)
    n = np.array([int(counts.get(c, 0)) for c in codes], dtype=np.int64)
    out = pd.DataFrame({"code": codes, "title": [hierarchy.title(c) for c in codes], "n_rows": n})
    n_unknown = int(labels.isna().sum())
    if n_unknown:
        out = pd.concat([out, pd.DataFrame({"code": [None], "title": ["(not in the hierarchy)"], "n_rows": [n_unknown]})],
                        ignore_index=True)
    total = int(out["n_rows"].sum())
    out["share"] = out["n_rows"] / total if total else 0.0
    if reasons is not None:
        why = _reason_map(reasons, func)
        out["reason"] = [why.get(c, "") if c is not None else "" for c in out["code"]]
    return out


def _reason_map(reasons: pd.DataFrame | Mapping[str, str], func: str) -> dict[str, str]:
    if isinstance(reasons, pd.DataFrame):
        if not {"code", "reason"} <= set(reasons.columns):
            raise DataFormatError(f"the reasons table has no 'code' and 'reason' columns; columns are {list(reasons.columns)}.",
                                  column="reason", expected="the table of statcodgen.gaps.target_reasons")
        return {str(c): str(r) for c, r in zip(reasons["code"], reasons["reason"])}
    check_type("reasons", reasons, Mapping, func=func)
    return {str(c): str(r) for c, r in reasons.items()}


def coverage_all_levels(real: pd.DataFrame | pd.Series | Iterable[str], hierarchy: Hierarchy, *,
                        code_column: str = "code") -> pd.DataFrame:
    """:func:`coverage_table` for every level the hierarchy has: DataFrame[level, code, title, n_rows, share]."""
    codes = _codes_of(real, "coverage_all_levels", code_column)
    finest = max((LEVELS.index(hierarchy.level(c)) for c in pd.unique(codes.dropna())), default=len(LEVELS) - 1)
    parts = [coverage_table(codes, hierarchy, level=lev).assign(level=lev) for lev in LEVELS[: finest + 1]
             if hierarchy.codes(lev)]
    out = pd.concat(parts, ignore_index=True)
    return out[["level", "code", "title", "n_rows", "share"]]


def find_gaps(
    real: pd.DataFrame | pd.Series | Iterable[str],
    hierarchy: Hierarchy,
    *,
    level: str = "section",
    threshold: int = 1,
    code_column: str = "code",
) -> pd.DataFrame:
    """Codes of ``level`` with fewer than ``threshold`` real rows (zero included), fewest first.

    Same columns as :func:`coverage_table`.
    """
    check_int("threshold", threshold, 0, func="find_gaps")
    table = coverage_table(real, hierarchy, level=level, code_column=code_column)
    gaps = table[table["n_rows"] < threshold]
    return gaps.sort_values(["n_rows", "code"], kind="stable").reset_index(drop=True)


def format_table(df: pd.DataFrame, *, max_rows: int | None = 60, max_title: int = 50) -> str:
    """A printable text table: shares as percentages, long titles cut, a total line for counts."""
    view = df.copy()
    if "title" in view.columns:
        view["title"] = view["title"].fillna("").astype(str).map(
            lambda t: t if len(t) <= max_title else t[: max_title - 1] + "…")
    for col in ("share",):
        if col in view.columns:
            view[col] = view[col].map(lambda x: f"{100 * x:5.1f}%")
    if "weight" in view.columns:
        view["weight"] = view["weight"].map(lambda x: f"{x:g}")
    text = view.to_string(index=False, max_rows=max_rows)
    totals = [f"{c}={int(df[c].sum()):,}" for c in ("n_rows", "n_samples") if c in df.columns]
    if totals:
        text += f"\n{len(df)} rows; total " + ", ".join(totals)
    return text
