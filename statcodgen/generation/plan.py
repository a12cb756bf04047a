"""The generation plan: how many lines to ask for each detailed code under each target label.

In: the notes (one row per code, :func:`statcodgen.sources.load_notes`) and the targets
(:func:`statcodgen.gaps.resolve_targets` items). Out: DataFrame[target, code, n_samples, weight,
title, n_items], the input of :func:`statcodgen.generation.generate`. Pure functions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .._validation import check_in, check_int, check_type
from ..classification.hierarchy import LEVELS, Hierarchy
from ..errors import ConfigError, DataFormatError
from ..gaps.targets import resolve_targets

__all__ = ["generation_plan", "allocate"]


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
    labels = resolve_targets(targets, hierarchy=h, level=level, real=real, real_hierarchy=real_hierarchy, func=func)
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
    return out


def _descendants(h: Hierarchy, code: str) -> list[str]:
    out: list[str] = []
    stack = list(reversed(h.children(code)))
    while stack:
        c = stack.pop()
        out.append(c)
        stack.extend(reversed(h.children(c)))
    return out
