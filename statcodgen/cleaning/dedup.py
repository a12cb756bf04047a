"""Exact and near-duplicate removal (MinHash LSH), within the synthetic set and against real data.

Order of the stages, each only seeing what the previous ones kept:

1. exact duplicates of a real **test** line (normalised text) → ``duplicates_real_test``;
2. exact duplicates of a real **train** line (optional) → ``duplicates_real_train``;
3. exact duplicates inside the synthetic set → ``exact_duplicate``;
4. MinHash LSH near duplicates of a test line, of a train line, then inside the synthetic set
   → ``duplicates_real_test`` / ``duplicates_real_train`` / ``near_duplicate``.

Determinism and row order: rows are processed in a canonical order that depends on content
only (64-bit hashes of the normalised text, then of the label, raw text and index label), and
the first row of each cluster in that order is kept, so shuffling the input gives the same
kept set. A near duplicate is only dropped against a line that is itself kept, and ``duplicate_of`` always names that kept line (``"syn:<index>"``)
or the real row (``"train:<index>"`` / ``"test:<index>"``, index of the frame passed in).

Labels: by default two synthetic lines with different labels are never merged
(``cross_label="keep"``); how often that happens is reported in ``stats``
(``cross_label_exact_groups``, ``cross_label_near_pairs``). ``cross_label="drop"`` merges
them too (reasons ``cross_label_duplicate`` / ``cross_label_near_duplicate``). Real test and
train lines are matched whatever their label: a synthetic line equal to a test line inflates
the evaluation even when its label differs.

Near-duplicate candidates come from LSH on signatures equal to datasketch's (see ``_minhash``,
tested against ``MinHash``/``MinHashLSH``); with
``verify="jaccard"`` (default) a candidate is confirmed on the exact Jaccard similarity of the
two shingle sets, so ``similarity`` is exact and nothing below ``threshold`` is dropped;
``verify="minhash"`` uses the MinHash estimate instead; ``verify="none"`` accepts every LSH
candidate like ``MinHashLSH.query`` would. LSH bands/rows are datasketch's
``_optimal_param(threshold, num_perm, *lsh_weights)``, i.e. those of
``MinHashLSH(threshold, num_perm, weights=lsh_weights)``. The default weights (0.05, 0.95) favour
recall because candidates are verified afterwards: for 0.9/128 they give 9 bands x 14 rows, so a
pair at Jaccard 0.90 becomes a candidate with probability 0.90, 0.91 → 0.94, 0.95 → 0.998; with
datasketch's default weights (0.5, 0.5) (5 x 25) these are 0.31, 0.39, 0.80.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..text._minhash import band_candidate_pairs, lsh_params, signatures_from_codes
from .._validation import check_in, check_int, check_range, check_type
from ..errors import DataFormatError
from ..text.normalize import normalize_series, tokenize

__all__ = ["DedupOptions", "DedupResult", "dedup", "remove_test_leaks", "shingle_lines", "shingle_codes", "DROP_COLUMNS"]

DROP_COLUMNS = ("reason", "detail", "duplicate_of", "similarity")
_F = "dedup"


@dataclass(frozen=True)
class DedupResult:
    """``kept``: input rows kept (input order and columns); ``dropped``: input rows dropped with
    ``reason, detail, duplicate_of, similarity``; ``stats``: DataFrame ``metric, value``."""

    kept: pd.DataFrame
    dropped: pd.DataFrame
    stats: pd.DataFrame


def _check_options(threshold: Any, num_perm: Any, shingle: Any, method: Any, seed: Any, func: str) -> None:
    check_in("method", method, ("minhash", "exact"), func=func)
    check_range("threshold", threshold, 0.0, 1.0, low_open=True, func=func)
    check_int("num_perm", num_perm, 2, 4096, func=func)
    check_in("shingle", shingle, ("word", "char"), func=func)
    check_int("seed", seed, 0, 2**32 - 1, func=func)


@dataclass(frozen=True)
class DedupOptions:
    """The main options of :func:`dedup`, validated when made: ``threshold`` (Jaccard, in (0, 1]),
    ``num_perm`` (MinHash permutations), ``shingle`` (``"word"`` or ``"char"``), ``method``
    (``"minhash"``: exact then near; ``"exact"``), ``seed`` (MinHash seed). ``dedup(df,
    **options.as_kwargs())`` runs them."""

    threshold: float = 0.9
    num_perm: int = 128
    shingle: str = "word"
    method: str = "minhash"
    seed: int = 1

    def __post_init__(self) -> None:
        _check_options(self.threshold, self.num_perm, self.shingle, self.method, self.seed, "DedupOptions")

    def as_kwargs(self) -> dict[str, Any]:
        """The options as keyword arguments of :func:`dedup`."""
        return asdict(self)


@dataclass
class _Marks:
    """Per-row outcome, filled stage by stage: ``reason`` (None = kept), ``dup_of``, ``sim``, ``detail``."""

    reason: np.ndarray
    dup_of: np.ndarray
    sim: np.ndarray
    detail: np.ndarray

    @classmethod
    def empty(cls, n: int) -> _Marks:
        return cls(np.full(n, None, dtype=object), np.full(n, None, dtype=object), np.full(n, np.nan),
                   np.full(n, "", dtype=object))

    def alive(self) -> np.ndarray:
        return self.reason == None  # noqa: E711

    def set(self, where: Any, why: Any, of: Any, similarity: Any, text: Any) -> None:
        self.reason[where], self.dup_of[where], self.sim[where], self.detail[where] = why, of, similarity, text


@dataclass(frozen=True)
class _Canon:
    """The synthetic rows in canonical order: normalised text, label, and ``"syn:<index>"`` ids."""

    norm: pd.Series
    label: pd.Series
    ids: np.ndarray


@dataclass(frozen=True)
class _NearParams:
    threshold: float
    num_perm: int
    shingle: str
    ngram: int
    seed: int
    bands: int
    rows: int
    cross_label: str
    verify: str
    use_train: bool
    progress: bool


def shingle_lines(norms: pd.Series | list[str], *, shingle: str = "word", ngram: int = 1) -> tuple[list[str], np.ndarray]:
    """Flat shingle list and per-line counts of already normalised lines."""
    codes, lengths, uniques = shingle_codes(norms, shingle=shingle, ngram=ngram)
    return [uniques[c] for c in codes.tolist()], lengths


def shingle_codes(
    norms: pd.Series | list[str] | np.ndarray, *, shingle: str = "word", ngram: int = 1, chunk: int = 50_000
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Shingles of already normalised lines as (int32 codes, per-line counts, distinct shingles).

    Lines are processed in chunks and each shingle string is kept once, so memory stays
    proportional to the number of tokens in int32, not in Python strings.
    """
    norms = list(norms)
    vocab: dict[str, int] = {}
    parts: list[np.ndarray] = []
    lengths = np.zeros(len(norms), dtype=np.int64)
    for lo in range(0, len(norms), chunk):
        block = norms[lo : lo + chunk]
        if shingle == "word" and ngram == 1:
            lens = [t.count(" ") + 1 if t else 0 for t in block]
            toks = " ".join(t for t in block if t).split(" ") if any(lens) else []
        else:
            sets = [tokenize(t, shingle=shingle, ngram=ngram) for t in block]
            lens = [len(x) for x in sets]
            toks = [x for st in sets for x in st]
        lengths[lo : lo + len(block)] = lens
        local, uniq = pd.factorize(np.asarray(toks, dtype=object))
        glob = np.fromiter((vocab.setdefault(t, len(vocab)) for t in uniq), dtype=np.int32, count=len(uniq))
        parts.append(glob[local] if len(toks) else np.empty(0, dtype=np.int32))
    codes = np.concatenate(parts) if parts else np.empty(0, dtype=np.int32)
    return codes, lengths, list(vocab)


