"""Tests of the gap-filling report: real files written to tmp_path, HTML parsed with html.parser.

The study results are small made-up frames (2 variants x 2 seeds x 5 labels) in our own words.
"""

from __future__ import annotations

import base64
import math
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from statcodgen.errors import ConfigError, DataFormatError
from statcodgen.report.results import StudyResults
from statcodgen.report.writer import REDACTED, ReportPaths, gap_summary, scrub_secrets, summarise, write_report

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
LABELS = ["A", "B", "C", "O", "T"]
TARGETS = ["B", "O", "T"]
SUPPORT = {"A": 500, "B": 20, "C": 80, "O": 15, "T": 6}
FIGURES = ["fig-coverage", "fig-f1", "fig-confusion", "fig-auto-coding", "fig-learning-curve"]
TABLES = ["tbl-overall", "tbl-per-label", "tbl-diversity", "tbl-cleaning", "tbl-settings", "tbl-costs"]
SECRET = "sk-SECRET123"


def make_results(*, seeds: tuple[int, ...] = (0, 1)) -> StudyResults:
    """5 labels, targets B/O/T: B and O gain a lot, T loses, overall accuracy drops by 0.005."""
    rng = np.random.default_rng(0)
    variants = ["real_only", "real+offline"]
    base = {"A": 0.95, "B": 0.10, "C": 0.80, "O": 0.0, "T": 0.50}
    gain = {"A": -0.01, "B": 0.50, "C": 0.0, "O": 0.60, "T": -0.10}
    per_label, overall = [], []
    for v in variants:
        for s in seeds:
            for lab in LABELS:
                f1 = float(np.clip(base[lab] + (gain[lab] if v != "real_only" else 0) + rng.normal(0, 0.01), 0, 1))
                per_label.append({"variant": v, "seed": s, "label": lab, "precision": f1, "recall": f1, "f1": f1, "support": SUPPORT[lab]})
            acc = 0.85 - (0.005 if v != "real_only" else 0) + 0.0005 * s
            overall.append({"variant": v, "seed": s, "accuracy": acc, "macro_f1": acc - 0.3, "weighted_f1": acc - 0.01, "top3_accuracy": 0.97})
    confusion = {}
    for v in variants:
        m = pd.DataFrame(rng.integers(0, 4, (5, 5)), index=LABELS, columns=LABELS)
        for i, lab in enumerate(LABELS):
            m.iloc[i, i] = SUPPORT[lab]
        confusion[v] = m
    th = np.linspace(0, 1, 11)
    auto = pd.concat(
        [pd.DataFrame({"variant": v, "threshold": th, "coverage": 1 - th * k, "accuracy": 0.85 + th * 0.14}) for v, k in zip(variants, (0.8, 0.7))]
    )
    return StudyResults(
        title="Made-up study",
        targets=list(TARGETS),
        level="section",
        coverage=pd.DataFrame(
            {
                "label": LABELS,
                "title": [f"Made-up title {lab}" for lab in LABELS],
                "n_real_train": [5000, 2, 800, 0, 40],
                "n_synthetic_generated": [0, 300, 0, 320, 310],
                "n_synthetic_kept": [0, 250, 0, 280, 290],
            }
        ),
        metrics_per_label=pd.DataFrame(per_label),
        metrics_overall=pd.DataFrame(overall),
        confusion=confusion,
        auto_coding=auto,
        diversity=pd.DataFrame(
            {
                "label": ["B", "O", "T", "ALL"],
                "n_lines": [250, 280, 290, 820],
                "unique_share": [0.99, 0.97, 1.0, 0.98],
                "distinct_1": [0.3, 0.31, 0.28, 0.2],
                "distinct_2": [0.6, 0.62, 0.58, 0.5],
                "distinct_3": [0.8, 0.8, 0.79, 0.7],
                "mean_jaccard": [0.05, 0.06, 0.04, 0.03],
            }
        ),
        cleaning=pd.DataFrame({"reason": ["near_duplicate", "near_duplicate", "too_short"], "label": ["B", "O", "T"], "count": [30, 20, 10]}),
        cleaning_samples=pd.DataFrame(
            {"reason": ["near_duplicate", "too_short"], "label": ["B", "T"], "text": ["we dig gravel | sand <b>", "nanny"], "detail": ["same as line 12", "one word"]}
        ),
        learning_curve=pd.DataFrame(
            [{"variant": "real+offline", "n_synthetic": n, "seed": s, "target_mean_f1": 0.2 + n / 2000, "accuracy": 0.85 - n / 1e5} for n in (0, 400, 800) for s in seeds]
        ),
        settings={"title": "Made-up", "llm": {"api_key": SECRET, "model": "tiny", "max_tokens": 300, "api_key_env": "OPENAI_API_KEY"}, "targets": {"labels": TARGETS}},
        costs={"backend": "openai", "model": "tiny", "requests": 12, "prompt_tokens": 4321, "completion_tokens": 987, "cost": 0.0123, "currency": "USD", "auth_token": "tok-hidden-value"},
        notes=["A remark from the pipeline."],
    )


