"""The verification stage: every synthetic line is checked before it is trained on.

In: the cleaned synthetic lines (``text, code, label``), the real training rows, the notes and
their hierarchy, the targets. Out: a :class:`VerifyResult`: the verified lines (relabelled ones
carry ``old_code`` / ``old_label``), the dropped lines and the flagged ones, each with its
``reason``, a readable ``detail`` and the evidence (predicted code, probabilities, the note item it
matched, the judge's pick), the real rows that look mislabelled, and the stage's counts.

Evidence, in the order it decides:

1. **LLM judge** (optional, ``judge=True``): a line whose own code the judge does not pick is
   dropped (``judge_rejected``).
2. **Classifier** (:func:`~statcodgen.verification.evidence.classifier_evidence`): out-of-fold
   fastText on real rows + synthetic lines + note items, label issues found by cleanlab. A line
   with a label issue is relabelled (``relabelled``) when the predicted code is a target near its
   own (same ``near_level`` ancestor: a sibling class when judging classes), else dropped
   (``label_issue``). When classes are judged, the global model decides only whether a line is in
   its division; which class of the division it belongs to is decided by the sibling evidence
   (:mod:`~statcodgen.verification.siblings`: the global model within the division averaged with a
   local TF-IDF logistic regression, both out-of-fold).
3. **Notes** (:class:`~statcodgen.verification.notes_match.NotesMatcher`): a line that matches a
   near code's Includes much better than its own code's notes is moved to that code when that code
   belongs to a target (``notes_relabelled``; at section level this only refines ``code``), else
   kept and flagged (``notes_closer``).

The real rows are judged by the same out-of-fold model; those cleanlab lists are reported in
``real_suspects`` and never changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._io import frames_exist, read_frames, read_json, write_frames, write_json
from .._validation import check_int, check_range
from ..errors import ConfigError
from .evidence import classifier_evidence
from .notes_match import NotesMatcher

__all__ = ["VerifyOptions", "VerifyResult", "verify", "VERIFY_REASONS"]

#: Every reason a verified, dropped or flagged line can carry.
VERIFY_REASONS = ("judge_rejected", "label_issue", "relabelled", "notes_relabelled", "notes_closer")

_EVIDENCE = ["predicted", "p_predicted", "p_given", "quality", "sibling_predicted", "p_sibling_given", "matched_code", "matched_score",
             "matched_item", "judged_code"]


@dataclass(frozen=True)
class VerifyOptions:
    """Options of :func:`verify` (keyword-only, validated).

    ``level``: judge at this level (None: the lines' ``label`` level); ``k``: folds;
    ``near_level``: how close a predicted code must be to be a relabel rather than a drop;
    ``classifier`` / ``notes`` / ``judge``: which evidence runs; ``notes_min_score`` /
    ``notes_margin``: the notes rule; ``max_given_prob``: a cleanlab label issue is acted on only when
    the line's own label has an out-of-fold probability below this (measured on planted errors in
    ``benchmarks/bench_verify.py``, English, section level: 0.2 raised the precision from 0.82 to 0.86, 0.1 to 0.90,
    for a recall of 0.95, 0.95 and 0.92); ``siblings``: when the judged labels are finer than
    ``near_level`` (classes judged, divisions near), judge each line within its division too
    (:mod:`~statcodgen.verification.siblings`): the global model then only decides whether the line
    is in its division (cleanlab at division level, its mass on the division < ``max_group_prob``:
    a division's mass is spread over fewer codes than a section's, so 0.05 rather than 0.1), and a
    line whose label gets < ``max_sibling_prob`` from the sibling evidence, which prefers another
    code of the division, is moved to that code or dropped, unless the notes veto it: its own code's
    note items match it better than that code's by more than ``sibling_notes_veto`` (None: no veto).
    These values were chosen on planted sibling errors with plant seeds 1 and 2 and checked on the
    benchmark's seed 0 (``benchmarks/bench_verify.py``, BENCHMARKS §10); the local models use
    ``sibling_k`` folds (10 rather than 5 raised that precision by 0.02–0.03 for about twice their
    time); ``real_suspects``: also list the real rows that look
    mislabelled; ``max_real_rows``: at most this many real rows per label take part (seeded cap;
    the model only needs enough of each label); ``bucket``: hash buckets of the out-of-fold models
    (at most this many; None keeps ``params.bucket``: 200,000 trains 1.8x faster than fastText's 2M
    and ranks labels as well on the planted errors of ``benchmarks/bench_verify.py``); ``epoch``:
    passes of the out-of-fold models (None keeps ``params.epoch``; 15 instead of 30 took 0.64x the
    time with recall 0.86 and precision 0.88 against 0.89 and 0.87 on the English planted errors);
    ``seed``.
    """

    level: str | None = None
    k: int = 5
    near_level: str = "division"
    classifier: bool = True
    notes: bool = True
    judge: bool = False
    notes_min_score: float = 0.35
    notes_margin: float = 0.2
    max_given_prob: float = 0.1
    siblings: bool = True
    max_group_prob: float = 0.05
    max_sibling_prob: float = 0.3
    sibling_k: int = 10
    sibling_notes_veto: float | None = 0.05
    judge_max_candidates: int = 8
    real_suspects: bool = True
    max_real_rows: int | None = 2000
    bucket: int | None = 200_000
    epoch: int | None = 15
    seed: int = 0

    def __post_init__(self) -> None:
        f = "VerifyOptions"
        check_int("k", self.k, 2, 20, func=f)
        check_range("notes_min_score", self.notes_min_score, 0.0, 1.0, func=f)
        check_range("notes_margin", self.notes_margin, 0.0, 1.0, func=f)
        check_range("max_given_prob", self.max_given_prob, 0.0, 1.0, func=f)
        check_range("max_sibling_prob", self.max_sibling_prob, 0.0, 1.0, func=f)
        check_range("max_group_prob", self.max_group_prob, 0.0, 1.0, func=f)
        if self.sibling_notes_veto is not None:
            check_range("sibling_notes_veto", self.sibling_notes_veto, 0.0, 1.0, func=f)
        check_int("sibling_k", self.sibling_k, 2, 50, func=f)
        check_int("judge_max_candidates", self.judge_max_candidates, 2, 50, func=f)
        if self.max_real_rows is not None:
            check_int("max_real_rows", self.max_real_rows, 1, func=f)
        if self.bucket is not None:
            check_int("bucket", self.bucket, 1000, func=f)
        if self.epoch is not None:
            check_int("epoch", self.epoch, 1, 1000, func=f)


@dataclass(frozen=True)
class VerifyResult:
    """``verified`` lines (to train on), ``dropped`` and ``flagged`` lines (with reason, detail and
    evidence), ``relabelled`` (the verified lines whose label or code changed, with the old ones),
    ``real_suspects`` (real rows that look mislabelled), ``stats`` (counts, judge tokens)."""

    verified: pd.DataFrame
    dropped: pd.DataFrame
    flagged: pd.DataFrame
    relabelled: pd.DataFrame
    real_suspects: pd.DataFrame
    stats: dict[str, Any] = field(default_factory=dict)

    _FRAMES = ("verified", "dropped", "flagged", "relabelled", "real_suspects")

    def save(self, directory: str | Path) -> None:
        """Write the five frames as parquet and ``stats.json`` to ``directory`` (atomically)."""
        from ..cleaning.stage import storable

        write_frames(directory, {n: storable(getattr(self, n)) if n != "verified" else getattr(self, n) for n in self._FRAMES})
        write_json(self.stats, Path(directory) / "stats.json")

    @classmethod
    def exists(cls, directory: str | Path) -> bool:
        """Whether ``directory`` holds a saved result."""
        return frames_exist(directory, cls._FRAMES) and (Path(directory) / "stats.json").is_file()

    @classmethod
    def load(cls, directory: str | Path) -> "VerifyResult":
        """Read a result written by :meth:`save`."""
        f = read_frames(directory, cls._FRAMES)
        return cls(**f, stats=read_json(Path(directory) / "stats.json"))


def _near(hierarchy: Any, a: str, b: str, level: str) -> bool:
    """Whether codes ``a`` and ``b`` share their ancestor at ``level`` (False when either is coarser)."""
    try:
        return hierarchy.ancestor(a, level) == hierarchy.ancestor(b, level)
    except Exception:  # noqa: BLE001 - a code coarser than the level, or unknown
        return False


def verify(
    lines: pd.DataFrame,
    *,
    real_train: pd.DataFrame | None,
    notes: pd.DataFrame,
    hierarchy: Any,
    targets: list[str],
    target_level: str,
    language: str = "en",
    params: Any = None,
    options: VerifyOptions | None = None,
    judge_config: Any = None,
    journal_path: str | Path | None = None,
    progress: bool = True,
) -> VerifyResult:
    """Verify ``lines`` (see the module docstring); ``targets`` are labels at ``target_level``.

    ``params``: fastText parameters of the out-of-fold models (a ``FastTextParams`` or dict);
    ``judge_config`` (an :class:`~statcodgen.llm.LLMConfig`) and ``journal_path`` are needed when
    ``options.judge`` is on. Out: :class:`VerifyResult`; ``verified`` keeps the input columns.
    """
    o = options or VerifyOptions()
    for col in ("text", "code", "label"):
        if col not in lines.columns:
            raise ConfigError(f"The 'lines' parameter of verify must have a {col!r} column. Got {list(lines.columns)}.")
    if o.judge and (judge_config is None or journal_path is None):
        raise ConfigError("verify(judge=True) needs judge_config (an LLMConfig) and journal_path (where the judge's answers are journalled).")
    df = lines.reset_index(drop=True).copy()
    ev = pd.DataFrame(index=df.index, columns=_EVIDENCE, dtype=object)
    reason = pd.Series([None] * len(df), dtype=object)
    detail = pd.Series([""] * len(df), dtype=object)
    new_code, new_label = df["code"].astype(str).copy(), df["label"].astype(str).copy()
    stats: dict[str, Any] = {"lines": len(df)}
    suspects = pd.DataFrame(columns=["text", "code", "label", "predicted", "p_predicted", "p_given", "quality"])
    tset = set(map(str, targets))

    if o.judge and len(df):
        from .judge import llm_judge

        j, jstats = llm_judge(df, hierarchy=hierarchy, notes=notes, config=judge_config, journal_path=journal_path,
                              max_candidates=o.judge_max_candidates, progress=progress)
        ev["judged_code"] = j["judged_code"].to_numpy()
        rejected = (j["confirms"] == False).to_numpy()  # noqa: E712 - None (no answer) is not a rejection
        reason[rejected] = "judge_rejected"
        detail[rejected] = [f"the judge picked {c} among {', '.join(cs)}" for c, cs in zip(j["judged_code"][rejected], j["candidates"][rejected])]
        stats["judge"] = {k: v for k, v in jstats.items() if isinstance(v, (int, float, str, bool))}
        stats["judge"]["unanswered"] = int(j["confirms"].isna().sum())

    if o.classifier and len(df) >= o.k:
        real = _capped(real_train, o.max_real_rows, o.seed)
        frames = {"synthetic": df} | ({"real": real} if real is not None and len(real) else {})
        e = classifier_evidence(frames, notes=notes, hierarchy=hierarchy, level=o.level, k=o.k, params=_evidence_params(params, o.bucket, o.epoch),
                                language=language, seed=o.seed, sibling_level=o.near_level if o.siblings else None, sibling_k=o.sibling_k,
                                progress=progress)
        syn = e[e["source"] == "synthetic"].set_index("row").reindex(df.index)
        for c in ("predicted", "p_predicted", "p_given", "quality") + (("sibling_predicted", "p_sibling_given") if "p_sibling_given" in syn else ()):
            ev[c] = syn[c].to_numpy()
        judged_level = o.level or target_level
        veto = _notes_veto(syn, notes, hierarchy, o)
        acted, pred_col, p_col, g_col, scope = _classifier_decisions(syn, o, veto)
        for i in np.flatnonzero(acted & reason.isna().to_numpy()):
            pred, given = str(syn.at[i, pred_col[i]]), str(syn.at[i, "label"])
            pred_label = hierarchy.aggregate([pred], target_level, errors="coerce").iloc[0] if judged_level != target_level else pred
            why = (f"a model that never saw it predicts {pred}{scope[i]} (p={syn.at[i, p_col[i]]:.2f}; "
                   f"its label {given}: p={syn.at[i, g_col[i]]:.2f})")
            if pred_label in tset and _near(hierarchy, pred, given, o.near_level):
                reason[i], detail[i] = "relabelled", why + f"; moved to the near target {pred}"
                new_label[i] = pred_label
                if judged_level != target_level or pred in hierarchy:
                    new_code[i] = pred
            else:
                reason[i], detail[i] = "label_issue", why
        stats["classifier"] = {"k": o.k, "level": judged_level, "issues": int(syn["issue"].sum()), "acted_on": int(acted.sum()),
                               "real_rows": int(len(frames.get("real", [])))}
        if "p_sibling_given" in syn:
            stats["classifier"]["within_division"] = int((pred_col == "sibling_predicted")[acted].sum())
            stats["classifier"]["notes_vetoed"] = int(veto.sum()) if veto is not None else 0
        if o.real_suspects and "real" in frames:
            r = e[(e["source"] == "real") & e["issue"]].sort_values("quality")
            suspects = r[["text", "code", "label", "predicted", "p_predicted", "p_given", "quality"]].reset_index(drop=True)
            stats["classifier"]["real_suspects"] = len(suspects)

    if o.notes and len(df):
        m = NotesMatcher(notes, hierarchy, near_level=o.near_level, min_score=o.notes_min_score, margin=o.notes_margin)
        nm = m.match(df["text"].astype(str).tolist(), new_code.tolist())
        for c in ("matched_code", "matched_score", "matched_item"):
            ev[c] = nm[c].to_numpy()
        for i in np.flatnonzero(nm["closer_code"].notna().to_numpy() & (reason.isna() | (reason == "relabelled")).to_numpy()):
            code = str(nm.at[i, "closer_code"])
            label = hierarchy.aggregate([code], target_level, errors="coerce").iloc[0]
            why = (f"matches {code}'s note item {str(nm.at[i, 'matched_item'])[:80]!r} ({nm.at[i, 'matched_score']:.2f}) better than "
                   f"its own code {new_code[i]}'s notes ({nm.at[i, 'own_score']:.2f})")
            if label in tset and reason[i] is None:
                reason[i], detail[i] = "notes_relabelled", why + f"; moved to {code}"
                new_code[i], new_label[i] = code, label
            elif reason[i] is None:
                reason[i], detail[i] = "notes_closer", why
        stats["notes"] = {"closer": int(nm["closer_code"].notna().sum())}

    out = df.assign(code=new_code, label=new_label)
    changed = (new_code != df["code"].astype(str)) | (new_label != df["label"].astype(str))
    full = pd.concat([out, ev], axis=1).assign(reason=reason, detail=detail)
    drop = reason.isin(["judge_rejected", "label_issue"]).to_numpy()
    relab = changed.to_numpy() & ~drop
    old = {"old_code": np.where(relab, df["code"].astype(str), None), "old_label": np.where(relab, df["label"].astype(str), None)}
    verified = out.assign(**old)[~drop]
    relabelled = full.assign(**old)[relab]
    flagged = full[(reason == "notes_closer").to_numpy()]
    stats.update({"verified": int((~drop).sum()), "dropped": int(drop.sum()), "relabelled": int(relab.sum()),
                  "flagged": len(flagged), "by_reason": {str(k): int(v) for k, v in reason.value_counts().items()}})
    return VerifyResult(verified.reset_index(drop=True), full[drop].reset_index(drop=True), flagged.reset_index(drop=True),
                        relabelled.reset_index(drop=True), suspects, stats)


def _classifier_decisions(syn: pd.DataFrame, o: VerifyOptions, veto: np.ndarray | None = None
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Which lines the classifier evidence acts on, and the columns each decision reads.

    Without sibling evidence: cleanlab's issue with p(own label) < ``max_given_prob``. With it (the
    labels are finer than ``near_level``): a line is out of its group when cleanlab finds an issue on
    the group-level probabilities and the mass on its own group is < ``max_group_prob`` (the global
    prediction decides); otherwise it is on the wrong sibling when the sibling evidence gives its
    label < ``max_sibling_prob`` and prefers another code of the group (that code decides), unless
    ``veto`` (the notes side with its own code) says no.
    Out: (acted mask, predicted column, its probability column, the label's probability column, a
    note for the detail), per line.
    """
    n = len(syn)
    pred = np.full(n, "predicted", dtype=object)
    p_pred, p_given, scope = np.full(n, "p_predicted", dtype=object), np.full(n, "p_given", dtype=object), np.full(n, "", dtype=object)
    if "p_sibling_given" not in syn:
        return syn["issue"].to_numpy(dtype=bool) & (syn["p_given"].to_numpy(dtype=float) < o.max_given_prob), pred, p_pred, p_given, scope
    far = syn["group_issue"].fillna(False).to_numpy(dtype=bool) & (syn["p_group_given"].to_numpy(dtype=float) < o.max_group_prob)
    near = ~far & _sibling_candidates(syn, o)
    if veto is not None:
        near &= ~veto
    pred[near], p_pred[near], p_given[near] = "sibling_predicted", "p_sibling_predicted", "p_sibling_given"
    scope[near] = " among the codes of its " + o.near_level
    scope[far] = ", outside its " + o.near_level
    return far | near, pred, p_pred, p_given, scope


