"""fastText hyper-parameters: validated values, the rules that scale them to the data, a time estimate.

In: field values (from code or ``[training.params]``). Out: a frozen :class:`FastTextParams`;
``epoch="auto"`` and ``loss="auto"`` (the defaults) are resolved from the training data's size by
:meth:`FastTextParams.resolve` when the classifier is fitted, and :func:`estimate_fit_seconds`
predicts a training's wall time from the same figures (used by ``statcodgen run --dry-run``).

The rules (measured in ``benchmarks/bench_scale.py``, see ``BENCHMARKS.md``):

- ``loss="auto"``: softmax up to :data:`SOFTMAX_MAX_LABELS` labels; above, softmax while the labels
  are thin (at most :data:`SOFTMAX_MAX_ROWS_PER_LABEL` rows per label on average) and the output
  layer's work stays small (rows × labels at most :data:`SOFTMAX_MAX_WORK`), hierarchical softmax
  otherwise — softmax costs one dot product per label and example, ``hs`` about log2(labels). On
  765,000 rows and 743 labels ``hs`` with 30 passes is 0.8 point below softmax with 30 passes, 8×
  faster; on the ONS index at class level (7,000-12,000 rows, 615 labels, 12-20 rows per label) it
  is 10-16 points below, for 15-40 s a training saved (``benchmarks/bench_class_study.py``);
- ``epoch="auto"``: 30 passes up to :data:`FULL_EPOCH_ROWS` rows for the loss (100,000 for
  softmax and ova, 1,000,000 for the cheaper ``hs``), then ``30 × FULL_EPOCH_ROWS / rows`` (the same
  number of example updates), never under :data:`MIN_EPOCH` — many rows need fewer passes
  (``hs`` with 5 passes lost 2 points on that data, softmax with 5 passes 0.7);
- ``thread``: every core of the machine.
"""

from __future__ import annotations

import math
import os
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

from .._validation import check_in, check_int, check_range
from ..errors import ConfigError

__all__ = ["FastTextParams", "estimate_fit_seconds", "auto_loss", "FULL_EPOCH_ROWS", "MIN_EPOCH", "SOFTMAX_MAX_LABELS",
           "SOFTMAX_MAX_ROWS_PER_LABEL", "SOFTMAX_MAX_WORK"]

#: Up to this many training rows, ``epoch="auto"`` is 30 (per loss: ``hs`` costs far less per pass).
FULL_EPOCH_ROWS = {"softmax": 100_000, "ova": 100_000, "hs": 1_000_000}
#: ``epoch="auto"`` never goes below this.
MIN_EPOCH = 5
#: ``loss="auto"`` is softmax up to this many labels; above, see the two limits below.
SOFTMAX_MAX_LABELS = 100
#: Above SOFTMAX_MAX_LABELS labels, ``loss="auto"`` stays softmax up to this many training rows per label (on average)...
SOFTMAX_MAX_ROWS_PER_LABEL = 100
#: ... and while rows × labels (the output layer's work per pass) is at most this (~1 min a training on 2 cores).
SOFTMAX_MAX_WORK = 30_000_000

_FUNC = "FastTextParams"
_LIMITS_INT: dict[str, tuple[int, int]] = {
    "dim": (1, 1000),
    "ws": (1, 50),
    "epoch": (1, 1000),
    "wordNgrams": (1, 6),
    "minn": (0, 20),
    "maxn": (0, 20),
    "minCount": (1, 1_000_000),
    "bucket": (0, 100_000_000),
    "thread": (1, 256),
    "seed": (0, 2**31 - 1),
}


def auto_loss(n_rows: int, n_labels: int) -> str:
    """The loss ``loss="auto"`` resolves to for ``n_rows`` training rows and ``n_labels`` labels (module docstring)."""
    if n_labels <= SOFTMAX_MAX_LABELS:
        return "softmax"
    thin = n_rows <= SOFTMAX_MAX_ROWS_PER_LABEL * n_labels
    return "softmax" if thin and n_rows * n_labels <= SOFTMAX_MAX_WORK else "hs"


def _default_thread() -> int:
    return max(1, os.cpu_count() or 1)


def _check_params(data: Any) -> Any:
    """Validate a dict of FastTextParams fields with the library's message shape."""
    if not isinstance(data, dict):
        return data
    allowed = list(FastTextParams.model_fields)
    for key in data:
        if key not in allowed:
            raise ConfigError(f"Unknown parameter {key!r} for {_FUNC}. Expected one of: {', '.join(allowed)}.")
    for key, (low, high) in _LIMITS_INT.items():
        if key in data and not (key == "epoch" and data[key] == "auto"):
            check_int(key, data[key], low, high, func=_FUNC)
    if "lr" in data:
        check_range("lr", data["lr"], 0.0, 10.0, func=_FUNC, low_open=True)
    if "loss" in data:
        check_in("loss", data["loss"], ("auto", "softmax", "ova", "hs"), func=_FUNC)
    minn = data.get("minn", FastTextParams.model_fields["minn"].default)
    maxn = data.get("maxn", FastTextParams.model_fields["maxn"].default)
    if maxn != 0 and maxn < minn:
        raise ConfigError(f"The 'maxn' parameter of {_FUNC} must be 0 (no subwords) or >= minn ({minn}). Got {maxn!r} instead.")
    return data