class _Doc(HTMLParser):
    """Elements with an id: their tag, the img srcs inside them, their body rows and their text."""

    VOID = {"img", "meta", "br", "hr", "link", "input"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str | None] = []
        self.by_id: dict[str, dict] = {}
        self.srcs: list[str] = []

    def _open(self) -> list[dict]:
        return [self.by_id[i] for i in self.stack if i is not None]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "img":
            self.srcs.append(a.get("src") or "")
            for el in self._open():
                el["imgs"].append(a.get("src") or "")
        if tag == "tr":
            for el in self._open():
                el["rows"] += 1
        if tag in self.VOID:
            return
        el_id = a.get("id")
        if el_id is not None:
            assert el_id not in self.by_id, f"duplicate id {el_id}"
            self.by_id[el_id] = {"tag": tag, "imgs": [], "rows": 0, "text": ""}
        self.stack.append(el_id)

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        for el in self._open():
            el["text"] += data


def parse(path: Path) -> _Doc:
    doc = _Doc()
    doc.feed(path.read_text(encoding="utf-8"))
    return doc


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[StudyResults, ReportPaths]:
    results = make_results()
    return results, write_report(results, tmp_path_factory.mktemp("report"))


def test_every_figure_is_an_embedded_png(written: tuple[StudyResults, ReportPaths]) -> None:
    _, paths = written
    doc = parse(paths.html)
    for fig_id in FIGURES:
        assert fig_id in doc.by_id, f"{fig_id} missing"
        imgs = doc.by_id[fig_id]["imgs"]
        assert len(imgs) == 1 and imgs[0].startswith("data:image/png;base64,"), fig_id
        png = base64.b64decode(imgs[0].split(",", 1)[1], validate=True)
        assert png.startswith(PNG_MAGIC)
        width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
        assert width >= 400 and height >= 300, (fig_id, width, height)
        assert paths.figures[fig_id].read_bytes() == png
    assert set(paths.figures) == set(FIGURES)


def test_html_is_self_contained(written: tuple[StudyResults, ReportPaths]) -> None:
    _, paths = written
    html = paths.html.read_text(encoding="utf-8")
    doc = parse(paths.html)
    assert doc.srcs and all(s.startswith("data:image/png;base64,") for s in doc.srcs)
    assert "<link" not in html and "<script" not in html and "http://" not in html and "https://" not in html
    assert "<style>" in html


def test_every_table_has_the_expected_rows(written: tuple[StudyResults, ReportPaths]) -> None:
    results, paths = written
    doc = parse(paths.html)
    expected_body_rows = {
        "tbl-overall": 2,  # real_only, real+offline
        "tbl-per-label": 5,  # every label, not only the targets
        "tbl-coverage": 5,
        "tbl-diversity": 4,  # B, O, T, ALL
        "tbl-cleaning": 3,  # near_duplicate, too_short, total
        "tbl-cleaning-samples": 2,
        "tbl-settings": 6,  # title, llm.api_key, llm.model, llm.max_tokens, llm.api_key_env, targets.labels
        "tbl-costs": 8,
        "tbl-auto-coding": 2,
    }
    for tbl_id, n in expected_body_rows.items():
        el = doc.by_id[tbl_id]
        assert el["tag"] == "table", tbl_id
        assert el["rows"] == n + 1, (tbl_id, el["rows"])  # + header row
    overall = doc.by_id["tbl-overall"]["text"]
    acc = results.metrics_overall.groupby("variant")["accuracy"].agg(["mean", "std"])
    assert f"{acc.loc['real_only', 'mean']:.3f} ± {acc.loc['real_only', 'std']:.3f}" in overall
    assert "−0.005" in overall  # accuracy change of the augmented variant
    per_label = doc.by_id["tbl-per-label"]["text"]
    assert all(f"Made-up title {lab}" in per_label for lab in LABELS)
    cleaning = doc.by_id["tbl-cleaning"]["text"]
    assert "near_duplicate" in cleaning and "60" in cleaning  # total dropped
    assert "prompt_tokens" in doc.by_id["tbl-costs"]["text"] and "4321" in doc.by_id["tbl-costs"]["text"]
    # sample text is escaped, not interpreted as markup
    assert "we dig gravel | sand <b>" in doc.by_id["tbl-cleaning-samples"]["text"]


