"""Classifier evidence: out-of-fold fastText probabilities and cleanlab's confident learning.

In: the lines to judge (synthetic lines and real training rows, ``text`` and ``label``), the
notes (whose title and Includes items become extra training rows, so that the model knows every
code, even one with two real rows), fastText parameters. Out: an evidence frame with, for every
judged row, the label a model that never saw that row predicts, its probability, the probability
of the given label, cleanlab's label-quality score and whether cleanlab lists it as a label issue.

Each row is judged by a model trained on the other ``k - 1`` folds plus the note rows
(:func:`out_of_fold_probabilities`), so a line cannot vouch for itself. The label issues are
found by :func:`cleanlab.filter.find_label_issues` on those out-of-fold probabilities: the
standard confident-learning estimate, not rewritten here.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .._validation import check_int
from ..errors import InputError

__all__ = ["note_rows", "out_of_fold_probabilities", "classifier_evidence", "EVIDENCE_COLUMNS", "SIBLING_COLUMNS"]

#: Columns of the frame :func:`classifier_evidence` returns.
EVIDENCE_COLUMNS = ["source", "row", "text", "code", "label", "predicted", "p_predicted", "p_given", "quality", "issue"]
#: Columns added when it judges the sibling level too (``sibling_level``): the group (the ancestor at
#: that level) of the label, the group the global model puts the row in, its probability mass on the
#: label's group, cleanlab's issue at group level, and the sibling evidence within the label's group
#: (:func:`~statcodgen.verification.siblings.sibling_probabilities`; NaN outside the judged groups).
SIBLING_COLUMNS = ["group", "group_predicted", "p_group_given", "group_issue", "sibling_predicted", "p_sibling_predicted",
                   "p_sibling_given"]

_NOTE_LISTS = ("includes", "also_includes")


def note_rows(notes: pd.DataFrame, hierarchy: Any, level: str) -> pd.DataFrame:
    """The title and every Includes / Also includes item of each note as a row labelled at ``level``.

    In: the notes (``load_notes`` schema), their :class:`~statcodgen.classification.Hierarchy`, a
    level. Codes coarser than ``level`` (a section's own note when judging classes) are skipped.
    Out: DataFrame[text, code, label], one row per title or item.
    """
    from ..generation.offline import note_items

    rows = []
    for rec in notes.to_dict("records"):
        code = str(rec["code"])
        label = hierarchy.aggregate([code], level, errors="coerce").iloc[0] if code in hierarchy else None
        if label is None:
            continue
        texts = [str(rec.get("title") or "")] + [item for col in _NOTE_LISTS for item in note_items(rec, col)]
        rows += [(t.strip(), code, label) for t in texts if t and t.strip()]
    return pd.DataFrame(rows, columns=["text", "code", "label"])


def out_of_fold_probabilities(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    extra_texts: Sequence[str] = (),
    extra_labels: Sequence[str] = (),
    k: int = 5,
    params: Any = None,
    language: str = "en",
    seed: int = 0,
    progress: bool = False,
) -> tuple[np.ndarray, list[str]]:
    """Probabilities of every label for each text, from the model of the fold that left it out.

    The judged rows are cut into ``k`` stratified folds (labels with fewer rows than folds are
    spread as far as they go); each fold is predicted by a fastText model trained on the other
    folds plus every ``extra`` row (never judged). Out: (matrix [n_texts, n_classes], classes), the
    classes sorted, every label of ``labels`` and ``extra_labels`` among them.
    """
    from sklearn.model_selection import StratifiedKFold

    from ..modelling.params import FastTextParams
    from ..modelling.preprocess import preprocess
    from ..modelling.train import FastTextClassifier

    check_int("k", k, 2, 50, func="out_of_fold_probabilities")
    texts, labels = [str(t) for t in texts], [str(y) for y in labels]
    if len(texts) != len(labels) or len(extra_texts) != len(extra_labels):
        raise InputError("texts and labels (and extra_texts and extra_labels) must have the same length.",
                         expected="one label per text")
    if len(texts) < k:
        raise InputError(f"{len(texts)} rows to judge, fewer than the k={k} folds.", expected=f"at least {k} rows")
    p = params if isinstance(params, FastTextParams) else FastTextParams(**(params or {}))
    prepped = np.asarray(preprocess(texts, language=language), dtype=object)
    extra = preprocess([str(t) for t in extra_texts], language=language)
    classes = sorted(set(labels) | {str(y) for y in extra_labels})
    col = {c: i for i, c in enumerate(classes)}
    y = np.asarray(labels, dtype=object)
    out = np.zeros((len(texts), len(classes)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "The least populated class has only 1 member"
        folds = list(StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))
    for fold, (fit_idx, held_idx) in enumerate(tqdm(folds, desc="verify: out-of-fold", unit="fold", disable=not progress)):
        clf = FastTextClassifier(p.model_copy(update={"seed": seed + fold}), language=language)
        clf.fit(list(prepped[fit_idx]) + extra, list(y[fit_idx]) + [str(v) for v in extra_labels], preprocessed=True)
        proba = clf.predict_proba(list(prepped[held_idx]), preprocessed=True).to_numpy()
        cols = [col[c] for c in clf.labels_]
        out[np.ix_(held_idx, cols)] = proba
        del clf
    sums = out.sum(axis=1, keepdims=True)
    return np.divide(out, sums, out=np.full_like(out, 1.0 / len(classes)), where=sums > 0), classes


def classifier_evidence(
    frames: dict[str, pd.DataFrame],
    *,
    notes: pd.DataFrame | None = None,
    hierarchy: Any = None,
    level: str | None = None,
    k: int = 5,
    params: Any = None,
    language: str = "en",
    seed: int = 0,
    sibling_level: str | None = None,
    sibling_sources: Sequence[str] = ("synthetic",),
    sibling_k: int | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Out-of-fold predictions and cleanlab label issues for every row of ``frames``.

    ``frames`` maps a source name (``"synthetic"``, ``"real"``) to a frame with ``text, label``
    (and ``code``); all are judged together. ``level``: judge at this level of ``hierarchy``
    (labels re-aggregated from ``code``); None judges the ``label`` column as it is. ``notes`` +
    ``hierarchy``: their titles and Includes items are extra training rows (see :func:`note_rows`).
    ``sibling_level`` (e.g. ``"division"`` when judging classes): also judge each row within its
    label's ancestor at that level, the group, as :data:`SIBLING_COLUMNS` say: the global model at
    group level (with cleanlab) and :func:`~statcodgen.verification.siblings.sibling_probabilities`
    for the rows of the groups that hold rows of ``sibling_sources``, with ``sibling_k`` folds
    (None: ``k``). Ignored when the judged labels
    are not finer than that level. Out: DataFrame[:data:`EVIDENCE_COLUMNS` (+ :data:`SIBLING_COLUMNS`)],
    ``row`` = position in its source frame.
    """
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    parts = []
    for source, df in frames.items():
        for col in ("text", "label"):
            if col not in df.columns:
                raise InputError(f"the {source!r} frame has no {col!r} column.", expected="text, label (and code)")
        part = pd.DataFrame({"source": source, "row": np.arange(len(df)), "text": df["text"].astype(str).to_numpy(),
                             "code": (df["code"] if "code" in df else df["label"]).astype(str).to_numpy(),
                             "label": df["label"].astype(str).to_numpy()})
        if level is not None:
            part["label"] = hierarchy.aggregate(part["code"], level).to_numpy()
        parts.append(part)
    judged = pd.concat(parts, ignore_index=True)
    extra = note_rows(notes, hierarchy, level or _label_level(judged, hierarchy)) if notes is not None and hierarchy is not None \
        else pd.DataFrame(columns=["text", "label"])
    probs, classes = out_of_fold_probabilities(judged["text"].tolist(), judged["label"].tolist(), extra_texts=extra["text"].tolist(),
                                               extra_labels=extra["label"].tolist(), k=k, params=params, language=language,
                                               seed=seed, progress=progress)
    given = judged["label"].map({c: i for i, c in enumerate(classes)}).to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # classes with too few examples: they are still judged
        issue = find_label_issues(given, probs, filter_by="prune_by_noise_rate", n_jobs=1)
        quality = get_label_quality_scores(given, probs)
    best = probs.argmax(axis=1)
    judged["predicted"] = np.asarray(classes, dtype=object)[best]
    judged["p_predicted"] = probs[np.arange(len(best)), best]
    judged["p_given"] = probs[np.arange(len(given)), given]
    judged["quality"] = quality
    judged["issue"] = issue & (judged["predicted"] != judged["label"]).to_numpy()
    if sibling_level is None or hierarchy is None:
        return judged[EVIDENCE_COLUMNS]
    groups = _groups(judged["label"], hierarchy, sibling_level)
    class_groups = _groups(pd.Series(classes), hierarchy, sibling_level).to_numpy()
    if (groups == judged["label"]).all():  # the labels are not finer than the sibling level
        return judged[EVIDENCE_COLUMNS]
    _group_evidence(judged, probs, given, groups.to_numpy(), class_groups)
    at = judged["group"].isin(set(judged.loc[judged["source"].isin(list(sibling_sources)), "group"])).to_numpy()
    judged["sibling_predicted"], judged["p_sibling_predicted"], judged["p_sibling_given"] = None, np.nan, np.nan
    if at.any():
        from .siblings import sibling_probabilities

        sub = judged[at]
        sp = sibling_probabilities(sub["text"].tolist(), sub["label"].tolist(), sub["group"].tolist(), probs[at], classes, class_groups,
                                   extra_texts=extra["text"].tolist(), extra_labels=extra["label"].tolist(),
                                   extra_groups=_groups(extra["label"], hierarchy, sibling_level).tolist() if len(extra) else [],
                                   k=sibling_k or k, seed=seed, progress=progress)
        best = sp.argmax(axis=1)
        judged.loc[at, "sibling_predicted"] = np.asarray(classes, dtype=object)[best]
        judged.loc[at, "p_sibling_predicted"] = sp[np.arange(len(best)), best]
        judged.loc[at, "p_sibling_given"] = sp[np.arange(len(best)), given[at]]
    return judged[EVIDENCE_COLUMNS + SIBLING_COLUMNS]


def _groups(labels: pd.Series, hierarchy: Any, level: str) -> pd.Series:
    """Each label's ancestor at ``level`` (the label itself when it is unknown or not finer)."""
    labels = labels.astype(str)
    return hierarchy.aggregate(labels, level, errors="coerce").fillna(labels).astype(object)


def _group_evidence(judged: pd.DataFrame, probs: np.ndarray, given: np.ndarray, groups: np.ndarray, class_groups: np.ndarray) -> None:
    """The global model's answer at group level, added to ``judged``: the probability mass of each
    group, the group it puts the row in, and cleanlab's label issues on that group-level matrix."""
    from cleanlab.filter import find_label_issues

    names = sorted(set(class_groups))
    gcol = {g: i for i, g in enumerate(names)}
    of_class = np.array([gcol[g] for g in class_groups])
    mass = np.zeros((len(probs), len(names)))
    np.add.at(mass.T, of_class, probs.T)
    g_given = of_class[given]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        issue = find_label_issues(g_given, mass, filter_by="prune_by_noise_rate", n_jobs=1) if len(names) > 1 else np.zeros(len(probs), bool)
    best = mass.argmax(axis=1)
    judged["group"] = groups
    judged["group_predicted"] = np.asarray(names, dtype=object)[best]
    judged["p_group_given"] = mass[np.arange(len(best)), g_given]
    judged["group_issue"] = issue & (best != g_given)


def _label_level(judged: pd.DataFrame, hierarchy: Any) -> str:
    """The hierarchy level of the judged labels (the level of the first label the hierarchy knows)."""
    for label in judged["label"].unique():
        if label in hierarchy:
            return hierarchy.level(label)
    raise InputError("none of the labels is a code of the hierarchy.", expected="labels at a level of the notes' hierarchy")
