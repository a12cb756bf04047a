"""The leak-free evaluation of :mod:`statcodgen.modelling.experiments`.

Split, scarcity and leak removal are checked on small frames; ``run_experiments`` runs real fastText
on an own-words corpus while a spy records what every model was trained on and asked to predict,
so that a synthetic row reaching the evaluation, or a test text reaching the training, fails a test.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from statcodgen.errors import ConfigError
from statcodgen.modelling import train as train_mod
from statcodgen.modelling.experiments import (
    drop_test_leaks,
    run_experiments,
    simulate_scarcity,
    split_real,
    training_set,
)
from statcodgen.modelling import FastTextParams

# Our own words: one small vocabulary per section.
_VOCAB = {
    "A": ["élevage", "bovins", "récolte", "céréales", "verger", "semis", "ferme", "tracteur", "moisson", "pâturage"],
    "C": ["usine", "fabrication", "atelier", "montage", "soudure", "moulage", "pièces", "presse", "chaîne", "tôlerie"],
    "F": ["chantier", "maçonnerie", "béton", "charpente", "toiture", "plâtre", "carrelage", "fondations", "grue", "échafaudage"],
    "G": ["boutique", "vente", "magasin", "comptoir", "rayon", "caisse", "détail", "épicerie", "grossiste", "vitrine"],
}
FAST = FastTextParams(dim=16, epoch=15, lr=0.5, wordNgrams=1, minn=0, maxn=0, bucket=1000, thread=1)


def _corpus(counts: dict[str, int], seed: int = 0, suffix: str = "") -> pd.DataFrame:
    """``counts[label]`` distinct rows of 2-4 words of the label's vocabulary (``suffix`` appended),
    index ``r0``, ``r1``... No two rows are equal, even after normalisation (no two words differ by
    accents only), so a test text found in a training set can only be a leak."""
    rng = np.random.default_rng(seed)
    rows = []
    for label, n in counts.items():
        seen: set[str] = set()
        while len(seen) < n:
            text = " ".join(rng.choice(_VOCAB[label], size=int(rng.integers(2, 5)), replace=False)) + suffix
            if text not in seen:
                seen.add(text)
                rows.append({"text": text, "code": label, "label": label})
    df = pd.DataFrame(rows)
    df.index = [f"r{i}" for i in range(len(df))]
    return df


def _norm(text: str) -> str:
    """Independent of the library: lower case, accents off, punctuation to spaces, spaces collapsed."""
    import unicodedata

    t = "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))
    return " ".join("".join(c if c.isalnum() else " " for c in t).split())


# --- split_real ---------------------------------------------------------------------------------


def test_split_real_is_stratified_disjoint_and_complete() -> None:
    real = _corpus({"A": 50, "C": 30, "F": 10, "G": 2})
    real = pd.concat([real, pd.DataFrame([{"text": "seul", "code": "Z", "label": "Z"}], index=["lonely"])])
    train, test = split_real(real, test_size=0.2, seed=3)
    assert not set(train.index) & set(test.index)
    assert sorted(train.index.tolist() + test.index.tolist()) == sorted(real.index)
    pd.testing.assert_frame_equal(pd.concat([train, test]).loc[real.index], real)  # rows unchanged
    assert "lonely" in train.index  # a label with one row cannot be tested: it stays in train
    for label, n in real["label"].value_counts().items():
        if n >= 2:
            n_test = int((test["label"] == label).sum())
            assert abs(n_test - 0.2 * n) <= 1, (label, n, n_test)
            assert n_test >= 1 or n < 5


def test_split_real_is_deterministic_by_seed() -> None:
    real = _corpus({"A": 40, "C": 40, "F": 40})
    a_train, a_test = split_real(real, seed=1)
    b_train, b_test = split_real(real, seed=1)
    pd.testing.assert_frame_equal(a_test, b_test)
    pd.testing.assert_frame_equal(a_train, b_train)
    _, c_test = split_real(real, seed=2)
    assert set(c_test.index) != set(a_test.index)


@pytest.mark.parametrize("size", [0, 1, 1.5, -0.2])
def test_split_real_rejects_bad_test_size(size: float) -> None:
    with pytest.raises(ConfigError, match="test_size"):
        split_real(_corpus({"A": 10, "C": 10}), test_size=size)


# --- simulate_scarcity --------------------------------------------------------------------------


def test_simulate_scarcity_keeps_exactly_k_rows_of_named_labels() -> None:
    train = _corpus({"A": 30, "C": 20, "F": 5, "G": 12})
    out = simulate_scarcity(train, {"A": 3, "F": 10, "G": 0}, seed=0)
    counts = out["label"].value_counts()
    assert counts["A"] == 3 and counts["F"] == 5 and "G" not in counts  # k > rows keeps them all
    assert set(out.index) <= set(train.index)
    pd.testing.assert_frame_equal(out.loc[out.index], train.loc[out.index])  # rows are not rewritten
    pd.testing.assert_frame_equal(out[out["label"] == "C"], train[train["label"] == "C"])  # others untouched


def test_simulate_scarcity_is_seeded() -> None:
    train = _corpus({"A": 40, "C": 20})
    picks = {seed: tuple(simulate_scarcity(train, {"A": 4}, seed=seed).index) for seed in range(6)}
    assert picks[0] == tuple(simulate_scarcity(train, {"A": 4}, seed=0).index)
    assert len(set(picks.values())) > 1


def test_simulate_scarcity_rejects_unknown_labels_and_negative_k() -> None:
    train = _corpus({"A": 5, "C": 5})
    with pytest.raises(ConfigError, match="absent"):
        simulate_scarcity(train, {"Q": 1})
    with pytest.raises(ConfigError):
        simulate_scarcity(train, {"A": -1})


# --- drop_test_leaks ----------------------------------------------------------------------------


def test_drop_test_leaks_removes_normalised_copies_of_test_texts_only() -> None:
    test = pd.DataFrame({"text": ["Culture de blé", "pose de carrelage"], "label": ["A", "F"]})
    synthetic = pd.DataFrame(
        {
            "text": ["CULTURE DE BLE !", "culture   de  blé", "culture de blé dur", "Pose de carrelage.", "vente de pain"],
            "label": ["A", "C", "A", "F", "G"],  # a copy is a leak whatever its label
        },
        index=[10, 11, 12, 13, 14],
    )
    before = synthetic.copy()
    kept, n = drop_test_leaks(synthetic, test)
    assert n == 3
    assert kept.index.tolist() == [12, 14]
    pd.testing.assert_frame_equal(kept, before.loc[[12, 14]])
    pd.testing.assert_frame_equal(synthetic, before)  # input untouched


def test_drop_test_leaks_keeps_everything_when_nothing_leaks() -> None:
    syn = _corpus({"A": 20}, suffix=" synthétique")
    kept, n = drop_test_leaks(syn, _corpus({"A": 20, "C": 5}, seed=1))
    assert n == 0 and kept.index.tolist() == syn.index.tolist()


# --- training_set -------------------------------------------------------------------------------


def test_training_set_is_real_rows_then_synthetic_rows() -> None:
    real = pd.DataFrame({"text": ["a b", "c d"], "label": [1, "C"]})
    syn = pd.DataFrame({"text": ["e f", "g h", "i j"], "label": ["F", "F", "G"]})
    assert training_set(real) == (["a b", "c d"], ["1", "C"], None)
    assert training_set(real, syn.iloc[:0]) == (["a b", "c d"], ["1", "C"], None)
    texts, labels, weights = training_set(real, syn)
    assert texts == ["a b", "c d", "e f", "g h", "i j"] and labels == ["1", "C", "F", "F", "G"] and weights is None
    _, _, weights = training_set(real, syn, synthetic_weight=3)
    assert weights == [1, 1, 3, 3, 3]
    with pytest.raises(ConfigError):
        training_set(real, syn, synthetic_weight=0)


# --- run_experiments with real fastText ---------------------------------------------------------


@pytest.fixture()
def spy(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Record, for every classifier fitted, its seed, training texts and labels, the texts it was asked
    to predict and its top-1 predictions (the real methods still run)."""
    calls: list[dict] = []
    cls = train_mod.FastTextClassifier
    fit, predict = cls.fit, cls.predict

    def spy_fit(self, texts, labels, **kw):  # noqa: ANN001, ANN003, ANN202
        calls.append({"clf": self, "seed": self.params.seed, "texts": [str(t) for t in texts], "labels": [str(y) for y in labels],
                      "weights": kw.get("weights"), "predicted": []})
        return fit(self, texts, labels, **kw)

    def spy_predict(self, texts, **kw):  # noqa: ANN001, ANN003, ANN202
        out = predict(self, texts, **kw)
        record = next(c for c in reversed(calls) if c["clf"] is self)
        record["predicted"].append(([str(t) for t in texts], out["label"].astype(str).tolist()))
        return out

    monkeypatch.setattr(cls, "fit", spy_fit)
    monkeypatch.setattr(cls, "predict", spy_predict)
    return calls


