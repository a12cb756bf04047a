"""The report's verification section: what happened to each target's lines, what was chosen on
validation and why, the attraction rate beside F1, and the real rows that look mislabelled.

In: a :class:`~statcodgen.report.StudyResults` (its ``verification``, ``selection``, ``coverage``
and ``metrics_overall``). Out: the section's tables (:func:`verification_tables`) and the section
as Markdown and HTML (:func:`verification_section`); both are empty when the study ran no
verification and no selection.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["verification_tables", "verification_section"]

_EXAMPLES = 3


def _funnel(r: Any) -> pd.DataFrame:
    """Per target: lines generated, kept by cleaning (the verifier's input), verified (after relabelling),
    relabelled in / out, codes refined within the target, dropped by reason, flagged."""
    v = r.verification
    cov = r.coverage.set_index("label") if len(r.coverage) else pd.DataFrame()
    rows = []
    for t in r.targets:
        row = {"target": t}
        if len(cov) and t in cov.index:
            row["generated"] = int(cov.at[t, "n_synthetic_generated"])
        if v is not None:
            before = v.dropped["label"]  # a dropped line keeps its label
            came_in = v.verified["old_label"].where(v.verified["old_label"].notna(), v.verified["label"])
            row["kept_by_cleaning"] = int((came_in == t).sum() + (before == t).sum())
            row["verified"] = int((v.verified["label"] == t).sum())
            row["relabelled_in"] = int(((v.relabelled["label"] == t) & (v.relabelled["old_label"] != t)).sum())
            row["relabelled_out"] = int(((v.relabelled["old_label"] == t) & (v.relabelled["label"] != t)).sum())
            row["code_refined"] = int(((v.relabelled["label"] == t) & (v.relabelled["old_label"] == t)).sum())
            for reason in ("label_issue", "judge_rejected"):
                row[f"dropped_{reason}"] = int(((before == t) & (v.dropped["reason"] == reason)).sum())
            row["flagged"] = int((v.flagged["label"] == t).sum())
        rows.append(row)
    return pd.DataFrame(rows)


def _examples(v: Any) -> pd.DataFrame:
    parts = []
    for name, df in (("dropped", v.dropped), ("relabelled", v.relabelled), ("flagged", v.flagged)):
        if len(df):
            sample = df.sample(frac=1.0, random_state=0).groupby(["label", "reason"], sort=True).head(_EXAMPLES)
            parts.append(sample.assign(outcome=name))
    if not parts:
        return pd.DataFrame(columns=["outcome", "reason", "label", "code", "text", "detail"])
    out = pd.concat(parts, ignore_index=True)
    return out[["outcome", "reason", "label", "code", "text", "detail"]].sort_values(["label", "outcome", "reason"], kind="stable")


def _attraction(r: Any) -> pd.DataFrame:
    ov = r.metrics_overall
    if ov is None or "attraction" not in ov:
        return pd.DataFrame()
    g = ov.groupby("variant")
    out = g[["accuracy", "macro_f1", "attraction", "attraction_short"]].mean()
    out["attraction_std"] = g["attraction"].std().fillna(0.0)
    return out.reset_index()


def verification_tables(r: Any) -> dict[str, pd.DataFrame]:
    """The section's tables: ``funnel``, ``examples``, ``real_suspects`` (first 30), ``selection`` (candidates), ``attraction``."""
    out: dict[str, pd.DataFrame] = {}
    if r.verification is not None:
        out["funnel"] = _funnel(r)
        out["examples"] = _examples(r.verification)
        out["real_suspects"] = r.verification.real_suspects.head(30)
    if r.selection is not None:
        out["selection"] = r.selection.candidates
    att = _attraction(r)
    if len(att):
        out["attraction"] = att
    return out


def _pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def verification_section(r: Any, ctx: Any = None) -> dict[str, Any] | None:
    """The report section (a :func:`statcodgen.report._tables.section` dict), or None when the study
    ran neither verification nor selection. ``ctx`` (the writer's SectionContext) is not needed."""
    from ._tables import section, table_entry

    t = verification_tables(r)
    if not t:
        return None
    text: list[str] = []
    tables: list[dict[str, Any]] = []
    if r.verification is not None:
        st = r.verification.stats
        text.append(f"Every kept synthetic line was judged by a model that never saw it (out-of-fold fastText on the real rows, "
                    f"the synthetic lines and the notes' items; label issues found by cleanlab) and against the notes. "
                    f"{st.get('verified', 0):,} of {st.get('lines', 0):,} lines were verified: {st.get('dropped', 0):,} dropped, "
                    f"{st.get('relabelled', 0):,} relabelled or moved to a closer code, {st.get('flagged', 0):,} flagged and kept.")
        if "judge" in st:
            j = st["judge"]
            text.append(f"LLM judge: {j.get('requests', 0):,} requests, {j.get('total_prompt_tokens', 0):,} prompt and "
                        f"{j.get('total_completion_tokens', 0):,} completion tokens; {j.get('unanswered', 0):,} answers named no candidate.")
        text.append(f"{len(r.verification.real_suspects):,} real training rows look mislabelled: the same out-of-fold model "
                    "disagrees confidently with their label. They are listed for a coder to review and never changed.")
        tables += [table_entry("verify-funnel", t["funnel"], "Lines per target: generated, verified, relabelled, dropped by reason"),
                   table_entry("verify-examples", t["examples"], "Examples by outcome and reason (with the evidence)"),
                   table_entry("verify-real", t["real_suspects"], "Real training rows that look mislabelled (first 30, worst first)")]
    if r.selection is not None:
        s = r.selection
        text.append(f"Chosen on validation (never on the test rows): {s.fraction:.0%} of the verified lines, prior correction "
                    f"strength {s.strength:g}, target gate {'on' if getattr(s, 'gate', False) else 'off'}. Why: {s.reason}. "
                    f"Validation: {s.n_validation:,} real rows split off the training part ({s.n_target_rows} in the targets). "
                    "Strength 0 is no correction; 1 is the Bayes correction from the training prior to the given prior. With the "
                    "target gate, a row the synthetic model does not assign to a target keeps the real-only model's answer "
                    "(column `gated` of the table).")
        tables.append(table_entry("verify-selection", s.candidates, "Validation figures of every candidate setting"))
    if "attraction" in t:
        text.append("The attraction rate is the share of real test rows of other labels predicted as a target (overall, and for "
                    "inputs of two words or fewer). The full-real model shows the rate with the real data the gap lacks.")
        att = t["attraction"].copy()
        for c in ("attraction", "attraction_short", "attraction_std"):
            att[c] = att[c].map(_pct)
        tables.append(table_entry("verify-attraction", att, "Attraction rate beside accuracy and macro F1 (mean over seeds)"))
    return section("verification", "Verification and the label prior", text=text, tables=tables)
