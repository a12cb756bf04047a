"""Malformed notes, labelled-data, generated-lines and persona files, fuzzed with hypothesis.

Whatever the bytes, a loader either returns a DataFrame or raises a
:class:`statcodgen.errors.StatcodgenError` whose message names the file: never a bare traceback
from deep inside pandas, openpyxl or pyarrow.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from statcodgen.classification.hierarchy import Hierarchy
from statcodgen.sources.datasets import load_labelled
from statcodgen.errors import StatcodgenError
from statcodgen.generation.engine import load_generated
from statcodgen.sources.notes import load_notes
from statcodgen.personas.sources import load_personas

SAMPLE = Path(__file__).resolve().parents[1] / "notes" / "sample_notes_en.csv"
HEADERS = ["Code", "code", "Title", "title", "Section", "Includes", "Also includes", "Not includes", "Level", "Parent",
           "Description", "This_item_includes", "This_item_excludes", "CODE", "NAME", "LEVEL", "PARENT", "text",
           "label", "activity", "persona", "uuid", "", "Unnamed: 0", "x"]
CELLS = st.one_of(
    st.sampled_from(["01.11", "0111Z", "01.11Z", "1.11", "B", "08", "99.00", "99999", "", " ", "nan", "NULL", "-",
                     "- digging of chalk", "This class includes:\n- a\n- b", "=1+1", '"', "'", "\\", ";", "\t"]),
    st.text(max_size=30),
    st.integers(-10**12, 10**12).map(str),
    st.floats(allow_nan=True).map(str),
)
_H = Hierarchy.from_notes(load_notes(SAMPLE))


def _csv_bytes(draw: st.DrawFn) -> bytes:
    header = draw(st.lists(st.sampled_from(HEADERS), min_size=0, max_size=6))
    rows = draw(st.lists(st.lists(CELLS, min_size=0, max_size=len(header) + 2), max_size=6))
    sep = draw(st.sampled_from([",", ";", "\t", "|"]))
    buf = io.StringIO()
    if header:
        buf.write(sep.join(header) + "\n")
    buf.write("\n".join(sep.join(c.replace("\n", " ") if draw(st.booleans()) else f'"{c}"' for c in r) for r in rows))
    text = buf.getvalue()
    enc = draw(st.sampled_from(["utf-8", "utf-16", "latin-1", "cp1252"]))
    data = text.encode(enc, errors="replace")
    if draw(st.booleans()):  # damage: cut or splice random bytes
        cut = int(draw(st.floats(0, 1)) * len(data))
        data = data[:cut] + draw(st.binary(max_size=12))
    return data


@st.composite
def files(draw: st.DrawFn) -> tuple[str, bytes]:
    kind = draw(st.sampled_from(["csv", "xlsx", "parquet", "bytes"]))
    if kind == "csv":
        return ".csv", _csv_bytes(draw)
    if kind == "bytes":
        return draw(st.sampled_from([".csv", ".xlsx", ".parquet", ".jsonl"])), draw(st.binary(max_size=200))
    columns = list(dict.fromkeys(draw(st.lists(st.sampled_from(HEADERS), max_size=5))))
    frame = pd.DataFrame({c: [draw(CELLS) for _ in range(3)] for c in columns})
    frame = frame.replace(r"[\x00-\x1f]", " ", regex=True)  # characters a worksheet cannot hold
    buf = io.BytesIO()
    if kind == "xlsx":
        frame.to_excel(buf, index=False)
    else:
        frame.astype(str).to_parquet(buf, index=False)
    data = buf.getvalue()
    if draw(st.booleans()):
        cut = int(draw(st.floats(0, 1)) * len(data))  # a fraction: xlsx bytes carry a timestamp
        data = data[:cut] + draw(st.binary(max_size=12))
    return "." + kind, data


LOADERS = {
    "load_notes": lambda p: load_notes(p),
    "load_labelled": lambda p: load_labelled(p, text_column="text", code_column="code", hierarchy=_H),
    "load_generated": lambda p: load_generated(p),
    "load_personas": lambda p: load_personas(p),
}


@pytest.mark.parametrize("loader", sorted(LOADERS))
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(f=files())
def test_malformed_files_give_clear_errors(loader: str, f: tuple[str, bytes]) -> None:
    suffix, data = f
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"fuzzed{suffix}"
        path.write_bytes(data)
        try:
            out = LOADERS[loader](path)
        except StatcodgenError as exc:
            assert "fuzzed" in str(exc), f"{loader}: the error does not name the file: {exc}"
        else:
            assert isinstance(out, pd.DataFrame)