def _prep(texts: pd.Series) -> list[str]:
    from statcodgen.modelling import preprocess

    return preprocess(list(texts), language="fr")


@pytest.fixture(scope="module")
def study() -> dict[str, pd.DataFrame]:
    """Real data with a gap (A kept at 2 training rows), a synthetic set that contains disguised copies
    of every test text, and a synthetic-only label ``Z`` that never occurs in the real data."""
    real = _corpus({"A": 40, "C": 40, "F": 40, "G": 40}, seed=0)
    train_full, test = split_real(real, test_size=0.25, seed=0)
    train = simulate_scarcity(train_full, {"A": 2}, seed=0)
    novel = _corpus({"A": 60, "C": 10}, seed=7, suffix=" variante")
    copies = pd.DataFrame({"text": [t.upper() + " !" for t in test["text"]], "label": test["label"].to_numpy()})
    only_z = pd.DataFrame({"text": [f"ambassade consulat {w}" for w in ("étrangère", "chancellerie", "visa")], "label": "Z"})
    leaky = pd.concat([novel, copies, only_z], ignore_index=True)
    return {"train_full": train_full, "train": train, "test": test, "leaky": leaky, "n_copies": len(copies)}


@pytest.mark.slow
def test_run_experiments_is_leak_free_and_measured_on_real_test_rows(study: dict, spy: list[dict]) -> None:
    train, test, leaky = study["train"], study["test"], study["leaky"]
    seeds = [0, 1]
    res = run_experiments(train, test, {"leaky": leaky}, seeds=seeds, params=FAST, language="fr",
                          full_real=study["train_full"], progress=False)
    # run_experiments preprocesses every text set once and hands fastText the preprocessed texts
    test_texts, y_true = _prep(test["text"]), test["label"].tolist()
    test_norm = {_norm(t) for t in test_texts}

    # variants and seeds: every variant, the real_only baseline included, with the same seeds
    variants = ["real_only", "real+leaky", "full_real"]
    assert sorted(res.metrics_overall["variant"].unique()) == sorted(variants)
    for v in variants:
        assert sorted(res.metrics_overall.loc[res.metrics_overall["variant"] == v, "seed"]) == seeds
        assert sorted(res.metrics_per_label.loc[res.metrics_per_label["variant"] == v, "seed"].unique()) == seeds

    # what each model was trained on: no test text ever, synthetic rows only in real+leaky
    n_syn_kept = len(leaky) - study["n_copies"]
    sizes = {"real_only": len(train), "real+leaky": len(train) + n_syn_kept, "full_real": len(study["train_full"])}
    assert len(spy) == len(variants) * len(seeds)
    by_variant: dict[str, list[dict]] = {v: [] for v in variants}
    for call in spy:
        assert not {_norm(t) for t in call["texts"]} & test_norm, "a test text reached the training set"
        variant = next(v for v, n in sizes.items() if n == len(call["texts"]))
        by_variant[variant].append(call)
    assert {v: sorted(c["seed"] for c in calls) for v, calls in by_variant.items()} == {v: seeds for v in variants}
    for call in by_variant["real+leaky"]:
        assert call["texts"][: len(train)] == _prep(train["text"])
        assert "Z" in call["labels"] and not set(call["texts"]) & set(_prep(study["leaky"]["text"].iloc[-study["n_copies"] - 3:-3]))
    for call in by_variant["real_only"]:
        assert call["texts"] == _prep(train["text"]) and "Z" not in call["labels"]

    # what each model was evaluated on: the real test texts, nothing else
    for v, calls in by_variant.items():
        for call in calls:
            assert [texts for texts, _ in call["predicted"]] == [test_texts], v
            pred = call["predicted"][0][1]
            row = res.metrics_overall[(res.metrics_overall["variant"] == v) & (res.metrics_overall["seed"] == call["seed"])]
            assert float(row["accuracy"].iloc[0]) == pytest.approx(np.mean(np.array(pred) == np.array(y_true)))

    # support is the real test count of each label; the synthetic-only label has none
    want = test["label"].value_counts().to_dict()
    for (v, s), group in res.metrics_per_label.groupby(["variant", "seed"]):
        support = group.set_index("label")["support"].to_dict()
        assert {k: n for k, n in support.items() if n} == want, (v, s)
        assert support.get("Z", 0) == 0
        assert sum(support.values()) == len(test)
    for v, m in res.confusion.items():
        assert int(m.to_numpy().sum()) == len(test), v
        assert int(m.loc["A"].sum()) == want["A"]


