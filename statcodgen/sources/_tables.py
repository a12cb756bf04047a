"""Reading a notes or labelled-data table from disk (shared by :mod:`.notes` and :mod:`.datasets`)."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from ..errors import InputError

__all__ = ["read_table"]

_EXCEL = (".xlsx", ".xlsm", ".xls")
_TEXT = (".csv", ".tsv", ".txt")


def read_table(path: Path, *, sheet: str | int | None, encoding: str | None,
               error: type[InputError]) -> tuple[pd.DataFrame, str | None]:
    """Read an .xlsx/.xls(m), .csv/.tsv/.txt or .parquet table as strings (``""`` for empty cells).

    ``sheet``: sheet name or number (first sheet when ``None``); ``encoding``: text encoding
    (UTF-8 with or without BOM when ``None``; the separator is guessed from the header line).
    Returns ``(frame, sheet name or None)``, fully blank rows dropped; raises ``error`` (an
    :class:`InputError` subclass) naming the file, sheet and row for every problem.
    """
    if not path.is_file():
        raise error("file not found.", file=path, expected="an existing .xlsx, .csv or .parquet file")
    if path.stat().st_size == 0:
        raise error("the file is empty.", file=path, expected="a header row and one row per code")
    suffix = path.suffix.lower()
    sheet_name: str | None = None
    if suffix in _EXCEL:
        try:
            book = pd.ExcelFile(path)
        except Exception as exc:  # corrupt zip, not a workbook
            raise error(f"cannot open the workbook ({exc}).", file=path, expected="a valid .xlsx file") from None
        names = book.sheet_names
        if sheet is None:
            sheet_name = names[0]
        elif isinstance(sheet, int):
            if not 0 <= sheet < len(names):
                raise error(f"there is no sheet number {sheet}.", file=path, sheet=str(sheet),
                            expected=f"one of the sheets {names}")
            sheet_name = names[sheet]
        elif sheet not in names:
            raise error("no such sheet.", file=path, sheet=sheet, expected=f"one of the sheets {names}")
        else:
            sheet_name = sheet
        try:
            df = pd.read_excel(book, sheet_name=sheet_name, dtype=str, keep_default_na=False, na_values=[])
        except Exception as exc:  # damaged sheet XML, bad shared strings, ...
            raise error(f"cannot read the sheet ({exc.__class__.__name__}: {exc}).", file=path, sheet=sheet_name,
                        expected="a valid .xlsx sheet with a header row") from None
    elif suffix in _TEXT:
        data = path.read_bytes()
        enc = encoding or "utf-8-sig"
        try:
            text = data.decode(enc)
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise error(f"the bytes at position {exc.start} are not valid {enc}.", file=path, row=line,
                        expected="UTF-8 text; re-save the file as UTF-8 or pass encoding='latin-1' "
                        "(or the file's encoding)") from None
        except LookupError:
            raise error(f"unknown encoding {enc!r}.", file=path, expected="a Python codec name") from None
        first = text.split("\n", 1)[0]
        sep = max([",", ";", "\t"], key=first.count) if suffix != ".tsv" else "\t"
        try:
            df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_values=[])
        except pd.errors.EmptyDataError:
            raise error("the file is empty.", file=path, expected="a header row and one row per code") from None
        except pd.errors.ParserError as exc:
            raise error(f"cannot parse the CSV ({exc}).", file=path, expected=f"a {sep!r}-separated table") from None
    elif suffix == ".parquet":
        try:
            df = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several types for damaged files
            raise error(f"cannot read the parquet file ({exc.__class__.__name__}: {exc}).", file=path,
                        expected="a valid .parquet file") from None
        df = df.astype(object).where(df.notna(), "").astype(str)
    else:
        raise error(f"unsupported file type {suffix!r}.", file=path, expected="a .xlsx, .csv, .tsv or .parquet file")
    df.columns = [str(c).strip() for c in df.columns]
    df = df.fillna("")
    blank = df.apply(lambda col: col.astype(str).str.strip().eq("")).all(axis=1)
    df = df.loc[~blank]
    if df.empty:
        raise error("the file has no data rows.", file=path, sheet=sheet_name,
                    expected="a header row and one row per code")
    return df, sheet_name
