"""The whole study in one call: notes -> real data -> plan -> generation -> cleaning -> training -> report.

In: a :class:`~statcodgen.study.StudyConfig`. Out: files in ``config.output_dir`` (dataset, model,
metrics, report) and a :class:`PipelineResult`. Every stage is a library call of
:mod:`statcodgen.study.stages` (or of the stage's own subpackage) whose typed result saves and
loads itself; :class:`~statcodgen.study.stages.Checkpoints` records a fingerprint of the
configuration each stage used in ``stages.json``, so a re-run (after a crash or Ctrl-C, or with an
unchanged config) loads finished stages instead of recomputing them, and the LLM journal makes an
interrupted generation resume without re-sending completed requests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..cleaning.dedup import DedupOptions
from ..cleaning.stage import CleanResult, clean
from ..generation.engine import generate
from ..generation.results import GenerationResult
from ..modelling.experiments import run_experiments, target_summary
from ..modelling.params import SOFTMAX_MAX_LABELS
from ..modelling.results import ExperimentResult
from ..report.writer import summarise, write_report
from .config import StudyConfig
from .stages import (
    Checkpoints,
    Plan,
    RealSplit,
    StudyInputs,
    load_inputs,
    make_generator,
    make_personas,
    split_real_data,
    study_plan,
    study_results,
    study_targets,
)

__all__ = ["PipelineResult", "run_pipeline", "QUANTIZE_MIN_ROWS"]

#: ``[training] quantize = "auto"`` quantises the saved model (803 MB -> 103 MB) from this many training rows
#: on, for up to SOFTMAX_MAX_LABELS labels: measured on the 850,000-row stand-in it cost 0.09 and 0.38 point at
#: section level, but 0.72 at subclass level (hs over 744 labels), above the 0.5 point we accept.
QUANTIZE_MIN_ROWS = 100_000


@dataclass
class PipelineResult:
    """Where the study wrote its outputs, and the plain-language summary."""

    out_dir: Path
    report_html: Path
    report_markdown: Path
    summary: str
    targets: pd.DataFrame


def run_pipeline(cfg: StudyConfig, *, progress: bool = True, echo: Callable[[str], None] = print) -> PipelineResult:
    """Run every stage of the study described by ``cfg``; see the module docstring for resumption."""
    out = Path(cfg.output_dir)
    stages = Checkpoints(out)
    level = cfg.targets.level
    data_fp = cfg.fingerprint("notes", "real", "targets", "training")

    echo(f"[1/6] loading notes and real data ({cfg.notes.fetch or cfg.notes.path}; {cfg.real.fetch or cfg.real.path})")
    inputs = load_inputs(cfg)
    split = stages.run("split", data_fp, RealSplit, lambda: split_real_data(
        inputs.real, test_size=cfg.real.test_size, seed=cfg.real.split_seed, scarcity=cfg.training.simulate_scarcity))
    train, test = split.train, split.test
    echo(f"      real rows: {len(inputs.real):,} (train {len(train):,} after scarcity, test {len(test):,})")

    echo("[2/6] coverage and generation plan")
    targets = study_targets(cfg, inputs, train)
    plan = stages.run("plan", data_fp, Plan, lambda: Plan(study_plan(cfg, inputs.notes, targets))).frame
    echo(f"      targets {targets}: {len(plan)} codes, {int(plan['n_samples'].sum()):,} lines planned")

    echo(f"[3/6] generating with the {cfg.generation.backend} backend")
    p = cfg.personas
    personas = make_personas(path=p.path, n=p.n, locale=p.locale, seed=p.seed) if p.enabled else None
    gen = stages.run(
        "generate", cfg.fingerprint("notes", "real", "targets", "training", "generation", "llm", "personas"), GenerationResult,
        lambda: generate(inputs.notes, plan, generator=make_generator(cfg, out_dir=out, real=train), language=inputs.language,
                         seed=cfg.generation.seed, personas=personas, hierarchy=inputs.notes_hierarchy, target_level=level,
                         progress=progress),
        folder="generation",
    )
    echo(f"      {len(gen.lines):,} lines generated ({len(gen.rejected):,} rejected by parsing)")

    echo("[4/6] cleaning: deduplication and filters")
    c = cfg.cleaning
    cleaned = stages.run(
        "clean", cfg.fingerprint("notes", "real", "targets", "training", "generation", "llm", "personas", "cleaning"), CleanResult,
        lambda: clean(gen.lines, real_train=train if c.drop_real_train_duplicates else None, real_test=test, notes=inputs.notes,
                      language=inputs.language, filters=tuple(c.filters), dedup=c.dedup,
                      dedup_options=DedupOptions(threshold=c.threshold, num_perm=c.num_perm, shingle=c.shingle)),
        folder="cleaning",
    )
    echo(f"      kept {len(cleaned.kept):,} of {len(gen.lines):,} synthetic lines ({len(cleaned.dropped):,} dropped, each with a reason)")

    echo("[5/6] training and evaluating fastText on real test data only")
    exp = stages.run("train", cfg.fingerprint(), ExperimentResult, lambda: _train(cfg, inputs, split, plan, cleaned.kept, out, progress),
                     folder="experiments")
    exp.write_csv(out)
    summary_table = target_summary(exp, targets)
    summary_table.to_csv(out / "targets_summary.csv", index=False)

    echo("[6/6] writing the report")
    results = study_results(cfg, targets=targets, inputs=inputs, split=split, generated=gen, cleaned=cleaned, experiment=exp)
    paths = write_report(results, out)
    return PipelineResult(out, paths.html, paths.markdown, summarise(results), summary_table)


def _train(cfg: StudyConfig, inputs: StudyInputs, split: RealSplit, plan: pd.DataFrame, kept: pd.DataFrame, out: Path,
           progress: bool) -> ExperimentResult:
    """Every variant over every seed (real only, each synthetic set, the titles baseline, the ceiling); saves the main model."""
    t = cfg.training
    synthetic = {cfg.generation.backend: kept}
    if t.titles_variant:
        titles = generate(inputs.notes, plan, generator="titles", hierarchy=inputs.notes_hierarchy,
                          target_level=cfg.targets.level, progress=False).lines
        synthetic = {"titles": titles, **synthetic}
    main_variant = f"real+{cfg.generation.backend}"
    exp = run_experiments(
        split.train, split.test, synthetic, seeds=list(t.seeds), params=t.params, language=inputs.language,
        synthetic_weight=t.synthetic_weight, full_real=split.train_full if t.full_real_ceiling and t.simulate_scarcity else None,
        learning_curve=list(t.learning_curve), curve_variant=cfg.generation.backend, keep_models=[main_variant],
        max_rows_per_label=t.max_rows_per_label, n_jobs=t.n_jobs, progress=progress,
    )
    if main_variant in exp.models:
        model = exp.models[main_variant]
        if t.quantize is True or (t.quantize == "auto" and model.n_train_rows_ >= QUANTIZE_MIN_ROWS
                                  and len(model.labels_) <= SOFTMAX_MAX_LABELS):
            model.quantize()
        model.save(out / "model")
    return exp
