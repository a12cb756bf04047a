"""Evaluation metrics against hand-computed values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from statcodgen.errors import ConfigError, InputError
from statcodgen.modelling.evaluation import OVERALL, automatic_coding_curve, evaluate, summarise_seeds, tidy_metrics

Y_TRUE = ["A", "A", "B", "B", "C"]
PRED = pd.DataFrame(
    {
        "label_1": ["A", "B", "B", "B", "A"],
        "prob_1": [0.95, 0.5, 0.7, 0.6, 0.5],
        "label_2": ["B", "A", "C", "A", "C"],
        "prob_2": [0.05, 0.4, 0.2, 0.3, 0.3],
    }
)
PRED["label"] = PRED["label_1"]
PRED["prob"] = PRED["prob_1"]
PRED["confidence"] = [0.9, 0.1, 0.5, 0.3, 0.2]


class ToyHierarchy:
    """A and B belong to section X, C and D to section Y."""

    def aggregate(self, codes, level):  # noqa: ANN001, ANN201
        assert level == "section"
        return pd.Series(["X" if c in ("A", "B") else "Y" for c in codes])


def test_overall_and_per_label_hand_computed() -> None:
    res = evaluate(Y_TRUE, PRED)
    row = res.overall.iloc[0]
    assert row["level"] == "label" and row["n"] == 5
    assert row["accuracy"] == pytest.approx(0.6)
    assert row["macro_f1"] == pytest.approx((0.5 + 0.8 + 0.0) / 3)
    assert row["weighted_f1"] == pytest.approx((0.5 * 2 + 0.8 * 2) / 5)
    assert row["top1_accuracy"] == pytest.approx(0.6) and row["top2_accuracy"] == pytest.approx(1.0)
    per = res.per_label.set_index("label")
    assert per.loc["A", ["precision", "recall", "f1"]].tolist() == pytest.approx([0.5, 0.5, 0.5])
    assert per.loc["B", ["precision", "recall", "f1"]].tolist() == pytest.approx([2 / 3, 1.0, 0.8])
    assert per.loc["C", ["precision", "recall", "f1", "support"]].tolist() == pytest.approx([0, 0, 0, 1])
    assert res.confusion.loc["A", "B"] == 1 and res.confusion.loc["C", "A"] == 1 and res.confusion.loc["B", "B"] == 2
    assert int(res.confusion.to_numpy().sum()) == 5


def test_labels_argument_reports_unseen_labels() -> None:
    res = evaluate(Y_TRUE, PRED["label"].tolist(), labels=["A", "B", "C", "D"])
    per = res.per_label.set_index("label")
    assert per.loc["D", "support"] == 0 and per.loc["D", "f1"] == 0
    assert res.overall.loc[0, "macro_f1"] == pytest.approx(1.3 / 4)
    assert "top2_accuracy" not in res.overall.columns


def test_hierarchy_levels() -> None:
    res = evaluate(Y_TRUE, PRED, hierarchy=ToyHierarchy(), levels=("section",), level_name="class")
    assert res.overall["level"].tolist() == ["class", "section"]
    sec = res.overall.set_index("level").loc["section"]
    assert sec["accuracy"] == pytest.approx(0.8) and sec["top2_accuracy"] == pytest.approx(1.0)
    assert res.confusion_level == "section"
    assert res.confusion.loc["X", "X"] == 4 and res.confusion.loc["Y", "X"] == 1
    assert set(res.confusions) == {"class", "section"}
    assert set(res.per_label["level"]) == {"class", "section"}


def test_automatic_coding_curve_hand_computed() -> None:
    curve = automatic_coding_curve(PRED, Y_TRUE, thresholds=[0, 0.25, 0.5, 1.0])
    assert curve["coverage"].tolist() == pytest.approx([1.0, 0.6, 0.4, 0.0])
    assert curve["accuracy"].tolist()[:3] == pytest.approx([0.6, 1.0, 1.0])
    assert np.isnan(curve["accuracy"].iloc[3])
    default = automatic_coding_curve(PRED.drop(columns="confidence"), Y_TRUE)
    assert len(default) == 21
    assert (np.diff(default["coverage"]) <= 0).all()


def test_tidy_and_summarise_seeds() -> None:
    parts = []
    for seed, labels in [(0, ["A", "B", "B", "B", "A"]), (1, ["A", "A", "B", "B", "C"])]:
        res = evaluate(Y_TRUE, labels, hierarchy=ToyHierarchy())
        parts.append(tidy_metrics(res, variant="real", seed=seed))
    tidy = pd.concat(parts, ignore_index=True)
    assert list(tidy.columns[:11]) == ["variant", "seed", "level", "label", "precision", "recall", "f1", "support",
                                       "accuracy", "macro_f1", "weighted_f1"]
    over = tidy[(tidy.label == OVERALL) & (tidy.level == "label")]
    assert over["accuracy"].tolist() == pytest.approx([0.6, 1.0]) and over["support"].tolist() == [5, 5]
    summary = summarise_seeds(tidy).set_index(["variant", "level", "label"])
    row = summary.loc[("real", "label", OVERALL)]
    assert row["n_seeds"] == 2
    assert row["accuracy_mean"] == pytest.approx(0.8) and row["accuracy_std"] == pytest.approx(np.std([0.6, 1.0], ddof=1))
    assert summary.loc[("real", "label", "C"), "f1_mean"] == pytest.approx(0.5)
    with pytest.raises(ConfigError, match="missing column"):
        summarise_seeds(tidy, by=["nope"])


def test_bad_inputs() -> None:
    with pytest.raises(InputError, match="5 rows but the predictions have 2"):
        evaluate(Y_TRUE, ["A", "B"])
    with pytest.raises(InputError, match="no test rows"):
        evaluate([], [])
    with pytest.raises(ConfigError, match="'hierarchy' parameter of evaluate"):
        evaluate(Y_TRUE, PRED, hierarchy=object())
    with pytest.raises(InputError, match="confidence"):
        automatic_coding_curve(PRED[["label_1", "prob_1"]], Y_TRUE)
