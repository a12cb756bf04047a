"""Diversity measures on hand-made lists with known values."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from statcodgen.cleaning.diversity import diversity_table, distinct_n, mean_pairwise_jaccard, unique_share
from statcodgen.errors import ConfigError, DataFormatError


def test_distinct_n_known_values():
    assert distinct_n(["a b", "a c"], 1) == 3 / 4
    assert distinct_n(["a b", "a c"], 2) == 1.0
    assert distinct_n(["a b c", "a b c"], 2) == 2 / 4
    assert distinct_n(["A, b!", "a B"], 1) == 2 / 4  # normalised: case and punctuation
    assert distinct_n(["A, b!", "a B"], 1, normalize=False) == 1.0
    assert distinct_n(["one two"], 3) != distinct_n(["one two"], 3)  # NaN: no trigram
    assert math.isnan(distinct_n([], 1))
    with pytest.raises(ConfigError):
        distinct_n(["a"], 0)


def test_unique_share():
    assert unique_share(["Été", "ete", "hiver", "HIVER "]) == 0.5
    assert unique_share(["Été", "ete"], normalize=False) == 1.0
    assert math.isnan(unique_share([]))


def _exact_jaccard(a: str, b: str) -> float:
    x, y = set(a.lower().split()), set(b.lower().split())
    return len(x & y) / len(x | y)


def test_mean_pairwise_jaccard_known_values():
    assert mean_pairwise_jaccard(["vente de pain"] * 5) == 1.0
    assert mean_pairwise_jaccard(["alpha beta gamma", "delta epsilon zeta"]) < 0.05
    est = mean_pairwise_jaccard(["a b c d", "a b c e"], num_perm=512)
    assert abs(est - 0.6) < 0.1
    assert math.isnan(mean_pairwise_jaccard(["alone"]))
    assert mean_pairwise_jaccard(["x y", "y z"], seed=3) == mean_pairwise_jaccard(["x y", "y z"], seed=3)


def test_mean_pairwise_jaccard_sampled_pairs_match_exact_mean():
    rng = np.random.default_rng(0)
    vocab = [f"w{i}" for i in range(12)]
    texts = [" ".join(rng.choice(vocab, size=4, replace=False)) for _ in range(80)]
    exact = np.mean([_exact_jaccard(a, b) for a, b in itertools.combinations(texts, 2)])
    est = mean_pairwise_jaccard(texts, num_perm=256, sample=3000, seed=2)  # 3160 pairs > 3000: sampled
    assert abs(est - exact) < 0.03, (est, exact)


def test_diversity_table():
    df = pd.DataFrame({
        "text": ["plomberie", "plomberie", "plomberie chauffage", "vente de pain", "vente de gateaux"],
        "label": ["F", "F", "F", "G", "G"],
    })
    tab = diversity_table(df)
    assert tab["label"].tolist() == ["F", "G", "ALL"]
    f, g, all_ = (tab.iloc[i] for i in range(3))
    assert (f["n_lines"], f["n_unique"]) == (3, 2) and f["unique_share"] == pytest.approx(2 / 3)
    assert f["distinct_1"] == pytest.approx(2 / 4) and f["distinct_2"] == pytest.approx(1.0)
    assert g["distinct_1"] == pytest.approx(4 / 6) and g["distinct_2"] == pytest.approx(3 / 4)
    assert math.isnan(f["distinct_3"]) and g["distinct_3"] == pytest.approx(1.0)
    assert all_["n_lines"] == 5 and all_["unique_share"] == pytest.approx(4 / 5)
    assert all_["mean_words"] == pytest.approx(10 / 5)
    # F: pairs (1, 0.5, 0.5) -> 2/3; G: one pair 2/4
    assert abs(f["mean_jaccard"] - 2 / 3) < 0.12 and abs(g["mean_jaccard"] - 0.5) < 0.15
    whole = diversity_table(df, by=None)
    assert whole["group"].tolist() == ["ALL"]
    with pytest.raises(DataFormatError, match="'code'"):
        diversity_table(df, by="code")


def test_personas_increase_diversity_of_a_repetitive_set():
    """What the ablation benchmark will show, in small: styled lines are more diverse."""
    from statcodgen.personas.persona import assign_personas, sample_personas
    from statcodgen.personas.style import style_frame

    base = pd.DataFrame({"text": ["Travaux de plomberie et chauffage", "Vente de pain et viennoiseries"] * 100,
                         "label": ["F", "G"] * 100})
    personas = sample_personas(50, locale="fr_FR", seed=0)
    base["persona_id"] = assign_personas(len(base), personas, strategy="stratified", seed=0)
    styled = style_frame(base, personas, language="fr", seed=0)
    before, after = diversity_table(base).iloc[-1], diversity_table(styled).iloc[-1]
    assert after["unique_share"] > 5 * before["unique_share"]
    assert after["distinct_2"] > before["distinct_2"]
    assert after["mean_jaccard"] < before["mean_jaccard"]
