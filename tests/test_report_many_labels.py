"""A report with hundreds of labels stays readable: no chart with a bar or tick per label, tables instead.

The study results are fabricated numbers (no training) for every NACE Rev. 2 class (codes and
official titles only): 2 variants x 2 seeds, a class-level confusion matrix, an automatic-coding
curve whose points all lie above 0.5 coverage and 0.84 accuracy. Every matplotlib figure the report
draws is inspected before it is turned into a PNG (``plots._png`` is wrapped).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from statcodgen.classification.hierarchy import Hierarchy
from statcodgen.report import plots
from statcodgen.report import writer as writer_module
from statcodgen.report._tables import figure_entry, section, table_entry
from statcodgen.report.results import StudyResults
from statcodgen.report.writer import summarise, write_report

from test_report import parse

H = Hierarchy.builtin("nace_rev2")
CLASSES = H.codes("class")
MAX_MARKS = 60  # bars, ticks or matrix cells per axis a readable chart may have


def make_many(*, hierarchy: bool = True, n_targets: int = 150, seed: int = 0) -> StudyResults:
    rng = np.random.default_rng(seed)
    labels = list(CLASSES)
    n = len(labels)
    support = dict(zip(labels, rng.integers(1, 200, n).tolist()))
    base = rng.uniform(0.0, 0.9, n)
    gain = rng.normal(0.02, 0.12, n)  # some codes gain, many lose a little
    rows, overall = [], []
    for v in ("real_only", "real+offline"):
        for s in (0, 1):
            f1 = np.clip(base + (gain if v != "real_only" else 0.0) + rng.normal(0, 0.01, n), 0, 1)
            rows += [{"variant": v, "seed": s, "label": lab, "precision": f, "recall": f, "f1": float(f), "support": support[lab]}
                     for lab, f in zip(labels, f1)]
            overall.append({"variant": v, "seed": s, "accuracy": 0.5 + 0.01 * s + (0.02 if v != "real_only" else 0.0), "macro_f1": 0.3})
    confusion = {}
    for v in ("real_only", "real+offline"):
        m = np.zeros((n, n), dtype=int)
        for i, lab in enumerate(labels):
            m[i, i] = support[lab] // 2
            others = rng.choice(n, 3, replace=False)
            m[i, others] += rng.multinomial(support[lab] - m[i, i], [0.6, 0.3, 0.1])
        confusion[v] = pd.DataFrame(m, index=labels, columns=labels)
    th = np.linspace(0, 1, 21)
    auto = pd.concat([pd.DataFrame({"variant": v, "threshold": th, "coverage": 1 - 0.45 * th ** k, "accuracy": 0.84 + 0.15 * th})
                      for v, k in (("real_only", 1), ("real+offline", 2))])
    real_rows = rng.lognormal(2.5, 1.4, n).astype(int)
    targets = [lab for _, lab in sorted(zip(real_rows, labels))][:n_targets]
    kept = [int(rng.integers(20, 300)) if lab in set(targets) else 0 for lab in labels]
    coverage = pd.DataFrame({"label": labels, "title": [H.title(c) for c in labels], "n_real_train": real_rows,
                             "n_synthetic_generated": kept, "n_synthetic_kept": kept})
    reasons = {lab: f"{int(r)} real rows < 20" for lab, r in zip(labels, real_rows) if lab in set(targets)}
    return StudyResults(
        title="Made-up class-level study", targets=targets, level="class", coverage=coverage,
        metrics_per_label=pd.DataFrame(rows), metrics_overall=pd.DataFrame(overall), confusion=confusion, auto_coding=auto,
        learning_curve=pd.DataFrame([{"variant": "real+offline", "n_synthetic": k, "seed": s, "target_mean_f1": 0.2 + k / 1e4,
                                      "accuracy": 0.5 + k / 1e5} for k in (0, 2000, 4000) for s in (0, 1)]),
        hierarchy=H if hierarchy else None, target_reasons=reasons,
    )


def _marks(ax: Any) -> dict[str, int]:
    bars = sum(len(c) for c in ax.containers if c.__class__.__name__ == "BarContainer")
    xt = [t for t in ax.get_xticklabels() if t.get_text()]
    yt = [t for t in ax.get_yticklabels() if t.get_text()]
    cells = max((max(im.get_array().shape) for im in ax.images), default=0)
    return {"bars": bars, "xticks": len(xt), "yticks": len(yt), "cells": cells}


def record_figures(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[dict[str, Any]]]:
    """Wrap ``plots._png``: every figure's axes (marks and limits) by figure name, before it is cleared."""
    seen: dict[str, list[dict[str, Any]]] = {}
    original = plots._png

    def spy(fig: Any) -> bytes:
        seen[fig.get_label()] = [{**_marks(ax), "xlim": ax.get_xlim(), "ylim": ax.get_ylim()} for ax in fig.axes
                                 if ax.get_label() != "<colorbar>"]
        return original(fig)

    monkeypatch.setattr(plots, "_png", spy)
    return seen


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> tuple[StudyResults, Any, dict[str, list[dict[str, Any]]]]:
    results = make_many()
    with pytest.MonkeyPatch.context() as mp:
        seen = record_figures(mp)
        paths = write_report(results, tmp_path_factory.mktemp("many"))
    return results, paths, seen


