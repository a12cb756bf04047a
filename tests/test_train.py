"""Real fastText training on a small made-up corpus (a few seconds; the training tests are marked ``slow``)."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from statcodgen.errors import ConfigError, DataFormatError, InputError
from statcodgen.modelling import FastTextClassifier, FastTextParams, check_no_llama

# Our own words: four activity families, labels with dots and spaces on purpose.
_VOCAB = {
    "01.11 grain": ["ble", "orge", "mais", "cereales", "culture", "champs", "semis", "moisson", "avoine", "colza"],
    "01.13": ["legumes", "tomates", "salades", "maraicher", "serre", "carottes", "poireaux", "potager", "courgettes", "radis"],
    "47.11": ["epicerie", "superette", "magasin", "alimentation", "rayon", "caisse", "supermarche", "produits", "vente", "detail"],
    "49.41": ["transport", "camion", "routier", "marchandises", "fret", "livraison", "poids", "lourd", "chauffeur", "remorque"],
}


def make_corpus(n_per_label: int = 50, seed: int = 0) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for label, words in _VOCAB.items():
        for _ in range(n_per_label):
            k = int(rng.integers(2, 5))
            texts.append(" ".join(rng.choice(words, size=k, replace=False)))
            labels.append(label)
    return texts, labels


# Small model, one thread: without train._zeroed_allocations this fails with "Encountered NaN."
FAST = FastTextParams(dim=16, epoch=15, lr=0.5, wordNgrams=1, minn=0, maxn=0, bucket=1000, thread=1, seed=3)


class StubHierarchy:
    """Two-level toy hierarchy: the first two characters of a code are its 'division'."""

    def aggregate(self, codes, level):  # noqa: ANN001, ANN201
        assert level == "division"
        return pd.Series([str(c)[:2] for c in codes])


@pytest.fixture(scope="module")
def fitted() -> FastTextClassifier:
    texts, labels = make_corpus()
    return FastTextClassifier(FAST, language="fr").fit(texts, labels)


@pytest.mark.slow
def test_fit_learns_and_labels_round_trip(fitted: FastTextClassifier) -> None:
    assert sorted(fitted.labels_) == sorted(_VOCAB)
    pred = fitted.predict(["culture de ble et orge", "camion de fret routier", "tomates sous serre", "superette alimentation"])
    assert pred["label"].tolist() == ["01.11 grain", "49.41", "01.13", "47.11"]


@pytest.mark.slow
def test_predict_shapes_and_probabilities(fitted: FastTextClassifier) -> None:
    texts, _ = make_corpus(5, seed=9)
    pred = fitted.predict(texts, k=3)
    expected = ["label_1", "prob_1", "label_2", "prob_2", "label_3", "prob_3", "label", "prob", "confidence"]
    assert list(pred.columns) == expected
    assert len(pred) == len(texts)
    probs = pred[["prob_1", "prob_2", "prob_3"]].to_numpy()
    assert (probs >= 0).all() and (probs.sum(axis=1) <= 1.0 + 1e-9).all()
    assert (np.diff(probs, axis=1) <= 1e-12).all()  # descending
    assert pred["confidence"].between(0, 1).all()
    np.testing.assert_allclose(pred["confidence"], pred["prob_1"] - pred["prob_2"], atol=1e-12)
    assert (pred["label"] == pred["label_1"]).all()
    full = fitted.predict_proba(texts)
    assert pred["label"].tolist() == full.idxmax(axis=1).tolist()
    np.testing.assert_allclose(pred["prob_1"], full.max(axis=1), atol=1e-6)


@pytest.mark.slow
def test_predict_k_larger_than_labels_pads(fitted: FastTextClassifier) -> None:
    pred = fitted.predict(["ble"], k=6)
    assert pred.loc[0, "label_5"] is None and pred.loc[0, "prob_6"] == 0.0
    assert pred.loc[0, "label_4"] in _VOCAB
    full = fitted.predict_proba(["ble", "camion"])
    np.testing.assert_allclose(full.sum(axis=1), 1.0, atol=1e-3)


@pytest.mark.slow
def test_weights_oversample_training_file(tmp_path: Path) -> None:
    path = tmp_path / "train.txt"
    n = FastTextClassifier.write_training_file(path, ["a b", "c d", "e"], [0, 1, 2], [1, 3, 0], seed=1)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert n == len(lines) == 4
    assert sorted(lines) == ["__label__0 a b"] + ["__label__1 c d"] * 3
    texts, labels = make_corpus(10)
    clf = FastTextClassifier(FAST).fit(texts, labels, weights=[2] * 20 + [1] * 20)
    assert clf.n_train_rows_ == 60


def test_bad_weights_and_inputs() -> None:
    texts, labels = make_corpus(3)
    clf = FastTextClassifier(FAST)
    with pytest.raises(ConfigError, match="one value per text"):
        clf.fit(texts, labels, weights=[1])
    with pytest.raises(ConfigError, match="integers >= 0"):
        clf.fit(texts, labels, weights=[-1] * len(texts))
    with pytest.raises(InputError, match="different lengths"):
        clf.fit(texts, labels[:-1])
    with pytest.raises(DataFormatError, match="row 2"):
        clf.fit(["a", "b"], ["x", " "])
    with pytest.raises(ConfigError, match="not fitted"):
        clf.predict(["a"])


@pytest.mark.slow
def test_save_load_round_trip(fitted: FastTextClassifier, tmp_path: Path) -> None:
    texts, _ = make_corpus(4, seed=5)
    folder = fitted.save(tmp_path / "model")
    loaded = FastTextClassifier.load(folder)
    assert loaded.labels_ == fitted.labels_ and loaded.params == fitted.fitted_params_
    pd.testing.assert_frame_equal(loaded.predict(texts), fitted.predict(texts))
    with pytest.raises(DataFormatError, match="params.json"):
        FastTextClassifier.load(tmp_path / "nowhere")


@pytest.mark.slow
def test_predict_aggregated_sums_probabilities(fitted: FastTextClassifier) -> None:
    texts = ["tomates et ble", "camion"]
    full = fitted.predict_proba(texts)
    agg = fitted.predict_aggregated(texts, StubHierarchy(), "division", k=3)
    assert agg["label_1"].tolist()[1] == "49"
    p01 = full[["01.11 grain", "01.13"]].sum(axis=1).to_numpy()
    got01 = np.where(agg["label_1"] == "01", agg["prob_1"], np.where(agg["label_2"] == "01", agg["prob_2"], agg["prob_3"]))
    np.testing.assert_allclose(got01, p01, atol=1e-12)
    assert set(agg["label_1"]) | set(agg["label_2"]) | set(agg["label_3"]) == {"01", "47", "49"}
    chunked = fitted.predict_aggregated(texts * 3, StubHierarchy(), "division", k=1, chunk_size=2)
    assert list(chunked.columns) == ["label_1", "prob_1", "label", "prob", "confidence"]
    assert chunked["label"].tolist() == agg["label"].tolist() * 3
    np.testing.assert_allclose(chunked["confidence"], np.tile(agg["confidence"], 3), atol=1e-12)


@pytest.mark.slow
def test_same_seed_single_thread_is_reproducible() -> None:
    texts, labels = make_corpus(20)
    a = FastTextClassifier(FAST).fit(texts, labels).predict_proba(texts)
    b = FastTextClassifier(FAST).fit(texts, labels).predict_proba(texts)
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dim": 0}, "The 'dim' parameter of FastTextParams must be an int >= 1 and <= 1000. Got 0 instead."),
        ({"lr": -0.1}, "The 'lr' parameter of FastTextParams must be a number in (0.0, 10.0]. Got -0.1 instead."),
        ({"loss": "ns"}, "The 'loss' parameter of FastTextParams must be one of 'auto', 'softmax', 'ova', 'hs'. Got 'ns' instead."),
        ({"epoch": 2.5}, "The 'epoch' parameter of FastTextParams must be an int >= 1 and <= 1000. Got 2.5 instead."),
        ({"minn": 4, "maxn": 3}, "The 'maxn' parameter of FastTextParams must be 0"),
        ({"epochs": 3}, "Unknown parameter 'epochs' for FastTextParams"),
    ],
)
def test_bad_params_raise_config_error(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        FastTextParams(**kwargs)
    assert str(info.value).startswith(message)


def test_presets() -> None:
    bench = FastTextParams.benchmark()
    assert (bench.epoch, bench.lr, bench.wordNgrams, bench.minn, bench.maxn, bench.dim) == (30, 0.5, 2, 3, 5, 100)
    insee = FastTextParams.insee(thread=1)
    assert (insee.dim, insee.ws, insee.lr, insee.epoch, insee.wordNgrams, insee.minCount, insee.thread) == (180, 5, 0.2, 50, 3, 3, 1)
    with pytest.raises(ConfigError):
        FastTextClassifier({"dim": -1})


def test_llama_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    check_no_llama()
    monkeypatch.setitem(sys.modules, "llama_cpp", types.ModuleType("llama_cpp"))
    with pytest.raises(ConfigError, match="llama.cpp"):
        check_no_llama()
    with pytest.raises(ConfigError, match="llama.cpp"):
        FastTextClassifier(FAST).fit(["a"], ["b"])


@pytest.mark.slow
@pytest.mark.shared
def test_ons_index_class_model_aggregated_to_sections(shared_data: Path) -> None:
    """Real data: train at NACE class level on part of the ONS index, score at section level."""
    from statcodgen.classification.hierarchy import Hierarchy
    from statcodgen.modelling.evaluation import evaluate

    df = pd.read_csv(shared_data / "ons_uksic2007_index_en" / "uksic2007_alphabetical_index_train70.csv", dtype=str)
    df = df.sample(n=2500, random_state=0)
    train, test = df.iloc[:2000], df.iloc[2000:]
    h = Hierarchy.builtin("nace_rev2")
    clf = FastTextClassifier(FastTextParams.benchmark(dim=30, epoch=15, bucket=100_000, thread=1), language="en")
    clf.fit(train["activity"], train["nace_rev2_class"])
    sections = clf.predict_aggregated(test["activity"], h, "section", k=2)
    assert set(sections["label"]) <= set(h.codes("section"))
    res = evaluate(test["nace_rev2_class"], clf.predict(test["activity"]), hierarchy=h, level_name="class")
    overall = res.overall.set_index("level")
    # summed class probabilities (predict_aggregated) and the section of the top-1 class mostly agree
    agg_acc = float((sections["label"].to_numpy() == h.aggregate(test["nace_rev2_class"], "section").to_numpy()).mean())
    assert agg_acc > 0.6 and overall.loc["section", "accuracy"] > 0.6
    assert overall.loc["section", "accuracy"] > overall.loc["class", "accuracy"]
    assert abs(agg_acc - overall.loc["section", "accuracy"]) < 0.05
