"""The whole study in one call: notes -> real data -> plan -> generation -> cleaning -> verification ->
choice on validation -> training -> report.

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
from ..generation.results import GenerationResult, format_shortfall
from ..modelling.experiments import run_experiments, target_summary
from ..modelling.params import SOFTMAX_MAX_LABELS
from ..modelling.results import ExperimentResult
from ..modelling.selection import Selection
from ..verification.stage import VerifyResult
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
    select_synthetic_use,
    split_real_data,
    study_prior,
    study_plan,
    study_results,
    study_target_reasons,
    verify_study_lines,
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

    real_src = "no real data: generation, cleaning and verification only" if cfg.real is None else cfg.real.fetch or cfg.real.path
    echo(f"[1/6] loading notes and real data ({cfg.notes.fetch or cfg.notes.path}; {real_src})")
    inputs = load_inputs(cfg)
    split = split_real_data(inputs.real) if cfg.real is None else stages.run("split", data_fp, RealSplit, lambda: split_real_data(
        inputs.real, test_size=cfg.real.test_size, seed=cfg.real.split_seed, scarcity=cfg.training.simulate_scarcity))
    train, test = split.train, split.test
    echo(f"      real rows: {len(inputs.real):,} (train {len(train):,} after scarcity, test {len(test):,})")

    echo("[2/6] coverage and generation plan")
    reasons = study_target_reasons(cfg, inputs, train, full=split.train_full)
    targets = sorted(reasons["code"].astype(str))
    plan = stages.run("plan", data_fp, Plan, lambda: Plan(study_plan(cfg, inputs.notes, targets))).frame
    shown = targets if len(targets) <= 12 else [*targets[:10], f"... and {len(targets) - 10:,} more"]
    echo(f"      targets {shown}: {len(plan)} codes, {int(plan['n_samples'].sum()):,} lines planned")

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
    short = format_shortfall(gen.shortfall, limit=5)
    if short:
        echo("      " + short.replace("\n", "\n      "))

    echo("[4/6] cleaning: deduplication and filters")
    c = cfg.cleaning
    cleaned = stages.run(
        "clean", cfg.fingerprint("notes", "real", "targets", "training", "generation", "llm", "personas", "cleaning"), CleanResult,
        lambda: clean(gen.lines, real_train=train if c.drop_real_train_duplicates and len(train) else None,
                      real_test=test if len(test) else None, notes=inputs.notes,
                      language=inputs.language, filters=tuple(c.filters), dedup=c.dedup,
                      dedup_options=DedupOptions(threshold=c.threshold, num_perm=c.num_perm, shingle=c.shingle)),
        folder="cleaning",
    )
    echo(f"      kept {len(cleaned.kept):,} of {len(gen.lines):,} synthetic lines ({len(cleaned.dropped):,} dropped, each with a reason)")

    lines, verified, selection = cleaned.kept, None, None
    fp = cfg.fingerprint("notes", "real", "targets", "training", "generation", "llm", "personas", "cleaning", "verification")
    if cfg.verification.enabled and len(cleaned.kept):
        echo("      verifying every line: out-of-fold classifier (cleanlab), notes" + (", LLM judge" if cfg.verification.judge else ""))
        verified = stages.run("verify", fp, VerifyResult, lambda: verify_study_lines(cfg, inputs, split, cleaned.kept, targets, out_dir=out,
                                                                                     progress=progress), folder="verification")
        lines = verified.verified
        st = verified.stats
        echo(f"      verified {st['verified']:,}: {st['dropped']:,} dropped, {st['relabelled']:,} relabelled, {st['flagged']:,} flagged; "
             f"{len(verified.real_suspects):,} real rows look mislabelled (listed, never changed)")
    if cfg.real is None:  # nothing to train on or to evaluate against: report what was made, and what is missing
        echo("[5/6] no real data: nothing trained or evaluated (measuring the lines needs your real coded data: add [real])")
        echo("[6/6] writing the report")
        results = study_results(cfg, targets=targets, inputs=inputs, split=split, generated=gen, cleaned=cleaned, experiment=None,
                                verified=verified, reasons=reasons)
        paths = write_report(results, out)
        return PipelineResult(out, paths.html, paths.markdown, summarise(results), pd.DataFrame(columns=["variant"]))
    prior = study_prior(cfg, split)
    if cfg.training.select_on_validation and len(lines):
        selection = stages.run("select", fp, Selection, lambda: select_synthetic_use(cfg, split, lines, targets, prior,
                                                                                   language=inputs.language, progress=progress),
                               folder="selection")
        echo(f"      chosen on validation: {selection.fraction:.0%} of the lines, prior strength {selection.strength:g}, target gate "
             f"{'on' if selection.gate else 'off'} ({selection.reason})")

    echo("[5/6] training and evaluating fastText on real test data only")
    exp = stages.run("train", cfg.fingerprint(), ExperimentResult,
                     lambda: _train(cfg, inputs, split, plan, lines, targets, prior, selection, out, progress), folder="experiments")
    exp.write_csv(out)
    summary_table = target_summary(exp, targets)
    summary_table.to_csv(out / "targets_summary.csv", index=False)

    echo("[6/6] writing the report")
    results = study_results(cfg, targets=targets, inputs=inputs, split=split, generated=gen, cleaned=cleaned, experiment=exp,
                            verified=verified, selection=selection, reasons=reasons)
    paths = write_report(results, out)
    return PipelineResult(out, paths.html, paths.markdown, summarise(results), summary_table)


def _train(cfg: StudyConfig, inputs: StudyInputs, split: RealSplit, plan: pd.DataFrame, kept: pd.DataFrame, targets: list[str],
           prior: dict[str, float] | None, selection: Selection | None, out: Path, progress: bool) -> ExperimentResult:
    """Every variant over every seed (real only, each synthetic set, the titles baseline, the ceiling); saves the main model.

    The synthetic share, the prior strength and (``target_gate = "auto"``) the target gate are the ones chosen on
    validation (``selection``; every line, strength 1 and the gate without one); the saved model carries the prior
    correction and the gate. The titles
    baseline is trained as an office would today, without the correction.
    """
    t = cfg.training
    fraction, strength = (selection.fraction, selection.strength) if selection is not None else (1.0, 1.0)
    gate = selection.gate if selection is not None and t.target_gate == "auto" else t.target_gate is not False
    if fraction < 1.0:
        kept = kept.sample(frac=fraction, random_state=cfg.real.split_seed).sort_index()
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
        max_rows_per_label=t.max_rows_per_label, n_jobs=t.n_jobs, targets=targets, prior=prior, prior_strength=strength,
        corrected=[cfg.generation.backend], gate=bool(gate),
        progress=progress,
    )
    if main_variant in exp.models:
        model = exp.models[main_variant]
        if t.quantize is True or (t.quantize == "auto" and model.n_train_rows_ >= QUANTIZE_MIN_ROWS
                                  and len(model.labels_) <= SOFTMAX_MAX_LABELS):
            model.quantize()
        model.save(out / "model")
    return exp
