"""The whole study in process, without ../shared/data: the shipped sample notes and our own labelled rows.

``notes/sample_notes_en.csv`` (8 classes of sections B, C, I, O, T, U) and
``tests/fixtures/own_activities_en.csv`` (a few wordings per class, in our own words), expanded here
into a few hundred labelled rows. Sections T and U are cut to 2 real training rows; the offline
generator fills them; a small fastText with one seed keeps it quick. Checks the report, that the
metrics are measured on the real test rows only, the targets, and that a second run loads every
stage instead of recomputing it.
"""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pandas as pd
import pytest

from statcodgen.study import StudyConfig, run_pipeline
from statcodgen.text import normalize_text

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
NOTES = ROOT / "notes" / "sample_notes_en.csv"
PHRASES = Path(__file__).resolve().parent / "fixtures" / "own_activities_en.csv"
SECTION = {"08": "B", "10": "C", "56": "I", "84": "O", "97": "T", "99": "U"}
QUALIFIERS = ["", " ltd", " and sons", " services", " in the town centre", " family business", " open all week", " small firm"]
TARGETS = ["T", "U"]


def _labelled(path: Path, per_code: int = 40) -> pd.DataFrame:
    """``per_code`` distinct rows per class (phrase + qualifier, shuffled), written to ``path`` as ``activity,sic``."""
    phrases = pd.read_csv(PHRASES, dtype=str)
    rng = random.Random(0)
    rows = []
    for code, group in phrases.groupby("code"):
        combos = [p + q for p, q in itertools.product(group["phrase"], QUALIFIERS)]
        rng.shuffle(combos)
        rows += [{"activity": t, "sic": code} for t in combos[:per_code]]
    df = pd.DataFrame(rows)
    df.to_csv(path, index=False)
    return df


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = tmp_path_factory.mktemp("offline_study")
    real = _labelled(base / "own_labelled.csv")
    cfg = StudyConfig.model_validate({
        "title": "offline test study",
        "output_dir": str(base / "out"),
        "notes": {"path": str(NOTES)},
        "real": {"path": str(base / "own_labelled.csv"), "text_column": "activity", "code_column": "sic", "test_size": 0.25},
        "targets": {"labels": TARGETS, "level": "section", "n_per_target": 60},
        "generation": {"backend": "offline"},
        "training": {"seeds": [0], "simulate_scarcity": {"T": 2, "U": 2},
                     "params": {"dim": 16, "epoch": 10, "minCount": 1, "minn": 0, "maxn": 0, "bucket": 1000, "thread": 1}},
    })
    first = run_pipeline(cfg, progress=False, echo=lambda _: None)
    out = Path(cfg.output_dir)
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*.parquet")}
    stages_json = (out / "stages.json").read_text()
    second = run_pipeline(cfg, progress=False, echo=lambda _: None)
    return {"cfg": cfg, "out": out, "real": real, "first": first, "second": second, "stamps": stamps, "stages_json": stages_json}


def test_report_files_are_written(study: dict) -> None:
    first = study["first"]
    assert first.report_html.is_file() and first.report_markdown.is_file()
    html = first.report_html.read_text(encoding="utf-8")
    assert "offline test study" in html and "data:image/png;base64," in html
    assert all(t in first.summary for t in TARGETS)
    for name in ("metrics_per_label.csv", "metrics_overall.csv", "targets_summary.csv", "stages.json"):
        assert (study["out"] / name).is_file(), name


def test_metrics_are_measured_on_the_real_test_rows_only(study: dict) -> None:
    out, real = study["out"], study["real"]
    test = pd.read_parquet(out / "real_test.parquet")
    assert 0 < len(test) < len(real)
    assert set(test["text"]) <= set(real["activity"])  # the test rows are real rows
    want = test["label"].astype(str).value_counts().to_dict()
    per_label = pd.read_csv(out / "metrics_per_label.csv", dtype={"label": str})
    variants = set(per_label["variant"])
    assert {"real_only", "real+offline", "real+titles", "full_real"} <= variants
    for (variant, seed), group in per_label.groupby(["variant", "seed"]):
        support = {k: int(v) for k, v in group.set_index("label")["support"].items() if v}
        assert support == want, (variant, seed)  # support = real test counts, whatever was trained on
    overall = pd.read_csv(out / "metrics_overall.csv")
    assert sorted(overall["variant"]) == sorted(variants) and set(overall["seed"]) == {0}
    # no synthetic line kept for training equals a real test text
    kept = pd.read_parquet(out / "cleaning" / "kept.parquet")
    assert len(kept) and not {normalize_text(t) for t in kept["text"]} & {normalize_text(t) for t in test["text"]}


def test_targets_are_filled_and_reported(study: dict) -> None:
    out = study["out"]
    train = pd.read_parquet(out / "real_train.parquet")
    assert train["label"].value_counts().reindex(TARGETS).tolist() == [2, 2]  # the simulated gap
    kept = pd.read_parquet(out / "cleaning" / "kept.parquet")
    assert set(kept["label"].astype(str)) == set(TARGETS)
    summary = study["first"].targets
    assert {f"{t}_mean" for t in TARGETS} <= set(summary.columns)
    assert summary.iloc[0, 0] == "real_only" and "real+offline" in set(summary.iloc[:, 0])


def test_second_run_loads_every_stage(study: dict) -> None:
    out = study["out"]
    now = {p: p.stat().st_mtime_ns for p in out.rglob("*.parquet")}
    assert now == study["stamps"]  # nothing recomputed, nothing rewritten
    assert (out / "stages.json").read_text() == study["stages_json"]
    assert study["second"].summary == study["first"].summary
    pd.testing.assert_frame_equal(study["second"].targets, study["first"].targets)


def test_lines_are_verified_the_prior_is_chosen_on_validation_and_the_model_carries_it(study: dict) -> None:
    from statcodgen.modelling import FastTextClassifier, Selection
    from statcodgen.verification import VerifyResult

    out = study["out"]
    kept = pd.read_parquet(out / "cleaning" / "kept.parquet")
    v = VerifyResult.load(out / "verification")
    assert len(v.verified) + len(v.dropped) == len(kept)  # every kept line is verified or dropped with a reason
    assert v.dropped["reason"].isin(["label_issue", "judge_rejected"]).all()
    sel = Selection.load(out / "selection")
    assert sel.reason and (sel.candidates["variant"] == "real+synthetic").any()
    model = FastTextClassifier.load(out / "model")
    assert (model.prior_ is None) == (sel.strength == 0)
    if model.prior_ is not None:
        assert model.prior_.strength == sel.strength
    overall = pd.read_csv(out / "metrics_overall.csv")
    assert {"attraction", "attraction_short"} <= set(overall.columns)
    md = study["first"].report_markdown.read_text(encoding="utf-8")
    assert "Verification and the label prior" in md and "kept_by_cleaning" in md and "Chosen on validation" in md
