"""Which labels to fill: explicit codes of a level, or ``under:N`` (every label with fewer than N rows).

In: target items, the hierarchy the targets belong to, and (for ``under:N``) the real labelled rows.
Out: a list of codes of the level, without repeats, in the order the items name them (the codes of
one ``under:N`` in tree order). Used by :func:`statcodgen.generation.generation_plan`, the study and
the CLI: the one place where target items are read and validated.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from .._validation import check_in, check_type
from ..classification.hierarchy import LEVELS, Hierarchy
from ..errors import ConfigError
from .coverage import coverage_table

__all__ = ["resolve_targets"]


def _threshold(item: str, func: str) -> int:
    try:
        return int(item.split(":", 1)[1])
    except ValueError:
        raise ConfigError(f"The 'targets' parameter of {func} must use 'under:N' with an integer N. "
                          f"Got {item!r} instead.") from None


def resolve_targets(
    targets: str | Sequence[str],
    *,
    hierarchy: Hierarchy,
    level: str,
    real: pd.DataFrame | pd.Series | None = None,
    real_hierarchy: Hierarchy | None = None,
    func: str = "resolve_targets",
) -> list[str]:
    """Resolve target items into codes of ``level``.

    ``targets``: codes of ``level`` in ``hierarchy`` (a code of a finer level is an error) and/or
    ``"under:N"``: every ``level`` code of ``hierarchy`` with fewer than N rows in ``real``
    (a labelled frame with a ``code`` column, or a Series of codes), counted after aggregating
    with ``real_hierarchy`` (default ``hierarchy``; give it when the real codes use another
    version of the classification); codes with zero rows are included. ``func`` names the
    calling function in error messages. Raises :class:`ConfigError` naming the bad item.
    """
    check_type("hierarchy", hierarchy, Hierarchy, func=func)
    check_in("level", level, LEVELS, func=func)
    items = [targets] if isinstance(targets, str) else list(targets)
    if not items:
        raise ConfigError(f"The 'targets' parameter of {func} must name at least one label. Got [] instead.")
    out: list[str] = []
    level_codes = hierarchy.codes(level)
    for item in items:
        check_type("targets", item, str, func=func)
        if item.startswith("under:"):
            threshold = _threshold(item, func)
            if real is None:
                raise ConfigError(f"target {item!r} needs the real data: pass real= (and real_hierarchy= when the "
                                  "real codes use another classification version).")
            cov = coverage_table(real, real_hierarchy or hierarchy, level=level)
            counts = dict(zip(cov["code"], cov["n_rows"]))
            out += [c for c in level_codes if counts.get(c, 0) < threshold]
            continue
        if item not in hierarchy or hierarchy.level(item) != level:
            raise ConfigError(f"The 'targets' parameter of {func} must hold {level} codes of the notes "
                              f"(e.g. {level_codes[:4]}) or 'under:N'. Got {item!r} instead.")
        out.append(hierarchy.ancestor(item, level))
    return list(dict.fromkeys(out))
