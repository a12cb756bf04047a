"""The whole study through the CLI, on the real mirror data, in a quick configuration.

Checks the report has every figure and table, that a re-run resumes (stages loaded, not
recomputed), and that a changed cleaning setting recomputes only the stages after it.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
import tomli_w

pytestmark = [pytest.mark.slow, pytest.mark.shared]

FIGURES = ["fig-coverage", "fig-f1", "fig-confusion", "fig-auto-coding", "fig-learning-curve"]
TABLES = ["tbl-overall", "tbl-per-label", "tbl-diversity", "tbl-cleaning", "tbl-settings", "tbl-costs"]


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: dict[str, str] = {}
        self.imgs: dict[str, str] = {}
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids[a["id"]] = tag
            self._open = a["id"]
        if tag == "img" and self._open and self._open.startswith("fig-"):
            self.imgs.setdefault(self._open, a.get("src") or "")


def _quick_config(repo_root: Path, out: Path, **training: object) -> Path:
    text = (repo_root / "configs" / "ons_study.toml").read_text()
    cfg = tomllib.loads(text)
    cfg["output_dir"] = str(out)
    cfg["targets"]["n_per_target"] = 300
    cfg["training"].update({"seeds": [0, 1], "learning_curve": [0.5, 1.0]})
    cfg["training"]["params"]["epoch"] = 15
    cfg["training"].update(training)
    path = out.parent / f"{out.name}.toml"
    path.write_text(tomli_w.dumps(cfg))
    return path


def _run(config: Path, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "statcodgen", "-v", "run", str(config)], capture_output=True, text=True, env=env, timeout=900
    )


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory, repo_root: Path, shared_data: Path) -> tuple[Path, Path, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("study") / "out"
    config = _quick_config(repo_root, out)
    proc = _run(config, {"STATCODGEN_MIRROR": str(shared_data), "STATCODGEN_DATA_HOME": str(out.parent / "cache")})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, config, proc


def test_report_has_every_figure_and_table(study: tuple[Path, Path, subprocess.CompletedProcess]) -> None:
    out, _, proc = study
    assert "Report:" in proc.stdout and "report.html" in proc.stdout
    html = (out / "report.html").read_text(encoding="utf-8")
    parser = _Ids()
    parser.feed(html)
    for fid in FIGURES:
        src = parser.imgs.get(fid, "")
        assert src.startswith("data:image/png;base64,"), f"figure {fid} missing or not embedded"
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    for tid in TABLES:
        assert tid in parser.ids, f"table {tid} missing"
    for label in ("B", "O", "T", "U"):
        assert label in html
    assert (out / "report.md").exists()


def test_outputs_are_honest(study: tuple[Path, Path, subprocess.CompletedProcess]) -> None:
    out, _, _ = study
    test = pd.read_parquet(out / "real_test.parquet")
    clean = pd.read_parquet(out / "cleaning" / "kept.parquet")
    train = pd.read_parquet(out / "real_train.parquet")
    # the scarcity was applied to training only; the test part keeps its real rows
    assert train["label"].value_counts().reindex(["B", "O", "T", "U"]).fillna(0).max() <= 2
    assert test["label"].isin(["B", "O"]).sum() > 10
    # no synthetic line equals a real test text (after normalisation)
    from statcodgen.text.normalize import normalize_series

    assert not set(normalize_series(clean["text"])) & set(normalize_series(test["text"]))
    metrics = pd.read_csv(out / "metrics_overall.csv")
    assert {"real_only", "real+titles", "real+offline", "full_real"} <= set(metrics["variant"])
    dropped = pd.read_parquet(out / "cleaning" / "dropped.parquet")
    assert dropped["reason"].astype(str).str.len().min() > 0  # every dropped line has a reason


def test_rerun_resumes_and_recomputes_only_changed_stages(study: tuple[Path, Path, subprocess.CompletedProcess], shared_data: Path) -> None:
    out, config, _ = study
    env = {"STATCODGEN_MIRROR": str(shared_data), "STATCODGEN_DATA_HOME": str(out.parent / "cache")}
    proc = _run(config, env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for stage in ("split", "plan", "generate", "clean"):
        assert f"stage {stage}: up to date" in proc.stderr
    text = config.read_text().replace("threshold = 0.9", "threshold = 0.8")
    config.write_text(text)
    proc = _run(config, env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "stage generate: up to date" in proc.stderr
    assert "stage clean: up to date" not in proc.stderr
