"""The gap-filling report: one self-contained HTML file and a Markdown twin.

In: a :class:`~statcodgen.report.results.StudyResults` (tidy DataFrames filled by the experiments/pipeline stage). Out:
``<out_dir>/<basename>.html`` (CSS inline, figures embedded as base64 PNG, no external asset),
``<out_dir>/<basename>.md`` and ``<out_dir>/figures/<basename>_<figure>.png``.

The report opens with a plain-language summary (:func:`summarise`): for each target label, F1
real-only → augmented with the change and the test support, an honest statement when synthetic
data did not help or lowered overall accuracy, and the overall accuracy change. Then: coverage
before/after (``fig-coverage``, ``tbl-coverage``), per-label F1 (``fig-f1``, ``tbl-per-label``),
overall metrics (``tbl-overall``), confusion matrices (``fig-confusion``), the automatic-coding
curve (``fig-auto-coding``, ``tbl-auto-coding``), diversity (``tbl-diversity``), cleaning
(``tbl-cleaning``, ``tbl-cleaning-samples``), the learning curve (``fig-learning-curve``), the
settings (``tbl-settings``) and the models and costs (``tbl-costs``). A part whose data are empty
says "not computed". Settings and costs are scrubbed of secrets (:func:`scrub_secrets`).

With more than ``plots.MANY_LABELS`` labels (a study at class level) no chart has a bar or a tick
per label: coverage is a histogram of codes by training rows (``fig-coverage-histogram``), F1 a
before/after scatter (``fig-f1-scatter``) with the most improved and most harmed codes
(``tbl-most-improved``, ``tbl-most-harmed``), F1 is aggregated to the division and section
(``tbl-f1-division``, ``tbl-f1-section``), the confusion matrix gives way to the most confused pairs
(``tbl-confused-pairs``) and the summary counts the targets' verdicts instead of listing each one.

The body is a list of sections (see :mod:`statcodgen.report._tables` for their shape); the
builders listed by ``_section_builders`` (the place for ``report.verification``) add theirs before the settings.
"""

from __future__ import annotations

import base64
import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_type
from ..errors import ConfigError
from ._tables import SectionContext, build_sections, many_labels, pm, signed, stats, support, titles
from .results import StudyResults, normalise, validate

__all__ = ["ReportPaths", "write_report", "summarise", "gap_summary", "scrub_secrets", "REDACTED"]

REDACTED = "[redacted]"
NOT_COMPUTED = "not computed"
_TEMPLATES = Path(__file__).parent / "templates"

#: A section builder: ``(results, context) -> (sections, pngs)``, sections made with
#: ``_tables.section`` / ``figure_entry`` / ``table_entry``, pngs keyed by figure id.
SectionBuilder = Callable[[StudyResults, SectionContext], tuple[list[dict[str, Any]], dict[str, bytes]]]


def _section_builders() -> list[SectionBuilder]:
    """The extra sections of the report, in order, inserted before "Settings".

    The place for parts written in their own module (e.g. ``report.verification``): import its
    builder here and list it. Each builder gets the normalised results and a :class:`SectionContext`.
    """
    from .verification import verification_section

    def verification(results: StudyResults, ctx: SectionContext) -> tuple[list[dict[str, Any]], dict[str, bytes]]:
        part = verification_section(results, ctx)
        return ([part] if part else []), {}

    return [verification]

_SUMMARY_LIST = 10  # with many targets, codes named in a summary sentence before "and N more"


@dataclass(frozen=True)
class ReportPaths:
    """Where :func:`write_report` wrote: the HTML file, the Markdown file, PNGs keyed by figure id."""

    html: Path
    markdown: Path
    figures: dict[str, Path]


# --- secrets ------------------------------------------------------------------------------------

_SECRET_PARTS = {"key", "apikey", "token", "secret", "password", "passwd", "authorization", "credential", "credentials", "bearer"}
_SECRET_VALUE = re.compile(r"\b(?:sk|gsk|xai|hf|pk|rk)[-_](?=[A-Za-z_\-]*\d)[A-Za-z0-9_\-]{6,}|\bBearer\s+[A-Za-z0-9._~+/=\-]{6,}")
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")