def test_summary_mentions_each_target_with_numbers(written: tuple[StudyResults, ReportPaths]) -> None:
    results, paths = written
    text = summarise(results)
    f1 = results.metrics_per_label.groupby(["variant", "label"])["f1"].mean()
    lines = {lab: next(line for line in text.splitlines() if line.startswith(f"- {lab} ")) for lab in TARGETS}
    for lab in TARGETS:
        before, after = f1[("real_only", lab)], f1[("real+offline", lab)]
        assert f"{before:.3f} → {after:.3f}" in lines[lab]
        assert f"{SUPPORT[lab]} test cases" in lines[lab]
    assert "gap filled" in lines["B"] and "gap filled" in lines["O"]
    change_t = f1[("real+offline", "T")] - f1[("real_only", "T")]
    assert change_t < 0 and "did not help" in lines["T"] and f"(−{abs(change_t):.3f})" in lines["T"]
    acc = results.metrics_overall.groupby("variant")["accuracy"].mean()
    assert f"Overall accuracy {acc['real_only']:.3f} → {acc['real+offline']:.3f}" in text
    assert "lowered overall accuracy" in text
    assert "A remark from the pipeline." in text
    doc = parse(paths.html)
    assert lines["T"][2:] in doc.by_id["summary"]["text"]
    assert lines["B"] in paths.markdown.read_text(encoding="utf-8")


def test_gap_summary_verdicts() -> None:
    results = make_results()
    results.targets = ["B", "T", "Z"]  # Z: no test cases at all
    gs = gap_summary(results).set_index("label")
    assert gs.loc["B", "verdict"] == "improved" and gs.loc["B", "change"] > 0.4
    assert gs.loc["T", "verdict"] == "not_helped"
    assert gs.loc["Z", "verdict"] == "no_test_cases"
    assert "Z: no test cases" in summarise(results)


def test_markdown_references_existing_pngs(written: tuple[StudyResults, ReportPaths]) -> None:
    _, paths = written
    md = paths.markdown.read_text(encoding="utf-8")
    refs = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert len(refs) == len(FIGURES)
    for ref in refs:
        assert not Path(ref).is_absolute()
        png = paths.markdown.parent / ref
        assert png.parent.name == "figures" and png.read_bytes().startswith(PNG_MAGIC)
    assert {paths.markdown.parent / r for r in refs} == set(paths.figures.values())
    assert "| B | ● |" in md  # coverage/per-label rows mark targets
    assert "we dig gravel \\| sand &lt;b&gt;" in md  # pipes and markup escaped in cells


def test_secrets_never_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_SERVICE_API_KEY", "envsecret-0123456789")
    results = make_results()
    results.notes = ["the key envsecret-0123456789 leaked into a note", f"and {SECRET} too"]
    results.confusion, results.learning_curve = {}, None  # fewer figures: faster, the text is what matters here
    paths = write_report(results, tmp_path)
    for path in (paths.html, paths.markdown):
        text = path.read_text(encoding="utf-8")
        for secret in (SECRET, "SECRET123", "tok-hidden-value", "envsecret-0123456789"):
            assert secret not in text, (path.name, secret)
        assert REDACTED in text
        assert "OPENAI_API_KEY" in text  # the name of the variable is not a secret
        assert "4321" in text  # token counts kept
    text = summarise(results)
    assert SECRET not in text and "envsecret-0123456789" not in text and "leaked into a note" in text


def test_scrub_secrets_keeps_numbers_and_env_names() -> None:
    found: set[str] = set()
    out = scrub_secrets(
        {"llm": {"api_key": "abc123456", "apiKey": "x1y2z3w4", "max_tokens": 100, "api_key_env": "GROQ_API_KEY", "endpoints": [{"url": "u", "token": "t0k3n-long"}]},
         "prompt_tokens": 5, "note": "Bearer abcdefghijk", "model": "m", "cache": "/tmp/hf_cache_folder", "other": "use sk-proj-abc123XYZ"},
        found=found,
    )
    assert out["llm"]["api_key"] == REDACTED and out["llm"]["apiKey"] == REDACTED
    assert out["llm"]["endpoints"][0]["token"] == REDACTED and out["llm"]["endpoints"][0]["url"] == "u"
    assert out["llm"]["max_tokens"] == 100 and out["prompt_tokens"] == 5
    assert out["llm"]["api_key_env"] == "GROQ_API_KEY"
    assert out["note"] == REDACTED and out["model"] == "m" and out["other"] == REDACTED
    assert out["cache"] == "/tmp/hf_cache_folder"  # looks like a prefix, but no digits: a path, not a key
    assert {"abc123456", "x1y2z3w4", "t0k3n-long"} <= found


