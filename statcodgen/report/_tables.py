"""Tables and section layout of the gap-filling report (private helper of :mod:`statcodgen.report.writer`).

Pure functions: tidy frames of a ``StudyResults`` in, display frames (numbers as text, mean ± std)
and template-ready section dicts out. HTML tables come from ``DataFrame.to_html`` (escaped),
Markdown tables from :func:`markdown_table`. Depends on :mod:`.results`, :mod:`._many` and
:mod:`.plots`, never on the writer.

A section is the dict :func:`section` makes: ``anchor``, ``title``, ``text`` (paragraphs),
``figures`` (:func:`figure_entry`: ``id, alt, src, file, computed``), ``tables``
(:func:`table_entry`: ``id, caption, html, md``) and optionally a pre-rendered ``body_html`` /
``body_md``; the templates render a list of them in order.
A module adding sections (e.g. ``report.verification``) builds them with these three helpers from
``(results, SectionContext)`` and returns them with the PNG bytes of their figures (keyed by figure
id); the writer inserts them (see ``writer._section_builders``).

With more than :data:`~statcodgen.report.plots.MANY_LABELS` labels (:func:`many_labels`) the layout
changes: a histogram of codes by training rows, an F1 before/after scatter, the most improved and
most harmed labels, F1 by division and section, and the most confused pairs instead of the matrix.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from . import _many
from .results import StudyResults

__all__ = ["stats", "pm", "signed", "titles", "support", "markdown_table", "build_sections", "many_labels", "section",
           "figure_entry", "table_entry", "SectionContext"]


@dataclass(frozen=True)
class SectionContext:
    """What a section builder knows besides the results.

    main: the augmented variant compared with ``real_only`` (or None); variants: every variant, in
    report order; many: more than ``MANY_LABELS`` labels (no per-label charts); settings, costs:
    already scrubbed of secrets.
    """

    main: str | None
    variants: list[str]
    many: bool = False
    settings: dict[str, Any] = field(default_factory=dict)
    costs: dict[str, Any] = field(default_factory=dict)


def stats(df: pd.DataFrame, keys: list[str], col: str) -> pd.DataFrame:
    """Mean, std (NaN for one seed) and number of seeds of ``col`` grouped by ``keys``."""
    if df.empty or col not in df.columns:
        return pd.DataFrame(columns=[*keys, "mean", "std", "n"])
    g = df.groupby(keys)[col]
    return pd.concat([g.mean().rename("mean"), g.std().rename("std"), g.count().rename("n")], axis=1).reset_index()


def pm(mean: float, std: float = math.nan, digits: int = 3) -> str:
    """``"0.812 ± 0.010"``; just ``"0.812"`` when std is NaN (one seed); ``"–"`` when mean is NaN."""
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "–"
    return f"{mean:.{digits}f}" if std is None or math.isnan(std) else f"{mean:.{digits}f} ± {std:.{digits}f}"


def signed(x: float, digits: int = 3) -> str:
    """``"+0.120"`` / ``"−0.005"`` (true minus sign); ``"–"`` for NaN."""
    return "–" if math.isnan(x) else f"{x:+.{digits}f}".replace("-", "−")


def titles(results: StudyResults) -> dict[str, str]:
    """Label → title from ``results.coverage`` (empty when there is no title column)."""
    cov = results.coverage
    if cov.empty or "title" not in cov.columns:
        return {}
    return {str(k): str(v) for k, v in zip(cov["label"], cov["title"].fillna(""))}


def support(results: StudyResults) -> dict[str, int]:
    """Label → number of real test cases (largest ``support`` seen over variants and seeds)."""
    pl = results.metrics_per_label
    if pl.empty:
        return {}
    return {str(k): int(v) for k, v in pl.groupby("label")["support"].max().fillna(0).items()}


# --- tables and sections -----------------------------------------------------------------------


def _md_cell(value: Any) -> str:
    text = str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("\r", " ")
    return text.replace("<", "&lt;").replace(">", "&gt;")


def markdown_table(df: pd.DataFrame) -> str:
    """A pipe table; cells escaped (``|``, backslash, ``<``/``>``, newlines) so text cannot break it."""
    head = "| " + " | ".join(_md_cell(c) for c in df.columns) + " |"
    sep = "| " + " | ".join("---" for _ in df.columns) + " |"
    body = ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, sep, *body])


def _fmt(df: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """Floats rounded to ``digits`` as text, NaN as an en dash; other cells as text."""
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_float_dtype(out[c]):
            out[c] = [("–" if pd.isna(v) else f"{v:.{digits}f}") for v in out[c]]
        else:
            out[c] = ["–" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in out[c]]
    return out


def table_entry(table_id: str, df: pd.DataFrame | None, caption: str) -> dict[str, Any]:
    """A table of a section: ``df`` formatted (floats to 3 digits, NaN as "–"), as escaped HTML and Markdown; empty: "not computed"."""
    if df is None or df.empty:
        return {"id": table_id, "caption": caption, "html": None, "md": None}
    txt = _fmt(df)
    html = txt.to_html(table_id=table_id, index=False, border=0, classes="data", escape=True, na_rep="–")
    return {"id": table_id, "caption": caption, "html": html, "md": markdown_table(txt)}


def figure_entry(fig_id: str, alt: str, pngs: dict[str, bytes]) -> dict[str, Any]:
    """A figure of a section; ``computed`` when ``pngs`` holds its PNG (the writer embeds it), else "not computed"."""
    return {"id": fig_id, "alt": alt, "src": None, "file": None, "computed": fig_id in pngs}


def section(anchor: str, title: str, *, text: Sequence[str] = (), figures: Sequence[dict[str, Any]] = (),
            tables: Sequence[dict[str, Any]] = (), body_html: str | None = None, body_md: str | None = None) -> dict[str, Any]:
    """One section of the report (``anchor`` is its HTML id and the link of the contents line).

    ``body_html`` / ``body_md``: an already rendered body (escaped by its builder), printed after
    the text paragraphs and before the figures and tables; secrets are still redacted from it.
    """
    return {"anchor": anchor, "title": title, "text": list(text), "figures": list(figures), "tables": list(tables),
            "body_html": body_html, "body_md": body_md}


def many_labels(results: StudyResults) -> bool:
    """Whether the report has more labels than per-label charts can show (``plots.MANY_LABELS``)."""
    from .plots import MANY_LABELS

    pl, cov = results.metrics_per_label, results.coverage
    n = max(pl["label"].nunique() if "label" in pl else 0, len(cov))
    return n > MANY_LABELS


def _reasons(results: StudyResults) -> dict[str, str]:
    why = dict(results.target_reasons)
    cov = results.coverage
    if not why and "reason" in cov.columns:
        why = {str(k): str(v) for k, v in zip(cov["label"], cov["reason"].fillna("")) if v}
    return why


def _cut(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _coverage_table(results: StudyResults) -> pd.DataFrame:
    cov = results.coverage
    if cov.empty:
        return cov
    t = set(results.targets)
    out = pd.DataFrame({"label": cov["label"].astype(str), "target": ["●" if x in t else "" for x in cov["label"].astype(str)]})
    out["title"] = cov["title"].fillna("").astype(str) if "title" in cov else ""
    why = _reasons(results)
    if why:
        out["why chosen"] = [why.get(x, "") if x in t else "" for x in out["label"]]
    out["real train rows"] = cov["n_real_train"].astype(int)
    if "n_synthetic_generated" in cov:
        out["synthetic generated"] = cov["n_synthetic_generated"].astype(int)
    out["synthetic kept"] = cov["n_synthetic_kept"].astype(int)
    out["training rows after"] = out["real train rows"] + out["synthetic kept"]
    return out


def _per_label_table(results: StudyResults, variants: list[str], main: str | None) -> pd.DataFrame:
    pl = results.metrics_per_label
    if pl.empty:
        return pl
    st = stats(pl, ["variant", "label"], "f1").set_index(["variant", "label"])
    title_of, support_of, t = titles(results), support(results), set(results.targets)
    labels = sorted(set(pl["label"].astype(str)))
    rows = []
    for lab in labels:
        row: dict[str, Any] = {"label": lab, "target": "●" if lab in t else "", "title": title_of.get(lab, ""), "test support": support_of.get(lab, 0)}
        for v in variants:
            key = (v, lab)
            row[f"F1 {v}"] = pm(st.loc[key, "mean"], st.loc[key, "std"]) if key in st.index else "–"
        if main is not None and ("real_only", lab) in st.index and (main, lab) in st.index:
            row[f"change ({main} − real_only)"] = signed(float(st.loc[(main, lab), "mean"] - st.loc[("real_only", lab), "mean"]))
        rows.append(row)
    return pd.DataFrame(rows)


def _overall_table(results: StudyResults, variants: list[str]) -> pd.DataFrame:
    ov = results.metrics_overall
    if ov.empty:
        return ov
    cols = [c for c in ["accuracy", "macro_f1", "weighted_f1", "top3_accuracy"] if c in ov.columns]
    ref = ov[ov["variant"] == "real_only"]["accuracy"].mean() if (ov["variant"] == "real_only").any() else math.nan
    rows = []
    for v in variants:
        sub = ov[ov["variant"] == v]
        if sub.empty:
            continue
        row: dict[str, Any] = {"variant": v, "seeds": int(sub["seed"].nunique())}
        for c in cols:
            row[c] = pm(float(sub[c].mean()), float(sub[c].std()) if len(sub) > 1 else math.nan)
        row["accuracy change vs real_only"] = signed(float(sub["accuracy"].mean() - ref))
        rows.append(row)
    return pd.DataFrame(rows)


def _auto_coding_table(auto: pd.DataFrame, variants: list[str]) -> pd.DataFrame:
    """Per variant: the largest share coded automatically with accuracy ≥ 0.90 / 0.95 / 0.98."""
    if auto.empty:
        return auto
    rows = []
    for v in [v for v in variants if v in set(auto["variant"])] or sorted(set(auto["variant"])):
        sub = auto[auto["variant"] == v]
        row: dict[str, Any] = {"variant": v}
        for goal in (0.90, 0.95, 0.98):
            ok = sub[sub["accuracy"] >= goal]
            row[f"share coded at accuracy ≥ {goal:.2f}"] = float(ok["coverage"].max()) if len(ok) else 0.0
        rows.append(row)
    return pd.DataFrame(rows)


def _cleaning_table(cleaning: pd.DataFrame) -> pd.DataFrame:
    if cleaning.empty:
        return cleaning
    c = cleaning.assign(label=cleaning["label"].astype(str), count=cleaning["count"].astype(int))
    if c["label"].nunique() > 25:
        return c.groupby(["reason", "label"], as_index=False)["count"].sum().sort_values(["reason", "count"], ascending=[True, False])
    wide = c.pivot_table(index="reason", columns="label", values="count", aggfunc="sum", fill_value=0)
    wide["total"] = wide.sum(axis=1)
    wide.loc["total"] = wide.sum(axis=0)
    return wide.astype(int).reset_index().rename_axis(columns=None)


def _samples_table(samples: pd.DataFrame, per_reason: int = 5) -> pd.DataFrame:
    if samples.empty:
        return samples
    cols = [c for c in ["reason", "label", "text", "detail"] if c in samples.columns]
    s = samples[cols].groupby("reason", group_keys=False).head(per_reason).copy()
    for c in ("text", "detail"):
        if c in s:
            s[c] = [str(x) if len(str(x)) <= 160 else str(x)[:157] + "..." for x in s[c].fillna("")]
    return s


def _flatten(obj: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(obj, dict):
        rows: list[tuple[str, str]] = []
        for k, v in obj.items():
            rows += _flatten(v, f"{prefix}.{k}" if prefix else str(k))
        return rows or [(prefix, "{}")]
    return [(prefix, obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False, default=str))]


def _kv_table(obj: dict[str, Any], key: str) -> pd.DataFrame:
    return pd.DataFrame(_flatten(obj), columns=[key, "value"]) if obj else pd.DataFrame()


def _changes_display(df: pd.DataFrame, main: str, why: dict[str, str]) -> pd.DataFrame:
    if df.empty:
        return df
    out = pd.DataFrame({"label": df["label"], "target": df["target"], "title": [_cut(t) for t in df["title"]]})
    if why:
        out["why chosen"] = [why.get(lab, "") for lab in df["label"]]
    out["test support"] = df["support"]
    out["real train rows"] = df["n_real_train"]
    out["training rows after"] = df["n_after"]
    out["F1 real_only"] = df["f1_real_only"]
    out[f"F1 {main}"] = df["f1_main"]
    out["change"] = [signed(float(x)) for x in df["change"]]
    return out.reset_index(drop=True)


def _aggregated_display(df: pd.DataFrame, level: str, to_level: str, main: str) -> pd.DataFrame:
    if df.empty:
        return df
    out = df.rename(columns={"labels": f"{level} codes", "support": "test support", "macro_f1_real_only": "mean F1 real_only",
                             "macro_f1_main": f"mean F1 {main}", "weighted_f1_real_only": "weighted F1 real_only",
                             "weighted_f1_main": f"weighted F1 {main}"})
    out["title"] = [_cut(str(t)) for t in out["title"]]
    out["change"] = [signed(float(x)) for x in out["change"]]
    return out


def _pairs_display(df: pd.DataFrame, title_of: dict[str, str]) -> pd.DataFrame:
    if df.empty:
        return df
    return pd.DataFrame({"variant": df["variant"], "true": df["true"], "true title": [_cut(title_of.get(x, ""), 40) for x in df["true"]],
                         "predicted": df["predicted"], "predicted title": [_cut(title_of.get(x, ""), 40) for x in df["predicted"]],
                         "count": df["count"], "share of true's test cases": [f"{100 * x:.1f}%" for x in df["share"]]})


def _many_sections(results: StudyResults, ctx: SectionContext, pngs: dict[str, bytes], f1_variants: list[str]) -> dict[str, dict[str, Any]]:
    """The sections that change with many labels, by anchor."""
    lvl, main = results.level, ctx.main
    why = _reasons(results)
    changes = _many.f1_changes(results, main)
    n = _many.TOP_N
    f1_tables = []
    if main is not None:
        f1_tables = [table_entry("tbl-most-improved", _changes_display(_many.most_changed(changes, improved=True), main, why),
                                 f"The {n} {lvl} codes whose F1 rose most ({main} − real_only)"),
                     table_entry("tbl-most-harmed", _changes_display(_many.most_changed(changes, improved=False), main, why),
                                 f"The {n} {lvl} codes whose F1 fell most ({main} − real_only)")]
    agg_tables = [table_entry(f"tbl-f1-{to}", _aggregated_display(_many.aggregated_f1(results, main, to), lvl, to, main or ""),
                              f"F1 of the {lvl} codes by {to}") for to in _many.coarser_levels(lvl)]
    return {
        "coverage": section("coverage", f"Coverage before and after, per {lvl}",
                            text=[f"How many {lvl} codes have how many training rows: real rows only (before) and real plus kept synthetic rows (after). "
                                  "The table lists every code; for targets, why they were chosen."],
                            figures=[figure_entry("fig-coverage-histogram", f"{lvl} codes by training rows, before and after", pngs)],
                            tables=[table_entry("tbl-coverage", _coverage_table(results), f"Training data per {lvl}")]),
        "f1": section("f1", f"F1 per {lvl}",
                      text=[f"Each point is a {lvl} code: F1 with real data only (x) and with synthetic data added (y), mean over seeds, on real test data; "
                            "targets in red, point size grows with the test cases. Above the diagonal: improved; below: harmed."],
                      figures=[figure_entry("fig-f1-scatter", f"F1 per {lvl}: real_only against {main}" if main else f"F1 per {lvl}", pngs)],
                      tables=[*f1_tables, table_entry("tbl-per-label", _per_label_table(results, f1_variants, main),
                                                      f"F1 per {lvl} (mean ± std over seeds)")]),
        "f1-aggregated": section("f1-aggregated", "F1 by " + " and ".join(_many.coarser_levels(lvl)),
                                 text=[f"The {lvl} codes' F1 gathered by their parent: mean F1 counts every {lvl} code the same "
                                       "(thin ones too), weighted F1 weighs them by test cases. Mean over seeds."],
                                 tables=agg_tables),
        "confusion": section("confusion", f"Most confused {lvl} pairs",
                             text=[f"With {len(changes) or 'many'} codes a confusion matrix cannot be read; these are its largest cells off the diagonal "
                                   f"(true {lvl} coded as another), {n} per variant{_seed_text(results)}, with their share of the true code's test cases."],
                             tables=[table_entry("tbl-confused-pairs", _pairs_display(_many.confused_pairs(results, main), titles(results)),
                                                 f"Most confused pairs ({lvl} level)")]),
    }


def _seed_text(results: StudyResults) -> str:
    ov = results.metrics_overall
    return f" (seed {ov['seed'].min()})" if not ov.empty else ""


def build_sections(
    results: StudyResults, *, settings: dict[str, Any], costs: dict[str, Any], main: str | None, variants: list[str]
) -> tuple[list[dict[str, Any]], dict[str, bytes]]:
    """The report body as template-ready sections plus the PNG bytes of each computed figure."""
    from .plots import build_figures

    pl = results.metrics_per_label
    labels = sorted(set(pl["label"].astype(str))) if not pl.empty else []
    f1_variants = [v for v in variants if not pl.empty and v in set(pl["variant"])]
    many = many_labels(results)
    pngs = build_figures(
        coverage=results.coverage,
        f1_stats=stats(pl, ["variant", "label"], "f1"),
        confusion=results.confusion,
        auto_coding=results.auto_coding,
        learning_curve=results.learning_curve,
        labels=labels,
        variants=f1_variants,
        targets=list(results.targets),
        main=main,
        level=results.level,
        support=support(results),
        many=many,
    )
    ctx = SectionContext(main=main, variants=variants, many=many, settings=settings, costs=costs)
    lvl = results.level

    def fig(fig_id: str, alt: str) -> dict[str, Any]:
        return figure_entry(fig_id, alt, pngs)

    if many:
        head = _many_sections(results, ctx, pngs, f1_variants)
    else:
        head = {
            "coverage": section("coverage", f"Coverage before and after, per {lvl}",
                                text=["Real training rows per label (before) and real plus kept synthetic rows (after). Log scale; target labels highlighted."],
                                figures=[fig("fig-coverage", f"Training rows per {lvl}, before and after")],
                                tables=[table_entry("tbl-coverage", _coverage_table(results), f"Training data per {lvl}")]),
            "f1": section("f1", f"F1 per {lvl}", text=["F1 on real test data, mean over seeds (error bars: standard deviation across seeds)."],
                          figures=[fig("fig-f1", f"F1 per {lvl} and variant")],
                          tables=[table_entry("tbl-per-label", _per_label_table(results, f1_variants, main), f"F1 per {lvl} (mean ± std over seeds)")]),
            "confusion": section("confusion", f"Confusion matrix ({lvl} level)",
                                 text=[f"Rows: true {lvl}; columns: predicted {lvl}{_seed_text(results)}. Colour: share of the true label's test cases; numbers: counts."],
                                 figures=[fig("fig-confusion", f"Confusion matrices at {lvl} level")]),
        }
    body = [head["coverage"], head["f1"]]
    if "f1-aggregated" in head and head["f1-aggregated"]["tables"]:
        body.append(head["f1-aggregated"])
    body += [
        section("overall", "Overall metrics", text=["Mean ± standard deviation over seeds, on real test data."],
                tables=[table_entry("tbl-overall", _overall_table(results, variants), "Overall metrics per variant")]),
        head["confusion"],
        section("auto-coding", "Automatic coding",
                text=["Cases whose confidence passes a threshold are coded automatically, the rest go to manual coding. Each curve shows the share coded automatically against the accuracy on those cases as the threshold moves."],
                figures=[fig("fig-auto-coding", "Automatic-coding curve")],
                tables=[table_entry("tbl-auto-coding", _auto_coding_table(results.auto_coding, variants), "Largest share coded automatically at a given accuracy")]),
        section("diversity", "Diversity of the synthetic lines",
                text=["Distinct-n: share of distinct n-grams; unique share: share of distinct lines; mean Jaccard: mean MinHash similarity between lines of a label (lower is more diverse)."],
                tables=[table_entry("tbl-diversity", results.diversity, "Diversity per label")]),
        section("cleaning", "Cleaning", text=["Synthetic lines dropped by deduplication and filters, by reason and label, and a sample of them."],
                tables=[table_entry("tbl-cleaning", _cleaning_table(results.cleaning), "Dropped lines by reason and label"),
                        table_entry("tbl-cleaning-samples", _samples_table(results.cleaning_samples), "Sample of dropped lines")]),
        section("learning-curve", "Learning curve", text=["Mean F1 of the target labels and overall accuracy as more synthetic lines are added (mean ± std over seeds)."],
                figures=[fig("fig-learning-curve", "Learning curve")]),
        section("settings", "Settings", text=["The configuration of the study (secrets removed)."],
                tables=[table_entry("tbl-settings", _kv_table(settings, "setting"), "Settings")]),
        section("costs", "Models and costs", tables=[table_entry("tbl-costs", _kv_table(costs, "item"), "Models, requests, tokens and cost")]),
    ]
    return body, pngs
