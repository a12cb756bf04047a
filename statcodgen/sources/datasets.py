"""Real labelled data and the public files needed to reproduce our studies.

Loaders: :func:`load_labelled` (any csv/xlsx/parquet with a text and a code column),
:func:`load_ons_index` (ONS UK SIC 2007 coding index), :func:`load_firm_activity_data` (the
AIML4OS/INSEE tutorial data, NAF rév. 2 codes).

Fetchers, in the style of ``sklearn.datasets``, **return the local path** of the file (pass it to
:func:`statcodgen.sources.notes.load_notes` or a loader above). Each looks, in order, in

1. the data home (``data_home=``, default ``$STATCODGEN_DATA_HOME`` or ``~/.cache/statcodgen``),
   ``<data_home>/<folder>/<file>``, re-checked against its sha256 when one is known;
2. a local mirror folder (``mirror=``, default ``$STATCODGEN_MIRROR``; ``mirror=False`` disables
   it) laid out like ``../shared/data`` (``<mirror>/naf2025_notes_fr/NAFclasses.xlsx``, ...). The
   mirror path is returned as is (no copy). A mirror file is checked against the upstream sha256
   only when it is the upstream file itself (the mirror's CSV extracts differ from upstream bytes);
3. the network (``url=`` overrides the pinned upstream address, e.g. an office proxy): download
   to a temporary file next to the target, check the sha256, then rename atomically. For a file
   without a pinned checksum the digest of the first download is recorded in
   ``<file>.sha256`` and checked on later use.

Every failure raises :class:`FetchError` saying what was tried and how to fix it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .._validation import check_in, check_type
from ..classification.hierarchy import Hierarchy, normalize_code
from ..errors import DataFormatError, FetchError, UnknownCodeError
from ._tables import read_table

__all__ = [
    "RemoteFile", "REMOTE_FILES", "get_data_home", "get_mirror", "fetch_file", "download_file", "sha256_of",
    "fetch_naf2025_notes", "fetch_nace_rev2_notes", "fetch_nace_rev21_notes", "fetch_ons_index",
    "fetch_firm_activity_data", "load_labelled", "rejected_rows", "load_ons_index", "load_firm_activity_data",
    "NOTES_FETCHERS", "fetch_notes", "PUBLIC_LABELLED", "load_public_labelled",
]

_AIML4OS = "https://raw.githubusercontent.com/AIML4OS/WP10_tutorial_text_classification/aef51af36a82ecdf035730798e3efec9ae0281a2/chapters"


@dataclass(frozen=True)
class RemoteFile:
    """A public file: where it lives upstream, its checksum, and where a mirror keeps it.

    ``mirror_paths`` are ``(relative path, identical_to_upstream)`` pairs tried in order.
    """

    folder: str
    filename: str
    url: str
    sha256: str | None
    mirror_paths: tuple[tuple[str, bool], ...]


REMOTE_FILES: dict[str, RemoteFile] = {
    "naf2025_notes": RemoteFile(
        "naf2025_notes_fr", "NAFclasses.xlsx", f"{_AIML4OS}/1_DataAugmentation/NAFclasses.xlsx",
        "1cee298adf25cd5b5f4b766dd5675a96e7de6ec611b77e434ed9d95d5cd3112c",
        (("naf2025_notes_fr/NAFclasses.xlsx", True),)),
    "nace_rev21_notes": RemoteFile(
        "nace_rev21_notes_en", "NACE_Rev2.1_Structure_Explanatory_Notes_EN.xlsx",
        f"{_AIML4OS}/3_RAG/data/NACE_Rev2.1_Structure_Explanatory_Notes_EN.xlsx",
        "c6e1f8465346fe79936c5ca7c451037562e6323baf8f61e89fd5a74f232ea310",
        (("nace_rev21_notes_en/NACE_Rev2.1_Structure_Explanatory_Notes_EN.xlsx", True),)),
    "nace_rev2_notes": RemoteFile(
        "nace_rev2_notes_en", "nace_rev2.csv",
        "https://raw.githubusercontent.com/data-cleaning/validate/8fcc31113eac091ffa8c487228c194e02e85e579/pkg/data/nace_rev2.csv",
        "c3a7b1b4fbeca1fd018e3e24aa066c8d95ad22527711b436aabadf18af73736d",
        (("nace_rev2_notes_en/nace_rev2.csv", True), ("nace_rev2_notes_en/nace_rev2_notes_en.csv", False))),
    "ons_index": RemoteFile(
        "ons_uksic2007_index_en", "uksic2007indexeswithaddendumdecember2022.xlsx",
        "https://raw.githubusercontent.com/ONSdigital/sic-classification-utils/65e068dab062ddf8eda14e1cfa679c80f28cf60a/"
        "src/industrial_classification_utils/data/sic_index/uksic2007indexeswithaddendumdecember2022.xlsx",
        "dcd36353d6e359550f88f9070557a974e8a020998fbf75b55b02d38e49912eac",
        (("ons_uksic2007_index_en/uksic2007indexeswithaddendumdecember2022.xlsx", True),
         ("ons_uksic2007_index_en/uksic2007_alphabetical_index_train70.csv", False))),
    "firm_activity_data": RemoteFile(
        "firm_activity_data_fr", "firm_activity_data.parquet",
        "https://minio.lab.sspcloud.fr/projet-formation/diffusion/mlops/data/firm_activity_data.parquet",
        None,
        (("firm_activity_data_fr/firm_activity_data.parquet", True), ("firm_activity_data.parquet", True))),
}


def get_data_home(data_home: str | Path | None = None) -> Path:
    """The cache folder (created): ``data_home``, else ``$STATCODGEN_DATA_HOME``, else ``~/.cache/statcodgen``."""
    home = Path(data_home or os.environ.get("STATCODGEN_DATA_HOME") or Path.home() / ".cache" / "statcodgen")
    home = home.expanduser()
    home.mkdir(parents=True, exist_ok=True)
    return home


def get_mirror(mirror: str | Path | bool | None = None) -> Path | None:
    """The mirror folder: ``mirror``, else ``$STATCODGEN_MIRROR``; ``None``/``False`` when there is none."""
    if mirror is False:
        return None
    value = mirror if mirror not in (None, True) else os.environ.get("STATCODGEN_MIRROR")
    return Path(str(value)).expanduser() if value else None


def sha256_of(path: str | Path) -> str:
    """Hex sha256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def download_file(url: str, dest: str | Path, *, sha256: str | None = None, timeout: float = 60.0,
                  progress: bool = True) -> Path:
    """Download ``url`` to ``dest`` atomically (temp file in the same folder, then rename).

    Raises :class:`FetchError` on a network error or when the sha256 differs (nothing is left
    at ``dest`` then). Returns ``dest``.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (http/https only)
                    total = int(resp.headers.get("Content-Length") or 0) or None
                    with tqdm(total=total, unit="B", unit_scale=True, desc=dest.name, disable=not progress,
                              leave=False) as bar:
                        for block in iter(lambda: resp.read(1 << 16), b""):
                            out.write(block)
                            digest.update(block)
                            bar.update(len(block))
            except (urllib.error.URLError, OSError, ValueError) as exc:
                raise FetchError(f"could not download {url}: {exc}.") from None
        got = digest.hexdigest()
        if sha256 is not None and got != sha256:
            raise FetchError(f"checksum mismatch for {url}: sha256 {got}, expected {sha256}. "
                             "The upstream file changed or the download was altered; nothing was saved.")
        os.replace(tmp_name, dest)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    return dest


def fetch_file(key: str, *, data_home: str | Path | None = None, mirror: str | Path | bool | None = None,
               download_if_missing: bool = True, url: str | None = None, timeout: float = 60.0) -> Path:
    """Local path of the public file ``key`` (one of :data:`REMOTE_FILES`); see the module docstring."""
    check_in("key", key, REMOTE_FILES, func="fetch_file")
    remote = REMOTE_FILES[key]
    home = get_data_home(data_home)
    target = home / remote.folder / remote.filename
    record = target.with_name(target.name + ".sha256")
    tried: list[str] = []
    if target.is_file():
        expected = remote.sha256 or (record.read_text().strip() if record.is_file() else None)
        if expected is None or sha256_of(target) == expected:
            return target
        tried.append(f"cache {target} (checksum mismatch, removed)")
        target.unlink()
    else:
        tried.append(f"cache {target} (absent)")
    mirror_dir = get_mirror(mirror)
    if mirror_dir is not None:
        for rel, identical in remote.mirror_paths:
            candidate = mirror_dir / rel
            if not candidate.is_file():
                tried.append(f"mirror {candidate} (absent)")
                continue
            if identical and remote.sha256 and sha256_of(candidate) != remote.sha256:
                tried.append(f"mirror {candidate} (checksum mismatch)")
                continue
            return candidate
    else:
        tried.append("no mirror (set STATCODGEN_MIRROR or pass mirror=)")
    source = url or remote.url
    if not download_if_missing:
        raise FetchError(f"{remote.filename} not found locally and download_if_missing=False; tried: "
                         + "; ".join(tried) + ".")
    try:
        download_file(source, target, sha256=remote.sha256, timeout=timeout)
    except FetchError as exc:
        raise FetchError(f"{exc} Tried before: " + "; ".join(tried) + f". Fix: put the file at {target}, or "
                         f"set STATCODGEN_MIRROR to a folder holding {remote.mirror_paths[0][0]}.") from None
    if remote.sha256 is None:
        record.write_text(sha256_of(target) + "\n")
    return target


def _fetcher(key: str, doc: str) -> Any:
    def fetch(*, data_home: str | Path | None = None, mirror: str | Path | bool | None = None,
              download_if_missing: bool = True, url: str | None = None, timeout: float = 60.0) -> Path:
        return fetch_file(key, data_home=data_home, mirror=mirror, download_if_missing=download_if_missing,
                          url=url, timeout=timeout)

    fetch.__name__ = fetch.__qualname__ = f"fetch_{key}"
    fetch.__doc__ = doc + "\n\nReturns the local path; keyword options as in :func:`fetch_file`."
    return fetch


fetch_naf2025_notes = _fetcher("naf2025_notes", "NAF 2025 explanatory notes in French (AIML4OS tutorial ``NAFclasses.xlsx``, 747 subclasses).")
fetch_nace_rev2_notes = _fetcher("nace_rev2_notes", "NACE Rev. 2 structure and notes in English (Eurostat RAMON export; upstream ``;``-separated, mirror extract ``,``-separated).")
fetch_nace_rev21_notes = _fetcher("nace_rev21_notes", "NACE Rev. 2.1 structure and notes in English (Eurostat xlsx).")
fetch_ons_index = _fetcher("ons_index", "ONS UK SIC 2007 alphabetical coding index (upstream xlsx, or the mirror's 70 % CSV extract).")
fetch_firm_activity_data = _fetcher("firm_activity_data", "AIML4OS/INSEE tutorial real data (``text``, ``nace`` in NAF rév. 2, ~846k rows; no pinned checksum, the first download's is recorded).")

#: The public notes files a study or the CLI can name (``[notes] fetch = "..."``, ``--fetch-notes``).
NOTES_FETCHERS = {"nace_rev2": fetch_nace_rev2_notes, "nace_rev21": fetch_nace_rev21_notes, "naf2025": fetch_naf2025_notes}


def fetch_notes(name: str, **options: Any) -> Path:
    """Local path of the public notes file ``name`` (a key of :data:`NOTES_FETCHERS`); options as in :func:`fetch_file`."""
    check_in("name", name, tuple(NOTES_FETCHERS), func="fetch_notes")
    return NOTES_FETCHERS[name](**options)


# ====================================================================== labelled data

def _read_any(source: str | Path | pd.DataFrame, *, sheet: str | int | None, encoding: str | None) -> tuple[pd.DataFrame, Path | None, int]:
    """(frame, path, row offset) where file row = position + offset."""
    if isinstance(source, pd.DataFrame):
        return source.reset_index(drop=True), None, 1
    path = Path(source)
    if path.suffix.lower() == ".parquet" and path.is_file():
        try:
            return pd.read_parquet(path), path, 1
        except Exception as exc:  # pyarrow raises several types
            raise DataFormatError(f"cannot read the parquet file ({exc}).", file=path) from None
    df, _ = read_table(path, sheet=sheet, encoding=encoding, error=DataFormatError)
    return df, path, 2


def load_labelled(
    source: str | Path | pd.DataFrame,
    *,
    text_column: str,
    code_column: str,
    hierarchy: Hierarchy | None = None,
    errors: str = "raise",
    system: str | None = None,
    sheet: str | int | None = None,
    encoding: str | None = None,
) -> pd.DataFrame:
    """Read real labelled data (csv / xlsx / parquet, or a DataFrame) into DataFrame[text, code, ...].

    ``text`` and ``code`` replace ``text_column`` and ``code_column``; other columns are kept.
    Codes are normalised (``8220Z`` -> ``82.20Z``; ``system="uksic2007"`` reads 5-digit UK SIC
    codes as NACE classes). With a ``hierarchy`` every code must belong to it.
    Bad rows (empty text, unreadable or unknown code): ``errors="raise"`` raises
    :class:`UnknownCodeError` / :class:`DataFormatError` naming the file, the column and the rows
    (header = row 1; for a DataFrame, 1-based position); ``"drop"`` removes them and ``"keep"``
    keeps them (code left as given) -- in both cases they are listed in ``df.attrs["rejected"]``
    (a list of ``{row, text, code, reason}`` dicts, plain values so that pandas can compare
    attrs; :func:`rejected_rows` turns it into a DataFrame); nothing is dropped silently.
    """
    func = "load_labelled"
    check_in("errors", errors, ("raise", "drop", "keep"), func=func)
    check_type("text_column", text_column, str, func=func)
    check_type("code_column", code_column, str, func=func)
    if hierarchy is not None:
        check_type("hierarchy", hierarchy, Hierarchy, func=func)
    df, path, offset = _read_any(source, sheet=sheet, encoding=encoding)
    for col in (text_column, code_column):
        if col not in df.columns:
            raise DataFormatError(f"column {col!r} is missing; the columns are {list(df.columns)}.", file=path,
                                  column=col, expected=f"a column named {col!r}")
    out = df.rename(columns={text_column: "text", code_column: "code"})
    raw_codes = out["code"]
    idx, uniq = pd.factorize(raw_codes, use_na_sentinel=True)
    normed = np.empty(len(uniq) + 1, dtype=object)
    reasons = np.empty(len(uniq) + 1, dtype=object)
    normed[-1], reasons[-1] = None, "empty_code"
    for i, u in enumerate(uniq):
        try:
            c = normalize_code(u, system=system)
            normed[i] = c
            reasons[i] = None if hierarchy is None or c in hierarchy else "unknown_code"
        except UnknownCodeError:
            normed[i], reasons[i] = None, ("empty_code" if str(u).strip() == "" else "bad_code")
    code_reason = reasons[idx]
    text = out["text"].astype("string").str.strip()
    empty_text = (text.isna() | (text == "")).to_numpy()
    reason = np.where(code_reason == None, np.where(empty_text, "empty_text", None), code_reason)  # noqa: E711
    bad = reason != None  # noqa: E711
    out["text"] = text.astype(object).where(text.notna(), None)
    new_codes = normed[idx]
    if bad.any():
        pos = np.flatnonzero(bad)
        rejected = pd.DataFrame({"row": pos + offset, "text": out["text"].to_numpy()[pos],
                                 "code": raw_codes.to_numpy()[pos], "reason": reason[pos]})
        if errors == "raise":
            summary = rejected.groupby(["reason", "code"], dropna=False, sort=False)["row"].agg(
                lambda r: ", ".join(map(str, r.iloc[:5])) + (f" (+{len(r) - 5} more)" if len(r) > 5 else ""))
            lines = "; ".join(f"{c!r} ({why}) in rows {rows}" for (why, c), rows in list(summary.items())[:10])
            first = str(rejected["reason"].iloc[0])
            col = text_column if first == "empty_text" else code_column
            cls = DataFormatError if first == "empty_text" else UnknownCodeError
            raise cls(f"{len(rejected)} bad rows: {lines}.", file=path, row=int(rejected["row"].iloc[0]), column=col,
                      expected=("non-empty texts and codes of the " + (hierarchy.name if hierarchy else "classification")
                                + " (pass errors='drop' to drop and list them)"))
        if errors == "keep":
            new_codes = np.where(bad, raw_codes.to_numpy(), new_codes)
        out["code"] = new_codes
        if errors == "drop":
            out = out.loc[~bad].reset_index(drop=True)
    else:
        out["code"] = new_codes
        rejected = pd.DataFrame(columns=["row", "text", "code", "reason"])
    cols = ["text", "code"] + [c for c in out.columns if c not in ("text", "code")]
    out = out[cols]
    records = [{k: (None if v is None or pd.isna(v) else (v.item() if hasattr(v, "item") else v))
                for k, v in r.items()} for r in rejected.to_dict("records")]
    out.attrs = {"source": str(path) if path else "DataFrame", "rejected": records}
    return out


def rejected_rows(df: pd.DataFrame) -> pd.DataFrame:
    """The rows :func:`load_labelled` rejected, as DataFrame[row, text, code, reason]."""
    return pd.DataFrame(df.attrs.get("rejected", []), columns=["row", "text", "code", "reason"])


def load_ons_index(path: str | Path | None = None, *, data_home: str | Path | None = None,
                   mirror: str | Path | bool | None = None) -> pd.DataFrame:
    """The ONS UK SIC 2007 coding index as DataFrame[text, code, uksic2007].

    ``text`` is the index entry (activity), ``code`` its NACE Rev. 2 class (first 4 digits),
    ``uksic2007`` the 5-digit UK SIC code. Reads the upstream xlsx (sheet "Alphabetical Index",
    header row found by its "UK SIC 2007" and "Activity" cells) or the mirror's CSV extract
    (``uksic2007, uksic2003, activity, nace_rev2_class``). ``path=None`` uses :func:`fetch_ons_index`.
    """
    path = Path(path) if path is not None else fetch_ons_index(data_home=data_home, mirror=mirror)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            raw = pd.read_excel(path, sheet_name="Alphabetical Index", header=None, dtype=str)
        except ValueError as exc:
            raise DataFormatError(f"cannot read the index ({exc}).", file=path, sheet="Alphabetical Index",
                                  expected="the ONS workbook with a sheet 'Alphabetical Index'") from None
        header_row = next((i for i in range(min(len(raw), 20))
                           if {"UK SIC 2007", "Activity"} <= {str(v).strip() for v in raw.iloc[i]}), None)
        if header_row is None:
            raise DataFormatError("no header row with 'UK SIC 2007' and 'Activity' in the first 20 rows.",
                                  file=path, sheet="Alphabetical Index", expected="the ONS index layout")
        table = raw.iloc[header_row + 1:].copy()
        table.columns = [str(v).strip() for v in raw.iloc[header_row]]
        table = table.dropna(subset=["UK SIC 2007", "Activity"])
        df = pd.DataFrame({"text": table["Activity"].str.strip(), "uksic2007": table["UK SIC 2007"].str.strip()})
        df["code"] = df["uksic2007"]
        offset = header_row + 2
        system = "uksic2007"
    else:
        table, _ = read_table(path, sheet=None, encoding=None, error=DataFormatError)
        need = {"activity", "uksic2007"}
        if not need <= set(table.columns):
            raise DataFormatError(f"columns {sorted(need - set(table.columns))} are missing.", file=path,
                                  expected="columns uksic2007, activity (and nace_rev2_class)")
        df = pd.DataFrame({"text": table["activity"], "uksic2007": table["uksic2007"]})
        df["code"] = table["nace_rev2_class"] if "nace_rev2_class" in table.columns else table["uksic2007"]
        offset, system = 2, ("uksic2007" if "nace_rev2_class" not in table.columns else None)
    df = df.reset_index(drop=True)
    out = load_labelled(df, text_column="text", code_column="code", hierarchy=Hierarchy.builtin("nace_rev2"),
                        system=system)
    out["uksic2007"] = out["uksic2007"].map(lambda c: str(c).zfill(5))
    out.attrs.update(source=str(path), row_offset=offset)
    return out[["text", "code", "uksic2007"]]


def load_firm_activity_data(path: str | Path | None = None, *, data_home: str | Path | None = None,
                            mirror: str | Path | bool | None = None, errors: str = "raise") -> pd.DataFrame:
    """The tutorial's real data as DataFrame[text, code, ...] with NAF rév. 2 codes (``82.20Z``)."""
    path = Path(path) if path is not None else fetch_firm_activity_data(data_home=data_home, mirror=mirror)
    return load_labelled(path, text_column="text", code_column="nace", hierarchy=Hierarchy.builtin("naf_rev2"),
                         errors=errors)


#: The public labelled sets a study or the CLI can name (``[real] fetch = "..."``).
PUBLIC_LABELLED = ("ons_index", "firm_activity")


def load_public_labelled(name: str) -> pd.DataFrame:
    """The public labelled set ``name`` (one of :data:`PUBLIC_LABELLED`) as DataFrame[text, code, ...].

    ``"ons_index"``: :func:`load_ons_index`; ``"firm_activity"``: :func:`load_firm_activity_data`
    with unusable rows dropped (they stay listed by :func:`rejected_rows`).
    """
    check_in("name", name, PUBLIC_LABELLED, func="load_public_labelled")
    if name == "ons_index":
        return load_ons_index()
    return load_firm_activity_data(errors="drop")

