"""fastText coder: validated hyper-parameters, training with oversampling weights, top-k prediction
with the confidence index, aggregation of predictions up a hierarchy, save/load.

fastText must never run in a process that has llama.cpp loaded (a project rule: two native
runtimes with their own thread pools and allocators are kept apart); :meth:`FastTextClassifier.fit`,
:meth:`FastTextClassifier.predict` and :meth:`FastTextClassifier.load` raise :class:`~statcodgen.errors.ConfigError` when the
``llama_cpp`` module is imported. Run local-LLM generation and training in separate processes.

fastText-numpy2 0.10.4 appears to initialise the input matrix in 10 blocks, one per thread, so with
fewer than 10 threads part of the matrix is left uninitialised (measured: thread >= 10 never fails); on small models that memory is recycled
heap garbage and training fails with "Encountered NaN." (large models get fresh, zeroed pages).
:func:`_zeroed_allocations` asks glibc to zero every allocation during training (``M_PERTURB``),
so the uninitialised rows start at 0 (as they do on large models) and training is deterministic.

Reproducibility: fastText takes a ``seed``; with ``thread=1`` two trainings on the same data give
the same model. With more threads, the asynchronous SGD (Hogwild) makes runs differ slightly.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, model_validator

from .._validation import check_in, check_int, check_range, check_type
from ..errors import ConfigError, DataFormatError, InputError
from .preprocess import LANGUAGES, preprocess

__all__ = ["FastTextParams", "FastTextClassifier", "check_no_llama"]

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
_FASTTEXT_PROB_EPS = 1e-5  # fastText returns exp(log(p + 1e-5)); we subtract it back


def _default_thread() -> int:
    return max(1, min(2, os.cpu_count() or 1))


@contextlib.contextmanager
def _zeroed_allocations():  # type: ignore[no-untyped-def]
    """Make glibc malloc return zeroed memory inside the block (``mallopt(M_PERTURB, 0xff)``).

    Works around the partial initialisation of fastText's input matrix (see module docstring).
    A no-op where glibc is not available.
    """
    mallopt = None
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    m_perturb = -6
    if mallopt is not None:
        mallopt(m_perturb, 0xFF)  # malloc fills new blocks with 0xff ^ 0xff == 0
    try:
        yield
    finally:
        if mallopt is not None:
            mallopt(m_perturb, 0)


def _check_params(data: Any) -> Any:
    """Validate a dict of FastTextParams fields with the library's message shape."""
    if not isinstance(data, dict):
        return data
    allowed = list(FastTextParams.model_fields)
    for key in data:
        if key not in allowed:
            raise ConfigError(
                f"Unknown parameter {key!r} for {_FUNC}. Expected one of: {', '.join(allowed)}."
            )
    for key, (low, high) in _LIMITS_INT.items():
        if key in data:
            check_int(key, data[key], low, high, func=_FUNC)
    if "lr" in data:
        check_range("lr", data["lr"], 0.0, 10.0, func=_FUNC, low_open=True)
    if "loss" in data:
        check_in("loss", data["loss"], ("softmax", "ova", "hs"), func=_FUNC)
    minn = data.get("minn", FastTextParams.model_fields["minn"].default)
    maxn = data.get("maxn", FastTextParams.model_fields["maxn"].default)
    if maxn != 0 and maxn < minn:
        raise ConfigError(
            f"The 'maxn' parameter of {_FUNC} must be 0 (no subwords) or >= minn ({minn}). Got {maxn!r} instead."
        )
    return data


