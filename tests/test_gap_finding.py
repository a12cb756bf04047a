"""Finding the codes that need help: cross-validated F1 (real fastText), ``worst:K``, targets files, reasons.

The rows are our own made-up declarations at NACE class level: five classes with words of their
own, and one planted class (47.19) whose rows use the very words of 47.11 with fewer rows, so a
model trained on the real rows alone codes them as 47.11. A thin class (05.10) has a single row.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from statcodgen.classification.hierarchy import Hierarchy
from statcodgen.errors import ConfigError, DataFormatError, InputError, UnknownCodeError
from statcodgen.gaps import coverage_table, cross_validated_f1, resolve_targets, target_reasons
from statcodgen.gaps.crossval import CV_COLUMNS, assign_folds
from statcodgen.modelling import FastTextParams

H = Hierarchy.builtin("nace_rev2")
# small and single-threaded: the whole file trains fastText in a few seconds
PARAMS = FastTextParams(dim=16, bucket=20_000, thread=1, minn=0, maxn=0, epoch=25)

WORDS = {
    "01.11": (["grow", "farm", "harvest", "sow"], ["wheat", "barley", "oats", "rye", "maize"], ["fields", "acres", "grain"]),
    "10.71": (["bake", "make", "sell"], ["bread", "loaves", "rolls", "baguettes", "buns"], ["oven", "bakery", "dough"]),
    "47.11": (["run", "own", "manage"], ["supermarket", "grocery", "convenience", "food"], ["store", "shop", "aisles"]),
    "49.41": (["drive", "haul", "deliver"], ["lorry", "truck", "freight", "pallets"], ["road", "motorway", "depot"]),
    "62.01": (["write", "develop", "code"], ["software", "apps", "programs", "websites"], ["clients", "python", "java"]),
}
WORDS["47.19"] = WORDS["47.11"]  # the planted confusion: same words, fewer rows
N_ROWS = {"01.11": 24, "10.71": 24, "47.11": 36, "49.41": 24, "62.01": 24, "47.19": 12}


def make_real(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for code, n in N_ROWS.items():
        verbs, nouns, places = WORDS[code]
        for _ in range(n):
            rows.append({"text": f"we {rng.choice(verbs)} {rng.choice(nouns)} {rng.choice(nouns)} in our {rng.choice(places)}",
                         "code": code})
    rows.append({"text": "underground mine digging hard black coal", "code": "05.10"})
    return pd.DataFrame(rows).sample(frac=1.0, random_state=seed).reset_index(drop=True)


@pytest.fixture(scope="module")
def real() -> pd.DataFrame:
    return make_real()


@pytest.fixture(scope="module")
def cv(real: pd.DataFrame) -> pd.DataFrame:
    return cross_validated_f1(real, level="class", k=3, params=PARAMS, language="en", seed=0, hierarchy=H)


def fake_cv() -> pd.DataFrame:
    """A made-up table in the shape of cross_validated_f1 (no training): 47.19 worst, 05.10 unscored."""
    return pd.DataFrame({"label": ["47.19", "47.11", "62.01", "05.10"], "support": [12, 36, 24, 1], "f1": [0.18, 0.7, 1.0, np.nan],
                         "precision": [0.2, 0.6, 1.0, np.nan], "recall": [0.17, 0.8, 1.0, np.nan],
                         "most_confused_with": ["47.11", "47.19", None, "47.11"], "n_confused": [10, 10, 0, 1],
                         "rank": pd.array([1, 2, 3, pd.NA], dtype="Int64"), "note": ["", "", "", "1 row: not scored"]})


def test_folds_are_stratified_and_balanced() -> None:
    labels = np.array(["a"] * 10 + ["b"] * 7 + ["c"] * 2 + ["d"], dtype=object)
    fold = assign_folds(labels, 3, seed=4)
    assert sorted(np.bincount(fold).tolist()) == [6, 7, 7]
    for lab in "abcd":
        per_fold = np.bincount(fold[labels == lab], minlength=3)
        assert per_fold.max() - per_fold.min() <= 1, lab  # a code with fewer rows than folds: one row per fold
    assert (assign_folds(labels, 3, seed=4) == fold).all()
    assert not (assign_folds(labels, 3, seed=5) == fold).all()


@pytest.mark.slow
def test_cross_validated_f1_finds_the_planted_confusion(cv: pd.DataFrame, real: pd.DataFrame) -> None:
    assert list(cv.columns) == CV_COLUMNS
    assert cv.attrs["n_rows"] == len(real) and cv.attrs["k"] == 3 and cv.attrs["seconds"] > 0
    by = cv.set_index("label")
    assert dict(by["support"]) == {**N_ROWS, "05.10": 1}
    assert by.loc["47.19", "rank"] == 1 and by.loc["47.19", "most_confused_with"] == "47.11"
    assert by.loc["47.19", "f1"] < 0.5 < min(by.loc[c, "f1"] for c in ("01.11", "10.71", "49.41", "62.01"))
    assert by.loc["47.11", "most_confused_with"] == "47.19"  # confusion counts in both directions
    # one row: not scored, ranked nowhere, said why
    assert np.isnan(by.loc["05.10", "f1"]) and pd.isna(by.loc["05.10", "rank"]) and "not scored" in by.loc["05.10", "note"]
    assert cv["label"].iloc[-1] == "05.10"
    assert cv["rank"].dropna().tolist() == list(range(1, 7))


@pytest.mark.slow
def test_fewer_rows_than_folds_are_held_out_once(real: pd.DataFrame) -> None:
    two = pd.concat([real, pd.DataFrame({"text": ["we fix bicycles", "we fix bicycle wheels"], "code": ["95.29", "95.29"]})],
                    ignore_index=True)
    out = cross_validated_f1(two, level="class", k=3, params=PARAMS, language="en", hierarchy=H).set_index("label")
    assert out.loc["95.29", "note"] == "2 rows < 3 folds: each row held out once"
    assert not np.isnan(out.loc["95.29", "f1"])


def test_cross_validated_f1_errors(real: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match="'k' parameter of cross_validated_f1"):
        cross_validated_f1(real, level="class", k=1, hierarchy=H)
    with pytest.raises(ConfigError, match="'hierarchy' parameter"):
        cross_validated_f1(real, level="class")  # no label column and no hierarchy
    with pytest.raises(InputError, match="single class code"):
        cross_validated_f1(real.assign(label="47.11"), level="class")
    with pytest.raises(InputError, match="cannot be cut into 3 folds"):
        cross_validated_f1(real.head(2).assign(label=["a", "b"]), level="class")
    with pytest.raises(DataFormatError, match="'text'"):
        cross_validated_f1(real.rename(columns={"text": "activity"}), level="class", hierarchy=H)


@pytest.mark.slow
def test_worst_k_picks_the_planted_code_with_its_reason(real: pd.DataFrame, cv: pd.DataFrame) -> None:
    table = target_reasons(["worst:1"], hierarchy=H, level="class", real=real, params=PARAMS, language="en")
    assert table["code"].tolist() == ["47.19"]
    assert table["reason"].iloc[0].startswith("CV F1 0.") and table["reason"].iloc[0].endswith("on 12 real rows (rank 1 of 6), confused with 47.11")
    # a table computed once is reused; worst first; the unscored single-row code is never picked
    codes = resolve_targets(["worst:50"], hierarchy=H, level="class", real=real, cv=cv)
    assert codes == cv["label"].head(6).tolist() and "05.10" not in codes


def test_union_of_count_and_error_with_reasons(real: pd.DataFrame) -> None:
    table = target_reasons(["under:2", "worst:1", "47.19", "49.41"], hierarchy=H, level="class", real=real, cv=fake_cv(),
                           func="[targets] labels").set_index("code")
    n_classes = len(H.codes("class"))
    assert len(table) == n_classes - 6 + 2  # every class under 2 rows (zero included), plus 47.19 and 49.41
    assert table.index[-2:].tolist() == ["47.19", "49.41"] and table.index.is_unique
    assert table.loc["05.10", "reason"] == "1 real row < 2" and table.loc["05.10", "selected_by"] == "under:2"
    assert table.loc["01.12", "reason"] == "0 real rows < 2"
    assert table.loc["47.19", "selected_by"] == "worst:1, 47.19"
    assert table.loc["47.19", "reason"] == "CV F1 0.18 on 12 real rows (rank 1 of 3), confused with 47.11; named in config"
    worst = target_reasons(["worst:5"], hierarchy=H, level="class", real=real, cv=fake_cv())
    assert worst["reason"].tolist()[-1] == "CV F1 1.00 on 24 real rows (rank 3 of 3)" and "05.10" not in set(worst["code"])
    assert table.loc["49.41", "reason"] == "named in config"
    assert target_reasons(["49.41"], hierarchy=H, level="class")["reason"].tolist() == ["named in the targets"]
    # the coverage table says why
    cov = coverage_table(real, H, level="class", reasons=table.reset_index()).set_index("code")
    assert cov.loc["05.10", "reason"] == "1 real row < 2" and cov.loc["01.11", "reason"] == ""
    assert "reason" not in coverage_table(real, H, level="class").columns


def test_targets_from_files(tmp_path: Path, real: pd.DataFrame) -> None:
    (tmp_path / "targets.csv").write_text("code,why\n47.19,our coders say so\n\n01.11,\n", encoding="utf-8")
    (tmp_path / "list.txt").write_text("# classes to fill\n62.01\n\n10.71\n", encoding="utf-8")
    (tmp_path / "plain.csv").write_text("49.41\n4941\n", encoding="utf-8")  # no header; spellings normalised
    table = target_reasons([str(tmp_path / "targets.csv"), "file:list.txt", "plain.csv"], hierarchy=H, level="class",
                           base_dir=tmp_path).set_index("code")
    assert table.index.tolist() == ["47.19", "01.11", "62.01", "10.71", "49.41"]
    assert table.loc["47.19", "reason"] == "listed in targets.csv" and table.loc["62.01", "reason"] == "listed in list.txt"
    both = resolve_targets(["worst:1", f"file:{tmp_path / 'targets.csv'}"], hierarchy=H, level="class", real=real, cv=fake_cv())
    assert both == ["47.19", "01.11"]


def test_targets_file_errors_name_the_file_and_row(tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("code\n47.11\n99.99\n", encoding="utf-8")
    with pytest.raises(UnknownCodeError, match=r"file '.*bad\.csv', row 3, column 'code': unknown code '99\.99'"):
        resolve_targets(["file:bad.csv"], hierarchy=H, level="class", base_dir=tmp_path)
    (tmp_path / "level.txt").write_text("47.11\n47\n", encoding="utf-8")
    with pytest.raises(UnknownCodeError, match=r"level\.txt', row 2: '47' is a division code, not a class code"):
        resolve_targets([str(tmp_path / "level.txt")], hierarchy=H, level="class")
    (tmp_path / "empty.txt").write_text("# nothing yet\n\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match="lists no code"):
        resolve_targets([str(tmp_path / "empty.txt")], hierarchy=H, level="class")
    with pytest.raises(DataFormatError, match=r"missing\.csv.*file not found"):
        resolve_targets(["missing.csv"], hierarchy=H, level="class", base_dir=tmp_path)


def test_target_item_errors(real: pd.DataFrame) -> None:
    for bad in ("worst:0", "worst:x", "under:-1"):
        with pytest.raises(ConfigError, match=f"Got {bad!r} instead"):
            resolve_targets([bad], hierarchy=H, level="class", real=real)
    with pytest.raises(ConfigError, match="needs the real data"):
        resolve_targets(["worst:3"], hierarchy=H, level="class")
    with pytest.raises(ConfigError, match="with their text"):
        resolve_targets(["worst:3"], hierarchy=H, level="class", real=real["code"])
    with pytest.raises(ConfigError, match="'cv' parameter"):
        resolve_targets(["worst:3"], hierarchy=H, level="class", real=real, cv=pd.DataFrame({"label": ["47.19"]}))
    with pytest.raises(ConfigError, match="'worst:K' or 'file:path'. Got 'Z9' instead"):
        resolve_targets(["Z9"], hierarchy=H, level="class")
