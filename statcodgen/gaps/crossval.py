"""Which codes the real data alone codes badly: cross-validated F1 of fastText per code.

In: the real *training* rows (``text`` + ``code``, or ``text`` + ``label``; never the test rows),
the level, fastText parameters. Out: one row per code present in the rows,
DataFrame[label, support, f1, precision, recall, most_confused_with, n_confused, rank, note],
worst first. Used by ``worst:K`` targets (:mod:`statcodgen.gaps.targets`); a count threshold
(``under:N``) misses codes that have rows but whose rows read like a neighbour's, this catches them.

How: the rows are cut into ``k`` folds, stratified by code (every code's rows spread evenly over the
folds, each fold about the same size); for every fold a model is trained on the other folds and
predicts the held-out rows; precision, recall and F1 are computed once on the pooled out-of-fold
predictions. Texts are preprocessed once. On the ONS index (11k rows, 613 classes, 2 cores) the
3 trainings take about 10 s.

Codes with fewer rows than folds: with 2 ≤ n < k rows, the rows go to n different folds, so each row
is predicted by a model that saw the code's other rows (a leave-one-out for that code; noisier,
said in ``note``). A code with a single row cannot be scored (held out, the model never saw the
code, F1 would be 0 by construction): its ``f1`` is NaN, it has no ``rank`` and ``worst:K`` skips
it (``under:N`` is the selector for thin codes); its row is still held out once, so the codes it
is mistaken for pay for the confusion in their precision.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_in, check_int, check_type
from ..classification.hierarchy import LEVELS, Hierarchy
from ..errors import ConfigError, DataFormatError, InputError

__all__ = ["cross_validated_f1", "assign_folds", "CV_COLUMNS"]

#: Columns of :func:`cross_validated_f1`.
CV_COLUMNS = ["label", "support", "f1", "precision", "recall", "most_confused_with", "n_confused", "rank", "note"]


def _labels_of(real: pd.DataFrame, level: str, hierarchy: Hierarchy | None, func: str) -> np.ndarray:
    if hierarchy is not None:
        check_type("hierarchy", hierarchy, Hierarchy, func=func)
        if "code" not in real.columns:
            raise DataFormatError(f"the real data has no 'code' column; columns are {list(real.columns)}.", column="code",
                                  expected="a 'code' column (see sources.datasets.load_labelled)")
        return hierarchy.aggregate(real["code"], level).astype(str).to_numpy(dtype=object)
    if "label" not in real.columns:
        raise ConfigError(f"The 'hierarchy' parameter of {func} must be given when the real data has no 'label' column "
                          f"(columns are {list(real.columns)}). Got None instead.")
    if real["label"].isna().any():
        row = int(np.flatnonzero(real["label"].isna().to_numpy())[0]) + 1
        raise DataFormatError("empty label.", row=row, column="label", expected=f"a {level} code on every row")
    return real["label"].astype(str).to_numpy(dtype=object)


def assign_folds(labels: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Fold number (0..k-1) of every row: stratified by label, folds of equal size (±1), seeded.

    The rows are shuffled, grouped by label (labels in a random order) and dealt out to the folds
    in turn, so a label's rows land in consecutive folds and a label with fewer rows than folds
    has each row in a different fold.
    """
    n = len(labels)
    order = np.random.default_rng(seed).permutation(n)
    label_ids, _ = pd.factorize(pd.Series(labels[order], dtype=object))
    grouped = order[np.argsort(label_ids, kind="stable")]
    fold = np.empty(n, dtype=np.int64)
    fold[grouped] = np.arange(n) % k
    return fold


def _confusions(truth: np.ndarray, pred: np.ndarray) -> pd.DataFrame:
    """Per label: the label it is most confused with (its rows predicted as it, or its rows predicted as this one)."""
    wrong = truth != pred
    if not wrong.any():
        return pd.DataFrame(columns=["label", "most_confused_with", "n_confused"])
    a, b = truth[wrong], pred[wrong]
    both = pd.DataFrame({"label": np.concatenate([a, b]), "other": np.concatenate([b, a])})
    counts = both.value_counts().rename("n_confused").reset_index()
    counts = counts.sort_values(["label", "n_confused", "other"], ascending=[True, False, True], kind="stable")
    top = counts.drop_duplicates("label").rename(columns={"other": "most_confused_with"})
    return top[["label", "most_confused_with", "n_confused"]]


