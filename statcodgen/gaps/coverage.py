"""Coverage of the real data per code, the gaps, and the generation plan (pure functions).

Real data coded in one version and notes in another (the tutorial: NAF rév. 2 ``8220Z`` real
rows, NAF 2025 ``82.20Y`` notes) are compared at section level: aggregate the real codes with
their own hierarchy (``real_hierarchy=Hierarchy.builtin("naf_rev2")``) and the targets with the
notes' hierarchy; the ``NAFclasses.xlsx`` section letters are the Rev. 2 ones, so they line up.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from .._validation import check_in, check_int, check_type
from ..classification.hierarchy import LEVELS, Hierarchy
from ..errors import ConfigError, DataFormatError

__all__ = ["coverage_table", "coverage_all_levels", "find_gaps", "generation_plan", "allocate", "format_table"]


def _codes_of(real: pd.DataFrame | pd.Series | Iterable[str], func: str, code_column: str = "code") -> pd.Series:
    if isinstance(real, pd.DataFrame):
        if code_column not in real.columns:
            raise DataFormatError(f"the real data has no {code_column!r} column; columns are {list(real.columns)}.",
                                  column=code_column, expected=f"a {code_column!r} column (see datasets.load_labelled)")
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
) -> pd.DataFrame:
    """Real rows per code of ``level``: DataFrame[code, title, n_rows, share].

    Every code of ``level`` in ``hierarchy`` appears, in tree order, including those with zero
    rows; ``share`` is ``n_rows`` / total rows. ``real`` is a labelled frame (``code`` column) or a
    sequence of codes at any finer level. With ``errors="coerce"`` codes outside the hierarchy
    are counted in one last row whose ``code`` is ``None`` (title "(not in the hierarchy)").
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
    out.attrs["level"] = level
    return out


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


def allocate(n: int, weights: Sequence[float], *, minimum: int = 0) -> list[int]:
    """Split ``n`` into integers proportional to ``weights`` with each >= ``minimum``.

    Every part first gets ``minimum``; the rest is shared by the largest-remainder method (ties go
    to the earlier part), so the parts sum exactly to ``n``. Raises :class:`ConfigError` when
    ``minimum * len(weights) > n``.
    """
    k = len(weights)
    if k == 0:
        return []
    rest = n - minimum * k
    if rest < 0:
        raise ConfigError(f"cannot give {k} codes at least {minimum} samples each with only {n} samples; "
                          f"raise n_per_target to >= {minimum * k} or lower min_per_code.")
    w = np.asarray(weights, dtype=float)
    if (w < 0).any() or not np.isfinite(w).all():
        raise ConfigError(f"weights must be finite and >= 0. Got {list(weights)!r} instead.")
    if w.sum() == 0:
        w = np.ones(k)
    quota = rest * w / w.sum()
    base = np.floor(quota).astype(int)
    left = rest - int(base.sum())
    order = sorted(range(k), key=lambda i: (-(quota[i] - base[i]), i))
    for i in order[:left]:
        base[i] += 1
    return [int(minimum + b) for b in base]


def _resolve_targets(targets: str | Sequence[str], hierarchy: Hierarchy, level: str,
                     real: pd.DataFrame | pd.Series | None, real_hierarchy: Hierarchy | None) -> list[str]:
    items = [targets] if isinstance(targets, str) else list(targets)
    if not items:
        raise ConfigError("The 'targets' parameter of generation_plan must name at least one label. Got [] instead.")
    out: list[str] = []
    level_codes = hierarchy.codes(level)
    for item in items:
        check_type("targets", item, str, func="generation_plan")
        if item.startswith("under:"):
            try:
                threshold = int(item.split(":", 1)[1])
            except ValueError:
                raise ConfigError(f"The 'targets' parameter of generation_plan must use 'under:N' with an integer N. "
                                  f"Got {item!r} instead.") from None
            if real is None:
                raise ConfigError(f"target {item!r} needs the real data: pass real= (and real_hierarchy= when the "
                                  "real codes use another classification version).")
            cov = coverage_table(real, real_hierarchy or hierarchy, level=level)
            counts = dict(zip(cov["code"], cov["n_rows"]))
            out += [c for c in level_codes if counts.get(c, 0) < threshold]
            continue
        if item not in hierarchy or hierarchy.level(item) != level:
            raise ConfigError(f"The 'targets' parameter of generation_plan must hold {level} codes of the notes "
                              f"(e.g. {level_codes[:4]}) or 'under:N'. Got {item!r} instead.")
        out.append(hierarchy.ancestor(item, level))
    return list(dict.fromkeys(out))