@pytest.mark.slow
def test_run_experiments_is_reproducible_and_learning_curve_is_leak_free(study: dict, spy: list[dict]) -> None:
    train, test, leaky = study["train"], study["test"], study["leaky"]
    kwargs = dict(seeds=[0], params=FAST, language="fr", learning_curve=[0.5, 1.0], progress=False)
    a = run_experiments(train, test, {"leaky": leaky}, **kwargs)
    b = run_experiments(train, test, {"leaky": leaky}, **kwargs)
    pd.testing.assert_frame_equal(a.metrics_per_label, b.metrics_per_label)
    pd.testing.assert_frame_equal(a.metrics_overall, b.metrics_overall)
    n_syn_kept = len(leaky) - study["n_copies"]
    curve = a.learning_curve.sort_values("fraction")
    half, full = curve["n_synthetic"].tolist()
    assert abs(half - n_syn_kept / 2) <= 1 and full == n_syn_kept  # counted after leak removal
    test_prep = set(_prep(test["text"]))
    for call in spy:
        assert not set(call["texts"]) & test_prep
        assert [texts for texts, _ in call["predicted"]] == [_prep(test["text"])]
    # the curve's fraction 1 is the variant itself: reused, not trained again (3 fits per run, not 4)
    assert len(spy) == 2 * 3
    main = a.metrics_overall.set_index("variant").loc["real+leaky", "accuracy"]
    assert float(curve.loc[curve["fraction"] == 1.0, "accuracy"].iloc[0]) == pytest.approx(float(main))


