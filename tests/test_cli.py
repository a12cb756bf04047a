"""The CLI is thin: every command is documented, library errors become one clear line and exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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
