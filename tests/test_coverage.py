"""Coverage per level, gaps and generation plans (our fixtures + the real ONS index and NAF notes)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from statcodgen.classification.hierarchy import Hierarchy
from statcodgen.gaps import coverage_all_levels, coverage_table, find_gaps, format_table
from statcodgen.generation.plan import allocate, generation_plan
from statcodgen.sources.datasets import load_labelled, load_ons_index
from statcodgen.errors import ConfigError, DataFormatError, UnknownCodeError
from statcodgen.sources.notes import load_notes

FIX = Path(__file__).parent / "fixtures"
SAMPLE = Path(__file__).parents[1] / "notes" / "sample_notes_en.csv"
NAF2 = Hierarchy.builtin("naf_rev2")


@pytest.fixture(scope="module")
def real_small() -> pd.DataFrame:
    return load_labelled(FIX / "labelled_small.csv", text_column="description", code_column="ape", hierarchy=NAF2)


def test_coverage_table_includes_zero_codes(real_small):
    cov = coverage_table(real_small, NAF2, level="section")
    assert list(cov.columns) == ["code", "title", "n_rows", "share"]
    assert len(cov) == 21 and cov["n_rows"].sum() == 6
    counts = dict(zip(cov.code, cov.n_rows))
    assert counts == {**dict.fromkeys(NAF2.codes("section"), 0), "A": 1, "B": 1, "C": 1, "N": 1, "O": 1, "T": 1}
    assert cov.loc[cov.code == "O", "share"].item() == pytest.approx(1 / 6)
    assert cov.loc[cov.code == "O", "title"].item().startswith("GOVERNMENT")
    div = coverage_table(real_small["code"], NAF2, level="division")
    assert len(div) == 88 and div.loc[div.code == "84", "n_rows"].item() == 1


def test_coverage_unknown_codes(real_small):
    codes = list(real_small.code) + ["99.99Z"]
    with pytest.raises(UnknownCodeError, match="99.99Z"):
        coverage_table(codes, NAF2)
    cov = coverage_table(codes, NAF2, errors="coerce")
    assert cov.iloc[-1]["code"] is None and cov.iloc[-1]["n_rows"] == 1
    with pytest.raises(DataFormatError, match="'code'"):
        coverage_table(pd.DataFrame({"x": ["01.11Z"]}), NAF2)


def test_coverage_all_levels_and_gaps(real_small):
    allv = coverage_all_levels(real_small, NAF2)
    assert allv.groupby("level")["n_rows"].sum().to_dict() == dict.fromkeys(
        ["section", "division", "group", "class", "subclass"], 6)
    assert (allv.level == "subclass").sum() == 732
    gaps = find_gaps(real_small, NAF2, level="section", threshold=1)
    assert len(gaps) == 15 and (gaps.n_rows == 0).all()
    assert find_gaps(real_small, NAF2, level="section", threshold=2).shape[0] == 21
    with pytest.raises(ConfigError, match="'threshold' parameter of find_gaps"):
        find_gaps(real_small, NAF2, threshold=-1)


@pytest.mark.parametrize(
    "n, weights, minimum, expected",
    [(10, [1, 1, 1], 0, [4, 3, 3]), (10, [1, 1, 1], 3, [4, 3, 3]), (7, [5, 1], 1, [5, 2]), (5, [0, 0], 0, [3, 2]),
     (100, [3, 2, 0], 10, [52, 38, 10])],
)
def test_allocate_examples(n, weights, minimum, expected):
    assert allocate(n, weights, minimum=minimum) == expected


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 5000), st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=60), st.integers(0, 5))
def test_allocate_properties(n, weights, minimum):
    if minimum * len(weights) > n:
        with pytest.raises(ConfigError):
            allocate(n, weights, minimum=minimum)
        return
    parts = allocate(n, weights, minimum=minimum)
    assert sum(parts) == n and min(parts) >= minimum and len(parts) == len(weights)


def test_generation_plan_on_sample_notes():
    notes = load_notes(SAMPLE)
    plan = generation_plan(notes, targets=["B", "O", "T", "U"], n_per_target=10)
    assert list(plan.columns) == ["target", "code", "n_samples", "weight", "title", "n_items"]
    assert plan.groupby("target", sort=False)["n_samples"].sum().to_dict() == {"B": 10, "O": 10, "T": 10, "U": 10}
    assert plan.set_index("code")["n_samples"].to_dict() == {"08.11": 5, "08.12": 5, "84.11": 5, "84.25": 5,
                                                            "97.00": 10, "99.00": 10}
    rich = generation_plan(notes, targets="O", n_per_target=10, weight="richness", min_per_code=2)
    # 84.11 has 5 items, 84.25 has 2: 2 each first, then the other 6 split 5:2
    assert rich.set_index("code")["n_samples"].to_dict() == {"84.11": 6, "84.25": 4}
    assert rich.n_items.tolist() == [5, 2]
    assert "total n_samples=10" in format_table(rich)


def test_generation_plan_bad_parameters():
    notes = load_notes(SAMPLE)
    with pytest.raises(ConfigError, match="'targets' parameter of generation_plan must hold section codes"):
        generation_plan(notes, targets=["Z"], n_per_target=10)
    with pytest.raises(ConfigError, match="'targets' parameter"):
        generation_plan(notes, targets=["08.11"], n_per_target=10)
    with pytest.raises(ConfigError, match="needs the real data"):
        generation_plan(notes, targets=["under:5"], n_per_target=10)
    with pytest.raises(ConfigError, match="n_per_target to >= 6"):
        generation_plan(notes, targets=["B"], n_per_target=5, min_per_code=3)
    with pytest.raises(ConfigError, match="'weight' parameter"):
        generation_plan(notes, targets=["B"], n_per_target=5, weight="size")
    with pytest.raises(ConfigError, match="'n_per_target' parameter"):
        generation_plan(notes, targets=["B"], n_per_target=0)


def test_cross_version_targets_real_naf_rev2_notes_naf2025(real_small):
    notes = load_notes(FIX / "notes_naf_like.csv")  # NAF 2025 codes, Rev. 2 section letters
    plan = generation_plan(notes, targets=["under:1"], n_per_target=4, real=real_small, real_hierarchy=NAF2)
    # real rows exist for B, O, T (08.12Z, 84.11Z, 97.00Z) but not U: only U is under 1 row
    assert plan.target.unique().tolist() == ["U"] and plan.code.tolist() == ["99.00Y"]
    plan2 = generation_plan(notes, targets=["under:2", "B"], n_per_target=4, real=real_small, real_hierarchy=NAF2)
    assert plan2.target.unique().tolist() == ["B", "O", "T", "U"]


def test_real_ons_index_coverage_and_nafclasses_plan(shared_data):
    ons = load_ons_index(mirror=shared_data)
    rev2 = Hierarchy.builtin("nace_rev2")
    cov = coverage_table(ons, rev2, level="section")
    assert cov.n_rows.sum() == 11172 and (cov.n_rows > 0).all()
    assert cov.set_index("code").loc["C", "n_rows"] > 6000
    gaps = find_gaps(ons, rev2, level="section", threshold=50)
    assert set(gaps.code) == {"D", "L", "T", "U"}
    notes = load_notes(shared_data / "naf2025_notes_fr" / "NAFclasses.xlsx")
    plan = generation_plan(notes, targets=["B", "O", "T", "U"], n_per_target=800, weight="richness")
    assert plan.groupby("target")["n_samples"].sum().tolist() == [800, 800, 800, 800]
    assert (plan.n_samples >= 1).all()
    assert plan.groupby("target").size().to_dict() == {"B": 15, "O": 11, "T": 3, "U": 1}
    under = generation_plan(notes, targets=["under:50"], n_per_target=100, real=ons, real_hierarchy=rev2)
    assert sorted(under.target.unique()) == ["D", "L", "T", "U"]


def test_real_sirene_examples_naf_rev2_against_naf2025_notes(shared_data):
    real = load_labelled(shared_data / "insee_codif_ape_api_examples_fr" / "exemple.csv",
                         text_column="text_description", code_column="code", hierarchy=NAF2)
    assert len(real) == 49 and real.code.str.match(r"^\d\d\.\d\d[A-Z]$").all()
    cov = coverage_table(real, NAF2, level="section")
    empty = set(cov.loc[cov.n_rows == 0, "code"])
    notes = load_notes(shared_data / "naf2025_notes_fr" / "NAFclasses.xlsx")
    plan = generation_plan(notes, targets=["under:1"], n_per_target=50, real=real, real_hierarchy=NAF2)
    assert set(plan.target) == empty and empty  # same letters on both sides (Rev. 2 sections)
    assert plan.groupby("target")["n_samples"].sum().eq(50).all()
