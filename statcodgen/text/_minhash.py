"""Vectorised MinHash signatures and LSH banding, bit-for-bit compatible with datasketch.

datasketch stays the reference implementation: the permutations are those of
``datasketch.MinHash(num_perm, seed)`` (scheme ``"affine32"``), tokens are hashed with
``datasketch.hashfunc.sha1_hash32`` and pre-mixed with datasketch's ``_fmix``, and the
bands/rows come from ``datasketch.lsh._optimal_param``. What changes is the loop: every distinct
token is hashed and permuted once, then each line's signature is a ``np.minimum.reduceat`` over
its tokens' rows, in chunks (two threads: numpy releases the GIL). A row of the result equals
``MinHash(num_perm, seed).update_batch(tokens).hashvalues`` (tested), so it can be wrapped in a
``datasketch.LeanMinHash`` with :func:`to_lean_minhash`.

Banding groups rows whose ``r`` hash values in a band are all equal, exactly the buckets of
``datasketch.MinHashLSH`` (which keys a band by its bytes; here the band is folded into a 64-bit
key, and candidates are verified afterwards, so a key collision can only add a candidate).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import numpy as np
import pandas as pd
from datasketch import LeanMinHash, MinHash
from datasketch.hashfunc import sha1_hash32
from datasketch.lsh import _optimal_param
from datasketch.minhash import _fmix
from tqdm.auto import tqdm

__all__ = ["signatures_from_flat", "signatures_from_codes", "band_candidate_pairs", "lsh_params", "to_lean_minhash", "EMPTY"]

EMPTY = np.uint32(0xFFFFFFFF)  # datasketch's empty-MinHash sentinel for affine32
_CHUNK_TOKENS = 200_000


@lru_cache(maxsize=16)
def _permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    a, b = MinHash(num_perm=num_perm, seed=seed).permutations
    return a.astype(np.uint32), b.astype(np.uint32)


@lru_cache(maxsize=64)
def lsh_params(threshold: float, num_perm: int, weights: tuple[float, float] = (0.5, 0.5)) -> tuple[int, int]:
    """(bands, rows) that ``datasketch.MinHashLSH(threshold, num_perm, weights)`` would use."""
    return tuple(int(x) for x in _optimal_param(threshold, num_perm, weights[0], weights[1]))  # type: ignore[return-value]


def to_lean_minhash(hashvalues: np.ndarray, *, seed: int) -> LeanMinHash:
    """Wrap one signature row into a ``datasketch.LeanMinHash`` (for interop and tests)."""
    return LeanMinHash(seed=seed, hashvalues=np.asarray(hashvalues, dtype=np.uint32), scheme="affine32")


def _token_table(uniques: Sequence[str], num_perm: int, seed: int) -> np.ndarray:
    """Permuted hash values of each distinct token: array (len(uniques), num_perm) uint32."""
    hv = np.fromiter((sha1_hash32(t.encode("utf-8")) for t in uniques), dtype=np.uint32, count=len(uniques))
    hv = _fmix(hv, 32)
    a, b = _permutations(num_perm, seed)
    with np.errstate(over="ignore"):
        return hv[:, None] * a[None, :] + b[None, :]


def signatures_from_flat(
    tokens: Sequence[str] | np.ndarray,
    lengths: np.ndarray,
    *,
    num_perm: int,
    seed: int,
    progress: bool = False,
    desc: str = "minhash",
) -> np.ndarray:
    """MinHash signatures of lines given as one flat token list.

    ``tokens`` holds the shingles of every line one after the other, ``lengths[i]`` the number
    belonging to line ``i`` (duplicates inside a line are harmless). Returns an array
    ``(len(lengths), num_perm)`` uint32; a line without tokens gets the empty sentinel.

    Lines are grouped by token count L; for a block of lines with the same L the signature is
    L element-wise ``np.minimum`` over rows gathered from the token table (contiguous, fast;
    ``np.minimum.reduceat`` on the same data is ~20x slower).
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    if len(lengths) == 0 or lengths.sum() == 0:
        return np.full((len(lengths), num_perm), EMPTY, dtype=np.uint32)
    codes, uniques = pd.factorize(np.asarray(tokens, dtype=object))
    return signatures_from_codes(codes, lengths, uniques, num_perm=num_perm, seed=seed, progress=progress, desc=desc)