def test_no_chart_has_a_mark_per_label(many: Any) -> None:
    results, paths, seen = many
    assert set(seen) == {"coverage-histogram", "f1-scatter", "auto-coding", "learning-curve"}
    for name, axes in seen.items():
        for ax in axes:
            assert max(ax["bars"], ax["xticks"], ax["yticks"], ax["cells"]) <= MAX_MARKS, (name, ax)
    assert set(paths.figures) == {"fig-coverage-histogram", "fig-f1-scatter", "fig-auto-coding", "fig-learning-curve"}
    doc = parse(paths.html)
    for gone in ("fig-confusion", "fig-f1", "fig-coverage"):
        assert gone not in doc.by_id, gone
    assert not list((paths.html.parent / "figures").glob("*confusion*"))
    # the histogram counts every code twice (before, after)
    hist = seen["coverage-histogram"][0]
    assert 0 < hist["bars"] <= 2 * len(plots.row_bins(1e6))


def _body(doc: Any, tbl_id: str) -> int:
    assert doc.by_id[tbl_id]["tag"] == "table", tbl_id
    return doc.by_id[tbl_id]["rows"] - 1  # header row


class _Cells(HTMLParser):
    """The header and body cells (as text) of the table whose id is ``table_id``."""

    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.table_id, self.inside, self.rows, self.cell = table_id, False, [], None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table" and dict(attrs).get("id") == self.table_id:
            self.inside = True
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag in ("td", "th"):
            self.cell = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.inside = False
        elif self.inside and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(self.cell.strip())
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell += data


def _table(path: Path, tbl_id: str) -> pd.DataFrame:
    """A report table as text cells; numbers compared as text or converted by the test."""
    cells = _Cells(tbl_id)
    cells.feed(path.read_text(encoding="utf-8"))
    assert cells.rows, tbl_id
    return pd.DataFrame(cells.rows[1:], columns=cells.rows[0])


def test_most_improved_and_harmed_tables(many: Any) -> None:
    results, paths, _ = many
    doc = parse(paths.html)
    assert _body(doc, "tbl-most-improved") == 25 and _body(doc, "tbl-most-harmed") == 25
    pl = results.metrics_per_label
    f1 = pl.groupby(["variant", "label"])["f1"].mean().unstack("variant")
    change = (f1["real+offline"] - f1["real_only"]).sort_values()
    improved, harmed = _table(paths.html, "tbl-most-improved"), _table(paths.html, "tbl-most-harmed")
    assert improved["label"].tolist() == change.index[::-1][:25].tolist()
    assert harmed["label"].tolist() == change.index[:25].tolist()
    support = pl.groupby("label")["support"].max()
    assert improved["test support"].astype(int).tolist() == support[improved["label"]].tolist()
    assert all(c.startswith("−") for c in harmed["change"]) and all(c.startswith("+") for c in improved["change"])


@pytest.mark.parametrize("with_hierarchy", [True, False])
def test_f1_aggregated_to_division_and_section(tmp_path: Path, with_hierarchy: bool) -> None:
    results = make_many(hierarchy=with_hierarchy)
    results.confusion, results.learning_curve, results.auto_coding = {}, None, pd.DataFrame()
    paths = write_report(results, tmp_path)
    doc = parse(paths.html)
    divisions = H.aggregate(CLASSES, "division")
    assert _body(doc, "tbl-f1-division") == divisions.nunique()
    assert _body(doc, "tbl-f1-section") == H.aggregate(CLASSES, "section").nunique()
    table = _table(paths.html, "tbl-f1-division").set_index("division")
    mean_f1 = results.metrics_per_label.groupby(["variant", "label"])["f1"].mean()
    in_47 = [c for c, d in zip(CLASSES, divisions) if d == "47"]
    assert int(table.loc["47", "class codes"]) == len(in_47)
    assert float(table.loc["47", "mean F1 real_only"]) == pytest.approx(mean_f1["real_only"][in_47].mean(), abs=6e-4)
    section_table = _table(paths.html, "tbl-f1-section").set_index("section")
    assert int(section_table.loc["G", "class codes"]) == sum(H.section(c) == "G" for c in CLASSES)
    assert ("WHOLESALE" in section_table.loc["G", "title"]) is with_hierarchy  # titles come from the hierarchy


def test_confused_pairs_instead_of_the_matrix(many: Any) -> None:
    results, paths, _ = many
    doc = parse(paths.html)
    assert _body(doc, "tbl-confused-pairs") == 50  # 25 per variant shown
    pairs = _table(paths.html, "tbl-confused-pairs")
    m = results.confusion["real_only"]
    counts = m.to_numpy().copy()
    np.fill_diagonal(counts, 0)
    first = pairs[pairs["variant"] == "real_only"].iloc[0]
    assert int(first["count"]) == counts.max()
    assert first["true"] != first["predicted"]
    share = m.loc[first["true"], first["predicted"]] / m.loc[first["true"]].sum()
    assert first["share of true's test cases"] == f"{100 * share:.1f}%"


