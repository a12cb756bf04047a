"""Tables and section layout of the gap-filling report (private helper of :mod:`statcodgen.report.writer`).

Pure functions: tidy frames of a ``StudyResults`` in, display frames (numbers as text, mean ± std)
and template-ready section dicts out. HTML tables come from ``DataFrame.to_html`` (escaped),
Markdown tables from :func:`markdown_table`. Depends on :mod:`.results` and :mod:`.plots`, never on the writer.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd

from .results import StudyResults

__all__ = ["stats", "pm", "signed", "titles", "support", "markdown_table", "build_sections"]


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


def _table(table_id: str, df: pd.DataFrame | None, caption: str) -> dict[str, Any]:
    if df is None or df.empty:
        return {"id": table_id, "caption": caption, "html": None, "md": None}
    txt = _fmt(df)
    html = txt.to_html(table_id=table_id, index=False, border=0, classes="data", escape=True, na_rep="–")
    return {"id": table_id, "caption": caption, "html": html, "md": markdown_table(txt)}


def _coverage_table(results: StudyResults) -> pd.DataFrame:
    cov = results.coverage
    if cov.empty:
        return cov
    t = set(results.targets)
    out = pd.DataFrame({"label": cov["label"].astype(str), "target": ["●" if x in t else "" for x in cov["label"].astype(str)]})
    out["title"] = cov["title"].fillna("").astype(str) if "title" in cov else ""
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


def build_sections(
    results: StudyResults, *, settings: dict[str, Any], costs: dict[str, Any], main: str | None, variants: list[str]
) -> tuple[list[dict[str, Any]], dict[str, bytes]]:
    """The report body as template-ready sections plus the PNG bytes of each computed figure."""
    from .plots import build_figures

    pl = results.metrics_per_label
    labels = sorted(set(pl["label"].astype(str))) if not pl.empty else []
    f1_variants = [v for v in variants if not pl.empty and v in set(pl["variant"])]
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
    )
    lvl = results.level
    seed0 = ""
    if not results.metrics_overall.empty:
        seed0 = f" (seed {results.metrics_overall['seed'].min()})"

    def fig(fig_id: str, alt: str) -> dict[str, Any]:
        return {"id": fig_id, "alt": alt, "src": None, "file": None, "computed": fig_id in pngs}

    return [
        {"anchor": "coverage", "title": f"Coverage before and after, per {lvl}",
         "text": ["Real training rows per label (before) and real plus kept synthetic rows (after). Log scale; target labels highlighted."],
         "figures": [fig("fig-coverage", f"Training rows per {lvl}, before and after")],
         "tables": [_table("tbl-coverage", _coverage_table(results), f"Training data per {lvl}")]},
        {"anchor": "f1", "title": f"F1 per {lvl}",
         "text": ["F1 on real test data, mean over seeds (error bars: standard deviation across seeds)."],
         "figures": [fig("fig-f1", f"F1 per {lvl} and variant")],
         "tables": [_table("tbl-per-label", _per_label_table(results, f1_variants, main), f"F1 per {lvl} (mean ± std over seeds)")]},
        {"anchor": "overall", "title": "Overall metrics", "text": ["Mean ± standard deviation over seeds, on real test data."],
         "figures": [], "tables": [_table("tbl-overall", _overall_table(results, variants), "Overall metrics per variant")]},
        {"anchor": "confusion", "title": f"Confusion matrix ({lvl} level)",
         "text": [f"Rows: true {lvl}; columns: predicted {lvl}{seed0}. Colour: share of the true label's test cases; numbers: counts."],
         "figures": [fig("fig-confusion", f"Confusion matrices at {lvl} level")], "tables": []},
        {"anchor": "auto-coding", "title": "Automatic coding",
         "text": ["Cases whose confidence passes a threshold are coded automatically, the rest go to manual coding. Each curve shows the share coded automatically against the accuracy on those cases as the threshold moves."],
         "figures": [fig("fig-auto-coding", "Automatic-coding curve")],
         "tables": [_table("tbl-auto-coding", _auto_coding_table(results.auto_coding, variants), "Largest share coded automatically at a given accuracy")]},
        {"anchor": "diversity", "title": "Diversity of the synthetic lines",
         "text": ["Distinct-n: share of distinct n-grams; unique share: share of distinct lines; mean Jaccard: mean MinHash similarity between lines of a label (lower is more diverse)."],
         "figures": [], "tables": [_table("tbl-diversity", results.diversity, "Diversity per label")]},
        {"anchor": "cleaning", "title": "Cleaning", "text": ["Synthetic lines dropped by deduplication and filters, by reason and label, and a sample of them."],
         "figures": [], "tables": [_table("tbl-cleaning", _cleaning_table(results.cleaning), "Dropped lines by reason and label"),
                                   _table("tbl-cleaning-samples", _samples_table(results.cleaning_samples), "Sample of dropped lines")]},
        {"anchor": "learning-curve", "title": "Learning curve", "text": ["Mean F1 of the target labels and overall accuracy as more synthetic lines are added (mean ± std over seeds)."],
         "figures": [fig("fig-learning-curve", "Learning curve")], "tables": []},
        {"anchor": "settings", "title": "Settings", "text": ["The configuration of the study (secrets removed)."],
         "figures": [], "tables": [_table("tbl-settings", _kv_table(settings, "setting"), "Settings")]},
        {"anchor": "costs", "title": "Models and costs", "text": [],
         "figures": [], "tables": [_table("tbl-costs", _kv_table(costs, "item"), "Models, requests, tokens and cost")]},
    ], pngs