@pytest.mark.slow
def test_experiment_result_saves_and_loads_itself(study: dict, tmp_path) -> None:
    from statcodgen.modelling import ExperimentResult

    res = run_experiments(study["train"], study["test"], {"leaky": study["leaky"]}, seeds=[0], params=FAST, language="fr",
                          learning_curve=[0.5, 1.0], progress=False)
    assert not ExperimentResult.exists(tmp_path)
    res.save(tmp_path)
    assert ExperimentResult.exists(tmp_path)
    back = ExperimentResult.load(tmp_path)
    pd.testing.assert_frame_equal(back.metrics_per_label, res.metrics_per_label)
    pd.testing.assert_frame_equal(back.metrics_overall, res.metrics_overall)
    pd.testing.assert_frame_equal(back.auto_coding, res.auto_coding)
    assert set(back.confusion) == set(res.confusion)
    for v, m in res.confusion.items():
        got = back.confusion[v].reindex(index=m.index, columns=m.columns, fill_value=0)
        assert (got.to_numpy() == m.to_numpy()).all(), v
    cols = ["variant", "fraction", "n_synthetic", "seed", "accuracy"]
    pd.testing.assert_frame_equal(back.learning_curve[cols], res.learning_curve[cols], check_dtype=False)
    for a, b in zip(back.learning_curve["f1_by_label"], res.learning_curve["f1_by_label"]):
        assert a == pytest.approx(b)


@pytest.mark.slow
def test_gated_experiment_answers_outside_the_targets_with_the_real_only_model(study: dict) -> None:
    from statcodgen.modelling.experiments import gate_predictions

    kwargs = dict(seeds=[0], params=FAST, language="fr", targets=["A"], keep_models=["real_only", "real+leaky"], progress=False)
    plain = run_experiments(study["train"], study["test"], {"leaky": study["leaky"]}, **kwargs)
    gated = run_experiments(study["train"], study["test"], {"leaky": study["leaky"]}, gate=True, **kwargs)
    texts, y = study["test"]["text"].tolist(), study["test"]["label"].to_numpy()
    want = gate_predictions(plain.models["real+leaky"].predict(texts), plain.models["real_only"].predict(texts), ["A"])
    model = gated.models["real+leaky"]
    assert model.gate_targets_ == ["A"] and model.fallback_ is gated.models["real_only"]
    got = model.predict(texts)
    assert got["label"].tolist() == want["label"].tolist()
    ov = gated.metrics_overall.set_index("variant")
    assert float(ov.loc["real+leaky", "accuracy"]) == pytest.approx(float(np.mean(got["label"].to_numpy() == y)))
    pd.testing.assert_frame_equal(gated.metrics_per_label[gated.metrics_per_label["variant"] == "real_only"].reset_index(drop=True),
                                  plain.metrics_per_label[plain.metrics_per_label["variant"] == "real_only"].reset_index(drop=True))
    with pytest.raises(ConfigError, match="targets"):
        run_experiments(study["train"], study["test"], {"leaky": study["leaky"]}, seeds=[0], params=FAST, language="fr", gate=True)
