"""The CLI is thin: every command is documented, library errors become one clear line and exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from statcodgen.cli import build_parser


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "statcodgen", *args], capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=300)


def test_every_command_has_help() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    helps = {c.dest: c.help for c in sub._choices_actions}
    assert set(helps) == set(sub.choices)
    for name, text in helps.items():
        assert text and len(text) > 10, f"command {name} lacks a help text"


@pytest.mark.shared
def test_coverage_prints_sections_and_gaps(shared_data: Path, tmp_path: Path) -> None:
    proc = _cli("coverage", "--threshold", "100", env={"STATCODGEN_MIRROR": str(shared_data), "STATCODGEN_DATA_HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "11,172" in out
    for section in ("A", "B", "O", "T", "U"):
        assert f"\n{section} " in out or f" {section} " in out
    assert "Gaps" in out and "T" in out.split("Gaps", 1)[1] and "U" in out.split("Gaps", 1)[1]


def test_bad_notes_file_is_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "notes.csv"
    bad.write_text("foo,bar\n1,2\n", encoding="utf-8")
    proc = _cli("generate", "--notes", str(bad), "--targets", "B", "--out", str(tmp_path / "x.parquet"))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert str(bad) in proc.stderr


def test_missing_mirror_and_network_says_how_to_fix(tmp_path: Path) -> None:
    env = {"STATCODGEN_MIRROR": str(tmp_path / "empty"), "STATCODGEN_DATA_HOME": str(tmp_path / "home")}
    (tmp_path / "empty").mkdir()
    proc = _cli("coverage", "--fetch-notes", "nace_rev2", env=env)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "STATCODGEN_MIRROR" in proc.stderr


@pytest.mark.shared
def test_diversity_and_personas_commands(tmp_path: Path) -> None:
    notes = Path(__file__).resolve().parents[1] / "notes" / "sample_notes_en.csv"
    out = tmp_path / "g.csv"
    assert _cli("generate", "--notes", str(notes), "--targets", "B", "O", "--n-per-target", "30", "--out", str(out)).returncode == 0
    proc = _cli("diversity", str(out))
    assert proc.returncode == 0 and "unique_share" in proc.stdout and "ALL" in proc.stdout
    proc = _cli("personas", "--n", "5", "--locale", "en_GB")
    assert proc.returncode == 0 and "business_context" in proc.stdout


# Our own small labelled data (NACE Rev. 2 classes of notes/sample_notes_en.csv): a few wordings
# per class, combined with qualifiers so that fastText has something to learn.
_OWN = {
    "10.71": ["bakery", "bread baking", "baker of bread and cakes", "fresh pastry making", "artisan baker"],
    "56.10": ["restaurant", "cafe serving meals", "takeaway food shop", "fish and chip shop", "dining room service"],
    "84.11": ["town council", "local government office", "municipal administration", "county council services", "civic office"],
    "08.11": ["granite quarry", "slate quarrying", "limestone extraction", "chalk pit", "building stone quarrying"],
}
_QUALIFIERS = ["", " ltd", " services", " and shop", " in the village", " family business", " open daily", " small firm"]


def _own_labelled(path: Path, seed: int) -> Path:
    import random

    rng = random.Random(seed)
    rows = [(rng.choice(texts) + rng.choice(_QUALIFIERS), code) for code, texts in _OWN.items() for _ in range(40)]
    path.write_text("activity,sic\n" + "\n".join(f"{t},{c}" for t, c in rows) + "\n")
    return path


@pytest.mark.slow
def test_experiment_train_evaluate_commands(tmp_path: Path) -> None:
    notes = str(Path(__file__).resolve().parents[1] / "notes" / "sample_notes_en.csv")
    real = _own_labelled(tmp_path / "real.csv", 0)
    test = _own_labelled(tmp_path / "test.csv", 1)
    syn = tmp_path / "syn.parquet"
    assert _cli("generate", "--notes", notes, "--targets", "B", "T", "U", "--n-per-target", "60", "--out", str(syn)).returncode == 0
    data = ["--notes", notes, "--text-column", "activity", "--code-column", "sic", "--set", "epoch=20", "minCount=1"]
    proc = _cli("experiment", *data, "--real", str(real), "--synthetic", f"offline={syn}", "--simulate-scarcity", "B=1",
                "--seeds", "0", "1", "--out", str(tmp_path / "exp"))
    assert proc.returncode == 0, proc.stderr
    summary = pd.read_csv(tmp_path / "exp" / "summary.csv")
    assert list(summary.iloc[:, 0]) == ["real_only", "real+offline", "full_real"]
    overall = pd.read_csv(tmp_path / "exp" / "metrics_overall.csv")
    assert set(overall["seed"]) == {0, 1} and overall["accuracy"].between(0, 1).all()
    model = tmp_path / "model"
    proc = _cli("train", *data, "--real", str(real), "--synthetic", str(syn), "--synthetic-weight", "2", "--out", str(model))
    assert proc.returncode == 0, proc.stderr
    assert (model / "model.bin").is_file() and "labels" in proc.stdout
    proc = _cli("evaluate", "--notes", notes, "--text-column", "activity", "--code-column", "sic", "--model", str(model),
                "--test", str(test), "--out", str(tmp_path / "per_label.csv"))
    assert proc.returncode == 0, proc.stderr
    per_label = pd.read_csv(tmp_path / "per_label.csv")
    assert {"C", "I", "O", "B"} <= set(per_label["label"]) and (per_label.loc[per_label["label"] == "C", "f1"] > 0.8).all()
    bad = _cli("experiment", *data, "--real", str(real), "--simulate-scarcity", "B:1")
    assert bad.returncode == 2 and "LABEL=K" in bad.stderr