def test_empty_optional_parts_say_not_computed(tmp_path: Path) -> None:
    results = make_results(seeds=(0,))
    results.diversity = pd.DataFrame()
    results.cleaning = pd.DataFrame(columns=["reason", "label", "count"])
    results.cleaning_samples = pd.DataFrame(columns=["reason", "label", "text", "detail"])
    results.learning_curve = None
    results.auto_coding = pd.DataFrame()
    results.costs = {}
    paths = write_report(results, tmp_path, basename="study")
    assert paths.html.name == "study.html" and paths.markdown.name == "study.md"
    doc = parse(paths.html)
    for el_id in ["tbl-diversity", "tbl-cleaning", "tbl-cleaning-samples", "tbl-costs", "tbl-auto-coding", "fig-learning-curve", "fig-auto-coding"]:
        el = doc.by_id[el_id]
        assert el["tag"] == "p" and "not computed" in el["text"] and not el["imgs"], el_id
    assert set(paths.figures) == {"fig-coverage", "fig-f1", "fig-confusion"}
    assert all(p.name.startswith("study_") for p in paths.figures.values())
    md = paths.markdown.read_text(encoding="utf-8")
    assert md.count("not computed") >= 7
    # one seed: no spread to show, no crash
    assert "±" not in doc.by_id["tbl-overall"]["text"]


def test_nothing_but_coverage(tmp_path: Path) -> None:
    base = make_results()
    results = StudyResults(title="Only coverage", targets=["B"], coverage=base.coverage)
    paths = write_report(results, tmp_path)
    doc = parse(paths.html)
    assert "fig-coverage" in paths.figures and doc.by_id["fig-f1"]["tag"] == "p"
    assert "not known" in summarise(results)


def test_bad_input_is_a_clear_error(tmp_path: Path) -> None:
    results = make_results()
    results.metrics_per_label = results.metrics_per_label.drop(columns=["support"])
    with pytest.raises(DataFormatError, match="metrics_per_label.*support"):
        write_report(results, tmp_path)
    with pytest.raises(ConfigError, match="basename"):
        write_report(make_results(), tmp_path, basename="../escape")
    with pytest.raises(ConfigError, match="results"):
        write_report({"title": "x"}, tmp_path)  # type: ignore[arg-type]
    results = make_results()
    results.main_variant = "real+nothing"
    with pytest.raises(ConfigError, match="main_variant"):
        write_report(results, tmp_path)


def test_main_variant_preference() -> None:
    results = make_results()
    extra = results.metrics_per_label[results.metrics_per_label["variant"] == "real_only"].assign(variant="real+titles")
    results.metrics_per_label = pd.concat([results.metrics_per_label, extra])
    results.metrics_overall = pd.concat(
        [results.metrics_overall, results.metrics_overall[results.metrics_overall["variant"] == "real_only"].assign(variant="real+titles")]
    )
    assert set(gap_summary(results)["variant"]) == {"real+offline"}  # titles baseline is not the main variant
    text = summarise(results)
    assert "Other variants: 'real+titles'" in text
    results.main_variant = "real+titles"
    assert math.isclose(gap_summary(results).set_index("label").loc["B", "change"], 0.0)


def test_accepts_long_tidy_metrics_with_levels(tmp_path: Path) -> None:
    """The ``evaluate.tidy_metrics`` shape: a ``level`` column and ``__overall__`` rows in one frame."""
    ref = make_results()
    section = ref.metrics_per_label.assign(level="section")
    division = section.assign(level="division", label=lambda d: d["label"] + "01", f1=0.0)
    overall = ref.metrics_overall.assign(level="section", label="__overall__", support=621)
    long = pd.concat([section, division, overall, overall.assign(level="division", accuracy=0.1)], ignore_index=True)
    results = make_results()
    results.metrics_per_label, results.metrics_overall = long, pd.DataFrame()
    results.confusion, results.learning_curve, results.auto_coding = {}, None, pd.DataFrame()
    assert summarise(results) == summarise(ref)
    doc = parse(write_report(results, tmp_path).html)
    assert doc.by_id["tbl-per-label"]["rows"] == 6 and doc.by_id["tbl-overall"]["rows"] == 3
    assert "A01" not in doc.by_id["tbl-per-label"]["text"]