def _secret_name(name: str) -> bool:
    parts = re.split(r"[^a-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(name)).lower())
    return any(p in _SECRET_PARTS for p in parts) or "apikey" in str(name).lower().replace("_", "")


def scrub_secrets(obj: Any, *, found: set[str] | None = None) -> Any:
    """Copy of ``obj`` (nested dicts/lists) with secrets replaced by :data:`REDACTED`.

    A string value is a secret when its key names a key/token/secret/password (``api_key``,
    ``OPENAI_API_KEY``, ``auth_token``...) or when it looks like an API key (``sk-`` + letters and
    digits, ``Bearer ...``). Numbers are kept (``prompt_tokens: 1200``), and so is an environment-variable
    *name* under a key ending in ``env`` (``api_key_env: "OPENAI_API_KEY"``). The secrets removed are
    added to ``found`` so that the caller can also redact them from free text.
    """
    found = set() if found is None else found

    def walk(value: Any, key: str | None) -> Any:
        if isinstance(value, dict):
            return {k: walk(v, str(k)) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [walk(v, key) for v in value]
        if isinstance(value, str) and value:
            env_name = key is not None and key.lower().endswith("env") and bool(_ENV_NAME.match(value))
            if (key is not None and _secret_name(key) and not env_name) or _SECRET_VALUE.search(value):
                found.add(value)
                return REDACTED
        return value

    return walk(obj, None)


def _env_secrets() -> set[str]:
    return {v for k, v in os.environ.items() if _secret_name(k) and len(v) >= 8}


def _redact_text(text: str, secrets: set[str]) -> str:
    for s in sorted(secrets, key=len, reverse=True):
        if len(s) >= 6:
            text = text.replace(s, REDACTED)
    return _SECRET_VALUE.sub(REDACTED, text)


# --- numbers ------------------------------------------------------------------------------------


def _order_variants(variants: Any) -> list[str]:
    vs = [str(v) for v in dict.fromkeys(variants)]
    first = [v for v in vs if v == "real_only"]
    titles = [v for v in vs if v == "real+titles"]
    aug = sorted(v for v in vs if v.startswith("real+") and v != "real+titles")
    last = [v for v in vs if v == "full_real"]
    other = sorted(set(vs) - set(first + titles + aug + last))
    return first + titles + aug + other + last


def _variants(results: StudyResults) -> list[str]:
    found = list(results.metrics_overall.get("variant", [])) + list(results.metrics_per_label.get("variant", []))
    return _order_variants(found)


def _main_variant(results: StudyResults) -> str | None:
    variants = _variants(results)
    if results.main_variant is not None:
        if results.main_variant not in variants:
            raise ConfigError(f"StudyResults.main_variant must be one of {variants}. Got {results.main_variant!r} instead.")
        return results.main_variant
    aug = [v for v in variants if v not in ("real_only", "full_real", "real+titles")]
    aug.sort(key=lambda v: (v != "real+openai", not v.startswith("real+"), v))
    rest = [v for v in variants if v == "real+titles"]
    return (aug + rest)[0] if aug + rest else None


def gap_summary(results: StudyResults) -> pd.DataFrame:
    """One row per target label: F1 real-only vs the main augmented variant and the change.

    Out columns: ``label, title, reason, support, n_real_train, n_synthetic_kept, variant, f1_real_only,
    f1_real_only_std, f1_augmented, f1_augmented_std, change, noise, verdict`` where ``reason`` is
    why the label was chosen (``results.target_reasons``, "" when not given), ``noise`` is
    the larger seed std of the two and ``verdict`` is ``improved``, ``within_noise``, ``not_helped``,
    ``no_test_cases`` or ``not_evaluated``.
    """
    results = normalise(results)
    main = _main_variant(results)
    f1 = stats(results.metrics_per_label, ["variant", "label"], "f1").set_index(["variant", "label"])
    title_of, support_of = titles(results), support(results)
    cov = results.coverage.set_index("label") if not results.coverage.empty else pd.DataFrame()
    rows = []
    for t in results.targets:
        def get(v: str | None, what: str) -> float:
            return float(f1.loc[(v, t), what]) if v is not None and (v, t) in f1.index else math.nan

        a, sa, b, sb = get("real_only", "mean"), get("real_only", "std"), get(main, "mean"), get(main, "std")
        change = b - a
        noise = float(np.nanmax([sa, sb, 0.0]))
        n_test = support_of.get(t, 0)
        if n_test == 0:
            verdict = "no_test_cases"
        elif math.isnan(change):
            verdict = "not_evaluated"
        elif change <= 0:
            verdict = "not_helped"
        elif change <= noise:
            verdict = "within_noise"
        else:
            verdict = "improved"
        rows.append(
            {
                "label": t,
                "title": title_of.get(t, ""),
                "reason": results.target_reasons.get(t, ""),
                "support": n_test,
                "n_real_train": int(cov.loc[t, "n_real_train"]) if t in cov.index else 0,
                "n_synthetic_kept": int(cov.loc[t, "n_synthetic_kept"]) if t in cov.index else 0,
                "variant": main,
                "f1_real_only": a,
                "f1_real_only_std": sa,
                "f1_augmented": b,
                "f1_augmented_std": sb,
                "change": change,
                "noise": noise,
                "verdict": verdict,
            }
        )
    cols = ["label", "title", "reason", "support", "n_real_train", "n_synthetic_kept", "variant", "f1_real_only", "f1_real_only_std",
            "f1_augmented", "f1_augmented_std", "change", "noise", "verdict"]
    return pd.DataFrame(rows, columns=cols)


def _some(codes: list[str], n: int = _SUMMARY_LIST) -> str:
    return ", ".join(codes) if len(codes) <= n else ", ".join(codes[:n]) + f" and {len(codes) - n:,} more"


def _targets_text(results: StudyResults) -> str:
    if not results.targets:
        return "none"
    if len(results.targets) <= _SUMMARY_LIST * 4:
        return ", ".join(results.targets)
    return f"{len(results.targets):,} {results.level} codes ({_some(list(results.targets))}; see the coverage table)"


def _many_bullets(gs: pd.DataFrame) -> list[str]:
    """With many targets, a few counted bullets instead of one per target."""
    counts = gs["verdict"].value_counts()
    words = {"improved": "improved beyond seed noise", "within_noise": "within seed noise", "not_helped": "not helped",
             "no_test_cases": "without test cases", "not_evaluated": "not evaluated"}
    bullets = [f"{len(gs):,} targets: " + ", ".join(f"{int(counts[k]):,} {w}" for k, w in words.items() if k in counts) + "."]
    scored = gs.dropna(subset=["change"])
    if len(scored):
        mean_a, mean_b = float(scored["f1_real_only"].mean()), float(scored["f1_augmented"].mean())
        bullets.append(f"Mean F1 of the {len(scored):,} targets with test cases: {mean_a:.3f} → {mean_b:.3f} ({signed(mean_b - mean_a)}).")
    for label, part in (("Most improved", scored[scored["change"] > 0].nlargest(5, "change")),
                        ("Most harmed", scored[scored["change"] < 0].nsmallest(5, "change"))):
        if len(part):
            bullets.append(f"{label}: " + "; ".join(f"{r.label}: {r.f1_real_only:.2f} → {r.f1_augmented:.2f} ({r.support:,} test cases)"
                                                    for r in part.itertuples()) + ".")
    if len(scored):
        bullets.append("Every target is in the per-label table; the most improved and most harmed codes are listed below.")
    return bullets


def _summary_parts(results: StudyResults) -> tuple[list[str], list[str], list[str]]:
    """(intro paragraphs, one bullet per target, closing paragraphs) of the plain-language summary."""
    main = _main_variant(results)
    variants = _variants(results)
    n_seeds = int(results.metrics_overall["seed"].nunique()) if not results.metrics_overall.empty else 0
    intro = [f"Targets ({results.level}): {_targets_text(results)}."]
    if main is None or "real_only" not in variants:
        intro.append("No comparison of real-only and augmented training was computed, so the effect of synthetic data is not known.")
    else:
        intro.append(
            f"Compared: '{main}' (real + synthetic) with 'real_only', mean over {n_seeds} seed(s), on real test data only."
        )
    bullets: list[str] = []
    gs = gap_summary(results)
    many = many_labels(results) or len(gs) > _SUMMARY_LIST * 4
    if many and len(gs):
        bullets = _many_bullets(gs)
    for r in gs.itertuples() if not many else ():
        name = f"{r.label} ({r.title})" if r.title else str(r.label)
        data = f"training rows: {r.n_real_train:,} real + {r.n_synthetic_kept:,} synthetic kept"
        if r.reason:
            data += f"; chosen: {r.reason}"
        if r.verdict == "no_test_cases":
            bullets.append(f"{name}: no test cases, so F1 cannot be measured ({data}).")
            continue
        if r.verdict == "not_evaluated":
            bullets.append(f"{name}: not evaluated; {r.support:,} test cases ({data}).")
            continue
        verdict = {
            "improved": "gap filled" if r.f1_real_only < 0.5 <= r.f1_augmented else "improved",
            "within_noise": f"slight gain, within the spread across seeds (std up to {r.noise:.3f})",
            "not_helped": "synthetic data did not help" if r.change == 0 else "synthetic data did not help, F1 went down",
        }[r.verdict]
        bullets.append(
            f"{name}: {verdict}. F1 {r.f1_real_only:.3f} → {r.f1_augmented:.3f} ({signed(r.change)}) on {r.support:,} test cases; {data}."
        )
    closing = []
    if len(gs) and main is not None:
        better = gs.loc[gs["verdict"] == "improved", "label"].tolist()
        worse = gs.loc[gs["verdict"].isin(["not_helped", "within_noise"]), "label"].tolist()
        closing.append(
            f"Improved beyond seed noise: {len(better)} of {len(gs)} targets"
            + (f" ({_some(better) if many else ', '.join(better)})" if better else "")
            + (f"; not clearly improved: {_some(worse) if many else ', '.join(worse)}." if worse else ".")
        )
    ov = stats(results.metrics_overall, ["variant"], "accuracy").set_index("variant")
    if main is not None and {"real_only", main} <= set(ov.index):
        a, b = float(ov.loc["real_only", "mean"]), float(ov.loc[main, "mean"])
        noise = float(np.nanmax([ov.loc["real_only", "std"], ov.loc[main, "std"], 0.0]))
        text = f"Overall accuracy {a:.3f} → {b:.3f} ({signed(b - a)})"
        if b < a:
            text += ": adding synthetic data lowered overall accuracy" + (" (within the spread across seeds)." if a - b <= noise else ".")
        elif b == a:
            text += ": unchanged."
        else:
            text += "." if b - a > noise else " (within the spread across seeds)."
        closing.append(text)
    others = [v for v in variants if v not in ("real_only", main)]
    if others and len(results.targets):
        pl = results.metrics_per_label
        parts = []
        for v in others:
            tf = pl[(pl["variant"] == v) & pl["label"].isin(results.targets)]["f1"].mean()
            acc = ov.loc[v, "mean"] if v in ov.index else math.nan
            parts.append(f"'{v}': mean target F1 {pm(float(tf))}, accuracy {pm(float(acc))}")
        closing.append("Other variants: " + "; ".join(parts) + ".")
    closing += [str(n) for n in results.notes]
    return intro, bullets, closing


def summarise(results: StudyResults) -> str:
    """The plain-language summary as text (what the report prints first; the CLI prints it too)."""
    results = normalise(results)
    intro, bullets, closing = _summary_parts(results)
    lines = [f"Gap-filling study: {results.title}", *intro, *[f"- {b}" for b in bullets], *closing]
    secrets = _env_secrets()
    scrub_secrets([results.settings, results.costs], found=secrets)
    return _redact_text("\n".join(lines), secrets)


def write_report(results: StudyResults, out_dir: str | os.PathLike[str], *, basename: str = "report") -> ReportPaths:
    """Write ``<basename>.html``, ``<basename>.md`` and ``figures/<basename>_*.png`` into ``out_dir``.

    In: a :class:`StudyResults`. Out: :class:`ReportPaths`. Raises :class:`ConfigError` for a bad
    ``basename`` and :class:`DataFormatError` when a frame lacks its required columns.
    """
    import jinja2

    validate(results)
    results = normalise(results)
    check_type("basename", basename, str, func="write_report")
    if not basename or re.search(r"[\\/]", basename) or basename.startswith("."):
        raise ConfigError(f"The 'basename' parameter of write_report must be a plain file name without folders. Got {basename!r} instead.")
    out = Path(out_dir)
    fig_dir = out / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)

    secrets = _env_secrets()
    settings = scrub_secrets(results.settings, found=secrets)
    costs = scrub_secrets(results.costs, found=secrets)
    main, variants = _main_variant(results), _variants(results)
    sections, pngs = build_sections(results, settings=settings, costs=costs, main=main, variants=variants)
    context = SectionContext(main=main, variants=variants, many=many_labels(results), settings=settings, costs=costs)
    at = next((i for i, sec in enumerate(sections) if sec["anchor"] == "settings"), len(sections))
    for builder in _section_builders():
        extra, extra_pngs = builder(results, context)
        sections[at:at] = extra
        at += len(extra)
        pngs.update(extra_pngs)
    figures: dict[str, Path] = {}
    for fig_id, png in pngs.items():
        path = fig_dir / f"{basename}_{fig_id.removeprefix('fig-').replace('-', '_')}.png"
        path.write_bytes(png)
        figures[fig_id] = path
    for sec in sections:
        for fig in sec["figures"]:
            if fig["id"] in pngs:
                fig["src"] = f"@@IMG:{fig['id']}@@"
                fig["file"] = figures[fig["id"]].relative_to(out).as_posix()

    intro, bullets, closing = _summary_parts(results)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    ctx = {
        "title": results.title,
        "level": results.level,
        "targets": list(results.targets),
        "targets_text": _targets_text(results),
        "summary": {"intro": intro, "bullets": bullets, "closing": closing},
        "sections": sections,
        "settings_json": json.dumps(settings, indent=2, ensure_ascii=False, default=str),
        "not_computed": NOT_COMPUTED,
    }
    html = _redact_text(env.get_template("report.html.j2").render(**ctx), secrets)
    for fig_id, png in pngs.items():  # images go in after redaction, which must not touch base64
        html = html.replace(f"@@IMG:{fig_id}@@", "data:image/png;base64," + base64.b64encode(png).decode("ascii"))
    md = _redact_text(re.sub(r"\n{3,}", "\n\n", env.get_template("report.md.j2").render(**ctx)), secrets)
    html_path, md_path = out / f"{basename}.html", out / f"{basename}.md"
    html_path.write_text(html, encoding="utf-8")
    md_path.write_text(md, encoding="utf-8")
    return ReportPaths(html=html_path, markdown=md_path, figures=figures)
