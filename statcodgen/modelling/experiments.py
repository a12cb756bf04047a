"""Experiments: train fastText on real data with and without synthetic data, evaluate on real test data.

In: a real train/test split (``text, code, label``) and named synthetic sets (generation output
schema). Out: an :class:`ExperimentResult` of tidy DataFrames (per-label and overall metrics per
variant and seed, confusion matrices, automatic-coding curves, optional learning curve) that the
report consumes. The test set is always real; synthetic lines equal (after normalisation) to a test
text are removed before training, whatever the caller did before.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .._validation import check_int
from ..errors import ConfigError
from .prior import attraction_rate
from .results import ExperimentResult

__all__ = [
    "split_real",
    "simulate_scarcity",
    "random_scarcity",
    "drop_test_leaks",
    "fit_predict",
    "training_set",
    "cap_per_label",
    "run_experiments",
    "target_summary",
]


PER_LABEL_COLUMNS = ["variant", "seed", "label", "precision", "recall", "f1", "support"]
OVERALL_COLUMNS = ["variant", "seed", "accuracy", "macro_f1", "weighted_f1", "top3_accuracy"]


def split_real(
    real: pd.DataFrame, *, test_size: float = 0.2, seed: int = 0, label_col: str = "label"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stratified train/test split of real data; labels with a single row stay in train.

    In: DataFrame with ``label_col``. Out: (train, test), both keeping the original index.
    """
    from sklearn.model_selection import train_test_split

    if not 0 < test_size < 1:
        raise ConfigError(f"The 'test_size' parameter of split_real must be in (0, 1). Got {test_size!r} instead.")
    counts = real[label_col].value_counts()
    singles = real[real[label_col].isin(counts[counts < 2].index)]
    rest = real.drop(singles.index)
    train, test = train_test_split(rest, test_size=test_size, random_state=seed, stratify=rest[label_col])
    return pd.concat([train, singles]).sort_index(), test.sort_index()


def simulate_scarcity(
    train: pd.DataFrame, keep: dict[str, int], *, seed: int = 0, label_col: str = "label"
) -> pd.DataFrame:
    """Keep only ``keep[label]`` random rows of each named label in ``train`` (others untouched).

    Used for studies on data where the gap does not exist (e.g. the ONS index): ``{"B": 2}``.
    """
    parts = []
    for label, group in train.groupby(label_col, sort=False):
        if label in keep:
            k = check_int(f"simulate_scarcity[{label!r}]", keep[label], 0, func="simulate_scarcity")
            group = group.sample(n=min(k, len(group)), random_state=seed)
        parts.append(group)
    unknown = sorted(set(keep) - set(train[label_col]))
    if unknown:
        raise ConfigError(
            f"The 'keep' parameter of simulate_scarcity names labels absent from the training data: {unknown}."
        )
    return pd.concat(parts).sort_index()


def random_scarcity(
    train: pd.DataFrame, *, n: int, keep: int = 1, min_rows: int = 20, seed: int = 0, label_col: str = "label"
) -> dict[str, int]:
    """A seeded random scarcity plan: ``n`` labels drawn among those with at least ``min_rows`` rows of ``train``, each
    to be cut to ``keep`` rows (the input of :func:`simulate_scarcity`).

    ``train`` must be the real *training* rows only (the test part never decides which labels are drawn,
    and is never cut). The draw depends only on the eligible labels (sorted) and ``seed``: the same
    training part and seed give the same set. Out: ``{label: keep}``, sorted by label. Raises
    :class:`ConfigError` when ``keep >= min_rows`` (nothing would be cut) or fewer than ``n`` labels are eligible.
    """
    func = "random_scarcity"
    check_int("n", n, 1, func=func)
    check_int("keep", keep, 0, func=func)
    check_int("min_rows", min_rows, 1, func=func)
    check_int("seed", seed, 0, func=func)
    if keep >= min_rows:
        raise ConfigError(f"The 'keep' parameter of {func} must be below min_rows ({min_rows}), or nothing is cut. Got {keep!r} instead.")
    counts = train[label_col].astype(str).value_counts()
    eligible = sorted(counts[counts >= min_rows].index)
    if len(eligible) < n:
        raise ConfigError(f"The 'n' parameter of {func} asks for {n} labels with at least {min_rows} training rows, but only "
                          f"{len(eligible)} of the {len(counts)} labels have that many; lower n (random) or min_rows.")
    rng = np.random.default_rng(seed)
    drawn = sorted(eligible[i] for i in rng.choice(len(eligible), size=n, replace=False))
    return {label: keep for label in drawn}


