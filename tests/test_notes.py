"""Explanatory-notes loader and item parser: real files from ../shared/data + our own fixtures."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from statcodgen.classification.hierarchy import Hierarchy
from statcodgen.errors import ConfigError, InputError, NotesFormatError, UnknownCodeError
from statcodgen.sources.notes import NOTES_COLUMNS, excluded_codes, load_notes, parse_items

FIX = Path(__file__).parent / "fixtures"
SAMPLE = Path(__file__).parents[1] / "notes" / "sample_notes_en.csv"
ATECO_COLUMNS = {"code": "code", "parent": "parent", "title": "title", "includes": "inclusione",
                 "also_includes": "inclusione_aggiuntiva", "excludes": "esclusione"}


# ------------------------------------------------------------------ parse_items (our own texts)
def test_parse_items_line_bullets_and_header():
    text = "This class includes:\n- baking of bread\n- making of fresh cakes etc.\n"
    assert parse_items(text) == ["baking of bread", "making of fresh cakes"]


def test_parse_items_inline_flattened_with_sub_bullets():
    text = ("Cette sous-classe comprend : - la pêche en mer - l'élevage de poissons, par exemple : "
            "• truites • saumons ◦ saumon fumé - la vente de filets")
    assert parse_items(text) == [
        "la pêche en mer", "l'élevage de poissons", "l'élevage de poissons: truites",
        "l'élevage de poissons: saumons", "saumons: saumon fumé", "la vente de filets"]


def test_parse_items_dot_sub_bullets_and_continuation_lines():
    text = "This class includes:\n- managing public money:\n. collecting taxes\n. running\ncustoms posts\n- other"
    assert parse_items(text) == ["managing public money", "managing public money: collecting taxes",
                                 "managing public money: running customs posts", "other"]
    es = "Esta clase comprende:\n- la extracción de arena\npara obras;\n- el lavado de grava."
    assert parse_items(es) == ["la extracción de arena para obras", "el lavado de grava"]


def test_parse_items_such_as_enumeration():
    items = parse_items("This class includes households that hire staff such as cleaners, cooks and drivers etc.")
    assert items == ["households that hire staff", "households that hire staff: cleaners",
                     "households that hire staff: cooks", "households that hire staff: drivers"]
    # not split: inside parentheses, followed by more text, or long parts
    kept = "repair of machines (such as pumps, valves), on a fee basis"
    assert parse_items(kept) == [kept]
    tail = "services such as cooking, gardening etc. by independent firms"
    assert parse_items(tail) == [tail]
    assert parse_items(tail, split_examples=False) == [tail]


def test_parse_items_prose_rules():
    text = "This class includes the operation of zoos. It is a sentence that explains.\n\nThis class also includes:\n- aquaria"
    assert parse_items(text) == ["the operation of zoos", "aquaria"]
    assert parse_items("Operation of zoos and aquaria") == ["Operation of zoos and aquaria"]
    assert parse_items(None) == [] and parse_items(float("nan")) == [] and parse_items("  ") == []
    assert parse_items("Questa classe include:\n- allevamento di trote") == ["allevamento di trote"]


def test_excluded_codes():
    assert excluded_codes("mining of tar sand, see 06.10") == ["06.10"]
    assert excluded_codes("l'extraction de sable bitumineux, voir 06.10Y") == ["06.10Y"]
    assert excluded_codes("la fabricación de ladrillos (véase 23.32, 23.20)") == ["23.32", "23.20"]
    assert excluded_codes("lavori di movimento terra, cfr. sezione F") == ["F"]
    assert excluded_codes("training of 2008 staff, see division 85") == ["85"]
    assert excluded_codes("no reference here 12.34") == []
    assert excluded_codes(None) == []  # type: ignore[arg-type]


# ------------------------------------------------------------------ our fixtures
def test_sample_notes_file_in_simple_layout():
    df = load_notes(SAMPLE)
    assert list(df.columns) == NOTES_COLUMNS
    assert df.attrs["layout"] == "simple" and df.attrs["language"] == "en"
    assert set(df.section) >= {"B", "O", "T", "U"}
    row = df.set_index("code").loc["84.11"]
    assert row.level == "class" and row.parent == "84.1" and row.section == "O"
    assert "managing public finances: collecting taxes and duties" in row.includes
    assert excluded_codes(df.set_index("code").loc["08.12"].excludes[0]) == ["06.10"]


def test_naf_like_fixture_keeps_file_sections():
    df = load_notes(FIX / "notes_naf_like.csv")
    assert df.attrs["layout"] == "naf_classes" and df.attrs["system"] == "naf2025"
    assert df.set_index("code").section.to_dict() == {"08.12Y": "B", "84.11Y": "O", "97.00Y": "T", "99.00Y": "U"}
    h = Hierarchy.from_notes(df)
    assert h.ancestors("84.11Y") == ["84.11", "84.1", "84", "O"]
    assert h.title("O").startswith("GOVERNMENT")


def test_explicit_columns_on_other_layout():
    cols = {"code": "codice", "title": "titolo", "includes": "testo_incluso", "excludes": "testo_escluso"}
    df = load_notes(FIX / "notes_other_layout.csv", columns=cols, system="nace_rev21")
    assert df.attrs["layout"] == "columns" and df.attrs["language"] == "it"
    assert df.code.tolist() == ["08.12", "84.11", "84.11.1"]
    assert df.section.tolist() == ["B", "P", "P"] and df.parent.tolist()[2] == "84.11"
    with pytest.raises(NotesFormatError, match="unknown notes layout"):
        load_notes(FIX / "notes_other_layout.csv")
    with pytest.raises(ConfigError, match="'columns' parameter"):
        load_notes(FIX / "notes_other_layout.csv", columns={"titre": "titolo"})


# ------------------------------------------------------------------ bad inputs
def _write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return p


def _assert_where(err: InputError, path: Path, **parts):
    msg = str(err)
    assert repr(str(path)) in msg
    for key, value in parts.items():
        assert getattr(err, key) == value, (key, msg)
    assert "Expected:" in msg


def test_missing_required_column(tmp_path):
    p = _write(tmp_path, "n.csv", "Section,Code,Title,Includes,Also includes\nB,08.12Y,x,y,z\n")
    with pytest.raises(NotesFormatError) as err:
        load_notes(p, layout="naf_classes")
    _assert_where(err.value, p, column="Not includes")
    p2 = _write(tmp_path, "m.csv", "codice;titolo\n08.12;x\n")
    with pytest.raises(NotesFormatError, match="'testo'"):
        load_notes(p2, columns={"code": "codice", "includes": "testo"})


def test_empty_file_and_header_only(tmp_path):
    for name, content in [("empty.csv", ""), ("header.csv", "code,title,includes\n"), ("blank.csv", "code,title,includes\n,,\n")]:
        p = _write(tmp_path, name, content)
        with pytest.raises(NotesFormatError, match="empty|no data rows") as err:
            load_notes(p)
        _assert_where(err.value, p)


def test_unknown_code_names_row_and_column(tmp_path):
    p = _write(tmp_path, "u.csv", "code,title,includes\n08.12,a,- x\n08.13,b,- y\n")
    with pytest.raises(UnknownCodeError) as err:
        load_notes(p, system="nace_rev2")
    _assert_where(err.value, p, row=3, column="code")
    bad = _write(tmp_path, "b.csv", "code,title,includes\n08.12,a,- x\nABC,b,- y\n")
    with pytest.raises(NotesFormatError) as err2:
        load_notes(bad, system="nace_rev2")
    _assert_where(err2.value, bad, row=3, column="code")


def test_duplicated_code(tmp_path):
    p = _write(tmp_path, "d.csv", "code,title,includes,section\n08.12,a,- x,B\n0812,b,- y,B\n")
    with pytest.raises(NotesFormatError, match="duplicated.*row 2") as err:
        load_notes(p)
    _assert_where(err.value, p, row=3, column="code")


def test_wrong_sheet_name(tmp_path):
    p = tmp_path / "n.xlsx"
    pd.DataFrame({"code": ["08.12"], "title": ["a"], "includes": ["- x"], "section": ["B"]}).to_excel(
        p, sheet_name="Notes", index=False)
    assert load_notes(p, sheet="Notes").code.tolist() == ["08.12"]
    with pytest.raises(NotesFormatError, match="no such sheet") as err:
        load_notes(p, sheet="Sheet1")
    _assert_where(err.value, p, sheet="Sheet1")
    assert "Notes" in str(err.value)


def test_unreadable_encoding(tmp_path):
    p = _write(tmp_path, "latin.csv", "code,title,includes,section\n08.12,a,- x,B\n84.11,Activit\xe9s,- y,O\n".encode("latin-1"))
    with pytest.raises(NotesFormatError, match="not valid utf-8") as err:
        load_notes(p)
    _assert_where(err.value, p, row=3)
    assert load_notes(p, encoding="latin-1").title.tolist()[1] == "Activités"


def test_no_section_information(tmp_path):
    p = _write(tmp_path, "s.csv", "code,title,includes\n08.12,a,- x\n")
    with pytest.raises(NotesFormatError, match="system="):
        load_notes(p)
    assert load_notes(p, system="nace_rev2").section.tolist() == ["B"]


def test_unsupported_suffix_and_missing_file(tmp_path):
    p = _write(tmp_path, "n.json", "{}")
    with pytest.raises(NotesFormatError, match="unsupported file type"):
        load_notes(p)
    with pytest.raises(NotesFormatError, match="not found"):
        load_notes(tmp_path / "absent.csv")


# ------------------------------------------------------------------ real files
@pytest.fixture(scope="module")
def naf_notes(shared_data):
    return load_notes(shared_data / "naf2025_notes_fr" / "NAFclasses.xlsx")


def test_real_nafclasses(naf_notes):
    df = naf_notes.set_index("code")
    assert len(df) == 747 and (df.level == "subclass").all()
    assert naf_notes.attrs["layout"] == "naf_classes" and naf_notes.attrs["language"] == "fr"
    assert naf_notes.attrs["system"] == "naf2025" and naf_notes.attrs["section_system"] == "nace_rev2"
    assert df.loc[["84.11Y", "97.00Y", "99.00Y", "08.12Y"], "section"].tolist() == ["O", "T", "U", "B"]
    assert df.section.nunique() == 21
    assert (df.includes_text != "").sum() == 734 and (df.excludes_text != "").sum() == 647
    assert (df.includes.map(len) > 0).sum() == 734
    inc = df.loc["01.11Y", "includes"]
    assert "la culture de céréales" in inc and any(i.startswith("la culture de céréales: ") for i in inc)
    assert not any(i.lower().startswith("cette sous-classe") for items in df.includes for i in items)
    assert excluded_codes(df.loc["08.12Y", "excludes"][0]) == ["06.10Y"]
    assert df.loc["08.12Y", "parent"] == "08.12"


def test_real_nafclasses_csv_extract_gives_same_items(shared_data, naf_notes):
    csv = load_notes(shared_data / "naf2025_notes_fr" / "naf2025_subclass_notes_fr.csv")
    assert csv.code.tolist() == naf_notes.code.tolist()
    assert csv.includes.tolist() == naf_notes.includes.tolist()


def test_real_nace_rev2(shared_data):
    df = load_notes(shared_data / "nace_rev2_notes_en" / "nace_rev2_notes_en.csv")
    assert len(df) == 996 and (df.level == "class").sum() == 615
    assert df.level.value_counts().to_dict() == {"class": 615, "group": 272, "division": 88, "section": 21}
    assert df.attrs["layout"] == "nace_rev2_ramon" and df.attrs["system"] == "nace_rev2"
    d = df.set_index("code")
    assert d.loc["84.11", "section"] == "O" and d.loc["97.00", "section"] == "T"
    assert d.loc["08.12", "includes"][2] == "quarrying of sand"
    assert excluded_codes(d.loc["08.12", "excludes"][0]) == ["06.10"]
    items = d.loc["97.00", "includes"]
    assert items[0].endswith("employers of domestic personnel") and any(i.endswith(": maids") for i in items)


def test_real_nace_rev21_xlsx_and_csv(shared_data):
    folder = shared_data / "nace_rev21_notes_en"
    df = load_notes(folder / "NACE_Rev2.1_Structure_Explanatory_Notes_EN.xlsx")
    assert df.attrs["sheet"] == "Sheet0" and df.attrs["layout"] == "nace_rev21_eurostat"
    assert (df.level == "class").sum() == 651 and len(df) == 1047
    d = df.set_index("code")
    assert d.loc["84.11", "section"] == "P" and d.loc["99.00", "section"] == "V"
    assert "restaurants" in d.loc["56.11", "includes"] and len(d.loc["56.11", "excludes"]) == 7
    csv = load_notes(folder / "nace_rev21_notes_en.csv")
    assert csv.includes.tolist() == df.includes.tolist()


def test_real_spanish_cnae_with_column_mapping(shared_data):
    path = shared_data / "cnae2009_notes_es" / "cnae2009_notes_es.csv"
    cols = {"code": "code", "title": "title", "includes": "includes", "also_includes": "also_includes",
            "excludes": "excludes"}
    df = load_notes(path, columns=cols, system="nace_rev2")
    assert len(df) == 961 and (df.level == "class").sum() == 610 and df.attrs["language"] == "es"
    d = df.set_index("code")
    assert d.loc["08.12", "includes"][0].startswith("la extracción y el dragado")
    assert excluded_codes(d.loc["08.12", "excludes"][0]) == ["06.10"]
    assert d.loc["08.12", "section"] == "B"


def test_real_italian_ateco_with_column_mapping(shared_data):
    df = load_notes(shared_data / "ateco2025_notes_it" / "ateco2025_notes_it.csv", columns=ATECO_COLUMNS)
    assert len(df) == 3257 and df.attrs["language"] == "it"
    assert df.level.value_counts().to_dict()["subclass"] == 920 + 1290
    d = df.set_index("code")
    assert d.loc["08.12.00", "parent"] == "08.12.0" and d.loc["08.12.00", "section"] == "B"
    assert d.loc["08.12.00", "includes"][-1].startswith("estrazione di argille")
    assert excluded_codes(d.loc["08.12", "excludes"][0]) == ["06.10"]
    assert d.loc["84.11", "section"] == "P"


def test_semicolon_ramon_layout_like_upstream_file():
    df = load_notes(FIX / "notes_ramon_semicolon.csv")
    assert df.attrs["layout"] == "nace_rev2_ramon" and df.attrs["system"] == "nace_rev2"
    assert df.level.tolist() == ["section", "division", "group", "class"]
    assert df.includes.tolist()[3] == ["digging sand for building sites", "washing gravel"]
    assert df.includes.tolist()[0] == ["taking minerals out of the ground"]  # lead-in "This section covers" removed


def test_parquet_and_xlsx_with_numeric_codes(tmp_path):
    df = pd.read_csv(SAMPLE, dtype=str)
    df.to_parquet(tmp_path / "n.parquet")
    assert load_notes(tmp_path / "n.parquet").code.tolist() == load_notes(SAMPLE).code.tolist()
    # a spreadsheet that stored codes as numbers lost the leading zero: 1.11 -> 01.11
    pd.DataFrame({"code": [1.11, 84.11], "title": ["a", "b"], "includes": ["- x", "- y"]}).to_excel(
        tmp_path / "num.xlsx", index=False)
    assert load_notes(tmp_path / "num.xlsx", system="nace_rev2").code.tolist() == ["01.11", "84.11"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["-", "•", "◦", ".", ""]), st.text(
    alphabet=st.characters(whitelist_categories=("Ll", "Lu", "Zs"), whitelist_characters=",;:()"), max_size=40)),
    max_size=8))
def test_parse_items_properties(lines):
    text = "This class includes:\n" + "\n".join(f"{m} {t}" if m else t for m, t in lines)
    items = parse_items(text)
    assert all(i and i == i.strip() for i in items)
    assert len(items) == len(set(items))
    assert not any(i[0] in "-•◦" for i in items)
    assert parse_items(text) == items