def cross_validated_f1(
    real: pd.DataFrame,
    *,
    level: str,
    k: int = 3,
    params: Any = None,
    language: str = "en",
    seed: int = 0,
    hierarchy: Hierarchy | None = None,
    text_column: str = "text",
) -> pd.DataFrame:
    """Per-code F1 of a fastText model trained on the real rows alone, by stratified ``k``-fold cross-validation.

    Parameters
    ----------
    real : the real **training** rows (never the test rows): ``text`` and either ``code`` (with
        ``hierarchy``: aggregated to ``level``) or ``label`` (already at ``level``).
    level : the level of the codes scored (``"class"``, ``"section"``...).
    k : number of folds (>= 2).
    params : :class:`~statcodgen.modelling.FastTextParams` (or a dict of its fields); default
        ``FastTextParams()``. ``epoch``/``loss`` ``"auto"`` are resolved for each fold's training
        size and number of codes (:meth:`FastTextParams.resolve`); ``thread`` is taken from it.
    language : language of the texts (preprocessing).
    seed : the fold assignment and fastText's seed.
    hierarchy : the hierarchy of ``real["code"]``; without it the ``label`` column is used.

    Returns
    -------
    DataFrame[label, support, f1, precision, recall, most_confused_with, n_confused, rank, note],
    one row per code present in ``real``, ranked worst first (lowest F1; ties: more rows first, then
    the code) with unscored codes (a single row, ``f1`` NaN, ``rank`` missing) last. ``support`` is
    the number of real rows, ``most_confused_with`` the code with the most mistakes in either direction
    (this code's rows predicted as it, plus its rows predicted as this code: ``n_confused``), None
    when there is none. ``attrs``: ``k``, ``level``, ``n_rows``, ``seconds``, ``params`` (those of
    the last fold's fit).
    """
    from ..modelling.params import FastTextParams
    from ..modelling.train import FastTextClassifier

    func = "cross_validated_f1"
    check_type("real", real, pd.DataFrame, func=func)
    check_in("level", level, LEVELS, func=func)
    check_int("k", k, 2, 50, func=func)
    check_int("seed", seed, 0, 2**31 - 1, func=func)
    if params is None:
        params = FastTextParams()
    elif isinstance(params, dict):
        params = FastTextParams(**params)
    check_type("params", params, FastTextParams, func=func)
    if text_column not in real.columns:
        raise DataFormatError(f"the real data has no {text_column!r} column; columns are {list(real.columns)}.",
                              column=text_column, expected="the text of every real row")
    labels = _labels_of(real, level, hierarchy, func)
    if len(labels) < k:
        raise InputError(f"{len(labels)} real rows cannot be cut into {k} folds.", expected=f"at least {k} rows")
    if len(pd.unique(labels)) < 2:
        raise InputError(f"the real rows have a single {level} code, there is nothing to confuse it with.",
                         expected="rows of at least 2 codes")
    start = time.perf_counter()
    clf = FastTextClassifier(params.model_copy(update={"seed": seed}), language=language)
    texts = clf.preprocess_texts(real[text_column].tolist())
    texts_arr = np.asarray(texts, dtype=object)
    fold = assign_folds(labels, k, seed)
    pred = np.empty(len(labels), dtype=object)
    fitted = None
    for i in range(k):
        train, test = fold != i, fold == i
        clf.fit(texts_arr[train].tolist(), labels[train].tolist(), preprocessed=True)
        pred[test] = clf.predict(texts_arr[test].tolist(), k=1, preprocessed=True)["label"].to_numpy(dtype=object)
        fitted = clf.fitted_params_
    pred = np.where(pd.isna(pred), "__none__", pred).astype(object)
    seconds = time.perf_counter() - start

    from sklearn.metrics import precision_recall_fscore_support

    codes = sorted(pd.unique(labels))
    prec, rec, f1, sup = precision_recall_fscore_support(labels, pred, labels=codes, zero_division=0)
    out = pd.DataFrame({"label": codes, "support": sup.astype(int), "f1": f1, "precision": prec, "recall": rec})
    out = out.merge(_confusions(labels, pred), on="label", how="left")
    out["n_confused"] = out["n_confused"].fillna(0).astype(int)
    out["most_confused_with"] = out["most_confused_with"].astype(object).where(out["most_confused_with"].notna(), None)
    single = out["support"] < 2
    out.loc[single, ["f1", "precision", "recall"]] = np.nan
    out["note"] = ""
    out.loc[single, "note"] = "1 row: nothing to learn from when it is held out; not scored (see under:N)"
    few = (out["support"] >= 2) & (out["support"] < k)
    out.loc[few, "note"] = [f"{n} rows < {k} folds: each row held out once" for n in out.loc[few, "support"]]
    out = out.sort_values(["f1", "support", "label"], ascending=[True, False, True], na_position="last", kind="stable")
    out = out.reset_index(drop=True)
    n_scored = int((~single).sum())
    out["rank"] = pd.array([i + 1 if i < n_scored else pd.NA for i in range(len(out))], dtype="Int64")
    out = out[CV_COLUMNS]
    out.attrs = {"k": k, "level": level, "n_rows": int(len(labels)), "seconds": round(seconds, 2),
                 "params": fitted.model_dump() if fitted is not None else {}}
    return out
