"""Keep the label prior honest: post-hoc logit adjustment, label priors, and the attraction rate.

A classifier trained on 2 real rows and 700 synthetic lines of a target learns that the target is
common: the synthetic volume, not the world, sets its prior. :class:`PriorCorrection` moves the
predicted probabilities from the training prior ``pi_train`` toward a prior the user sets
``pi`` (business-register counts, the full data's shares):

    score(y | x) = log p(y | x) - strength * (log pi_train(y) - log pi(y)),  then renormalised.

``strength = 1`` is the Bayes correction for a change of prior; 0 is no correction; the study
chooses it on a validation split (:mod:`statcodgen.modelling.selection`). Labels the prior does not
name keep their training prior. The correction travels with the classifier
(:meth:`~statcodgen.modelling.FastTextClassifier.set_prior`, saved in ``params.json``), so the model
an office deploys behaves like the one that was evaluated.

:func:`attraction_rate` measures what the correction is for: the share of real rows of other labels
predicted as a target, overall and on short inputs (two words or fewer).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_range
from ..errors import ConfigError, DataFormatError

__all__ = ["PriorCorrection", "label_prior", "read_prior", "attraction_rate", "SHORT_WORDS"]

#: Inputs of at most this many words count as short in :func:`attraction_rate`.
SHORT_WORDS = 2


@dataclass(frozen=True)
class PriorCorrection:
    """Logit adjustment from ``train_prior`` toward ``prior`` (dicts label -> share), by ``strength``."""

    train_prior: dict[str, float]
    prior: dict[str, float]
    strength: float = 1.0

    def __post_init__(self) -> None:
        check_range("strength", self.strength, 0.0, 5.0, func="PriorCorrection")
        for name, d in (("train_prior", self.train_prior), ("prior", self.prior)):
            bad = [k for k, v in d.items() if not v > 0]
            if bad:
                raise ConfigError(f"The '{name}' of PriorCorrection must give every label a share > 0. Got {bad[:5]} at 0.")

    def shift(self, labels: Sequence[str]) -> np.ndarray:
        """The additive log-score shift of each label of ``labels`` (0 for labels the prior does not name)."""
        return np.asarray([self.strength * (np.log(self.prior[l]) - np.log(self.train_prior[l]))
                           if l in self.prior and l in self.train_prior else 0.0 for l in labels])

    def adjust(self, proba: np.ndarray, labels: Sequence[str]) -> np.ndarray:
        """Probabilities [n, len(labels)] after the correction (rows sum to 1)."""
        if self.strength == 0:
            return proba
        score = np.log(np.clip(proba, 1e-12, 1.0)) + self.shift(labels)[None, :]
        score -= score.max(axis=1, keepdims=True)
        e = np.exp(score)
        return e / e.sum(axis=1, keepdims=True)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (what ``params.json`` stores)."""
        return {"train_prior": self.train_prior, "prior": self.prior, "strength": self.strength}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "PriorCorrection":
        """Inverse of :meth:`to_dict`."""
        return cls(dict(d["train_prior"]), dict(d["prior"]), float(d["strength"]))


def label_prior(labels: Sequence[Any] | pd.Series | Mapping[str, float], *, universe: Sequence[str] = (),
                smoothing: float = 0.5) -> dict[str, float]:
    """Shares per label from a sequence of labels (counted) or a mapping label -> count or share.

    A label of ``universe`` with no count gets ``smoothing`` times the smallest positive count (so no
    share is 0). Out: dict label -> share, summing to 1.
    """
    counts = pd.Series(dict(labels)) if isinstance(labels, Mapping) else pd.Series(list(labels), dtype=object).astype(str).value_counts()
    counts = counts.astype(float)
    if (counts < 0).any():
        raise ConfigError(f"A label prior needs counts or shares >= 0. Got {counts[counts < 0].head(3).to_dict()}.")
    counts.index = counts.index.astype(str)
    counts = counts.reindex(sorted(set(counts.index) | set(map(str, universe))), fill_value=0.0)
    if not (counts > 0).any():
        raise ConfigError("A label prior needs at least one count > 0.")
    counts[counts <= 0] = counts[counts > 0].min() * smoothing
    return (counts / counts.sum()).to_dict()


def read_prior(path: str | Path, *, code_column: str = "label", value_column: str = "count") -> dict[str, float]:
    """A prior from a CSV with one row per label (e.g. business-register counts): ``label, count``.

    Raises :class:`DataFormatError` naming the file, row and column when a value is not a number >= 0.
    """
    p = Path(path)
    if not p.is_file():
        raise DataFormatError("file not found.", file=p, expected=f"a CSV with columns {code_column}, {value_column}")
    df = pd.read_csv(p, dtype={code_column: str})
    for col in (code_column, value_column):
        if col not in df.columns:
            raise DataFormatError(f"no column {col!r} (columns: {list(df.columns)}).", file=p, column=col,
                                  expected=f"a CSV with columns {code_column}, {value_column}")
    values = pd.to_numeric(df[value_column], errors="coerce")
    bad = np.flatnonzero(values.isna().to_numpy() | (values < 0).to_numpy())
    if len(bad):
        raise DataFormatError(f"{df[value_column].iloc[bad[0]]!r} is not a number >= 0.", file=p, row=int(bad[0]) + 2,
                              column=value_column, expected="a count or a share >= 0")
    return label_prior(dict(zip(df[code_column].astype(str), values.astype(float))))


def attraction_rate(y_true: Sequence[str], y_pred: Sequence[str], targets: Sequence[str],
                    texts: Sequence[str] | None = None, *, short_words: int = SHORT_WORDS) -> dict[str, float]:
    """Share of real rows of non-target labels predicted as a target: ``attraction`` overall and
    ``attraction_short`` on rows of at most ``short_words`` words (with ``texts``), and their counts."""
    y, p = np.asarray(list(map(str, y_true)), dtype=object), np.asarray(list(map(str, y_pred)), dtype=object)
    tg = set(map(str, targets))
    other = ~np.isin(y, list(tg))
    hit = np.isin(p, list(tg)) & other
    out = {"attraction": float(hit.sum() / other.sum()) if other.any() else 0.0, "n_other": int(other.sum())}
    if texts is not None:
        short = np.asarray([len(str(t).split()) <= short_words for t in texts]) & other
        out["attraction_short"] = float(hit[short].sum() / short.sum()) if short.any() else 0.0
        out["n_other_short"] = int(short.sum())
    return out