def generation_plan(
    notes: pd.DataFrame,
    *,
    targets: str | Sequence[str],
    n_per_target: int,
    level: str = "section",
    min_per_code: int = 1,
    weight: str = "uniform",
    hierarchy: Hierarchy | None = None,
    real: pd.DataFrame | pd.Series | None = None,
    real_hierarchy: Hierarchy | None = None,
) -> pd.DataFrame:
    """How many synthetic lines to ask for each detailed code under each target label.

    In: the notes (:func:`statcodgen.sources.notes.load_notes`), ``targets`` (codes of ``level``, e.g.
    ``["B", "O", "T", "U"]``, and/or ``"under:N"`` = every ``level`` label with fewer than N real
    rows in ``real``, aggregated with ``real_hierarchy``; zero-row labels included).
    Each target's ``n_per_target`` lines are spread over the most detailed codes under it that
    have a note, each getting at least ``min_per_code``, the rest in proportion to the weight:
    ``"uniform"`` (1 per code) or ``"richness"`` (number of parsed includes + also-includes
    items, at least 1). Sums are exact (largest remainder).

    Out: DataFrame[target, code, n_samples, weight, title, n_items], targets in the given order,
    codes in tree order.
    """
    func = "generation_plan"
    check_type("notes", notes, pd.DataFrame, func=func)
    check_int("n_per_target", n_per_target, 1, func=func)
    check_int("min_per_code", min_per_code, 0, func=func)
    check_in("weight", weight, ("uniform", "richness"), func=func)
    check_in("level", level, LEVELS, func=func)
    for col in ("code", "includes", "also_includes"):
        if col not in notes.columns:
            raise DataFormatError(f"the notes have no {col!r} column.", column=col,
                                  expected="a DataFrame from statcodgen.sources.notes.load_notes")
    h = hierarchy or Hierarchy.from_notes(notes)
    labels = _resolve_targets(targets, h, level, real, real_hierarchy)
    by_code = notes.set_index("code")
    n_items = (by_code["includes"].map(len) + by_code["also_includes"].map(len)).to_dict()
    titles = by_code["title"].to_dict() if "title" in by_code.columns else {}
    rows: list[dict[str, object]] = []
    for target in labels:
        codes = [c for c in h.leaves(target) if c in n_items]
        if not codes:  # notes given above the leaves of the hierarchy: use the finest codes that have a note
            under = [c for c in [target, *_descendants(h, target)] if c in n_items]
            depth = max((LEVELS.index(h.level(c)) for c in under), default=-1)
            codes = [c for c in under if LEVELS.index(h.level(c)) == depth]
        if not codes:
            raise ConfigError(f"target {target!r} has no code with a note; the notes cover "
                              f"{sorted(set(h.aggregate(list(n_items), level)))}.")
        w = [1.0 if weight == "uniform" else float(max(1, n_items[c])) for c in codes]
        n = allocate(n_per_target, w, minimum=min_per_code)
        rows += [{"target": target, "code": c, "n_samples": k, "weight": wt, "title": titles.get(c, ""),
                  "n_items": int(n_items[c])} for c, k, wt in zip(codes, n, w)]
    out = pd.DataFrame(rows, columns=["target", "code", "n_samples", "weight", "title", "n_items"])
    out["n_samples"] = out["n_samples"].astype(int)
    out.attrs.update(level=level, weight=weight, n_per_target=n_per_target, min_per_code=min_per_code)
    return out


def _descendants(h: Hierarchy, code: str) -> list[str]:
    out: list[str] = []
    stack = list(reversed(h.children(code)))
    while stack:
        c = stack.pop()
        out.append(c)
        stack.extend(reversed(h.children(c)))
    return out


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
