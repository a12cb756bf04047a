"""Lexical diversity of generated lines: distinct-n, unique share, mean pairwise MinHash Jaccard.

* ``distinct_n(texts, n)``: distinct word n-grams / all word n-grams over the corpus (Li et al.
  2016); 1.0 means no n-gram is repeated anywhere.
* ``unique_share(texts)``: distinct lines / lines (after :func:`statcodgen.text.normalize.normalize_text`).
* ``mean_pairwise_jaccard(texts)``: mean Jaccard similarity of the word sets of line pairs,
  estimated with MinHash signatures (datasketch-compatible) over all pairs or ``sample`` random
  pairs; lower is more diverse.
* ``diversity_table(df, by="label")``: all of the above per label plus an ``ALL`` row.

Texts are normalised (lower case, no accents, no punctuation) before counting.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from .._validation import check_int, check_type
from ..errors import DataFormatError
from ..text.normalize import normalize_series

__all__ = ["distinct_n", "unique_share", "mean_pairwise_jaccard", "diversity_table"]


def _norm(texts: Iterable[str], normalize: bool = True) -> list[str]:
    s = pd.Series(list(texts), dtype=object)
    if normalize:
        return normalize_series(s).tolist()
    return s.where(s.notna(), "").astype(str).str.split().str.join(" ").tolist()


def _ngrams(words: list[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]


def distinct_n(texts: Iterable[str], n: int, *, normalize: bool = True) -> float:
    """Distinct word ``n``-grams divided by all word ``n``-grams in ``texts`` (n-grams do not cross
    line boundaries). NaN when there is no n-gram at all."""
    check_int("n", n, 1, func="distinct_n")
    total = 0
    seen: set[tuple[str, ...]] = set()
    for line in _norm(texts, normalize):
        grams = _ngrams(line.split(), n)
        total += len(grams)
        seen.update(grams)
    return len(seen) / total if total else float("nan")


def unique_share(texts: Iterable[str], *, normalize: bool = True) -> float:
    """Distinct lines / lines (normalised first unless ``normalize=False``); NaN for no lines."""
    lines = _norm(texts, normalize)
    return len(set(lines)) / len(lines) if lines else float("nan")


def _signatures(lines: Sequence[str], num_perm: int, seed: int) -> np.ndarray:
    from ..text._minhash import signatures_from_flat

    tokens: list[str] = []
    lengths = np.zeros(len(lines), dtype=np.int64)
    for i, line in enumerate(lines):
        words = sorted(set(line.split()))
        tokens.extend(words)
        lengths[i] = len(words)
    return signatures_from_flat(tokens, lengths, num_perm=num_perm, seed=seed)


def _pairs(n: int, sample: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    if n < 2:
        return np.array([], dtype=np.int64), np.array([], dtype=np.int64)
    if n * (n - 1) // 2 <= sample:
        i, j = np.triu_indices(n, k=1)
        return i, j
    i = rng.integers(0, n, size=sample)
    j = rng.integers(0, n - 1, size=sample)
    j = j + (j >= i)  # j != i, uniform over the other lines
    return i, j


def _mean_jaccard(sig: np.ndarray, sample: int, rng: np.random.Generator) -> float:
    i, j = _pairs(len(sig), sample, rng)
    if len(i) == 0:
        return float("nan")
    return float((sig[i] == sig[j]).mean())


def mean_pairwise_jaccard(
    texts: Iterable[str], *, num_perm: int = 128, sample: int = 2000, seed: int = 1,
) -> float:
    """Mean Jaccard similarity between the word sets of two lines, estimated by MinHash
    (``num_perm`` permutations, ``seed``) over every pair when there are at most ``sample`` pairs,
    else over ``sample`` random pairs of distinct lines. NaN for fewer than two lines."""
    func = "mean_pairwise_jaccard"
    check_int("num_perm", num_perm, 2, 4096, func=func)
    check_int("sample", sample, 1, func=func)
    check_int("seed", seed, 0, 2**32 - 1, func=func)
    lines = _norm(texts)
    if len(lines) < 2:
        return float("nan")
    return _mean_jaccard(_signatures(lines, num_perm, seed), sample, np.random.default_rng(seed))


def diversity_table(
    df: pd.DataFrame,
    *,
    text_col: str = "text",
    by: str | None = "label",
    num_perm: int = 128,
    sample: int = 2000,
    seed: int = 1,
) -> pd.DataFrame:
    """One row per value of ``by`` (sorted) plus a last ``ALL`` row, with columns ``<by>`` (or
    ``group`` when ``by`` is None), ``n_lines``, ``n_unique``, ``unique_share``, ``distinct_1``,
    ``distinct_2``, ``distinct_3``, ``mean_jaccard`` (MinHash estimate, see
    :func:`mean_pairwise_jaccard`) and ``mean_words``."""
    func = "diversity_table"
    check_type("df", df, pd.DataFrame, func=func)
    check_int("num_perm", num_perm, 2, 4096, func=func)
    check_int("sample", sample, 1, func=func)
    check_int("seed", seed, 0, 2**32 - 1, func=func)
    for c in [text_col] + ([by] if by is not None else []):
        if c not in df.columns:
            raise DataFormatError("the table lacks a column needed for diversity measures.", column=c,
                                  expected=f"one of its columns {list(df.columns)}")
    lines = _norm(df[text_col])
    sig = _signatures(lines, num_perm, seed)
    rng = np.random.default_rng(seed)
    key = by if by is not None else "group"
    groups: list[tuple[str, np.ndarray]] = []
    if by is not None:
        labels = df[by].astype(str).to_numpy()
        for lab in sorted(set(labels)):
            groups.append((lab, np.flatnonzero(labels == lab)))
    groups.append(("ALL", np.arange(len(lines))))
    rows = []
    for lab, idx in groups:
        sub = [lines[i] for i in idx]
        rows.append({
            key: lab,
            "n_lines": len(sub),
            "n_unique": len(set(sub)),
            "unique_share": unique_share(sub, normalize=False),
            "distinct_1": distinct_n(sub, 1, normalize=False),
            "distinct_2": distinct_n(sub, 2, normalize=False),
            "distinct_3": distinct_n(sub, 3, normalize=False),
            "mean_jaccard": _mean_jaccard(sig[idx], sample, rng),
            "mean_words": float(np.mean([len(s.split()) for s in sub])) if sub else float("nan"),
        })
    return pd.DataFrame(rows)
