"""Sibling evidence: which code of its own division does a line belong to?

A model over every code of the classification judges well whether a line is in the right section
or division, but spreads its probability among sibling classes whose lines share most of their
words ("EXTRACTION OF CRUDE PETROLEUM" for 06.10 or 06.20). This module gives, for each judged row,
probabilities over the codes of its own *group* (the ancestor at ``near_level``: its division)
only, from two models that never saw the row:

- the global out-of-fold fastText probabilities, renormalised within the group;
- a **local** model per group: TF-IDF of word 1–2-grams and character 3–5-grams with a
  multinomial logistic regression (scikit-learn), trained out-of-fold (``k`` folds) on the group's
  judged rows plus the group's training-only rows (real rows, note items).

The two are averaged. The local model runs in two rounds: the second trains without the judged
rows the first round finds unlikely (probability of their own label under ``exclude_below``), so a
mislabelled line does not teach its wrong label to the model that judges its neighbours
(iterative noise filtering, as in Brodley & Friedl, 1999). Measured on planted sibling errors
(``benchmarks/bench_verify.py``, BENCHMARKS §10), this lifts recall and precision from about 0.6 to
0.80–0.85 and 0.81–0.93 (English, French). Cost: one logistic regression per fold, round and group; on
about 80 divisions and 11,000 lines (the ONS class study) that took about 14 minutes on 2 cores.

In: judged texts, labels and groups, the global probabilities and their classes with each class's
group, training-only extra rows. Out: a matrix [n_judged, n_classes], zero outside each row's group.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from tqdm.auto import tqdm

from .._validation import check_int, check_range
from ..errors import InputError

__all__ = ["sibling_probabilities"]

_MAX_ITER = 3000  # lbfgs iterations of each local model


def sibling_probabilities(
    texts: Sequence[str],
    labels: Sequence[str],
    groups: Sequence[str],
    global_probs: np.ndarray,
    classes: Sequence[str],
    class_groups: Sequence[str],
    *,
    extra_texts: Sequence[str] = (),
    extra_labels: Sequence[str] = (),
    extra_groups: Sequence[str] = (),
    k: int = 5,
    C: float = 10.0,
    exclude_below: float = 0.3,
    seed: int = 0,
    progress: bool = False,
) -> np.ndarray:
    """Probabilities over the codes of each judged row's own group (see the module docstring).

    ``texts, labels, groups``: the judged rows, each label's group at the near level;
    ``global_probs`` [n_judged, n_classes] over ``classes`` (each in group ``class_groups[j]``);
    ``extra_*``: rows the local models train on but never judge. ``C``: the logistic regression's
    inverse regularisation; ``exclude_below``: the second round's exclusion threshold (0 disables
    the second round). Out: float matrix [n_judged, n_classes]; each row sums to 1 over its group.
    """
    check_int("k", k, 2, 50, func="sibling_probabilities")
    check_range("C", C, 1e-6, 1e6, func="sibling_probabilities")
    check_range("exclude_below", exclude_below, 0.0, 1.0, func="sibling_probabilities")
    texts, labels, groups = [str(t).lower() for t in texts], np.asarray(labels, dtype=object), np.asarray(groups, dtype=object)
    probs = np.asarray(global_probs, dtype=float)
    classes, class_groups = [str(c) for c in classes], np.asarray(class_groups, dtype=object)
    if not (len(texts) == len(labels) == len(groups) == len(probs)) or probs.shape[1:] != (len(classes),) \
            or len(class_groups) != len(classes) or not (len(extra_texts) == len(extra_labels) == len(extra_groups)):
        raise InputError("sibling_probabilities: texts, labels, groups and the rows of global_probs must have one length, "
                         "classes and class_groups the width of global_probs, and the extra_* arguments one length.",
                         expected="aligned inputs")
    col = {c: i for i, c in enumerate(classes)}
    if unknown := sorted({str(y) for y in labels} - set(col)):
        raise InputError(f"sibling_probabilities: labels {unknown[:5]} are not among the classes.", expected="labels among classes")
    in_group = class_groups[None, :] == groups[:, None]
    fast = np.where(in_group, probs, 0.0)
    sums = fast.sum(axis=1, keepdims=True)
    fast = np.divide(fast, sums, out=in_group / np.maximum(in_group.sum(axis=1, keepdims=True), 1), where=sums > 0)
    extra = (np.asarray([str(t).lower() for t in extra_texts], dtype=object), np.asarray(extra_labels, dtype=object),
             np.asarray(extra_groups, dtype=object))
    given = np.array([col[str(y)] for y in labels], dtype=int)
    local = _local(texts, labels, groups, extra, col, k=k, C=C, seed=seed, exclude=None, progress=progress)
    out = (fast + local) / 2
    if exclude_below > 0:
        unlikely = out[np.arange(len(given)), given] < exclude_below
        local = _local(texts, labels, groups, extra, col, k=k, C=C, seed=seed, exclude=unlikely, progress=progress)
        out = (fast + local) / 2
    return out


def _local(texts: list[str], labels: np.ndarray, groups: np.ndarray, extra: tuple[np.ndarray, np.ndarray, np.ndarray],
           col: dict[str, int], *, k: int, C: float, seed: int, exclude: np.ndarray | None, progress: bool) -> np.ndarray:
    """Out-of-fold probabilities of one local model per group; rows in ``exclude`` are judged but never trained on."""
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import KFold, StratifiedKFold

    out = np.zeros((len(texts), len(col)))
    ex_t, ex_y, ex_g = extra
    for g in tqdm(sorted(set(groups)), desc="verify: siblings", unit="division", disable=not progress):
        idx = np.flatnonzero(groups == g)
        keep = ex_g == g
        et, ey = list(ex_t[keep]), list(ex_y[keep])
        if len(set(labels[idx]) | set(ey)) == 1:
            out[idx, col[str(labels[idx[0]])]] = 1.0
            continue
        n_splits = min(k, len(idx))
        if n_splits < 2:  # one judged row: trained on the extra rows alone
            folds = [(np.array([], dtype=int), np.arange(len(idx)))]
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # a label with fewer rows than folds
                try:
                    folds = list(StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed).split(idx, labels[idx]))
                except ValueError:  # every label has fewer rows than folds
                    folds = list(KFold(n_splits=n_splits, shuffle=True, random_state=seed).split(idx))
        for fit, held in folds:
            if exclude is not None:
                fit = fit[~exclude[idx[fit]]]
            fit_t = [texts[i] for i in idx[fit]] + et
            fit_y = [str(y) for y in labels[idx[fit]]] + [str(y) for y in ey]
            if len(set(fit_y)) < 2:
                if fit_y:
                    out[idx[held], col[fit_y[0]]] = 1.0
                else:
                    out[idx[held], [col[str(y)] for y in labels[idx[held]]]] = 1.0
                continue
            words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True)
            chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
            x_fit = hstack([words.fit_transform(fit_t), chars.fit_transform(fit_t)]).tocsr()
            held_t = [texts[i] for i in idx[held]]
            x_held = hstack([words.transform(held_t), chars.transform(held_t)]).tocsr()
            model = LogisticRegression(C=C, max_iter=_MAX_ITER).fit(x_fit, fit_y)
            out[np.ix_(idx[held], [col[str(c)] for c in model.classes_])] = model.predict_proba(x_held)
    return out