class FastTextParams(BaseModel):
    """fastText supervised hyper-parameters (names as in fastText).

    Defaults (dim 100, ws 5, lr 0.5, epoch 30, wordNgrams 2, minn 3, maxn 5, minCount 1,
    softmax) were chosen by measurement on the ONS UK SIC 2007 index (real data, seeded 80/20
    split, trained at NACE class level, scored at class and section level, mean of seeds 0 and 1;
    ``python benchmarks/bench_train.py --ons ../shared/data``): they beat INSEE's production
    settings (:meth:`insee`) on section accuracy (0.91 vs 0.89), section macro-F1 (0.70 vs 0.63)
    and class accuracy (0.49 vs 0.42) while training 2-4x faster. ``minCount`` 1 vs 3 made no
    measurable difference on the very short ONS entries (0.888 vs 0.891); 1 is kept so the rare
    words of scarce classes (the ones synthetic data is for) stay in the vocabulary. ``loss="hs"``
    trains ~5x faster but lost 4 points of section accuracy; epoch 20 lost 2.6 points. On an
    850,000-row stand-in with 730 labels the defaults take ~26 min on 2 cores (measured at 3
    epochs and extrapolated; ``benchmarks/bench_train.py``); INSEE's settings take ~2.5x longer.
    :meth:`benchmark` is the issue's measurement protocol (same values), :meth:`insee` the
    production reference. ``thread`` defaults to min(2, CPUs); use ``thread=1`` for bit-identical
    reruns.

    Bad values raise :class:`~statcodgen.errors.ConfigError`
    ("The 'dim' parameter of FastTextParams must be an int >= 1 and <= 1000. Got 0 instead.").
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    dim: int = 100
    ws: int = 5
    lr: float = 0.5
    epoch: int = 30
    wordNgrams: int = 2
    minn: int = 3
    maxn: int = 5
    minCount: int = 1
    bucket: int = 2_000_000
    loss: Literal["softmax", "ova", "hs"] = "softmax"
    thread: int = _default_thread()
    seed: int = 0

    def __init__(self, **data: Any) -> None:
        _check_params(data)
        super().__init__(**data)

    @model_validator(mode="before")
    @classmethod
    def _validate(cls, data: Any) -> Any:
        return _check_params(data)

    @classmethod
    def benchmark(cls, **overrides: Any) -> "FastTextParams":
        """The issue's measurement protocol: epoch 30, lr 0.5, wordNgrams 2, minn 3, maxn 5, dim 100."""
        base: dict[str, Any] = dict(epoch=30, lr=0.5, wordNgrams=2, minn=3, maxn=5, dim=100, minCount=1)
        base.update(overrides)
        return cls(**base)

    @classmethod
    def insee(cls, **overrides: Any) -> "FastTextParams":
        """INSEE's production settings: dim 180, ws 5, lr 0.2, epoch 50, wordNgrams 3, minn 3, maxn 4, minCount 3."""
        base: dict[str, Any] = dict(dim=180, ws=5, lr=0.2, epoch=50, wordNgrams=3, minn=3, maxn=4, minCount=3)
        base.update(overrides)
        return cls(**base)


def check_no_llama() -> None:
    """Raise :class:`ConfigError` if llama.cpp (``llama_cpp``) is loaded in this process."""
    if "llama_cpp" in sys.modules:
        raise ConfigError(
            "fastText must not run in a process where llama.cpp ('llama_cpp') is loaded: the two "
            "runtimes conflict. Run generation and training in separate processes "
            "(e.g. 'statcodgen generate' then 'statcodgen train')."
        )


def _as_str_list(values: Any, name: str, func: str) -> list[str]:
    if isinstance(values, str):
        raise ConfigError(f"The {name!r} parameter of {func} must be a sequence of str. Got a single str instead.")
    return [("" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)) for v in values]


