"""Real labelled data loaders and fetchers (mirror, cache, a real HTTP server on 127.0.0.1)."""

from __future__ import annotations

import functools
import hashlib
import http.server
import shutil
import threading
from pathlib import Path

import pandas as pd
import pytest

from statcodgen.sources import datasets
from statcodgen.classification.hierarchy import Hierarchy
from statcodgen.sources.datasets import (
    fetch_file, fetch_firm_activity_data, fetch_naf2025_notes, fetch_nace_rev2_notes, fetch_nace_rev21_notes,
    fetch_ons_index, get_data_home, get_mirror, load_firm_activity_data, load_labelled, load_ons_index, rejected_rows,
)
from statcodgen.errors import ConfigError, DataFormatError, FetchError, UnknownCodeError
from statcodgen.sources.notes import load_notes

FIX = Path(__file__).parent / "fixtures"
NAF = Hierarchy.builtin("naf_rev2")


# ------------------------------------------------------------------ load_labelled
def test_load_labelled_normalises_codes_and_keeps_columns():
    df = load_labelled(FIX / "labelled_small.csv", text_column="description", code_column="ape", hierarchy=NAF)
    assert list(df.columns) == ["text", "code", "id"]
    assert df.code.tolist() == ["10.71C", "82.20Z", "84.11Z", "97.00Z", "01.11Z", "08.12Z"]
    assert NAF.aggregate(df.code, "section").tolist() == ["C", "N", "O", "T", "A", "B"]
    assert df.attrs["rejected"] == [] and rejected_rows(df).empty
    assert pd.concat([df, df]).shape == (12, 3)  # attrs hold plain values only


def test_load_labelled_reports_bad_rows_with_row_numbers():
    path = FIX / "labelled_bad.csv"
    with pytest.raises(UnknownCodeError) as err:
        load_labelled(path, text_column="description", code_column="ape", hierarchy=NAF)
    msg = str(err.value)
    assert "4 bad rows" in msg and "'9999Z' (unknown_code) in rows 3, 6" in msg and "'HELLO' (bad_code) in rows 5" in msg
    assert err.value.row == 3 and err.value.column == "ape" and str(path) in msg
    dropped = load_labelled(path, text_column="description", code_column="ape", hierarchy=NAF, errors="drop")
    assert dropped.code.tolist() == ["10.71C"]
    rej = rejected_rows(dropped)
    assert rej[["row", "reason"]].values.tolist() == [[3, "unknown_code"], [4, "empty_text"], [5, "bad_code"],
                                                      [6, "unknown_code"]]
    kept = load_labelled(path, text_column="description", code_column="ape", hierarchy=NAF, errors="keep")
    assert len(kept) == 5 and kept.code.tolist()[1] == "9999Z" and len(kept.attrs["rejected"]) == 4


def test_load_labelled_missing_column_and_bad_options(tmp_path):
    with pytest.raises(DataFormatError) as err:
        load_labelled(FIX / "labelled_small.csv", text_column="texte", code_column="ape")
    assert err.value.column == "texte" and "'description'" in str(err.value)
    with pytest.raises(ConfigError, match="'errors' parameter of load_labelled"):
        load_labelled(FIX / "labelled_small.csv", text_column="description", code_column="ape", errors="ignore")
    empty = tmp_path / "e.csv"
    empty.write_text("")
    with pytest.raises(DataFormatError, match="empty"):
        load_labelled(empty, text_column="a", code_column="b")


def test_load_labelled_parquet_and_frame(tmp_path):
    frame = pd.DataFrame({"text": ["MAIRIE", "CARRIERE DE SABLE"], "nace": ["8411Z", "0812Z"]})
    p = tmp_path / "firm.parquet"
    frame.to_parquet(p)
    df = load_firm_activity_data(p)
    assert df.code.tolist() == ["84.11Z", "08.12Z"]
    uk = load_labelled(pd.DataFrame({"t": ["x", "y"], "c": ["10110", 1110]}), text_column="t", code_column="c",
                       system="uksic2007", hierarchy=Hierarchy.builtin("nace_rev2"))
    assert uk.code.tolist() == ["10.11", "01.11"]


# ------------------------------------------------------------------ ONS index
def test_load_ons_index_from_mirror(shared_data, tmp_path):
    df = load_ons_index(mirror=shared_data, data_home=tmp_path)
    assert list(df.columns) == ["text", "code", "uksic2007"] and len(df) == 11172
    assert df.code.nunique() == 613 and df.uksic2007.nunique() == 723
    assert df.loc[0, "code"] == "10.11" and df.loc[0, "uksic2007"] == "10110"
    sections = Hierarchy.builtin("nace_rev2").aggregate(df.code, "section")
    assert sections.notna().all() and sections.nunique() == 21


def test_load_ons_index_upstream_xlsx_layout(tmp_path):
    # our own tiny workbook shaped like the ONS file: two title rows, then the header
    rows = [["UK SIC 2007 index (test copy)", None, None], [None, None, None],
            ["UK SIC 2007", "UK SIC 2003", "Activity"],
            ["10110", "15111", "Meat packing plant"], ["01110", "01110", "Barley growing"],
            ["84110", "75110", "Town council"]]
    p = tmp_path / "index.xlsx"
    pd.DataFrame(rows).to_excel(p, sheet_name="Alphabetical Index", header=False, index=False)
    df = load_ons_index(p)
    assert df.code.tolist() == ["10.11", "01.11", "84.11"] and df.uksic2007.tolist()[1] == "01110"
    bad = tmp_path / "bad.xlsx"
    pd.DataFrame(rows).to_excel(bad, sheet_name="Index", header=False, index=False)
    with pytest.raises(DataFormatError) as err:
        load_ons_index(bad)
    assert err.value.sheet == "Alphabetical Index"


