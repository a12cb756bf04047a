"""Parameter validation with one message shape (after scikit-learn).

"The 'threshold' parameter of minhash_dedup must be in [0, 1]. Got 1.5 instead."
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .errors import ConfigError

__all__ = ["check_in", "check_range", "check_int", "check_type"]


def _fail(name: str, func: str, must: str, value: Any) -> ConfigError:
    return ConfigError(f"The {name!r} parameter of {func} must be {must}. Got {value!r} instead.")


def check_in(name: str, value: Any, options: Iterable[Any], *, func: str) -> Any:
    """Return ``value`` if it is one of ``options``, else raise :class:`ConfigError`."""
    opts = list(options)
    if value not in opts:
        raise _fail(name, func, "one of " + ", ".join(repr(o) for o in opts), value)
    return value


def check_range(
    name: str,
    value: Any,
    low: float | None = None,
    high: float | None = None,
    *,
    func: str,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` if it is a real number in the interval, else raise :class:`ConfigError`."""
    lo = "(" if low_open else "["
    hi = ")" if high_open else "]"
    must = f"a number in {lo}{'-inf' if low is None else low}, {'inf' if high is None else high}{hi}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(name, func, must, value)
    if value != value:  # NaN
        raise _fail(name, func, must, value)
    if low is not None and (value < low or (low_open and value == low)):
        raise _fail(name, func, must, value)
    if high is not None and (value > high or (high_open and value == high)):
        raise _fail(name, func, must, value)
    return value


def check_int(name: str, value: Any, low: int | None = None, high: int | None = None, *, func: str) -> int:
    """Return ``value`` if it is an int (not a bool) within [low, high], else raise."""
    must = "an int" + (f" >= {low}" if low is not None else "") + (f" and <= {high}" if high is not None else "")
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(name, func, must, value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise _fail(name, func, must, value)
    return value


def check_type(name: str, value: Any, types: type | tuple[type, ...], *, func: str) -> Any:
    """Return ``value`` if it is an instance of ``types``, else raise :class:`ConfigError`."""
    if not isinstance(value, types):
        tnames = types.__name__ if isinstance(types, type) else " or ".join(t.__name__ for t in types)
        raise _fail(name, func, f"of type {tnames}", value)
    return value