def _sibling_candidates(syn: pd.DataFrame, o: VerifyOptions) -> np.ndarray:
    """Lines whose label the sibling evidence gives < ``max_sibling_prob`` while it prefers another code."""
    sib = np.nan_to_num(syn["p_sibling_given"].to_numpy(dtype=float), nan=1.0)
    return (sib < o.max_sibling_prob) & (syn["sibling_predicted"] != syn["label"]).to_numpy()


def _notes_veto(syn: pd.DataFrame, notes: pd.DataFrame, hierarchy: Any, o: VerifyOptions) -> np.ndarray | None:
    """Lines whose own code's note items match them better than the sibling evidence's pick by more
    than ``o.sibling_notes_veto`` (None without sibling evidence or veto). Only the candidates are scored."""
    if o.sibling_notes_veto is None or "p_sibling_given" not in syn:
        return None
    cand = _sibling_candidates(syn, o)
    veto = np.zeros(len(syn), dtype=bool)
    if cand.any():
        m = NotesMatcher(notes, hierarchy, near_level=o.near_level)
        texts = syn["text"].astype(str).to_numpy()[cand].tolist()
        own = m.code_scores(texts, syn["label"].astype(str).to_numpy()[cand].tolist())
        other = m.code_scores(texts, syn["sibling_predicted"].astype(str).to_numpy()[cand].tolist())
        veto[cand] = own - other > o.sibling_notes_veto
    return veto


def _evidence_params(params: Any, bucket: int | None, epoch: int | None) -> Any:
    """``params`` (FastTextParams or dict) with at most ``bucket`` hash buckets and ``epoch`` passes."""
    from ..modelling.params import FastTextParams

    p = params if isinstance(params, FastTextParams) else FastTextParams(**(params or {}))
    update: dict[str, Any] = {}
    if bucket is not None and p.bucket > bucket:
        update["bucket"] = bucket
    if epoch is not None:
        update["epoch"] = epoch
    return p.model_copy(update=update) if update else p


def _capped(real: pd.DataFrame | None, max_rows: int | None, seed: int) -> pd.DataFrame | None:
    if real is None or max_rows is None:
        return real
    from ..modelling.experiments import cap_per_label

    return cap_per_label(real, max_rows, seed=seed).reset_index(drop=True)
