"""Issue 13: the seeded random scarcity set, the class-level configs, and a study without real data.

Own fixtures only: labelled frames made here from numbered words, and the shipped
``notes/sample_notes_en.csv`` with ``tests/fixtures/own_activities_en.csv`` expanded into labelled
rows (as in ``tests/test_pipeline_offline.py``). The slow tests run whole studies in process with a
tiny fastText.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from statcodgen.errors import ConfigError
from statcodgen.modelling.experiments import random_scarcity
from statcodgen.modelling.params import SOFTMAX_MAX_WORK, FastTextParams, auto_loss
from statcodgen.study import StudyConfig, load_config, run_pipeline
from statcodgen.study.config import RandomScarcity
from statcodgen.study.stages import load_inputs, resolve_scarcity, split_real_data, study_target_reasons, training_plan

from test_pipeline_offline import _labelled  # the same own labelled rows as the in-process study

ROOT = Path(__file__).resolve().parents[1]
NOTES = ROOT / "notes" / "sample_notes_en.csv"
TINY = {"dim": 16, "epoch": 10, "minCount": 1, "minn": 0, "maxn": 0, "bucket": 1000, "thread": 1}


def _frame(counts: dict[str, int]) -> pd.DataFrame:
    """``counts[label]`` rows per label, each text distinct (our own numbered words)."""
    rows = [{"text": f"word{label} item {i}", "code": label, "label": label} for label, n in counts.items() for i in range(n)]
    return pd.DataFrame(rows)


def _config(tmp: Path, **training: object) -> StudyConfig:
    _labelled(tmp / "own.csv")
    return StudyConfig.model_validate({
        "title": "class study test", "output_dir": str(tmp / "out"), "notes": {"path": str(NOTES)},
        "real": {"path": str(tmp / "own.csv"), "text_column": "activity", "code_column": "sic", "test_size": 0.25},
        "targets": {"labels": ["under:2"], "level": "class", "n_per_target": 30, "min_per_code": 1},
        "verification": {"k": 3},
        "training": {"seeds": [0], "titles_variant": False, "params": TINY, **training},
    })


# --- the helper ---------------------------------------------------------------------------------

def test_random_scarcity_is_seeded_and_draws_only_labels_with_enough_rows() -> None:
    train = _frame({**{f"L{i:02d}": 25 for i in range(12)}, **{f"S{i}": 19 for i in range(5)}})
    first = random_scarcity(train, n=5, keep=1, min_rows=20, seed=3)
    assert random_scarcity(train, n=5, keep=1, min_rows=20, seed=3) == first  # same seed, same set
    assert len(first) == 5 and set(first.values()) == {1} and list(first) == sorted(first)
    draws = {tuple(random_scarcity(train, n=5, min_rows=20, seed=s)) for s in range(8)}
    assert len(draws) > 1  # the seed matters
    assert all(label.startswith("L") for d in draws for label in d)  # 19 rows < min_rows: never drawn
    assert random_scarcity(train.sample(frac=1.0, random_state=1), n=5, min_rows=20, seed=3) == first  # row order does not matter


@pytest.mark.parametrize("kwargs, fragment", [
    ({"n": 13, "min_rows": 20}, "only 12 of the 17 labels"),
    ({"n": 2, "keep": 20, "min_rows": 20}, "'keep' parameter of random_scarcity must be below min_rows"),
    ({"n": 0}, "'n' parameter of random_scarcity must be an int >= 1"),
    ({"n": 2, "seed": -1}, "'seed' parameter"),
])
def test_random_scarcity_errors_say_what_is_wrong(kwargs: dict, fragment: str) -> None:
    train = _frame({**{f"L{i:02d}": 25 for i in range(12)}, **{f"S{i}": 19 for i in range(5)}})
    with pytest.raises(ConfigError, match=fragment.replace("(", r"\(").replace("[", r"\[")):
        random_scarcity(train, **kwargs)


def test_the_set_is_drawn_from_the_training_rows_only() -> None:
    # 24 rows in all but 18 in the training part (test_size 0.25): never eligible with min_rows 20,
    # though the whole frame has enough of them
    real = _frame({"A": 40, "B": 40, "C": 40, "D": 40, "E": 24, "F": 24})
    spec = RandomScarcity(random=4, keep=1, min_rows=20, seed=0)
    split = split_real_data(real, test_size=0.25, seed=0, scarcity=spec)
    plain = split_real_data(real, test_size=0.25, seed=0)
    assert split.train_full["label"].value_counts()[["E", "F"]].max() < 20
    assert resolve_scarcity(spec, split.train_full) == {"A": 1, "B": 1, "C": 1, "D": 1}
    counts = split.train["label"].value_counts()
    assert counts[["A", "B", "C", "D"]].tolist() == [1, 1, 1, 1] and counts["E"] == plain.train["label"].value_counts()["E"]
    pd.testing.assert_frame_equal(split.test, plain.test)  # the test part is never cut
    with pytest.raises(ConfigError, match="only 4 of the 6 labels"):
        split_real_data(real, test_size=0.25, seed=0, scarcity=RandomScarcity(random=5, min_rows=20))


def test_auto_loss_keeps_softmax_for_thin_classes_and_hs_for_large_data() -> None:
    p = FastTextParams()
    assert p.resolve(16_000, 615).loss == "softmax"  # the ONS index at class level: hs was 10-16 points below
    assert p.resolve(11_000, 21).loss == "softmax"
    assert p.resolve(765_000, 743).loss == "hs"  # an office's data: hs 0.8 point below, 8x faster
    assert p.resolve(100_000, 101).loss == "hs"  # 990 rows per label: not thin
    assert auto_loss(SOFTMAX_MAX_WORK // 600, 600) == "softmax" and auto_loss(SOFTMAX_MAX_WORK // 600 + 1, 600) == "hs"
    assert FastTextParams(loss="hs").resolve(16_000, 615).loss == "hs"  # an explicit loss is kept


# --- the config ---------------------------------------------------------------------------------

MINIMAL = {"notes": {"fetch": "nace_rev2"}, "real": {"fetch": "ons_index"}, "targets": {"labels": ["under:5"], "level": "class"}}


def test_a_random_set_is_read_from_the_config() -> None:
    cfg = load_config({**MINIMAL, "training": {"simulate_scarcity": {"random": 50, "keep": 1, "min_rows": 20, "seed": 0}}})
    assert cfg.training.simulate_scarcity == RandomScarcity(random=50, keep=1, min_rows=20, seed=0)
    assert load_config({**MINIMAL, "training": {"simulate_scarcity": {"B": 2}}}).training.simulate_scarcity == {"B": 2}
    assert load_config(MINIMAL).training.simulate_scarcity == {}


@pytest.mark.parametrize("spec, fragment", [
    ({"random": 0}, "random: Input should be greater than or equal to 1"),
    ({"random": 5, "keep": 20, "min_rows": 20}, "keep (20) must be below min_rows (20)"),
    ({"random": 5, "min_row": 20}, "min_row: unknown key (the keys are random, keep, min_rows, seed)"),
    ({"keep": 1, "min_rows": 20}, "add 'random = N'"),
    ({"B": -1}, "whole number >= 0"),
])
def test_bad_scarcity_specs_are_rejected_with_the_key_named(spec: dict, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config({**MINIMAL, "training": {"simulate_scarcity": spec}})
    assert "training.simulate_scarcity" in str(info.value) and fragment in str(info.value)


def test_without_real_data_what_needs_it_is_rejected() -> None:
    no_real = {"notes": {"fetch": "naf2025"}, "targets": {"labels": ["under:1"], "level": "subclass"}}
    assert load_config(no_real).real is None
    with pytest.raises(ConfigError, match="simulate_scarcity cuts real training rows: it needs a \\[real\\] section"):
        load_config({**no_real, "training": {"simulate_scarcity": {"random": 5}}})
    with pytest.raises(ConfigError, match="'worst:3'"):
        load_config({**no_real, "targets": {"labels": ["worst:3"], "level": "subclass"}})


def test_the_shipped_class_level_configs_are_valid(repo_root: Path) -> None:
    ons = load_config(repo_root / "configs" / "ons_class_study.toml")
    assert ons.targets.level == "class" and ons.verification.level == "class" and ons.generation.backend == "offline"
    assert "under:5" in ons.targets.labels and ons.real.fetch == "ons_index"
    spec = ons.training.simulate_scarcity
    assert isinstance(spec, RandomScarcity) and spec.random >= 50 and spec.keep == 1 and len(ons.training.seeds) == 3
    naf = load_config(repo_root / "configs" / "naf2025_subclass_study.toml")
    assert naf.real is None and naf.notes.fetch == "naf2025" and naf.targets.level == "subclass"
    assert naf.verification.enabled and naf.generation.language == "fr"


def test_the_scarce_labels_are_targets_with_their_reason(tmp_path: Path) -> None:
    cfg = _config(tmp_path, simulate_scarcity={"random": 3, "keep": 1, "min_rows": 20, "seed": 0})
    inputs = load_inputs(cfg)
    split = split_real_data(inputs.real, test_size=0.25, seed=0, scarcity=cfg.training.simulate_scarcity)
    cut = resolve_scarcity(cfg.training.simulate_scarcity, split.train_full)
    reasons = study_target_reasons(cfg, inputs, split.train, full=split.train_full).set_index("code")
    assert set(cut) <= set(reasons.index) and len(cut) == 3
    for label in cut:
        n = int((split.train_full["label"] == label).sum())
        assert "simulate_scarcity" in reasons.loc[label, "selected_by"]
        assert f"simulated scarcity: {n} real training rows cut to 1" in reasons.loc[label, "reason"]
    with pytest.raises(ConfigError, match="needs full="):
        study_target_reasons(cfg, inputs, split.train)


# --- whole studies -----------------------------------------------------------------------------

@pytest.mark.slow
def test_a_random_scarcity_study_generates_for_the_drawn_classes(tmp_path: Path) -> None:
    cfg = _config(tmp_path, simulate_scarcity={"random": 3, "keep": 1, "min_rows": 20, "seed": 0})
    res = run_pipeline(cfg, progress=False, echo=lambda _: None)
    out = Path(cfg.output_dir)
    full, train = pd.read_parquet(out / "real_train_full.parquet"), pd.read_parquet(out / "real_train.parquet")
    cut = resolve_scarcity(cfg.training.simulate_scarcity, full)
    assert train["label"].value_counts()[list(cut)].tolist() == [1, 1, 1]
    kept = pd.read_parquet(out / "cleaning" / "kept.parquet")
    assert set(cut) <= set(kept["label"].astype(str))  # the study generated for them
    assert set(cut) <= set(res.targets.columns.str.removesuffix("_mean"))
    assert "full_real" in set(res.targets["variant"])  # the ceiling a simulation makes possible
    assert "titles baseline (real + one line per code title) was not trained" in res.summary
    assert "simulated scarcity" in res.report_markdown.read_text(encoding="utf-8")


@pytest.mark.slow
def test_a_study_without_real_data_stops_after_verification_and_says_why(tmp_path: Path) -> None:
    cfg = StudyConfig.model_validate({
        "title": "notes only", "output_dir": str(tmp_path / "out"), "notes": {"path": str(NOTES)},
        "targets": {"labels": ["under:1"], "level": "class", "n_per_target": 20, "min_per_code": 1},
        "verification": {"k": 3, "real_suspects": False}, "training": {"params": TINY},
    })
    said: list[str] = []
    res = run_pipeline(cfg, progress=False, echo=said.append)
    out = Path(cfg.output_dir)
    lines = pd.read_parquet(out / "generation" / "lines.parquet")
    assert set(lines["label"].astype(str)) == {"08.11", "08.12", "10.71", "56.10", "84.11", "84.25", "97.00", "99.00"}
    assert (out / "cleaning" / "kept.parquet").is_file() and (out / "verification" / "verified.parquet").is_file()
    assert not (out / "experiments").exists() and not (out / "model").exists()  # nothing trained
    assert res.report_html.is_file() and res.targets.empty
    assert "nothing was trained or evaluated" in res.summary and "add [real]" in res.summary
    assert any("no real data" in s for s in said)
    with pytest.raises(ConfigError, match="no \\[real\\] section"):
        training_plan(cfg)