# ------------------------------------------------------------------ fetchers: mirror and cache
def test_fetchers_use_the_mirror(shared_data, tmp_path):
    kw = {"mirror": shared_data, "data_home": tmp_path}
    assert fetch_naf2025_notes(**kw) == shared_data / "naf2025_notes_fr" / "NAFclasses.xlsx"
    assert fetch_nace_rev21_notes(**kw).name == "NACE_Rev2.1_Structure_Explanatory_Notes_EN.xlsx"
    assert fetch_nace_rev2_notes(**kw).name == "nace_rev2_notes_en.csv"
    assert fetch_ons_index(**kw).name == "uksic2007_alphabetical_index_train70.csv"
    assert len(load_notes(fetch_nace_rev2_notes(**kw))) == 996


def test_env_variables(monkeypatch, tmp_path, shared_data):
    monkeypatch.setenv("STATCODGEN_DATA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("STATCODGEN_MIRROR", str(shared_data))
    assert get_data_home() == tmp_path / "home" and (tmp_path / "home").is_dir()
    assert get_mirror() == shared_data and get_mirror(False) is None
    assert fetch_naf2025_notes().parent == shared_data / "naf2025_notes_fr"


def test_mirror_with_altered_identical_file_is_refused(tmp_path, shared_data):
    mirror = tmp_path / "mirror"
    (mirror / "naf2025_notes_fr").mkdir(parents=True)
    (mirror / "naf2025_notes_fr" / "NAFclasses.xlsx").write_bytes(b"not the workbook")
    with pytest.raises(FetchError) as err:
        fetch_naf2025_notes(mirror=mirror, data_home=tmp_path / "home", download_if_missing=False)
    assert "checksum mismatch" in str(err.value) and "download_if_missing=False" in str(err.value)


def test_no_mirror_no_network_gives_clear_error(tmp_path):
    with pytest.raises(FetchError) as err:
        fetch_nace_rev21_notes(mirror=False, data_home=tmp_path, url="http://127.0.0.1:9/nothing.xlsx", timeout=5)
    msg = str(err.value)
    assert "could not download" in msg and "STATCODGEN_MIRROR" in msg and str(tmp_path) in msg
    with pytest.raises(ConfigError, match="'key' parameter"):
        fetch_file("isic")


# ------------------------------------------------------------------ fetchers: real HTTP server
@pytest.fixture()
def http_root(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))

    class Quiet(handler.func):  # type: ignore[misc,name-defined]
        def log_message(self, *args):  # noqa: D401 - silence the test output
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_download_verifies_checksum_and_caches(http_root, shared_data, tmp_path):
    root, base = http_root
    shutil.copy(shared_data / "naf2025_notes_fr" / "NAFclasses.xlsx", root / "NAFclasses.xlsx")
    home = tmp_path / "home"
    path = fetch_naf2025_notes(mirror=False, data_home=home, url=f"{base}/NAFclasses.xlsx")
    assert path == home / "naf2025_notes_fr" / "NAFclasses.xlsx"
    assert datasets.sha256_of(path) == datasets.REMOTE_FILES["naf2025_notes"].sha256
    (root / "NAFclasses.xlsx").unlink()  # second call is served from the cache
    assert fetch_naf2025_notes(mirror=False, data_home=home, url=f"{base}/NAFclasses.xlsx") == path
    assert len(load_notes(path)) == 747
    assert not list(path.parent.glob("*.part"))


def test_download_with_wrong_checksum_leaves_nothing(http_root, tmp_path):
    root, base = http_root
    (root / "NAFclasses.xlsx").write_bytes(b"tampered content")
    home = tmp_path / "home"
    with pytest.raises(FetchError, match="checksum mismatch"):
        fetch_naf2025_notes(mirror=False, data_home=home, url=f"{base}/NAFclasses.xlsx")
    assert not list((home / "naf2025_notes_fr").iterdir())
    with pytest.raises(FetchError, match="404"):
        fetch_naf2025_notes(mirror=False, data_home=home, url=f"{base}/missing.xlsx")


def test_download_without_pinned_checksum_records_it(http_root, tmp_path):
    root, base = http_root
    frame = pd.DataFrame({"text": ["BOULANGERIE", "MAIRIE"], "nace": ["1071C", "8411Z"]})
    frame.to_parquet(root / "firm.parquet")
    home = tmp_path / "home"
    path = fetch_firm_activity_data(mirror=False, data_home=home, url=f"{base}/firm.parquet")
    record = path.with_name(path.name + ".sha256")
    assert record.read_text().strip() == hashlib.sha256(path.read_bytes()).hexdigest()
    assert load_firm_activity_data(path).code.tolist() == ["10.71C", "84.11Z"]
    path.write_bytes(b"corrupted")  # cache no longer matches the recorded digest -> downloaded again
    again = fetch_firm_activity_data(mirror=False, data_home=home, url=f"{base}/firm.parquet")
    assert load_firm_activity_data(again).code.tolist() == ["10.71C", "84.11Z"]


def test_rejected_rows_survive_concat_with_missing_text():
    frame = pd.DataFrame({"t": ["MAIRIE", None, "  "], "c": ["8411Z", "8411Z", "0812Z"]})
    df = load_labelled(frame, text_column="t", code_column="c", hierarchy=NAF, errors="keep")
    assert rejected_rows(df)[["row", "reason"]].values.tolist() == [[2, "empty_text"], [3, "empty_text"]]
    assert len(pd.concat([df, df])) == 6