def _check_frame(df: object, name: str, text_col: str) -> pd.DataFrame:
    check_type(name, df, pd.DataFrame, func=_F)
    assert isinstance(df, pd.DataFrame)
    if text_col not in df.columns:
        raise DataFormatError(
            f"the {name} table has no {text_col!r} column (columns: {list(df.columns)})",
            column=text_col,
            expected=f"a column {text_col!r} with the lines, or pass text_col=",
        )
    return df


def _h(values: np.ndarray) -> np.ndarray:
    """Deterministic 64-bit content hash of each string (pandas' SipHash with its fixed key)."""
    return pd.util.hash_array(np.asarray(values, dtype=object), categorize=False)


def _canonical_order(norm: np.ndarray, label: np.ndarray, text: np.ndarray, index: pd.Index) -> np.ndarray:
    """Positions sorted by content only: hash of the normalised text, then label, raw text and
    index label (as strings). Rows with the same normalised text (and label) end up adjacent."""
    keys = [_h(index.astype(str).to_numpy(dtype=object)), _h(text), _h(label), _h(norm)]
    return np.lexsort(keys)


def _run_first(keys: np.ndarray) -> np.ndarray:
    """For an array where equal keys are adjacent, the position of the first of each run."""
    if len(keys) == 0:
        return np.empty(0, dtype=np.int64)
    start = np.concatenate(([True], keys[1:] != keys[:-1]))
    return np.maximum.accumulate(np.where(start, np.arange(len(keys)), 0))


