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
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_in, check_int, check_type
from ..errors import ConfigError, DataFormatError, InputError
from .params import FastTextParams
from ..text.languages import available_languages
from .preprocess import preprocess

__all__ = ["FastTextClassifier", "check_no_llama"]

_FASTTEXT_PROB_EPS = 1e-5  # fastText returns exp(log(p + 1e-5)); we subtract it back


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
    ``n_train_rows_`` (rows written to the training file after oversampling), ``train_prior_``
    (label -> share of the training file), ``prior_`` (the :class:`~statcodgen.modelling.prior.PriorCorrection`
    set by :meth:`set_prior`, or None), ``fallback_`` / ``gate_targets_`` (set by :meth:`set_fallback`:
    the real-only model that answers every row this one does not assign to a target, or None).
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
        check_in("language", language, available_languages(), func=func)
        kwargs = dict(preprocess_kwargs or {})
        for key in kwargs:
            check_in("preprocess_kwargs key", key, ("stem", "remove_stopwords"), func=func)
        self.params = params
        self.language = language
        self.preprocess_kwargs = kwargs

    # ------------------------------------------------------------------ helpers
    def _prep(self, texts: Sequence[str]) -> list[str]:
        return preprocess(texts, language=self.language, **self.preprocess_kwargs)

    def preprocess_texts(self, texts: Sequence[str]) -> list[str]:
        """``texts`` as this classifier feeds them to fastText (for ``preprocessed=True`` calls)."""
        return self._prep(_as_str_list(texts, "texts", "FastTextClassifier.preprocess_texts"))

    def _texts(self, texts: Sequence[str], preprocessed: bool, func: str) -> list[str]:
        values = _as_str_list(texts, "texts", func)
        return values if preprocessed else self._prep(values)

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
    def fit(self, texts: Sequence[str], labels: Sequence[Any], *, weights: Sequence[int] | None = None,
            preprocessed: bool = False) -> "FastTextClassifier":
        """Train on ``texts`` (raw) and ``labels`` (codes, any str; spaces and dots allowed).

        ``weights``: optional non-negative integer oversampling factor per row (e.g. 3 for
        synthetic rows, 1 for real ones; 0 leaves the row out). ``preprocessed=True``: the texts
        already went through :meth:`preprocess_texts` (experiments preprocess each set once).
        ``epoch``/``loss`` ``"auto"`` are resolved for the training file's rows and the labels;
        the values used are in ``fitted_params_``. Returns ``self``.
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
        prepped = texts_l if preprocessed else self._prep(texts_l)
        import fasttext

        n_rows = len(texts_l) if w is None else int(w.sum())
        p = self.fitted_params_ = self.params.resolve(n_rows, len(uniques))
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
        counts = np.bincount(codes, weights=None if w is None else w, minlength=len(uniques)).astype(float)
        self.train_prior_ = {lab: float(max(c, 0.5) / max(1.0, counts.sum())) for lab, c in zip(self.labels_, counts)}
        self.prior_ = None
        self.fallback_, self.gate_targets_ = None, []
        return self

    def set_prior(self, prior: Any, *, strength: float = 1.0) -> "FastTextClassifier":
        """Correct every later prediction from the training prior toward ``prior`` (logit adjustment).

        ``prior``: label -> count or share, or None to remove the correction. Labels it does not
        name keep their training share; the named ones share the rest in proportion to their
        values (a label named with 0 gets half the smallest named value). ``strength`` in [0, 5]
        (1 = Bayes correction). The correction is saved with the model. Returns ``self``.
        """
        from .prior import PriorCorrection, label_prior

        self._check_fitted()
        if prior is None:
            self.prior_ = None
            return self
        given = {str(k): float(v) for k, v in dict(prior).items() if str(k) in self.train_prior_}
        if not given:
            raise ConfigError(f"The 'prior' of FastTextClassifier.set_prior names none of the model's labels "
                              f"({', '.join(self.labels_[:8])}...).")
        rest = 1.0 - sum(v for k, v in self.train_prior_.items() if k not in given)
        shares = {k: v * rest for k, v in label_prior(given).items()}
        shares.update({k: v for k, v in self.train_prior_.items() if k not in given})
        self.prior_ = PriorCorrection(dict(self.train_prior_), shares, float(strength))
        return self

    def set_fallback(self, base: "FastTextClassifier | None", targets: Sequence[str] = ()) -> "FastTextClassifier":
        """Gate the predictions on the targets: a row whose top label (after the prior correction) is not one of
        ``targets`` gets ``base``'s probabilities instead (a model trained on the real rows alone).

        The synthetic lines then decide only whether a row belongs to a target: the labels nobody asked to
        fill keep the real-only model's answers, apart from the rows moved to a target. ``base`` must be
        fitted with the same language and preprocessing; None removes the gate. The gate and ``base`` are
        saved with the model. Returns ``self``.
        """
        func = "FastTextClassifier.set_fallback"
        self._check_fitted()
        if base is None:
            self.fallback_, self.gate_targets_ = None, []
            return self
        check_type("base", base, FastTextClassifier, func=func)
        base._check_fitted()
        if base.language != self.language or base.preprocess_kwargs != self.preprocess_kwargs:
            raise ConfigError(f"The 'base' model of {func} must preprocess like this one (language {self.language!r}, "
                              f"{self.preprocess_kwargs}). Got {base.language!r}, {base.preprocess_kwargs}.")
        names = [str(t) for t in _as_str_list(targets, "targets", func)]
        unknown = sorted(set(names) - set(self.labels_))
        if not names or unknown:
            raise ConfigError(f"The 'targets' of {func} must be labels of the model. Got {names[:8]!r}"
                              + (f"; not labels: {unknown[:8]}" if unknown else " (empty)") + ".")
        self.fallback_, self.gate_targets_ = base, sorted(set(names))
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
            if getattr(self, "prior_", None) is not None:
                out = self.prior_.adjust(out, self.labels_)
            if getattr(self, "fallback_", None) is not None:
                out = self._gate(out, prepped)
        return out

    def _gate(self, out: np.ndarray, prepped: list[str]) -> np.ndarray:
        """Rows whose top label is not a gate target get the fallback model's probabilities."""
        is_target = np.isin(np.asarray(self.labels_, dtype=object), self.gate_targets_)
        rows = np.flatnonzero(~is_target[out.argmax(axis=1)])
        if len(rows):
            base = self.fallback_._proba_array([prepped[i] for i in rows])
            pos = {lab: j for j, lab in enumerate(self.labels_)}
            keep = [j for j, lab in enumerate(self.fallback_.labels_) if lab in pos]
            out[rows] = 0.0
            out[np.ix_(rows, [pos[self.fallback_.labels_[j]] for j in keep])] = base[:, keep]
        return out

    def predict_proba(self, texts: Sequence[str], *, preprocessed: bool = False) -> pd.DataFrame:
        """Return the full probability matrix: one row per text, one column per label (``labels_``).

        Memory is rows × labels × 8 bytes: use :meth:`predict` for large test sets.
        ``preprocessed=True``: the texts come from :meth:`preprocess_texts`.
        """
        self._check_fitted()
        check_no_llama()
        prepped = self._texts(texts, preprocessed, "FastTextClassifier.predict_proba")
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

    def predict(self, texts: Sequence[str], *, k: int = 3, preprocessed: bool = False) -> pd.DataFrame:
        """Top-k prediction.

        Returns a DataFrame with one row per text (index 0..n-1) and columns
        ``label_1..label_k``, ``prob_1..prob_k`` (descending; label None / prob 0 beyond the
        number of labels), ``label`` and ``prob`` (top 1) and ``confidence`` = p1 − p2 in [0, 1].
        ``preprocessed=True``: the texts come from :meth:`preprocess_texts`.
        """
        check_int("k", k, 1, None, func="FastTextClassifier.predict")
        self._check_fitted()
        check_no_llama()
        prepped = self._texts(texts, preprocessed, "FastTextClassifier.predict")
        kk = min(max(k, 2), len(self.labels_))
        if getattr(self, "prior_", None) is not None or getattr(self, "fallback_", None) is not None:
            # the correction and the gate re-rank: every label's probability is needed
            order, vals = self._sorted_top(self._proba_array(prepped), kk)
            return self._topk_frame(order, vals, self.labels_, k)
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
    def quantize(self, *, cutoff: int = 0, dsub: int = 2, qnorm: bool = True) -> "FastTextClassifier":
        """Compress the fitted model in place (fastText product quantisation; saved as ``model.ftz``).

        ``cutoff`` > 0 also keeps only that many words and n-grams (without retraining). The
        size/accuracy trade-off is measured in ``benchmarks/bench_scale.py``. Returns ``self``.
        """
        self._check_fitted()
        check_int("cutoff", cutoff, 0, None, func="FastTextClassifier.quantize")
        check_int("dsub", dsub, 1, 64, func="FastTextClassifier.quantize")
        check_no_llama()
        self.model_.quantize(cutoff=cutoff, dsub=dsub, qnorm=qnorm, retrain=False)
        self.quantized_ = True
        if getattr(self, "fallback_", None) is not None and not getattr(self.fallback_, "quantized_", False):
            self.fallback_.quantize(cutoff=cutoff, dsub=dsub, qnorm=qnorm)
        return self

    def save(self, path: str | Path) -> Path:
        """Save to folder ``path``: ``model.bin`` (``model.ftz`` once quantised) + ``params.json``
        (the parameters used, labels, language, preprocessing, prior correction, gate targets), and the
        gate's fallback model in ``path/fallback``. Returns the folder path."""
        self._check_fitted()
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        quantized = getattr(self, "quantized_", False)
        for stale in ("model.bin", "model.ftz"):
            (folder / stale).unlink(missing_ok=True)
        self.model_.save_model(str(folder / ("model.ftz" if quantized else "model.bin")))
        meta = {
            "params": getattr(self, "fitted_params_", self.params).model_dump(),
            "quantized": quantized,
            "labels": self.labels_,
            "language": self.language,
            "preprocess_kwargs": self.preprocess_kwargs,
            "n_train_rows": getattr(self, "n_train_rows_", None),
            "train_prior": getattr(self, "train_prior_", None),
            "prior_correction": None if getattr(self, "prior_", None) is None else self.prior_.to_dict(),
            "gate_targets": list(getattr(self, "gate_targets_", None) or []) if getattr(self, "fallback_", None) is not None else [],
        }
        if meta["gate_targets"]:
            self.fallback_.save(folder / "fallback")
        elif (folder / "fallback").is_dir():
            import shutil

            shutil.rmtree(folder / "fallback")
        (folder / "params.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False), encoding="utf-8")
        return folder

    @classmethod
    def load(cls, path: str | Path) -> "FastTextClassifier":
        """Load a classifier saved with :meth:`save` (folder with model.bin and params.json)."""
        folder = Path(path)
        meta_path = folder / "params.json"
        bin_path = folder / "model.ftz" if (folder / "model.ftz").is_file() else folder / "model.bin"
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
        clf.fitted_params_ = clf.params
        clf.quantized_ = bool(meta.get("quantized", False))
        clf.n_train_rows_ = meta.get("n_train_rows")
        clf.train_prior_ = meta.get("train_prior") or {}
        pc = meta.get("prior_correction")
        if pc:
            from .prior import PriorCorrection

            clf.prior_ = PriorCorrection.from_dict(pc)
        else:
            clf.prior_ = None
        clf.fallback_, clf.gate_targets_ = None, []
        if meta.get("gate_targets"):
            clf.set_fallback(cls.load(folder / "fallback"), meta["gate_targets"])
        return clf
