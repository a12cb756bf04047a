"""Tests for statcodgen.cleaning.dedup (exact + MinHash LSH near-duplicate removal)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from datasketch import MinHash, MinHashLSH
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from statcodgen.text._minhash import band_candidate_pairs, lsh_params, signatures_from_flat, to_lean_minhash
from statcodgen.cleaning.dedup import dedup, shingle_lines
from statcodgen.errors import ConfigError, DataFormatError
from statcodgen.text.normalize import normalize_series

BASE = "pose de carrelage et parquet dans les maisons neuves individuelles".split()  # 10 distinct words
LONG = BASE + "ainsi que des terrasses en bois pour clients particuliers aux alentours".split()  # 21 distinct
WORDS = [f"mot{i}" for i in range(30)]


def frame(texts: list[str], labels: list[str] | None = None, index: list[int] | None = None) -> pd.DataFrame:
    return pd.DataFrame({"text": texts, "label": labels or ["F"] * len(texts)}, index=index)


def test_exact_duplicates_after_normalisation() -> None:
    df = frame(["Vente de pain", "VENTE DE PAIN !", "vente  de pain", "réparation de vélos"], index=[3, 1, 2, 0])
    res = dedup(df, progress=False)
    assert len(res.kept) == 2
    assert set(res.dropped["reason"]) == {"exact_duplicate"}
    kept_id = "syn:" + str(res.kept.index[res.kept["text"].str.lower().str.contains("pain")][0])
    assert (res.dropped["duplicate_of"] == kept_id).all()
    assert (res.dropped["similarity"] == 1.0).all()
    assert res.kept.index.tolist() == sorted(res.kept.index.tolist(), key=[3, 1, 2, 0].index)  # input order kept
    assert list(res.dropped.columns) == ["text", "label", "reason", "detail", "duplicate_of", "similarity"]


def test_near_duplicate_threshold_on_hand_made_pairs() -> None:
    # Margins keep the test independent of MinHash noise: the pair above the threshold is at 0.955
    # (LSH candidate with probability 0.998 for 9 bands x 14 rows; deterministic for the seed),
    # the pair below is rejected by the exact Jaccard verification whatever LSH does.
    above = (" ".join(LONG), " ".join(LONG + ["rapidement"]))  # 21/22 = 0.955
    below = (" ".join(BASE[:7]), " ".join(BASE[:7] + ["vite"]))  # 7/8 = 0.875
    df = frame([*above, *below], ["F", "F", "G", "G"])
    res = dedup(df, threshold=0.9, progress=False)
    assert res.dropped["reason"].tolist() == ["near_duplicate"]
    assert res.dropped["similarity"].iloc[0] == pytest.approx(21 / 22)
    assert set(res.dropped.index) <= {0, 1}
    assert dedup(df, threshold=0.96, progress=False).dropped.empty
    # 10-word lines: one word replaced (9/11 = 0.82) is caught at 0.8, three words (7/13) are not
    one = BASE[:-1] + ["anciennes"]
    three = BASE[:-3] + ["vieilles", "grandes", "fermes"]
    df2 = frame([" ".join(BASE), " ".join(one), " ".join(three)])
    res8 = dedup(df2, threshold=0.8, progress=False)
    assert res8.dropped["reason"].tolist() == ["near_duplicate"]
    assert res8.dropped["similarity"].iloc[0] == pytest.approx(9 / 11)
    assert 2 not in res8.dropped.index
    assert dedup(df2, threshold=0.9, progress=False).dropped.empty


def test_real_test_leakage_exact_and_near_whatever_the_label() -> None:
    syn = frame([" ".join(BASE).upper(), " ".join(BASE + ["vite"]), "vente de pain", "culture du riz"], ["F", "F", "G", "A"])
    test = pd.DataFrame({"text": ["Pose de carrelage et parquet dans les maisons neuves individuelles.", "Culture du riz"],
                         "label": ["F", "B"]}, index=[100, 200])
    res = dedup(syn, real_test=test, progress=False)
    d = res.dropped.sort_index()
    assert d["reason"].tolist() == ["duplicates_real_test"] * 3
    assert d["duplicate_of"].tolist() == ["test:100", "test:100", "test:200"]
    assert d.loc[1, "similarity"] == pytest.approx(10 / 11)  # candidate by LSH (seeded), verified exactly
    assert res.kept["text"].tolist() == ["vente de pain"]


def test_real_train_optional() -> None:
    syn = frame(["vente de pain", "culture du riz"])
    train = pd.DataFrame({"text": ["VENTE DE PAIN"]})
    assert dedup(syn, real_train=train, progress=False).dropped["reason"].tolist() == ["duplicates_real_train"]
    assert dedup(syn, real_train=train, drop_real_train_duplicates=False, progress=False).dropped.empty


def test_order_independent() -> None:
    rng = np.random.default_rng(0)
    texts = []
    for _ in range(60):
        words = list(rng.choice(WORDS, size=12, replace=False))
        texts += [" ".join(words), " ".join(words[::-1]), " ".join(words + ["extra"]).upper()]
    df = frame(texts, [f"L{i % 2}" for i in range(len(texts))])
    ref = dedup(df, progress=False)
    assert len(ref.dropped) > 0
    for seed in range(3):
        shuffled = df.sample(frac=1.0, random_state=seed)
        res = dedup(shuffled, progress=False)
        assert set(res.kept.index) == set(ref.kept.index)
        assert res.dropped["duplicate_of"].sort_index().tolist() == ref.dropped["duplicate_of"].sort_index().tolist()


lines = st.lists(st.sampled_from(WORDS[:8]), min_size=1, max_size=6).map(" ".join)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(lines, st.sampled_from(["A", "B", "C"])), min_size=1, max_size=40))
def test_no_cross_label_merges(rows: list[tuple[str, str]]) -> None:
    df = frame([r[0] for r in rows], [r[1] for r in rows])
    res = dedup(df, threshold=0.6, progress=False)
    for _, r in res.dropped.iterrows():
        assert df.loc[int(r["duplicate_of"][4:]), "label"] == r["label"]
        assert r["duplicate_of"][4:] not in set(res.dropped.index.astype(str))  # points to a kept line
    # deduplicating the labels separately gives the same kept set
    per_label = set()
    for lab in df["label"].unique():
        per_label |= set(dedup(df[df["label"] == lab], threshold=0.6, progress=False).kept.index)
    assert set(res.kept.index) == per_label


def test_cross_label_drop_option() -> None:
    df = frame(["vente de pain", "VENTE DE PAIN", " ".join(BASE), " ".join(BASE + ["vite"])], ["G", "C", "F", "G"])
    keep = dedup(df, progress=False)
    stats = dict(zip(keep.stats["metric"], keep.stats["value"]))
    assert keep.dropped.empty and stats["cross_label_exact_groups"] == 1 and stats["cross_label_near_pairs"] == 1
    drop = dedup(df, cross_label="drop", progress=False)
    assert sorted(drop.dropped["reason"]) == ["cross_label_duplicate", "cross_label_near_duplicate"]


def test_char_shingles_for_short_lines() -> None:
    df = frame(["boulangerie", "boulangeries", "plomberie"])
    res = dedup(df, shingle="char", ngram=3, threshold=0.8, progress=False)
    assert res.dropped["reason"].tolist() == ["near_duplicate"]
    assert dedup(df, progress=False).dropped.empty  # word 1-grams: different words


def test_method_exact_skips_near() -> None:
    df = frame([" ".join(BASE), " ".join(BASE + ["vite"]), " ".join(BASE)])
    assert dedup(df, method="exact", progress=False).dropped["reason"].tolist() == ["exact_duplicate"]


def test_signatures_and_lsh_match_datasketch() -> None:
    rng = np.random.default_rng(1)
    texts = []
    for _ in range(150):
        w = list(rng.choice(WORDS, size=int(rng.integers(1, 10)), replace=False))
        texts += [" ".join(w), " ".join(w[:-1] + ["zz"]) if len(w) > 3 else " ".join(w)]
    norms = normalize_series(pd.Series(texts)).tolist()
    flat, lengths = shingle_lines(norms)
    sig = signatures_from_flat(flat, lengths, num_perm=64, seed=7)
    b, r = lsh_params(0.7, 64)
    lsh = MinHashLSH(threshold=0.7, num_perm=64)
    assert (lsh.b, lsh.r) == (b, r)
    for k, t in enumerate(norms):
        m = MinHash(num_perm=64, seed=7)
        m.update_batch([x.encode("utf-8") for x in set(t.split())])
        assert np.array_equal(m.hashvalues, sig[k])
        lsh.insert(k, to_lean_minhash(sig[k], seed=7))
    ours = {tuple(p) for p in band_candidate_pairs(sig, b, r).tolist()}
    theirs = {(min(k, q), max(k, q)) for k in range(len(norms)) for q in lsh.query(to_lean_minhash(sig[k], seed=7)) if q != k}
    assert ours == theirs and len(ours) > 50


def test_empty_and_validation() -> None:
    res = dedup(frame(["", "", "x"]), progress=False)
    assert len(res.kept) == 2 and res.dropped["reason"].tolist() == ["exact_duplicate"]
    assert dedup(frame([]).astype(object), progress=False).kept.empty
    with pytest.raises(ConfigError, match="'threshold' parameter of dedup"):
        dedup(frame(["a"]), threshold=1.5)
    with pytest.raises(ConfigError, match="'method'"):
        dedup(frame(["a"]), method="simhash")
    with pytest.raises(DataFormatError, match="'label'"):
        dedup(pd.DataFrame({"text": ["a"]}))
    with pytest.raises(DataFormatError, match="real_test"):
        dedup(frame(["a"]), real_test=pd.DataFrame({"txt": ["a"]}))
    assert dedup(pd.DataFrame({"text": ["a", "A"]}), label_col=None, progress=False).kept.shape[0] == 1
