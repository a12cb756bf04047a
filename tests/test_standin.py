"""The benchmarks' 850,000-row stand-in (benchmarks/standin.py), checked on 20,000 rows made from the NAF 2025 notes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import standin  # noqa: E402

N = 20_000


@pytest.fixture(scope="module")
def notes(shared_data):
    import statcodgen

    try:
        path = statcodgen.fetch_notes("naf2025", mirror=shared_data, download_if_missing=False)
    except Exception as exc:  # the mirror lacks the NAF 2025 notes
        pytest.skip(f"NAF 2025 notes not in the mirror {shared_data}: {exc}")
    return statcodgen.load_notes(path)


@pytest.fixture(scope="module")
def frame(notes):
    return standin.make_standin(N, seed=3, notes=notes)


def test_same_seed_same_frame_other_seed_other_frame(notes, frame):
    import pandas as pd

    pd.testing.assert_frame_equal(frame, standin.make_standin(N, seed=3, notes=notes))
    assert not frame["text"].equals(standin.make_standin(N, seed=4, notes=notes)["text"])


def test_shape_words_and_labels(notes, frame):
    assert len(frame) == N and list(frame.columns) == ["text", "code", "section"]
    words = frame["text"].str.split().str.len()
    assert words.between(2, 12).all()
    assert set(frame["code"]) <= set(notes["code"])
    assert frame["code"].nunique() > 600
    sections = frame["section"].value_counts()
    assert "T" not in sections and sections.idxmax() == "G"
    assert sections.sum() == N


def test_section_table_scales_and_sums():
    assert sum(standin.SECTION_ROWS.values()) == 850_000
    counts = standin.section_counts(N)
    assert sum(counts.values()) == N and counts["T"] == 0 and max(counts, key=counts.get) == "G"


def test_split_is_stratified_and_keeps_singletons_in_train(frame):
    train, test = standin.split_standin(frame, test_size=0.1, seed=0)
    assert len(train) + len(test) == N and 0.08 < len(test) / N < 0.12
    sizes = frame["code"].value_counts()
    assert set(sizes[sizes == 1].index) <= set(train["code"])
    assert set(test["code"]) <= set(train["code"])
    again, _ = standin.split_standin(frame, test_size=0.1, seed=0)
    assert train.equals(again)