def test_auto_coding_axes_fit_the_data(many: Any) -> None:
    results, _, seen = many
    (ax,) = seen["auto-coding"]
    auto = results.auto_coding
    for lim, col in ((ax["xlim"], "coverage"), (ax["ylim"], "accuracy")):
        lo, hi = float(auto[col].min()), float(auto[col].max())
        pad = plots.AXIS_MARGIN * (hi - lo) + 1e-9
        assert lo - pad <= lim[0] <= lo and hi <= lim[1] <= hi + pad, (col, lim, lo, hi)
    scatter = seen["f1-scatter"][0]
    assert scatter["xlim"] == scatter["ylim"]  # the diagonal is the diagonal
    for name in ("learning-curve",):
        for a in seen[name]:
            assert a["xlim"][0] >= -plots.AXIS_MARGIN * 4000 - 1e-6 and a["xlim"][1] <= 4000 * (1 + plots.AXIS_MARGIN) + 1e-6


def test_few_labels_keep_their_charts_with_fitted_axes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from test_report import make_results

    seen = record_figures(monkeypatch)
    results = make_results()
    paths = write_report(results, tmp_path)
    assert {"coverage", "f1", "confusion", "auto-coding", "learning-curve"} == set(seen)
    assert "tbl-confused-pairs" not in parse(paths.html).by_id
    lo = float(results.auto_coding["coverage"].min())
    assert lo - plots.AXIS_MARGIN * (1 - lo) - 1e-9 <= seen["auto-coding"][0]["xlim"][0] <= lo and lo > 0.15  # not 0


def test_summary_and_header_stay_short(many: Any) -> None:
    results, paths, _ = many
    text = summarise(results)
    assert len(text.splitlines()) < 20
    assert re.search(r"^- 150 targets: \d+ improved beyond seed noise", text, flags=re.M)
    assert "Most harmed:" in text and "and 140 more" in text
    doc = parse(paths.html)
    assert len(doc.by_id["summary"]["text"]) < 3000
    md = paths.markdown.read_text(encoding="utf-8")
    assert "Targets: **150 class codes (" in md


def test_reasons_in_the_coverage_table(many: Any) -> None:
    results, paths, _ = many
    cov = _table(paths.html, "tbl-coverage").set_index("label")
    t = results.targets[0]
    assert cov.loc[t, "why chosen"] == results.target_reasons[t]
    other = next(c for c in CLASSES if c not in set(results.targets))
    assert cov.loc[other, "why chosen"] == ""


def test_extra_sections_go_before_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The place left for report.verification: a builder's sections, figures and tables are rendered."""
    from test_report import make_results

    def builder(results: StudyResults, ctx: Any) -> tuple[list[dict[str, Any]], dict[str, bytes]]:
        pngs = {"fig-extra": plots.auto_coding_figure(results.auto_coding, ctx.variants)}
        table = table_entry("tbl-extra", pd.DataFrame({"check": ["labels"], "result": ["fine"]}), "An extra table")
        return [section("extra", "An extra part", text=["Added by a builder."], figures=[figure_entry("fig-extra", "Extra", pngs)],
                        tables=[table]),
                section("extra-raw", "A pre-rendered part", body_html='<p id="raw-body">rendered <b>elsewhere</b></p>',
                        body_md="Rendered **elsewhere**.")], pngs

    monkeypatch.setattr(writer_module, "_section_builders", lambda: [builder])
    results = make_results()
    results.confusion, results.learning_curve = {}, None
    paths = write_report(results, tmp_path)
    html = paths.html.read_text(encoding="utf-8")
    doc = parse(paths.html)
    assert doc.by_id["tbl-extra"]["rows"] == 2 and doc.by_id["fig-extra"]["imgs"][0].startswith("data:image/png;base64,")
    assert html.index('id="extra"') < html.index('id="settings"') and html.index('id="learning-curve"') < html.index('id="extra"')
    md = paths.markdown.read_text(encoding="utf-8")
    assert "fig-extra" in paths.figures and "## An extra part" in md
    assert doc.by_id["raw-body"]["text"] == "rendered elsewhere" and html.index('id="extra-raw"') < html.index('id="settings"')
    assert "## A pre-rendered part\n\nRendered **elsewhere**." in md


def test_reasons_at_section_level(tmp_path: Path) -> None:
    from test_report import make_results

    results = make_results()
    results.target_reasons = {"B": "2 real rows < 20", "O": "named in config"}
    text = summarise(results)
    assert "; chosen: 2 real rows < 20." in next(line for line in text.splitlines() if line.startswith("- B "))
    results.confusion, results.learning_curve = {}, None
    cov = _table(write_report(results, tmp_path).html, "tbl-coverage").set_index("label")
    assert cov["why chosen"].to_dict() == {"A": "", "B": "2 real rows < 20", "C": "", "O": "named in config", "T": ""}