def drop_test_leaks(synthetic: pd.DataFrame, test: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Remove synthetic lines whose normalised text equals a real test text. Returns (kept, n_removed)."""
    from ..text.normalize import normalize_series

    test_norm = set(normalize_series(test["text"].astype(str)))
    mask = normalize_series(synthetic["text"].astype(str)).isin(test_norm)
    return synthetic[~mask.to_numpy()], int(mask.sum())


def training_set(
    real: pd.DataFrame, synthetic: pd.DataFrame | None = None, *, synthetic_weight: int = 1
) -> tuple[list[str], list[str], list[int] | None]:
    """(texts, labels, weights) for fastText: the real rows, then the synthetic rows.

    Both frames need ``text, label``. ``weights`` is None unless ``synthetic_weight > 1``, in
    which case real rows weigh 1 and synthetic rows ``synthetic_weight`` (oversampling factor).
    """
    check_int("synthetic_weight", synthetic_weight, 1, func="training_set")
    texts = real["text"].astype(str).tolist()
    labels = real["label"].astype(str).tolist()
    if synthetic is None or not len(synthetic):
        return texts, labels, None
    weights = [1] * len(texts) + [synthetic_weight] * len(synthetic) if synthetic_weight > 1 else None
    return texts + synthetic["text"].astype(str).tolist(), labels + synthetic["label"].astype(str).tolist(), weights


def fit_predict(
    train_texts: list[str],
    train_labels: list[str],
    weights: list[int] | None,
    test_texts: list[str],
    *,
    params: Any,
    language: str,
    seed: int,
    preprocessed: bool = False,
    prior: dict[str, float] | None = None,
    prior_strength: float = 1.0,
) -> tuple[Any, pd.DataFrame]:
    """Fit a fastText classifier on the training lines and predict the top 3 labels of ``test_texts``.

    ``params``: a ``FastTextParams`` or a dict of its fields (``seed`` is replaced by ``seed``);
    ``weights``: per training line, or None; ``preprocessed``: both text lists are already
    preprocessed for ``language``; ``prior`` (label -> count or share) and ``prior_strength``: the
    classifier's prior correction (:meth:`FastTextClassifier.set_prior`), none when ``prior`` is None.
    Returns (fitted classifier, its ``predict(test_texts, k=3)`` DataFrame).
    """
    from .params import FastTextParams
    from .train import FastTextClassifier

    p = params if isinstance(params, FastTextParams) else FastTextParams(**(params or {}))
    p = p.model_copy(update={"seed": seed})
    clf = FastTextClassifier(p, language=language)
    clf.fit(train_texts, train_labels, weights=weights, preprocessed=preprocessed)
    if prior is not None and prior_strength > 0:
        clf.set_prior(prior, strength=prior_strength)
    return clf, clf.predict(test_texts, k=3, preprocessed=preprocessed)


def gate_predictions(pred: pd.DataFrame, base: pd.DataFrame, targets: list[str]) -> pd.DataFrame:
    """Gate a synthetic model's prediction frame on the targets: rows whose top label is not a target take
    the real-only model's row of ``base`` (same texts, same columns). Out: a new frame."""
    out = pred.copy()
    other = ~out["label"].astype(str).isin([str(t) for t in targets]).to_numpy()
    if other.any():
        out.loc[other, list(out.columns)] = base.loc[other, list(out.columns)].to_numpy()
    return out


def cap_per_label(df: pd.DataFrame, max_rows: int, *, seed: int = 0, label_col: str = "label") -> pd.DataFrame:
    """At most ``max_rows`` rows per label: a seeded random sample of each larger label, the rest untouched.

    The head labels do not need all their rows to measure a gap in the thin ones; the same cap and
    seed give every variant of an experiment the same real rows. The original index order is kept.
    """
    check_int("max_rows", max_rows, 1, func="cap_per_label")
    counts = df[label_col].value_counts()
    big = counts[counts > max_rows].index
    if not len(big):
        return df
    head = df[df[label_col].isin(big)]
    kept = head.groupby(label_col, group_keys=False, sort=False).sample(n=max_rows, random_state=seed)
    return pd.concat([df[~df[label_col].isin(big)], kept]).sort_index()


class _Prepared:
    """Each frame's texts preprocessed once (fastText's tokenisation) and reused by every job."""

    def __init__(self, language: str) -> None:
        self.language = language
        self._done: dict[int, tuple[pd.DataFrame, pd.DataFrame]] = {}  # id -> (the frame, its prepared twin)

    def __call__(self, df: pd.DataFrame | None) -> pd.DataFrame | None:
        if df is None:
            return None
        hit = self._done.get(id(df))
        if hit is None or hit[0] is not df:
            from .preprocess import preprocess

            hit = self._done[id(df)] = (df, df.assign(text=preprocess(df["text"].astype(str).tolist(), language=self.language)))
        return hit[1]


def _job_key(texts: list[str], labels: list[str], weights: list[int] | None, seed: int, corrected: bool = False) -> str:
    """Fingerprint of a training job: two jobs with the same key train the same model (and correct it alike)."""
    h = hashlib.sha1()
    for part in (texts, labels, [str(w) for w in weights] if weights else ["-"], [str(seed), str(corrected)]):
        h.update("\x1f".join(part).encode("utf-8"))
        h.update(b"\x1e")
    return h.hexdigest()


def _job(spec: tuple[Any, ...], test_texts: list[str], params: Any, language: str, save_to: str | None) -> pd.DataFrame:
    """One training in a worker process: its predictions (the model saved to ``save_to`` when asked)."""
    variant, seed, frac, n_syn, texts, ys, weights, prior, key = spec
    clf, pred = fit_predict(texts, ys, weights, test_texts, params=params, language=language, seed=seed, preprocessed=True,
                            **prior)
    if save_to:
        clf.save(save_to)
    return pred


def _train_all(todo: list[tuple[Any, ...]], wanted: set[str], test_texts: list[str], *, params: Any, language: str,
               n_jobs: int, progress: bool) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """Predictions of every distinct training job (and the fitted models of the ``wanted`` keys), one job after
    another, or ``n_jobs`` at a time in spawned processes that share the machine's threads."""
    from .params import FastTextParams
    from .train import FastTextClassifier

    predictions: dict[str, pd.DataFrame] = {}
    fitted: dict[str, Any] = {}
    bar = tqdm(total=len(todo), desc="train/evaluate", disable=not progress, unit="model")
    if n_jobs == 1:
        for spec in todo:
            variant, seed, frac, _, texts, ys, weights, prior, key = spec
            bar.set_postfix_str(f"{variant} seed {seed}" + ("" if frac is None else f" curve {frac:g}"), refresh=False)
            clf, predictions[key] = fit_predict(texts, ys, weights, test_texts, params=params, language=language, seed=seed,
                                                preprocessed=True, **prior)
            if key in wanted:  # a model is ~1 GB in memory: keep only the ones asked for
                fitted[key] = clf
            del clf
            bar.update()
        bar.close()
        return predictions, fitted
    import multiprocessing as mp
    import tempfile
    from concurrent.futures import ProcessPoolExecutor, as_completed

    p = params if isinstance(params, FastTextParams) else FastTextParams(**(params or {}))
    p = p.model_copy(update={"thread": max(1, p.thread // n_jobs)})
    with tempfile.TemporaryDirectory(prefix="statcodgen-models-") as tmp, \
            ProcessPoolExecutor(max_workers=n_jobs, mp_context=mp.get_context("spawn")) as pool:
        futures = {pool.submit(_job, spec, test_texts, p, language, f"{tmp}/{spec[-1]}" if spec[-1] in wanted else None): spec[-1]
                   for spec in todo}
        for future in as_completed(futures):
            key = futures[future]
            predictions[key] = future.result()
            if key in wanted:
                fitted[key] = FastTextClassifier.load(f"{tmp}/{key}")
            bar.update()
    bar.close()
    return predictions, fitted


def run_experiments(
    real_train: pd.DataFrame,
    real_test: pd.DataFrame,
    synthetic: dict[str, pd.DataFrame],
    *,
    seeds: list[int] = (0, 1, 2),  # type: ignore[assignment]
    params: Any = None,
    language: str = "en",
    synthetic_weight: int = 1,
    full_real: pd.DataFrame | None = None,
    learning_curve: list[float] = (),  # type: ignore[assignment]
    curve_variant: str | None = None,
    keep_models: bool | list[str] = False,
    max_rows_per_label: int | None = None,
    n_jobs: int = 1,
    targets: list[str] | None = None,
    prior: dict[str, float] | None = None,
    prior_strength: float = 1.0,
    corrected: list[str] | None = None,
    gate: bool = False,
    progress: bool = True,
) -> ExperimentResult:
    """Train and evaluate side by side: ``real_only`` and ``real+<name>`` for each synthetic set.

    ``full_real`` (optional) is the unreduced real train set, trained as the ``full_real`` ceiling.
    ``learning_curve`` fractions train ``real+<curve_variant>`` on growing shares of that set
    (a fraction of 1 is the variant itself). ``max_rows_per_label``: cap the real rows of every
    label (``real_train`` and ``full_real``; :func:`cap_per_label`, seed 0) so that the head labels
    of a large data set do not dominate the run time. Same split and seeds across variants; each
    text set is preprocessed once, and a job whose training data and seed equal an earlier one's
    reuses its predictions. ``keep_models``: True keeps the first seed's classifier of every variant
    in ``models``, a list of variant names only those (a model takes about 1 GB of memory with the
    default 2M buckets). ``n_jobs`` > 1 trains that many models at once in separate processes, each
    with ``params.thread // n_jobs`` threads. ``prior`` + ``prior_strength``: every model trained with
    synthetic lines corrects its predictions toward that label prior
    (:class:`~statcodgen.modelling.prior.PriorCorrection`; real-only and full-real models are left
    as they are; ``corrected`` names the synthetic sets to correct, None = all). ``targets``: ``metrics_overall`` also gets the attraction rate (real rows of
    other labels predicted as a target; :func:`~statcodgen.modelling.prior.attraction_rate`).
    ``gate`` (needs ``targets``): the synthetic models (those of ``corrected``) answer only for the rows they assign to a
    target; every other row gets the same seed's real-only prediction
    (:meth:`~statcodgen.modelling.train.FastTextClassifier.set_fallback`, kept models carry it).
    Every frame is tidy (``variant, seed, ...``).
    """
    from .evaluation import OVERALL, automatic_coding_curve, evaluate, tidy_metrics

    check_int("synthetic_weight", synthetic_weight, 1, func="run_experiments")
    check_int("n_jobs", n_jobs, 1, 64, func="run_experiments")
    for name, df in synthetic.items():
        if "text" not in df.columns or "label" not in df.columns:
            raise ConfigError(f"synthetic set {name!r} must have 'text' and 'label' columns. Got {list(df.columns)}.")
    if max_rows_per_label is not None:
        real_train = cap_per_label(real_train, max_rows_per_label)
        full_real = None if full_real is None else cap_per_label(full_real, max_rows_per_label)
    prepared = _Prepared(language)
    test_texts = prepared(real_test)["text"].tolist()
    raw_test_texts = real_test["text"].astype(str).tolist()
    y_true = real_test["label"].astype(str).tolist()
    labels = sorted(set(real_train["label"].astype(str)) | set(y_true) | {l for d in synthetic.values() for l in d["label"].astype(str)})

    variants: list[tuple[str, pd.DataFrame, pd.DataFrame | None]] = [("real_only", real_train, None)]
    for name, syn in synthetic.items():
        syn, _ = drop_test_leaks(syn, real_test)
        variants.append((f"real+{name}", real_train, syn.reset_index(drop=True)))
    if full_real is not None:
        variants.append(("full_real", full_real, None))
    jobs: list[tuple[str, pd.DataFrame, pd.DataFrame | None, int, float | None]] = [
        (v, tr, syn, s, None) for v, tr, syn in variants for s in seeds
    ]
    if learning_curve:
        name = curve_variant or next(iter(synthetic), None)
        if name is None:
            raise ConfigError("learning_curve needs at least one synthetic set.")
        syn_full = next(syn for v, _, syn in variants if v == f"real+{name}")
        for frac in learning_curve:
            for s in seeds:
                jobs.append((f"real+{name}", real_train, syn_full, s, float(frac)))

    per_label, overall, curves, lc_rows = [], [], [], []
    confusion: dict[str, pd.DataFrame] = {}
    models: dict[str, Any] = {}
    keep = {v for v, _, _ in variants} if keep_models is True else set(keep_models or ())
    gated: set[str] = set()  # keys of the trainings answered through the target gate
    specs = []  # (variant, seed, frac, n_synthetic, texts, labels, weights, prior options, key)
    for variant, train, syn, seed, frac in jobs:
        syn_p = prepared(syn)
        if syn_p is not None and len(syn_p) and frac is not None and frac < 1.0:
            syn_p = syn_p.sample(frac=frac, random_state=seed)
        texts, ys, weights = training_set(prepared(train), syn_p, synthetic_weight=synthetic_weight)
        ours = syn_p is not None and (corrected is None or variant.removeprefix("real+") in corrected)
        fix = prior is not None and prior_strength > 0 and ours
        options = {"prior": prior, "prior_strength": prior_strength} if fix else {}
        specs.append((variant, seed, frac, 0 if syn_p is None else len(syn_p), texts, ys, weights, options,
                      _job_key(texts, ys, weights, seed, fix)))
        if gate and ours:
            gated.add(specs[-1][-1])
    todo = list({spec[-1]: spec for spec in reversed(specs)}.values())[::-1]  # first job of each key, in order
    if gate and not targets:
        raise ConfigError("run_experiments(gate=True) needs the 'targets' the synthetic models answer for.")
    base_key = {seed: key for variant, seed, frac, _, _, _, _, _, key in specs if variant == "real_only"}
    wanted = {spec[-1] for spec in specs if spec[2] is None and spec[1] == seeds[0] and spec[0] in keep}
    if wanted & gated:
        wanted.add(base_key[seeds[0]])
    predictions, fitted = _train_all(todo, wanted, test_texts, params=params, language=language, n_jobs=n_jobs, progress=progress)
    for variant, seed, frac, n_syn, _, _, _, _, key in specs:
        pred = predictions[key]
        if key in gated:
            pred = gate_predictions(pred, predictions[base_key[seed]], targets)
        if frac is None and seed == seeds[0] and variant in keep:
            models[variant] = fitted[key]
            if key in gated:
                models[variant].set_fallback(fitted[base_key[seed]], [t for t in targets if t in fitted[key].labels_])
        res = evaluate(y_true, pred, labels=labels)
        if frac is not None:
            lc_rows.append({"variant": variant, "fraction": frac, "n_synthetic": n_syn, "seed": seed, "res": res})
            continue
        tidy = tidy_metrics(res, variant=variant, seed=seed)
        is_overall = tidy["label"] == OVERALL
        per_label.append(tidy.loc[~is_overall, PER_LABEL_COLUMNS])
        row = tidy.loc[is_overall, [c for c in OVERALL_COLUMNS if c in tidy.columns]]
        if targets:
            att = attraction_rate(y_true, pred["label"].astype(str).tolist(), targets, raw_test_texts)
            row = row.assign(attraction=att["attraction"], attraction_short=att["attraction_short"])
        overall.append(row)
        curve = automatic_coding_curve(pred, y_true)
        curve.insert(0, "variant", variant)
        curve.insert(1, "seed", seed)
        curves.append(curve)
        if seed == seeds[0]:
            confusion[variant] = res.confusion
    auto = pd.concat(curves, ignore_index=True)
    auto = auto.groupby(["variant", "threshold"], as_index=False)[["coverage", "accuracy"]].mean()
    result = ExperimentResult(
        metrics_per_label=pd.concat(per_label, ignore_index=True),
        metrics_overall=pd.concat(overall, ignore_index=True),
        confusion=confusion,
        auto_coding=auto,
        models=models,
    )
    if lc_rows:
        result.learning_curve = _learning_curve_frame(lc_rows, result)
    return result


def _learning_curve_frame(rows: list[dict[str, Any]], result: ExperimentResult) -> pd.DataFrame:
    """Learning-curve rows: variant, n_synthetic, seed, accuracy and per-label F1 kept for targets later."""
    out = []
    for r in rows:
        res = r["res"]
        f1 = res.per_label.set_index("label")["f1"]
        out.append(
            {
                "variant": r["variant"],
                "fraction": r["fraction"],
                "n_synthetic": r["n_synthetic"],
                "seed": r["seed"],
                "accuracy": float(res.overall["accuracy"].iloc[0]),
                "f1_by_label": f1.to_dict(),
            }
        )
    return pd.DataFrame(out)


def target_summary(result: ExperimentResult, targets: list[str]) -> pd.DataFrame:
    """Mean ± std over seeds of F1 per target label and their mean, plus overall accuracy, per variant."""
    pl = result.metrics_per_label
    pl = pl[pl["label"].isin(targets)]
    wide = pl.pivot_table(index=["variant", "seed"], columns="label", values="f1").reindex(columns=targets)
    wide["target_mean_f1"] = wide.mean(axis=1)
    ov = result.metrics_overall.set_index(["variant", "seed"])[["accuracy", "macro_f1"]]
    wide = wide.join(ov)
    agg = wide.groupby(level="variant").agg(["mean", "std"])
    order = [v for v in ["real_only"] if v in agg.index] + sorted(v for v in agg.index if v.startswith("real+")) + [
        v for v in ["full_real"] if v in agg.index
    ]
    agg = agg.reindex(order)
    agg.columns = [f"{a}_{b}" for a, b in agg.columns]
    return agg.reset_index().replace({np.nan: 0.0})
