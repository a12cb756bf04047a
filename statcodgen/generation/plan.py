"""The generation plan: how many lines to ask for each detailed code under each target label.

In: the notes (one row per code, :func:`statcodgen.sources.load_notes`) and the targets
(:func:`statcodgen.gaps.resolve_targets` items). Out: DataFrame[target, code, n_samples, weight,
title, n_items], the input of :func:`statcodgen.generation.generate`; for an LLM run, planned in
requests (``lines_per_request``), also ``n_requests, max_requests, capped_reason``
(:func:`cap_requests`). Pure functions.

Why a cap: a weak model asked many times about the same short note drifts off the class with each
request (issue 12: 15 requests on the two-item note of 99.00 gave lines about manufacturing and
magazine distribution). A code gets at most :func:`request_cap` requests (2 + its Includes and
Also-includes items: one request on the whole note, one per item, one more on the whole note);
what a capped code cannot take goes to the uncapped codes of the same target, else is left out and
the plan says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .._validation import check_in, check_int, check_type
from ..classification.hierarchy import LEVELS, Hierarchy
from ..errors import ConfigError, DataFormatError
from ..gaps.targets import resolve_targets

__all__ = ["generation_plan", "allocate", "cap_requests", "request_cap", "PLAN_COLUMNS", "CAP_COLUMNS"]

#: the columns of every plan
PLAN_COLUMNS = ["target", "code", "n_samples", "weight", "title", "n_items"]
#: the columns :func:`cap_requests` adds
CAP_COLUMNS = ["n_requests", "max_requests", "capped_reason"]


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
    lines_per_request: int | None = None,
    max_requests: int | str | None = "auto",
) -> pd.DataFrame:
    """How many synthetic lines to ask for each detailed code under each target label.

    In: the notes (:func:`statcodgen.sources.notes.load_notes`), ``targets`` (codes of ``level``, e.g.
    ``["B", "O", "T", "U"]``, and/or ``"under:N"`` = every ``level`` label with fewer than N real
    rows in ``real``, aggregated with ``real_hierarchy``; zero-row labels included).
    Each target's ``n_per_target`` lines are spread over the most detailed codes under it that
    have a note, each getting at least ``min_per_code``, the rest in proportion to the weight:
    ``"uniform"`` (1 per code) or ``"richness"`` (number of parsed includes + also-includes
    items, at least 1). Sums are exact (largest remainder).

    ``lines_per_request``: plan in LLM requests of that many lines (default None: lines only, as
    the offline generator wants them): the plan is then capped by :func:`cap_requests` with
    ``max_requests`` (``"auto"``: :func:`request_cap` of each code's note; an int: the same cap
    for every code; None: no cap).

    Out: DataFrame[target, code, n_samples, weight, title, n_items] (+ ``n_requests, max_requests,
    capped_reason`` with ``lines_per_request``), targets in the given order, codes in tree order.
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
    out = pd.DataFrame(rows, columns=PLAN_COLUMNS)
    out["n_samples"] = out["n_samples"].astype(int)
    if lines_per_request is not None:
        out = cap_requests(out, lines_per_request=lines_per_request, max_requests=max_requests)
    return out


def request_cap(n_items: int) -> int:
    """Most requests worth sending about one note: 2 + its Includes and Also-includes items (one request
    on the whole note, one focused on each item, one more on the whole note). A title-only note: 2."""
    return 2 + max(0, int(n_items))


def cap_requests(plan: pd.DataFrame, *, lines_per_request: int = 20, max_requests: int | str | None = "auto",
                 notes: pd.DataFrame | None = None) -> pd.DataFrame:
    """The plan in requests of ``lines_per_request`` lines, each code capped at ``max_requests`` requests.

    In: a plan (``target, code, n_samples``, ``weight`` and ``n_items`` when :func:`generation_plan` made
    it; without ``n_items``, ``notes`` gives them). ``max_requests``: ``"auto"`` = :func:`request_cap`
    (2 + the note's items), an int, or None (no cap). A capped code keeps ``max_requests *
    lines_per_request`` lines; the lines it cannot take go to the codes of the same target that still
    have room, in proportion to their weight (largest remainder), else they are left out. Idempotent.

    Out: a copy with ``n_samples`` capped and ``n_requests`` (ceil(n_samples / lines_per_request)),
    ``max_requests`` (0 = no cap) and ``capped_reason`` ("" when the code got all its lines; else what
    the cap took and where the lines went).
    """
    func = "cap_requests"
    check_type("plan", plan, pd.DataFrame, func=func)
    check_int("lines_per_request", lines_per_request, 1, 500, func=func)
    if max_requests is not None and max_requests != "auto":
        check_int("max_requests", max_requests, 1, func=func)
    for col in ("code", "n_samples"):
        if col not in plan.columns:
            raise ConfigError(f"The 'plan' parameter of {func} must have a {col!r} column. Got {list(plan.columns)} instead.")
    out = plan.copy().reset_index(drop=True)
    if "n_items" not in out.columns:
        if notes is None:
            raise ConfigError(f"The 'plan' parameter of {func} has no 'n_items' column: give the notes (notes=...) "
                              "or a plan from generation_plan.")
        by_code = notes.drop_duplicates("code").set_index("code")
        out["n_items"] = [int(len(by_code.at[c, "includes"]) + len(by_code.at[c, "also_includes"])) if c in by_code.index
                          else 0 for c in out["code"]]
    if max_requests is None:
        caps = [0] * len(out)
    elif max_requests == "auto":
        caps = [request_cap(n) for n in out["n_items"]]
    else:
        caps = [int(max_requests)] * len(out)
    room = [c * lines_per_request if c else None for c in caps]
    n = [int(v) for v in out["n_samples"]]
    weights = out["weight"].astype(float).tolist() if "weight" in out.columns else [1.0] * len(out)
    groups = out.groupby("target", sort=False).indices if "target" in out.columns else {"": list(range(len(out)))}
    reason = [""] * len(out)
    for idx in groups.values():
        idx = list(idx)
        asked = sum(n[i] for i in idx)
        surplus = 0
        for i in idx:
            if room[i] is not None and n[i] > room[i]:
                surplus += n[i] - room[i]
                reason[i] = (f"the note has {out.at[i, 'n_items']} item(s): at most {caps[i]} requests of "
                             f"{lines_per_request} lines, {n[i]} lines asked")
                n[i] = room[i]
        while surplus:
            open_ = [i for i in idx if room[i] is None or n[i] < room[i]]
            if not open_:
                break
            share = allocate(surplus, [weights[i] for i in open_])
            moved = 0
            for i, k in zip(open_, share):
                k = k if room[i] is None else min(k, room[i] - n[i])
                n[i] += k
                moved += k
            surplus -= moved
            if moved == 0:
                break
        kept = sum(n[i] for i in idx)
        for i in idx:
            if reason[i]:
                where = ("moved to the other codes of the target" if kept == asked
                         else f"the target gets {kept} of {asked} lines")
                reason[i] += f"; {where}"
    out["n_samples"] = pd.Series(n, dtype=int)
    out["n_requests"] = [math.ceil(v / lines_per_request) for v in n]
    out["max_requests"] = pd.Series(caps, dtype=int)
    out["capped_reason"] = reason
    return out


def _descendants(h: Hierarchy, code: str) -> list[str]:
    out: list[str] = []
    stack = list(reversed(h.children(code)))
    while stack:
        c = stack.pop()
        out.append(c)
        stack.extend(reversed(h.children(c)))
    return out