def _first_id(norm: pd.Series, tag: str) -> pd.Series:
    """Map normalised text → ``"<tag>:<index>"`` of the first real row carrying it (empty lines ignored)."""
    s = norm[norm != ""]
    ids = (tag + ":" + s.index.astype(str)).to_numpy()
    return pd.Series(ids, index=s.to_numpy(), dtype=object).groupby(level=0, sort=False).first()


def dedup(
    synthetic: pd.DataFrame,
    *,
    real_train: pd.DataFrame | None = None,
    real_test: pd.DataFrame | None = None,
    text_col: str = "text",
    label_col: str | None = "label",
    method: str = "minhash",
    threshold: float = 0.9,
    num_perm: int = 128,
    shingle: str = "word",
    ngram: int | None = None,
    seed: int = 1,
    cross_label: str = "keep",
    drop_real_train_duplicates: bool = True,
    verify: str = "jaccard",
    lsh_weights: tuple[float, float] = (0.05, 0.95),
    progress: bool = True,
) -> DedupResult:
    """Remove exact and near duplicates from ``synthetic`` (see the module docstring).

    ``synthetic``: DataFrame with ``text_col`` (and ``label_col`` unless it is None; real frames
    need ``text_col`` only). ``method``: ``"exact"`` or ``"minhash"`` (exact then near).
    ``shingle``: ``"word"`` (``ngram`` default 1) or ``"char"`` (default 3, for very short lines).
    Returns a :class:`DedupResult`; the input is not modified. ``stats`` metrics: ``n_input``,
    ``n_kept``, ``n_dropped``, ``n_<reason>`` per reason, ``cross_label_exact_groups``,
    ``cross_label_near_pairs``, ``lsh_bands``, ``lsh_rows``, ``candidate_pairs`` and
    ``seconds_*`` timings per stage.
    """
    t0 = time.perf_counter()
    _check_frame(synthetic, "synthetic", text_col)
    _check_options(threshold, num_perm, shingle, method, seed, _F)
    ngram = (1 if shingle == "word" else 3) if ngram is None else check_int("ngram", ngram, 1, 20, func=_F)
    check_in("cross_label", cross_label, ("keep", "drop"), func=_F)
    check_in("verify", verify, ("jaccard", "minhash", "none"), func=_F)
    check_type("drop_real_train_duplicates", drop_real_train_duplicates, bool, func=_F)
    check_type("progress", progress, bool, func=_F)
    if label_col is not None and label_col not in synthetic.columns:
        raise DataFormatError(
            f"the synthetic table has no {label_col!r} column (columns: {list(synthetic.columns)})",
            column=label_col,
            expected="a label column, or label_col=None to ignore labels",
        )
    if not synthetic.index.is_unique:
        raise DataFormatError("the synthetic table has a repeated index", expected="a unique index (use reset_index)")
    reals = {}
    for tag, frame in (("test", real_test), ("train", real_train)):
        if frame is not None:
            _check_frame(frame, f"real_{tag}", text_col)
            reals[tag] = normalize_series(frame[text_col])

    n = len(synthetic)
    norm_all = normalize_series(synthetic[text_col])
    t_norm = time.perf_counter()
    label_all = (
        pd.Series("", index=synthetic.index, dtype=object) if label_col is None else synthetic[label_col].astype(str)
    )
    norm_np, label_np = norm_all.to_numpy(dtype=object), label_all.to_numpy(dtype=object)
    order = _canonical_order(norm_np, label_np, synthetic[text_col].astype(str).to_numpy(dtype=object), synthetic.index)
    canon = _Canon(pd.Series(norm_np[order], dtype=object),  # canonical positions 0..n-1
                   pd.Series(label_np[order], dtype=object),
                   ("syn:" + synthetic.index[order].astype(str)).to_numpy(dtype=object))
    norm, label, ids = canon.norm, canon.label, canon.ids
    marks = _Marks.empty(n)
    reason, dup_of, sim, detail = marks.reason, marks.dup_of, marks.sim, marks.detail
    stats: dict[str, float] = {"n_input": n}

    # --- exact stages -----------------------------------------------------------------
    _exact_real(norm, reals, marks, use_train=drop_real_train_duplicates)
    alive = np.flatnonzero(marks.alive())
    nh = _h(norm.to_numpy())[alive]
    key = nh if cross_label == "drop" else nh ^ (_h(label.to_numpy())[alive] * np.uint64(0x9E3779B97F4A7C15))
    src = alive[_run_first(key)]  # canonical order keeps equal (norm, label) adjacent
    later = src != alive
    pos, src = alive[later], src[later]
    lab_np = label.to_numpy()
    cross = lab_np[pos] != lab_np[src]
    marks.set(pos, np.where(cross, "cross_label_duplicate", "exact_duplicate"), ids[src], 1.0,
              np.where(cross, "same normalised text as a kept line with label " + lab_np[src].astype(str),
                       "same normalised text as a kept line"))
    kept_pos = np.flatnonzero((reason == None) & (norm.to_numpy() != ""))  # noqa: E711
    kh = _h(norm.to_numpy())[kept_pos]
    same_next = kh[1:] == kh[:-1]  # kept rows sharing a normalised text differ by label
    stats["cross_label_exact_groups"] = int(np.count_nonzero(same_next & ~np.concatenate(([False], same_next[:-1]))))

    stats["seconds_normalize"] = round(t_norm - t0, 3)
    stats["seconds_exact"] = round(time.perf_counter() - t_norm, 3)
    # --- near stage -------------------------------------------------------------------
    bands, rows = lsh_params(float(threshold), num_perm, tuple(lsh_weights))
    stats.update(lsh_bands=bands, lsh_rows=rows, candidate_pairs=0, cross_label_near_pairs=0)
    if method == "minhash":
        params = _NearParams(threshold=threshold, num_perm=num_perm, shingle=shingle, ngram=ngram, seed=seed, bands=bands,
                             rows=rows, cross_label=cross_label, verify=verify, use_train=drop_real_train_duplicates,
                             progress=progress)
        _near_stage(canon, reals, marks, stats, params)

    # An exact duplicate whose kept line was then dropped as a near duplicate (or as a real
    # duplicate) is re-pointed to what that line points to: same normalised text, same Jaccard.
    stale = reason[src] != None  # noqa: E711  (exact-stage targets dropped later)
    for p, target in zip(pos[stale].tolist(), src[stale].tolist()):
        dup_of[p], sim[p] = dup_of[target], sim[target]
        if reason[target] in ("duplicates_real_test", "duplicates_real_train"):
            reason[p] = reason[target]
        detail[p] = f"same normalised text as {ids[target]}, itself dropped: {detail[target]}"

    return _assemble(synthetic, marks, order, stats, t0)