class FastTextClassifier:
    """fastText text classifier with the library's preprocessing.

    Parameters
    ----------
    params : FastTextParams or dict or None (defaults).
    language : language of the texts (stopwords and stemmer).
    preprocess_kwargs : extra keyword arguments for :func:`statcodgen.modelling.preprocess.preprocess`
        (``stem``, ``remove_stopwords``).

    Fitted attributes: ``labels_`` (list of str, internal order), ``model_`` (fastText model),
    ``n_train_rows_`` (rows written to the training file after oversampling).
    """

    def __init__(
        self,
        params: FastTextParams | dict[str, Any] | None = None,
        *,
        language: str = "fr",
        preprocess_kwargs: dict[str, Any] | None = None,
    ) -> None:
        func = "FastTextClassifier"
        if params is None:
            params = FastTextParams()
        elif isinstance(params, dict):
            params = FastTextParams(**params)
        check_type("params", params, FastTextParams, func=func)
        check_in("language", language, LANGUAGES, func=func)
        kwargs = dict(preprocess_kwargs or {})
        for key in kwargs:
            check_in("preprocess_kwargs key", key, ("stem", "remove_stopwords"), func=func)
        self.params = params
        self.language = language
        self.preprocess_kwargs = kwargs

    # ------------------------------------------------------------------ helpers
    def _prep(self, texts: Sequence[str]) -> list[str]:
        return preprocess(texts, language=self.language, **self.preprocess_kwargs)

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise ConfigError("This FastTextClassifier is not fitted yet: call fit() or load() first.")

    @staticmethod
    def write_training_file(
        path: str | Path, texts: Sequence[str], label_ids: Sequence[int], weights: Sequence[int] | None, seed: int
    ) -> int:
        """Write ``__label__<id> text`` lines (rows repeated ``weight`` times, shuffled with ``seed``).

        ``texts`` must already be preprocessed (no newline). Returns the number of lines written.
        """
        ids = np.asarray(label_ids, dtype=np.int64)
        rep = np.ones(len(ids), dtype=np.int64) if weights is None else np.asarray(weights, dtype=np.int64)
        order = np.repeat(np.arange(len(ids)), rep)
        np.random.default_rng(seed).shuffle(order)
        text_arr = np.asarray(texts, dtype=object)
        lines = "__label__" + ids[order].astype(str).astype(object) + " " + text_arr[order] + "\n"
        with open(path, "w", encoding="utf-8") as fh:
            fh.write("".join(lines.tolist()))
        return int(len(order))

    # ------------------------------------------------------------------ fit
    def fit(self, texts: Sequence[str], labels: Sequence[Any], *, weights: Sequence[int] | None = None) -> "FastTextClassifier":
        """Train on ``texts`` (raw) and ``labels`` (codes, any str; spaces and dots allowed).

        ``weights``: optional non-negative integer oversampling factor per row (e.g. 3 for
        synthetic rows, 1 for real ones; 0 leaves the row out). Returns ``self``.
        """
        func = "FastTextClassifier.fit"
        check_no_llama()
        texts_l = _as_str_list(texts, "texts", func)
        labels_l = _as_str_list(labels, "labels", func)
        if len(texts_l) != len(labels_l):
            raise InputError(f"texts and labels have different lengths ({len(texts_l)} vs {len(labels_l)}).",
                             expected="one label per text")
        if not texts_l:
            raise InputError("no training rows.", expected="at least one text with its label")
        bad = [i for i, lab in enumerate(labels_l) if lab.strip() == ""]
        if bad:
            raise DataFormatError("empty label.", row=bad[0] + 1, column="label", expected="a non-empty code")
        w = None
        if weights is not None:
            w = np.asarray(list(weights))
            if len(w) != len(texts_l):
                raise ConfigError(
                    f"The 'weights' parameter of {func} must have one value per text ({len(texts_l)}). "
                    f"Got {len(w)} values instead."
                )
            if w.dtype.kind not in "iu" and not (w.dtype.kind == "f" and np.all(np.mod(w, 1) == 0)):
                raise ConfigError(f"The 'weights' parameter of {func} must be integers >= 0. Got dtype {w.dtype} instead.")
            w = w.astype(np.int64)
            if (w < 0).any():
                raise ConfigError(f"The 'weights' parameter of {func} must be integers >= 0. Got {int(w.min())} instead.")
            if w.sum() == 0:
                raise ConfigError(f"The 'weights' parameter of {func} must not be all 0.")
        codes, uniques = pd.factorize(pd.Series(labels_l, dtype=object), sort=True)
        prepped = self._prep(texts_l)
        import fasttext

        p = self.params
        with tempfile.TemporaryDirectory(prefix="statcodgen-ft-") as tmp:
            path = Path(tmp) / "train.txt"
            self.n_train_rows_ = self.write_training_file(path, prepped, codes, w, p.seed)
            with _zeroed_allocations():
                self.model_ = fasttext.train_supervised(
                    input=str(path), dim=p.dim, ws=p.ws, lr=p.lr, epoch=p.epoch, wordNgrams=p.wordNgrams,
                    minn=p.minn, maxn=p.maxn, minCount=p.minCount, bucket=p.bucket, loss=p.loss,
                    thread=p.thread, seed=p.seed, verbose=0,
                )
        self.labels_ = [str(u) for u in uniques]
        return self

    # ------------------------------------------------------------------ predict
    def _proba_array(self, prepped: list[str]) -> np.ndarray:
        """Full probability matrix (rows = texts, columns = ``labels_``) of preprocessed texts."""
        out = np.zeros((len(prepped), len(self.labels_)), dtype=np.float64)
        if prepped:
            labs, probs = self.model_.predict(prepped, k=-1)
            for i, (ls, ps) in enumerate(zip(labs, probs)):
                out[i, [int(lab[9:]) for lab in ls]] = ps
            out = np.clip(out - _FASTTEXT_PROB_EPS, 0.0, 1.0)
        return out

    def predict_proba(self, texts: Sequence[str]) -> pd.DataFrame:
        """Return the full probability matrix: one row per text, one column per label (``labels_``).

        Memory is rows × labels × 8 bytes: use :meth:`predict` for large test sets.
        """
        self._check_fitted()
        check_no_llama()
        prepped = self._prep(_as_str_list(texts, "texts", "FastTextClassifier.predict_proba"))
        return pd.DataFrame(self._proba_array(prepped), columns=list(self.labels_))

    @staticmethod
    def _topk_frame(idx: np.ndarray, values: np.ndarray, names: Sequence[str], k: int) -> pd.DataFrame:
        """Build the prediction frame from sorted top label indices (-1 = none) and probabilities."""
        n, have = idx.shape
        name_arr = np.asarray([*names, None], dtype=object)  # index -1 -> None
        cols: dict[str, Any] = {}
        for j in range(k):
            if j < have:
                cols[f"label_{j + 1}"] = name_arr[idx[:, j]]
                cols[f"prob_{j + 1}"] = np.where(idx[:, j] >= 0, values[:, j], 0.0)
            else:
                cols[f"label_{j + 1}"] = np.full(n, None, dtype=object)
                cols[f"prob_{j + 1}"] = np.zeros(n)
        df = pd.DataFrame(cols)
        df["label"] = df["label_1"]
        df["prob"] = df["prob_1"]
        p2 = np.where(idx[:, 1] >= 0, values[:, 1], 0.0) if have > 1 else np.zeros(n)
        df["confidence"] = np.clip(df["prob_1"].to_numpy() - p2, 0.0, 1.0)
        return df

    @staticmethod
    def _sorted_top(values: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        kk = min(k, values.shape[1])
        order = np.argsort(-values, axis=1, kind="stable")[:, :kk]
        return order, np.take_along_axis(values, order, axis=1)

    def predict(self, texts: Sequence[str], *, k: int = 3) -> pd.DataFrame:
        """Top-k prediction.

        Returns a DataFrame with one row per text (index 0..n-1) and columns
        ``label_1..label_k``, ``prob_1..prob_k`` (descending; label None / prob 0 beyond the
        number of labels), ``label`` and ``prob`` (top 1) and ``confidence`` = p1 − p2 in [0, 1].
        """
        check_int("k", k, 1, None, func="FastTextClassifier.predict")
        self._check_fitted()
        check_no_llama()
        prepped = self._prep(_as_str_list(texts, "texts", "FastTextClassifier.predict"))
        kk = min(max(k, 2), len(self.labels_))
        idx = np.full((len(prepped), kk), -1, dtype=np.int64)
        val = np.zeros((len(prepped), kk), dtype=np.float64)
        if prepped:
            labs, probs = self.model_.predict(prepped, k=kk)
            for i, (ls, ps) in enumerate(zip(labs, probs)):
                idx[i, : len(ls)] = [int(lab[9:]) for lab in ls]
                val[i, : len(ps)] = ps
            val = np.clip(val - _FASTTEXT_PROB_EPS, 0.0, 1.0)
        return self._topk_frame(idx, val, self.labels_, k)

    def predict_aggregated(
        self, texts: Sequence[str], hierarchy: Any, level: str, *, k: int = 3, chunk_size: int = 20_000
    ) -> pd.DataFrame:
        """Predict at the trained level, sum probabilities up to ``level`` of ``hierarchy``, take top-k.

        ``hierarchy`` is any object with ``aggregate(codes, level) -> pd.Series`` (e.g.
        :class:`statcodgen.classification.hierarchy.Hierarchy`). Same columns as :meth:`predict`; texts are
        scored ``chunk_size`` at a time so memory stays bounded.
        """
        func = "FastTextClassifier.predict_aggregated"
        check_int("k", k, 1, None, func=func)
        check_int("chunk_size", chunk_size, 1, None, func=func)
        self._check_fitted()
        check_no_llama()
        if not hasattr(hierarchy, "aggregate"):
            raise ConfigError(
                f"The 'hierarchy' parameter of {func} must have an "
                f"aggregate(codes, level) method. Got {type(hierarchy).__name__} instead."
            )
        parents = pd.Series(hierarchy.aggregate(list(self.labels_), level)).astype(str).to_numpy()
        codes, names = pd.factorize(parents, sort=True)
        member = np.zeros((len(self.labels_), len(names)))
        member[np.arange(len(codes)), codes] = 1.0
        prepped = self._prep(_as_str_list(texts, "texts", func))
        kk = min(max(k, 2), len(names))
        idx_parts, val_parts = [np.zeros((0, kk), dtype=np.int64)], [np.zeros((0, kk))]
        for start in range(0, len(prepped), chunk_size):
            agg = self._proba_array(prepped[start : start + chunk_size]) @ member
            order, vals = self._sorted_top(agg, kk)
            idx_parts.append(order)
            val_parts.append(vals)
        return self._topk_frame(np.vstack(idx_parts), np.vstack(val_parts), [str(x) for x in names], k)

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> Path:
        """Save to folder ``path``: ``model.bin`` (fastText) + ``params.json`` (params, labels,
        language, preprocessing). Returns the folder path."""
        self._check_fitted()
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        self.model_.save_model(str(folder / "model.bin"))
        meta = {
            "params": self.params.model_dump(),
            "labels": self.labels_,
            "language": self.language,
            "preprocess_kwargs": self.preprocess_kwargs,
            "n_train_rows": getattr(self, "n_train_rows_", None),
        }
        (folder / "params.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False), encoding="utf-8")
        return folder

    @classmethod
    def load(cls, path: str | Path) -> "FastTextClassifier":
        """Load a classifier saved with :meth:`save` (folder with model.bin and params.json)."""
        folder = Path(path)
        meta_path, bin_path = folder / "params.json", folder / "model.bin"
        for p in (meta_path, bin_path):
            if not p.is_file():
                raise DataFormatError("file not found.", file=p, expected="a folder written by FastTextClassifier.save")
        check_no_llama()
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            clf = cls(FastTextParams(**meta["params"]), language=meta["language"],
                      preprocess_kwargs=meta.get("preprocess_kwargs") or {})
            labels = [str(x) for x in meta["labels"]]
        except (KeyError, TypeError, json.JSONDecodeError) as exc:
            raise DataFormatError(f"cannot read model metadata ({exc}).", file=meta_path,
                                  expected="JSON with params, labels, language") from exc
        import fasttext

        clf.model_ = fasttext.load_model(str(bin_path))
        clf.labels_ = labels
        clf.n_train_rows_ = meta.get("n_train_rows")
        return clf
