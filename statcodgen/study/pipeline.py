"""The whole study in one call: notes -> real data -> plan -> generation -> cleaning -> training -> report.

In: a :class:`~statcodgen.study.config.StudyConfig`. Out: files in ``config.output_dir`` (dataset, model,
metrics, report) and a :class:`PipelineResult`. Every stage writes its outputs as it finishes and
records a fingerprint of the configuration it used in ``stages.json``; a re-run (after a crash or
Ctrl-C, or with an unchanged config) loads finished stages instead of recomputing them, and the
LLM journal makes an interrupted generation resume without re-sending completed requests.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .config import StudyConfig

__all__ = ["PipelineResult", "run_pipeline", "load_study_inputs"]

log = logging.getLogger("statcodgen")


@dataclass
class PipelineResult:
    """Where the study wrote its outputs, and the plain-language summary."""

    out_dir: Path
    report_html: Path
    report_markdown: Path
    summary: str
    targets: pd.DataFrame


class _Stages:
    """Checkpoints: a stage is skipped when its fingerprint matches and its files exist."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.path = out_dir / "stages.json"
        self.done: dict[str, str] = json.loads(self.path.read_text()) if self.path.exists() else {}

    def run(self, name: str, fingerprint: str, files: list[str], compute: Callable[[], dict[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
        paths = {f: self.out_dir / f for f in files}
        if self.done.get(name) == fingerprint and all(p.exists() for p in paths.values()):
            log.info("stage %s: up to date, loaded from %s", name, self.out_dir)
            return {f: pd.read_parquet(p) for f, p in paths.items()}
        frames = compute()
        for f, p in paths.items():
            tmp = p.with_name(p.name + ".tmp")
            frame = frames[f].copy()
            frame.attrs = {}  # attrs may hold non-JSON objects (e.g. a shortfall table); not part of the file
            frame.to_parquet(tmp, index=False)
            tmp.replace(p)
        self.done[name] = fingerprint
        tmp = self.path.with_name("stages.json.tmp")
        tmp.write_text(json.dumps(self.done, indent=2))
        tmp.replace(self.path)
        return frames


def _load_notes(cfg: StudyConfig) -> pd.DataFrame:
    from ..sources import datasets
    from ..sources.notes import load_notes

    n = cfg.notes
    if n.fetch is not None:
        fetcher = {
            "nace_rev2": datasets.fetch_nace_rev2_notes,
            "nace_rev21": datasets.fetch_nace_rev21_notes,
            "naf2025": datasets.fetch_naf2025_notes,
        }[n.fetch]
        path = fetcher()
    else:
        path = n.path
    kwargs: dict[str, Any] = {"layout": n.layout}
    for key in ("sheet", "columns", "system", "language"):
        if getattr(n, key) is not None:
            kwargs[key] = getattr(n, key)
    return load_notes(path, **kwargs)


def _load_real(cfg: StudyConfig, hierarchy: Any) -> pd.DataFrame:
    from ..sources import datasets

    r = cfg.real
    if r.fetch == "ons_index":
        real = datasets.load_ons_index()
    elif r.fetch == "firm_activity":
        real = datasets.load_firm_activity_data(errors="drop")
    else:
        real = datasets.load_labelled(r.path, text_column=r.text_column, code_column=r.code_column, hierarchy=hierarchy)
    if r.max_rows is not None and len(real) > r.max_rows:
        real = real.sample(n=r.max_rows, random_state=r.split_seed)
    return real


def load_study_inputs(cfg: StudyConfig) -> tuple[pd.DataFrame, Any, Any, pd.DataFrame]:
    """Load (notes, notes hierarchy, real-data hierarchy, real data with a ``label`` column)."""
    from ..classification.hierarchy import Hierarchy

    notes = _load_notes(cfg)
    notes_h = Hierarchy.from_notes(notes)
    real_h = Hierarchy.builtin(cfg.real.system) if cfg.real.system else notes_h
    real = _load_real(cfg, real_h)
    rejected = real.attrs.get("rejected") or []
    if len(rejected):
        log.warning("%d real rows were rejected (empty text or unknown code); see datasets.rejected_rows()", len(rejected))
    real = pd.DataFrame(real)
    real.attrs = {}
    real = real.assign(label=real_h.aggregate(real["code"], cfg.targets.level).to_numpy())
    return notes, notes_h, real_h, real


def run_pipeline(cfg: StudyConfig, *, progress: bool = True, echo: Callable[[str], None] = print) -> PipelineResult:
    """Run every stage of the study described by ``cfg``; see the module docstring for resumption."""
    from ..gaps.coverage import coverage_table, generation_plan
    from ..modelling.experiments import ExperimentResult, run_experiments, simulate_scarcity, split_real, target_summary
    from ..generation.engine import generate
    from ..report.writer import StudyResults, summarise, write_report

    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    stages = _Stages(out)
    level = cfg.targets.level

    echo(f"[1/6] loading notes and real data ({cfg.notes.fetch or cfg.notes.path}; {cfg.real.fetch or cfg.real.path})")
    notes, notes_h, real_h, real = load_study_inputs(cfg)
    language = cfg.generation.language or notes.attrs.get("language") or "en"

    def split() -> dict[str, pd.DataFrame]:
        train, test = split_real(real, test_size=cfg.real.test_size, seed=cfg.real.split_seed)
        scarce = simulate_scarcity(train, cfg.training.simulate_scarcity, seed=cfg.real.split_seed) if cfg.training.simulate_scarcity else train
        return {"real_train_full.parquet": train, "real_train.parquet": scarce, "real_test.parquet": test}

    sp = stages.run("split", cfg.fingerprint("notes", "real", "targets", "training"), ["real_train_full.parquet", "real_train.parquet", "real_test.parquet"], split)
    train_full, train, test = sp["real_train_full.parquet"], sp["real_train.parquet"], sp["real_test.parquet"]
    echo(f"      real rows: {len(real):,} (train {len(train):,} after scarcity, test {len(test):,})")

    echo("[2/6] coverage and generation plan")
    targets = _resolve_targets(cfg, train, notes_h)
    plan_fp = cfg.fingerprint("notes", "real", "targets", "training")
    plan = stages.run(
        "plan",
        plan_fp,
        ["plan.parquet"],
        lambda: {
            "plan.parquet": generation_plan(
                notes,
                targets=targets,
                n_per_target=cfg.targets.n_per_target,
                level=level,
                min_per_code=cfg.targets.min_per_code,
                weight=cfg.targets.weight,
            )
        },
    )["plan.parquet"]
    echo(f"      targets {targets}: {len(plan)} codes, {int(plan['n_samples'].sum()):,} lines planned")

    echo(f"[3/6] generating with the {cfg.generation.backend} backend")
    personas = _personas(cfg)
    gen_fp = cfg.fingerprint("notes", "real", "targets", "training", "generation", "llm", "personas")

    def gen() -> dict[str, pd.DataFrame]:
        kwargs: dict[str, Any] = {}
        if cfg.generation.backend == "openai":
            from ..generation.llm import LLMConfig

            kwargs = {"llm": LLMConfig(**cfg.llm), "journal_path": out / "journal.sqlite", "real": train}
        res = generate(
            notes,
            plan,
            backend=cfg.generation.backend,
            language=language,
            seed=cfg.generation.seed,
            lines_per_request=cfg.generation.lines_per_request,
            personas=personas,
            persona_strategy=cfg.personas.strategy,
            n_examples=cfg.generation.n_examples,
            json_output=cfg.generation.json_output,
            template_dir=cfg.generation.template_dir,
            hierarchy=notes_h,
            target_level=level,
            progress=progress,
            **kwargs,
        )
        return {"generated.parquet": res.lines, "generation_rejected.parquet": res.rejected, "generation_stats.parquet": pd.DataFrame([{k: str(v) for k, v in res.stats.items()}])}

    g = stages.run("generate", gen_fp, ["generated.parquet", "generation_rejected.parquet", "generation_stats.parquet"], gen)
    generated = g["generated.parquet"]
    echo(f"      {len(generated):,} lines generated ({len(g['generation_rejected.parquet']):,} rejected by parsing)")

    echo("[4/6] cleaning: deduplication and filters")
    clean_fp = cfg.fingerprint("notes", "real", "targets", "training", "generation", "llm", "personas", "cleaning")
    c = stages.run("clean", clean_fp, ["synthetic_clean.parquet", "dropped.parquet"], lambda: _clean(cfg, generated, train, test, notes, language))
    clean, dropped = c["synthetic_clean.parquet"], c["dropped.parquet"]
    echo(f"      kept {len(clean):,} of {len(generated):,} synthetic lines ({len(dropped):,} dropped, each with a reason)")

    echo("[5/6] training and evaluating fastText on real test data only")
    synthetic = {cfg.generation.backend: clean}
    if cfg.training.titles_variant:
        from ..generation.offline import titles_baseline

        synthetic = {"titles": titles_baseline(notes, plan["code"].tolist(), hierarchy=notes_h, target_level=level), **synthetic}
    train_fp = cfg.fingerprint()
    main_variant = f"real+{cfg.generation.backend}"

    def train_eval() -> dict[str, pd.DataFrame]:
        exp = run_experiments(
            train,
            test,
            synthetic,
            seeds=list(cfg.training.seeds),
            params=cfg.training.params or None,
            language=language,
            synthetic_weight=cfg.training.synthetic_weight,
            full_real=train_full if cfg.training.full_real_ceiling and cfg.training.simulate_scarcity else None,
            learning_curve=list(cfg.training.learning_curve),
            curve_variant=cfg.generation.backend,
            keep_models=True,
            progress=progress,
        )
        if main_variant in exp.models:
            exp.models[main_variant].save(out / "model")
        confusion = pd.concat(
            [m.rename_axis(index="true", columns="predicted").stack().rename("count").reset_index().assign(variant=v) for v, m in exp.confusion.items()],
            ignore_index=True,
        )
        curve = _curve_for_report(exp, targets)
        return {
            "metrics_per_label.parquet": exp.metrics_per_label,
            "metrics_overall.parquet": exp.metrics_overall,
            "auto_coding.parquet": exp.auto_coding,
            "confusion.parquet": confusion,
            "learning_curve.parquet": curve if curve is not None else pd.DataFrame(columns=["variant", "n_synthetic", "seed", "target_mean_f1", "accuracy"]),
        }

    files = ["metrics_per_label.parquet", "metrics_overall.parquet", "auto_coding.parquet", "confusion.parquet", "learning_curve.parquet"]
    t = stages.run("train", train_fp, files, train_eval)
    confusion = {
        v: g.pivot_table(index="true", columns="predicted", values="count", aggfunc="sum", fill_value=0)
        for v, g in t["confusion.parquet"].groupby("variant")
    }
    exp = ExperimentResult(t["metrics_per_label.parquet"], t["metrics_overall.parquet"], confusion, t["auto_coding.parquet"])
    for name in ("metrics_per_label", "metrics_overall", "auto_coding"):
        t[f"{name}.parquet"].to_csv(out / f"{name}.csv", index=False)
    summary_table = target_summary(exp, targets)
    summary_table.to_csv(out / "targets_summary.csv", index=False)
    curve = t["learning_curve.parquet"]

    echo("[6/6] writing the report")
    results = StudyResults(
        title=cfg.title,
        targets=targets,
        level=level,
        coverage=_coverage_before_after(notes_h, train, generated, clean, level),
        metrics_per_label=exp.metrics_per_label,
        metrics_overall=exp.metrics_overall,
        confusion=exp.confusion,
        auto_coding=exp.auto_coding,
        diversity=_diversity(generated, clean),
        cleaning=_cleaning_counts(dropped),
        cleaning_samples=_cleaning_samples(dropped),
        learning_curve=curve if len(curve) else None,
        settings=cfg.model_dump(mode="json"),
        costs=_costs(g["generation_stats.parquet"]),
        notes=[],
    )
    paths = write_report(results, out)
    text = summarise(results)
    return PipelineResult(out, paths.html, paths.markdown, text, summary_table)


def _resolve_targets(cfg: StudyConfig, train: pd.DataFrame, hierarchy: Any) -> list[str]:
    """Target labels of the config; ``under:N`` = every label of the level with < N training rows (zeros included)."""
    labels: list[str] = []
    every = sorted(set(hierarchy.codes(cfg.targets.level)) | set(train["label"]))
    counts = train["label"].value_counts().reindex(every, fill_value=0)
    for item in cfg.targets.labels:
        if item.startswith("under:"):
            n = int(item.split(":", 1)[1])
            labels += sorted(counts[counts < n].index)
        else:
            labels.append(item)
    return sorted(dict.fromkeys(labels))


def _personas(cfg: StudyConfig) -> pd.DataFrame | None:
    if not cfg.personas.enabled:
        return None
    from ..personas.persona import load_personas, sample_personas

    if cfg.personas.path:
        return load_personas(cfg.personas.path)
    return sample_personas(cfg.personas.n, locale=cfg.personas.locale, seed=cfg.personas.seed)


def _clean(cfg: StudyConfig, generated: pd.DataFrame, train: pd.DataFrame, test: pd.DataFrame, notes: pd.DataFrame, language: str) -> dict[str, pd.DataFrame]:
    """Filters then dedup (``cleaning.clean``); the real test set is always deduplicated against."""
    from ..cleaning.stage import clean
    from ..modelling.experiments import drop_test_leaks

    c = cfg.cleaning
    if c.dedup:
        res = clean(
            generated,
            real_train=train if c.drop_real_train_duplicates else None,
            real_test=test,
            notes=notes,
            language=language,
            filter_options={"filters": tuple(c.filters)},
            dedup_options={"threshold": c.threshold, "num_perm": c.num_perm, "shingle": c.shingle},
        )
        kept, dropped_df = res.kept, res.dropped
    else:
        kept, _ = drop_test_leaks(generated, test)
        dropped_df = pd.DataFrame(columns=[*generated.columns, "reason", "detail"])
    for col in ("duplicate_of", "detail", "reason"):
        if col in dropped_df:
            dropped_df[col] = dropped_df[col].astype(str)
    if "similarity" in dropped_df:
        dropped_df["similarity"] = pd.to_numeric(dropped_df["similarity"], errors="coerce")
    return {"synthetic_clean.parquet": kept.reset_index(drop=True), "dropped.parquet": dropped_df.reset_index(drop=True)}


def _coverage_before_after(h: Any, train: pd.DataFrame, generated: pd.DataFrame, clean: pd.DataFrame, level: str) -> pd.DataFrame:
    labels = sorted(set(h.codes(level)) | set(train["label"]))
    df = pd.DataFrame({"label": labels})
    df["title"] = [h.title(label) if label in h else "" for label in labels]
    df["n_real_train"] = df["label"].map(train["label"].value_counts()).fillna(0).astype(int)
    df["n_synthetic_generated"] = df["label"].map(generated["label"].value_counts()).fillna(0).astype(int)
    df["n_synthetic_kept"] = df["label"].map(clean["label"].value_counts()).fillna(0).astype(int)
    return df


def _diversity(generated: pd.DataFrame, clean: pd.DataFrame) -> pd.DataFrame:
    from ..cleaning.diversity import diversity_table

    if generated.empty:
        return pd.DataFrame()
    before = diversity_table(generated, by="label").assign(stage="generated")
    after = diversity_table(clean, by="label").assign(stage="kept") if len(clean) else pd.DataFrame()
    return pd.concat([before, after], ignore_index=True)


def _cleaning_counts(dropped: pd.DataFrame) -> pd.DataFrame:
    if dropped.empty:
        return pd.DataFrame(columns=["reason", "label", "count"])
    return dropped.groupby(["reason", "label"]).size().rename("count").reset_index()


def _cleaning_samples(dropped: pd.DataFrame, k: int = 5) -> pd.DataFrame:
    if dropped.empty:
        return pd.DataFrame(columns=["reason", "label", "text", "detail"])
    sample = dropped.sample(frac=1.0, random_state=0).groupby("reason", sort=True).head(k).sort_values("reason", kind="stable")
    return sample[["reason", "label", "text", "detail"]].reset_index(drop=True)


def _curve_for_report(exp: Any, targets: list[str]) -> pd.DataFrame | None:
    lc = exp.learning_curve
    if lc is None or lc.empty:
        return None
    lc = lc.copy()
    lc["target_mean_f1"] = [sum(d.get(t, 0.0) for t in targets) / len(targets) for d in lc["f1_by_label"]]
    return lc[["variant", "n_synthetic", "seed", "target_mean_f1", "accuracy"]]


def _costs(stats: pd.DataFrame) -> dict[str, Any]:
    if stats.empty:
        return {}
    row = stats.iloc[0].to_dict()
    keep = ("backend", "model", "requests", "sent", "cached", "prompt_tokens", "completion_tokens", "cost", "lines")
    return {k: row[k] for k in keep if k in row}