def _exact_real(norm: pd.Series, reals: dict[str, pd.Series], marks: _Marks, *, use_train: bool) -> None:
    """Mark the rows whose normalised text equals a real test line, then a real train line."""
    for tag, why in (("test", "duplicates_real_test"), ("train", "duplicates_real_train")):
        if tag not in reals or (tag == "train" and not use_train):
            continue
        hit = norm.map(_first_id(reals[tag], tag))
        mask = hit.notna().to_numpy() & marks.alive()
        marks.set(mask, why, hit.to_numpy()[mask], 1.0, f"same normalised text as a real {tag} line")


def _assemble(synthetic: pd.DataFrame, marks: _Marks, order: np.ndarray, stats: dict[str, float], t0: float) -> DedupResult:
    """Kept and dropped rows back in input order (``order``: input position of each canonical row)."""
    n = len(synthetic)
    back = np.empty(n, dtype=np.int64)
    back[order] = np.arange(n)
    reason_in, dup_in, sim_in, det_in = marks.reason[back], marks.dup_of[back], marks.sim[back], marks.detail[back]
    drop_mask = reason_in != None  # noqa: E711
    kept = synthetic.loc[~drop_mask].copy()
    dropped = synthetic.loc[drop_mask].copy()
    dropped["reason"] = reason_in[drop_mask]
    dropped["detail"] = det_in[drop_mask]
    dropped["duplicate_of"] = dup_in[drop_mask]
    dropped["similarity"] = sim_in[drop_mask].astype(float)
    counts = pd.Series(reason_in[drop_mask]).value_counts()
    for why in ("exact_duplicate", "near_duplicate", "duplicates_real_train", "duplicates_real_test",
                "cross_label_duplicate", "cross_label_near_duplicate"):  # fmt: skip
        stats[f"n_{why}"] = int(counts.get(why, 0))
    stats["n_kept"] = len(kept)
    stats["n_dropped"] = len(dropped)
    stats["seconds"] = round(time.perf_counter() - t0, 3)
    stats_df = pd.DataFrame({"metric": list(stats), "value": [float(v) for v in stats.values()]})
    return DedupResult(kept=kept, dropped=dropped, stats=stats_df)