def signatures_from_codes(
    codes: np.ndarray,
    lengths: np.ndarray,
    uniques: Sequence[str],
    *,
    num_perm: int,
    seed: int,
    progress: bool = False,
    desc: str = "minhash",
) -> np.ndarray:
    """Like :func:`signatures_from_flat` with tokens given as integer ``codes`` into ``uniques``
    (saves holding one Python string per token on large inputs)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    n = len(lengths)
    sig = np.full((n, num_perm), EMPTY, dtype=np.uint32)
    if n == 0 or lengths.sum() == 0:
        return sig
    table = _token_table(uniques, num_perm, seed)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    by_len = np.argsort(lengths, kind="stable")
    sorted_len = lengths[by_len]
    jobs: list[tuple[int, np.ndarray]] = []
    for L in np.unique(sorted_len[sorted_len > 0]):
        lo, hi = np.searchsorted(sorted_len, [L, L + 1])
        step = max(1, _CHUNK_TOKENS // int(L))
        for a in range(lo, hi, step):
            jobs.append((int(L), by_len[a : min(a + step, hi)]))

    def work(job: tuple[int, np.ndarray]) -> int:
        L, rows = job
        base = offsets[rows]
        acc = table[codes[base]]
        for k in range(1, L):
            np.minimum(acc, table[codes[base + k]], out=acc)
        sig[rows] = acc
        return len(rows)

    with ThreadPoolExecutor(max_workers=2) as pool, tqdm(
        total=int((lengths > 0).sum()), desc=desc, unit="line", disable=not progress or n < 20_000, leave=False
    ) as bar:
        for done in pool.map(work, jobs):
            bar.update(done)
    return sig


def _band_keys(sig: np.ndarray, start: int, end: int) -> np.ndarray:
    """Fold columns [start, end) of each row into one 64-bit key (FNV-1a style + fmix64)."""
    h = np.full(sig.shape[0], 0xCBF29CE484222325, dtype=np.uint64)
    prime = np.uint64(0x100000001B3)
    with np.errstate(over="ignore"):
        for c in range(start, end):
            h ^= sig[:, c].astype(np.uint64)
            h *= prime
            h ^= h >> np.uint64(29)
        return _fmix(h, 64)


def band_candidate_pairs(
    sig: np.ndarray,
    bands: int,
    rows: int,
    *,
    n_left: int | None = None,
    active: np.ndarray | None = None,
    max_bucket: int = 100,
    progress: bool = False,
) -> np.ndarray:
    """Candidate pairs ``(i, j)``, ``i < j``, of rows sharing at least one LSH band.

    Rows ``>= n_left`` (reference rows, e.g. real data) are never paired with each other.
    ``active`` (bool mask) excludes rows (e.g. empty lines). In a bucket bigger than
    ``max_bucket`` each row is paired with the first ``max_bucket`` rows of the bucket only,
    which bounds the work on huge clusters (their members still meet a kept representative).
    Returns an int64 array (n_pairs, 2), unique, sorted by ``j`` then ``i``.
    """
    n = sig.shape[0]
    n_left = n if n_left is None else n_left
    idx_all = np.arange(n, dtype=np.int64) if active is None else np.flatnonzero(active)
    out: list[np.ndarray] = []
    sub = sig if active is None else sig[idx_all]
    for k in tqdm(range(bands), desc="lsh bands", disable=not progress or n < 20_000, leave=False):
        keys = _band_keys(sub, k * rows, (k + 1) * rows)
        order = np.argsort(keys, kind="stable")
        ks = keys[order]
        members = idx_all[order]
        change = np.flatnonzero(ks[1:] != ks[:-1]) + 1
        starts = np.concatenate(([0], change))
        sizes = np.diff(np.concatenate((starts, [len(ks)])))
        two = starts[sizes == 2]
        if len(two):
            out.append(np.stack([members[two], members[two + 1]], axis=1))
        for s, m in zip(starts[sizes > 2], sizes[sizes > 2]):
            grp = members[s : s + m]
            if m <= max_bucket:
                ii, jj = np.triu_indices(m, k=1)
                out.append(np.stack([grp[ii], grp[jj]], axis=1))
            else:
                for p in range(max_bucket):
                    out.append(np.stack([np.full(m - p - 1, grp[p]), grp[p + 1 :]], axis=1))
    if not out:
        return np.empty((0, 2), dtype=np.int64)
    pairs = np.concatenate(out)
    pairs.sort(axis=1)
    pairs = pairs[pairs[:, 0] < n_left]  # drop reference-reference pairs
    code = np.unique(pairs[:, 1] * n + pairs[:, 0])
    return np.stack([code % n, code // n], axis=1)