class FastTextParams(BaseModel):
    """fastText supervised hyper-parameters (names as in fastText).

    Defaults (dim 100, ws 5, lr 0.5, wordNgrams 2, minn 3, maxn 5, minCount 1) were chosen by
    measurement on the ONS UK SIC 2007 index (real data, seeded 80/20 split, scored at class and
    section level, mean of seeds 0 and 1; ``python benchmarks/bench_train.py --ons ../shared/data``):
    they beat INSEE's production settings (:meth:`insee`) on section accuracy (0.91 vs 0.89),
    section macro-F1 (0.70 vs 0.63) and class accuracy (0.49 vs 0.42) while training 2-4x faster.
    ``minCount`` 1 is kept so the rare words of scarce classes stay in the vocabulary.

    ``epoch`` and ``loss`` default to ``"auto"`` (see the module docstring): on data the size of
    the ONS index they resolve to epoch 30 and softmax, the values measured there; on an office's
    850,000 rows they resolve to fewer passes and ``hs`` over hundreds of labels. Give numbers to
    fix them. ``thread`` defaults to every core; use ``thread=1`` for bit-identical reruns.
    :meth:`benchmark` is the fixed 30-epoch softmax protocol, :meth:`insee` the production reference.

    Bad values raise :class:`~statcodgen.errors.ConfigError`
    ("The 'dim' parameter of FastTextParams must be an int >= 1 and <= 1000. Got 0 instead.").
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    dim: int = 100
    ws: int = 5
    lr: float = 0.5
    epoch: int | Literal["auto"] = "auto"
    wordNgrams: int = 2
    minn: int = 3
    maxn: int = 5
    minCount: int = 1
    bucket: int = 2_000_000
    loss: Literal["auto", "softmax", "ova", "hs"] = "auto"
    thread: int = _default_thread()
    seed: int = 0

    def __init__(self, **data: Any) -> None:
        _check_params(data)
        super().__init__(**data)

    @model_validator(mode="before")
    @classmethod
    def _validate(cls, data: Any) -> Any:
        return _check_params(data)

    def resolve(self, n_rows: int, n_labels: int) -> "FastTextParams":
        """These parameters with ``epoch`` and ``loss`` fixed for ``n_rows`` training rows and ``n_labels`` labels."""
        check_int("n_rows", n_rows, 1, func="FastTextParams.resolve")
        check_int("n_labels", n_labels, 1, func="FastTextParams.resolve")
        update: dict[str, Any] = {}
        loss = self.loss
        if loss == "auto":
            loss = update["loss"] = auto_loss(n_rows, n_labels)
        if self.epoch == "auto":
            full = FULL_EPOCH_ROWS[loss]
            update["epoch"] = 30 if n_rows <= full else max(MIN_EPOCH, round(30 * full / n_rows))
        return self.model_copy(update=update) if update else self

    @classmethod
    def benchmark(cls, **overrides: Any) -> "FastTextParams":
        """The fixed measurement protocol: epoch 30, softmax, lr 0.5, wordNgrams 2, minn 3, maxn 5, dim 100."""
        base: dict[str, Any] = dict(epoch=30, loss="softmax", lr=0.5, wordNgrams=2, minn=3, maxn=5, dim=100, minCount=1)
        base.update(overrides)
        return cls(**base)

    @classmethod
    def insee(cls, **overrides: Any) -> "FastTextParams":
        """INSEE's production settings: dim 180, ws 5, lr 0.2, epoch 50, wordNgrams 3, minn 3, maxn 4, minCount 3, softmax."""
        base: dict[str, Any] = dict(dim=180, ws=5, lr=0.2, epoch=50, wordNgrams=3, minn=3, maxn=4, minCount=3, loss="softmax")
        base.update(overrides)
        return cls(**base)


# Seconds per (row × epoch) of a training with dim 100, at one thread: a fixed part (reading the
# line, n-gram hashing, the input-vector update) plus the output layer per label (softmax, ova)
# or per tree level (hs). Calibrated on this project's 2-core benchmark machine
# (benchmarks/bench_scale.py: 850,000-row stand-in, 730 and 21 labels); other machines differ by
# their single-core speed, so the estimate is a scale, not a promise.
_BASE_S = 6.0e-6
_PER_OUTPUT_S = 7.3e-8
_THREAD_EFFICIENCY = 0.85
_PREPROCESS_S_PER_ROW = 4.0e-6


def estimate_fit_seconds(n_rows: int, n_labels: int, params: FastTextParams | None = None) -> float:
    """Expected wall time (s) of one :meth:`FastTextClassifier.fit` on ``n_rows`` rows and ``n_labels`` labels.

    Includes the preprocessing of the rows; ``params`` default :class:`FastTextParams` (resolved
    for the data). A linear model of the work fastText does, calibrated on the benchmark machine.
    """
    p = (params or FastTextParams()).resolve(max(1, n_rows), max(1, n_labels))
    outputs = {"softmax": n_labels, "ova": n_labels, "hs": max(1.0, math.log2(max(2, n_labels)))}[str(p.loss)]
    per_example = (_BASE_S + _PER_OUTPUT_S * outputs) * (p.dim / 100)
    threads = 1 + (p.thread - 1) * _THREAD_EFFICIENCY
    return n_rows * int(p.epoch) * per_example / threads + n_rows * _PREPROCESS_S_PER_ROW