def remove_test_leaks(synthetic: pd.DataFrame, real_test: pd.DataFrame, *, text_col: str = "text") -> DedupResult:
    """Only the first stage of :func:`dedup`: drop the synthetic rows whose normalised text equals a
    real test line (reason ``duplicates_real_test``, ``duplicate_of`` ``"test:<index>"``), so that
    a study without deduplication never trains on its test lines. Same result type as :func:`dedup`."""
    t0 = time.perf_counter()
    _check_frame(synthetic, "synthetic", text_col)
    _check_frame(real_test, "real_test", text_col)
    marks = _Marks.empty(len(synthetic))
    norm = normalize_series(synthetic[text_col]).reset_index(drop=True)
    _exact_real(norm, {"test": normalize_series(real_test[text_col])}, marks, use_train=False)
    return _assemble(synthetic, marks, np.arange(len(synthetic)), {"n_input": len(synthetic)}, t0)


def _near_stage(canon: _Canon, reals: dict[str, pd.Series], marks: _Marks, stats: dict[str, float], opt: _NearParams) -> None:
    """MinHash LSH stage; fills ``marks`` in place and adds its counts and timings to ``stats``."""
    norm, label, ids, reason = canon.norm, canon.label, canon.ids, marks.reason
    syn_pos = np.flatnonzero((reason == None) & (norm.to_numpy() != ""))  # noqa: E711
    parts_norm = [norm.to_numpy()[syn_pos]]
    parts_id = [ids[syn_pos]]
    kinds = [np.zeros(len(syn_pos), dtype=np.int8)]  # 0 syn, 1 test, 2 train
    for k, tag in ((1, "test"), (2, "train")):
        if tag not in reals or (tag == "train" and not opt.use_train):
            continue
        first = _first_id(reals[tag], tag)  # one row per distinct normalised real line
        parts_norm.append(first.index.to_numpy(dtype=object))
        parts_id.append(first.to_numpy(dtype=object))
        kinds.append(np.full(len(first), k, dtype=np.int8))
    all_norm = np.concatenate(parts_norm)
    all_id = np.concatenate(parts_id)
    kind = np.concatenate(kinds)
    n_syn = len(syn_pos)
    if n_syn == 0:
        return
    t0 = time.perf_counter()
    codes, lengths, uniques = shingle_codes(all_norm, shingle=opt.shingle, ngram=opt.ngram)
    t1 = time.perf_counter()
    sig = signatures_from_codes(codes, lengths, uniques, num_perm=opt.num_perm, seed=opt.seed, progress=opt.progress)
    del codes, uniques
    t2 = time.perf_counter()
    pairs = band_candidate_pairs(sig, opt.bands, opt.rows, n_left=n_syn, progress=opt.progress)
    t3 = time.perf_counter()
    stats.update(seconds_shingle=round(t1 - t0, 3), seconds_signatures=round(t2 - t1, 3), seconds_lsh=round(t3 - t2, 3))
    stats["candidate_pairs"] = len(pairs)
    if len(pairs) == 0:
        return
    i, j = pairs[:, 0], pairs[:, 1]
    est = np.empty(len(pairs))
    for s in range(0, len(pairs), 100_000):
        est[s : s + 100_000] = (sig[i[s : s + 100_000]] == sig[j[s : s + 100_000]]).mean(axis=1)
    if opt.verify == "jaccard":
        involved = np.unique(pairs)
        sets = {int(p): tokenize(all_norm[p], shingle=opt.shingle, ngram=opt.ngram) for p in involved}
        score = np.fromiter(
            (len(sets[a] & sets[b]) / len(sets[a] | sets[b]) for a, b in zip(i.tolist(), j.tolist())),
            dtype=float,
            count=len(pairs),
        )
        ok = score >= opt.threshold
    else:
        score = est
        ok = score >= opt.threshold if opt.verify == "minhash" else np.ones(len(pairs), dtype=bool)
    i, j, score, est = i[ok], j[ok], score[ok], est[ok]
    removed = np.zeros(len(all_norm), dtype=bool)
    lab = np.concatenate([label.to_numpy()[syn_pos], np.full(len(all_norm) - n_syn, "", dtype=object)])

    def drop(p: int, partner: int, why: str, s: float, e: float, text: str) -> None:
        marks.set(syn_pos[p], why, all_id[partner], float(s), f"{text} (MinHash estimate {e:.2f})")
        removed[p] = True

    # Real rows come after every synthetic row, so a real partner is always j.
    real = j >= n_syn
    for k, why in ((1, "duplicates_real_test"), (2, "duplicates_real_train")):
        sel = np.flatnonzero(real & (kind[j] == k))
        sel = sel[np.lexsort((-score[sel], i[sel]))]
        for t in sel:
            if not removed[i[t]]:
                drop(int(i[t]), int(j[t]), why, score[t], est[t], f"near duplicate of a real {'test' if k == 1 else 'train'} line")
    sel = np.flatnonzero(~real)
    crossing = lab[i[sel]] != lab[j[sel]]
    # pairs with the same normalised text are already counted in cross_label_exact_groups
    stats["cross_label_near_pairs"] = int((crossing & (all_norm[i[sel]] != all_norm[j[sel]])).sum())
    if opt.cross_label == "keep":
        sel = sel[~crossing]
    sel = sel[np.lexsort((i[sel], -score[sel], j[sel]))]
    for t in sel:
        a, b = int(i[t]), int(j[t])
        if removed[b] or removed[a]:
            continue
        if lab[a] != lab[b]:
            drop(b, a, "cross_label_near_duplicate", score[t], est[t], f"near duplicate of a kept line with label {lab[a]}")
        else:
            drop(b, a, "near_duplicate", score[t], est[t], "near duplicate of a kept line")
