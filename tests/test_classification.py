"""Classification hierarchy: normalisation, lookups, aggregation (built-in tables + real notes files)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from statcodgen.classification.hierarchy import LEVELS, SYSTEMS, Hierarchy, code_level, normalize_code, structural_parent
from statcodgen.errors import ConfigError, UnknownCodeError


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("0111Z", "01.11Z"), ("01.11z", "01.11Z"), ("1.11", "01.11"), ("01.11", "01.11"),
        (" 01.11Z ", "01.11Z"), ("8220Z", "82.20Z"), ("8411z", "84.11Z"), ("011", "01.1"), ("1", "01"),
        ("b", "B"), ("01.11Y", "01.11Y"), ("08.12.0", "08.12.0"), ("0812", "08.12"), (84, "84"),
    ],
)
def test_normalize_code_spellings(raw, expected):
    assert normalize_code(raw) == expected


def test_normalize_uksic_five_digits_only_when_asked():
    assert normalize_code("10110", system="uksic2007") == "10.11"
    assert normalize_code(1110, system="uksic2007") == "01.11"  # leading zero lost by a spreadsheet
    with pytest.raises(UnknownCodeError, match="5 digits is ambiguous"):
        normalize_code("10110")


@pytest.mark.parametrize("bad", ["", "  ", "A1", "01.1Z", "12345678", "x.y", None, float("nan"), 1.5])
def test_normalize_rejects_non_codes(bad):
    with pytest.raises(UnknownCodeError):
        normalize_code(bad)


def test_code_shapes():
    assert [code_level(c) for c in ("B", "08", "08.1", "08.12", "08.12Z", "08.12.00")] == [
        "section", "division", "group", "class", "subclass", "subclass"]
    assert structural_parent("08.12.00") == "08.12.0"
    assert structural_parent("08.12.0") == "08.12"
    assert structural_parent("08.12Y") == "08.12"
    assert structural_parent("08") is None


@pytest.mark.parametrize(
    "system, counts",
    [
        ("nace_rev2", {"section": 21, "division": 88, "group": 272, "class": 615, "subclass": 0}),
        ("nace_rev21", {"section": 22, "division": 87, "group": 287, "class": 651, "subclass": 0}),
        ("naf_rev2", {"section": 21, "division": 88, "group": 272, "class": 615, "subclass": 732}),
        ("naf2025", {"section": 22, "division": 87, "group": 287, "class": 651, "subclass": 747}),
    ],
)
def test_builtin_counts(system, counts):
    assert Hierarchy.builtin(system).counts() == counts


def test_section_letters_differ_between_revisions():
    rev2, rev21 = Hierarchy.builtin("nace_rev2"), Hierarchy.builtin("nace_rev21")
    assert [rev2.section(c) for c in ("84.11", "97.00", "99.00", "62.01", "45.20")] == ["O", "T", "U", "J", "G"]
    assert [rev21.section(c) for c in ("84.11", "97.00", "99.00", "62.10")] == ["P", "U", "V", "K"]
    assert "45.20" not in rev21  # division 45 was merged into 46/47 in Rev. 2.1
    assert "GOVERNMENT" in rev2.title("O")
    assert "EXTRATERRITORIAL" in rev21.title("V")


def test_lookups_on_naf_rev2():
    h = Hierarchy.builtin("naf_rev2")
    assert h.ancestors("8411Z") == ["84.11", "84.1", "84", "O"]
    assert h.ancestor("08.12Z", "group") == "08.1"
    assert h.parent("B") is None
    assert h.children("08") == ["08.1", "08.9"]
    assert h.leaves("08.1") == ["08.11Z", "08.12Z"]
    assert h.level("0812z") == "subclass"
    assert "01.11Z" in h and "01.11Y" not in h and "garbage" not in h
    assert len(h.leaves()) == 732
    assert h.codes("section")[:3] == ["A", "B", "C"]
    with pytest.raises(ConfigError, match="finer level"):
        h.ancestor("08", "class")
    with pytest.raises(UnknownCodeError, match="99.99Z"):
        h.level("99.99Z")
    frame = h.to_frame()
    assert list(frame.columns) == ["code", "level", "parent", "section", "title"]
    assert frame.loc[frame.code == "97.00Z", "section"].item() == "T"


def test_aggregate_vectorised_keeps_index_and_reports_row():
    h = Hierarchy.builtin("naf_rev2")
    s = pd.Series(["8220Z", "0111Z", "8220Z", "9700Z"], index=[10, 11, 12, 13], name="code")
    out = h.aggregate(s, "section")
    assert out.tolist() == ["N", "A", "N", "T"] and out.index.tolist() == [10, 11, 12, 13]
    assert h.aggregate(["01.11Z"], "division").tolist() == ["01"]
    with pytest.raises(UnknownCodeError) as err:
        h.aggregate(pd.Series(["01.11Z", "01.11Z", "77.77Z"], name="code"), "section")
    assert "row 3" in str(err.value) and "'code'" in str(err.value) and "77.77Z" in str(err.value)
    coerced = h.aggregate(["01.11Z", "zz", None], "division", errors="coerce")
    assert coerced.tolist() == ["01", None, None]
    with pytest.raises(ConfigError, match="'errors' parameter"):
        h.aggregate(["01.11Z"], "section", errors="ignore")
    with pytest.raises(ConfigError, match="'level' parameter"):
        h.aggregate(["01.11Z"], "sector")


def test_aggregate_large_column_matches_slow_path():
    h = Hierarchy.builtin("naf_rev2")
    rng = np.random.default_rng(0)
    codes = pd.Series(rng.choice(h.codes("subclass"), 200_000)).str.replace(".", "", regex=False)
    fast = h.aggregate(codes, "section")
    sample = codes.iloc[:500]
    assert fast.iloc[:500].tolist() == [h.section(c) for c in sample]
    assert fast.isna().sum() == 0


def test_from_frame_adds_missing_ancestors_and_sections():
    df = pd.DataFrame({"code": ["84.11Y", "0812Y"], "title": ["a", "b"], "section": ["O", "B"]})
    h = Hierarchy.from_frame(df)
    assert h.ancestors("84.11Y") == ["84.11", "84.1", "84", "O"]
    assert h.counts() == {"section": 2, "division": 2, "group": 2, "class": 2, "subclass": 2}
    assert h.title("84.11Y") == "a" and h.title("O") == ""
    h2 = Hierarchy.from_frame(pd.DataFrame({"code": ["84.11"]}), system="nace_rev21")
    assert h2.section("84.11") == "P" and h2.title("P").startswith("GOVERNMENT")
    with pytest.raises(UnknownCodeError, match="no section known"):
        Hierarchy.from_frame(pd.DataFrame({"code": ["84.11"]}))


def test_builtin_rejects_unknown_system():
    with pytest.raises(ConfigError, match="'system' parameter of Hierarchy.builtin"):
        Hierarchy.builtin("isic4")
    assert set(SYSTEMS) == {"nace_rev2", "nace_rev21", "naf_rev2", "naf2025"}
    assert LEVELS == ("section", "division", "group", "class", "subclass")


def test_every_ons_index_code_maps_to_a_nace_rev2_section(shared_data):
    index = pd.read_csv(shared_data / "ons_uksic2007_index_en" / "uksic2007_alphabetical_index_train70.csv", dtype=str)
    h = Hierarchy.builtin("nace_rev2")
    from_5digit = h.aggregate(index["uksic2007"].map(lambda c: normalize_code(c, system="uksic2007")), "section")
    from_class = h.aggregate(index["nace_rev2_class"], "section")
    assert from_5digit.notna().all() and (from_5digit == from_class).all()
    assert from_class.nunique() == 21
    assert from_class.value_counts()["C"] > 3000


def test_real_naf_hierarchy_files_agree_with_builtin(shared_data):
    rev2 = pd.read_csv(shared_data / "naf_hierarchies_fr" / "naf_rev2_hierarchy.csv", dtype=str)
    h = Hierarchy.builtin("naf_rev2")
    assert (h.aggregate(rev2["NIV5"], "section") == rev2["NIV1"]).all()
    assert (h.aggregate(rev2["NIV5"], "group") == rev2["NIV3"]).all()
    naf25 = pd.read_csv(shared_data / "naf_hierarchies_fr" / "naf2025_hierarchy.csv", dtype=str)
    h25 = Hierarchy.builtin("naf2025")
    assert (h25.aggregate(naf25["Sous-classe"], "section") == naf25["Section"]).all()


@pytest.mark.parametrize("system", SYSTEMS)
def test_every_builtin_code_survives_the_spellings_users_write(system):
    h = Hierarchy.builtin(system)
    for code in h.codes():
        assert normalize_code(code) == code
        assert normalize_code(" " + code.lower() + " ") == code
        if len(code) >= 4:
            assert normalize_code(code.replace(".", "")) == code
