"""The study's stages as library calls driven by a StudyConfig: what the pipeline and the CLI compose.

Each function takes a config section (or plain values) and returns a typed object or a DataFrame;
nothing here prints. :func:`statcodgen.study.run_pipeline` chains them with checkpoints
(:class:`Checkpoints`); the CLI calls the same functions one command at a time.

- :func:`load_study_notes` / :func:`load_study_real` / :func:`load_inputs`: the notes, the two
  hierarchies and the real rows with their ``label`` at the target level (:class:`StudyInputs`);
- :func:`split_real_data`: the real train/test split and the simulated scarcity (:class:`RealSplit`;
  :func:`resolve_scarcity`: which labels ``[training] simulate_scarcity`` cuts);
- :func:`study_targets` and :func:`study_plan`: which labels, and how many lines per code;
- :func:`make_personas` and :func:`make_generator`: the generator a config asks for;
- :func:`study_results`: what the report is made of.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pandas as pd

from .._io import frames_exist, read_frames, read_json, write_frames, write_json
from ..classification.hierarchy import Hierarchy
from ..cleaning.diversity import diversity_table
from ..generation.generators import LLMGenerator, OfflineGenerator
from ..generation.plan import generation_plan
from ..modelling.experiments import cap_per_label, random_scarcity, simulate_scarcity, split_real
from ..modelling.params import estimate_fit_seconds
from ..personas import load_personas, sample_personas
from ..report.results import StudyResults
from ..sources.datasets import fetch_notes, load_labelled, load_public_labelled, rejected_rows
from ..sources.notes import load_notes
from ..errors import ConfigError
from ..text.languages import resolve_language
from .config import NotesSection, RandomScarcity, RealSection, StudyConfig

__all__ = [
    "Checkpoints",
    "StudyInputs",
    "RealSplit",
    "Plan",
    "load_study_notes",
    "load_study_real",
    "load_inputs",
    "split_real_data",
    "resolve_scarcity",
    "study_targets",
    "study_target_reasons",
    "study_plan",
    "make_personas",
    "make_generator",
    "study_results",
    "training_plan",
    "study_prior",
    "verify_study_lines",
    "select_synthetic_use",
]

log = logging.getLogger("statcodgen")


class _Saved(Protocol):
    def save(self, directory: str | Path) -> None: ...


R = TypeVar("R", bound=_Saved)


class Checkpoints:
    """Stage checkpoints in a study folder: a stage is skipped when its fingerprint matches.

    ``stages.json`` maps a stage name to the fingerprint of the configuration it ran with. A stage
    whose fingerprint matches and whose result :meth:`exists` in the folder is loaded instead of
    recomputed; otherwise it is computed, saved (atomically) and loaded back, so a fresh run and a
    resumed run hand the next stage the very same object.
    """

    def __init__(self, out_dir: str | Path) -> None:
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.out_dir / "stages.json"
        self.done: dict[str, str] = read_json(self.path) if self.path.exists() else {}

    def run(self, name: str, fingerprint: str, kind: Any, compute: Callable[[], R], *, folder: str = "") -> R:
        """Load stage ``name`` when up to date, else compute it and save it.

        ``kind`` is the result's class (``exists``/``load`` classmethods, ``save`` method); the
        result lives in ``out_dir/folder`` (the study folder itself when ``folder`` is empty).
        """
        where = self.out_dir / folder
        if self.done.get(name) == fingerprint and kind.exists(where):
            log.info("stage %s: up to date, loaded from %s", name, where)
            return kind.load(where)
        compute().save(where)
        self.done[name] = fingerprint
        write_json(self.done, self.path)
        return kind.load(where)


@dataclass(frozen=True)
class StudyInputs:
    """What a study reads: the notes, their hierarchy, the real data's hierarchy, the real rows.

    ``real`` has ``text, code, label`` (``label`` = code aggregated to the target level with
    ``real_hierarchy``); ``language`` is the notes' language unless the config names one.
    """

    notes: pd.DataFrame
    notes_hierarchy: Hierarchy
    real_hierarchy: Hierarchy
    real: pd.DataFrame
    language: str


@dataclass(frozen=True)
class RealSplit:
    """The real data of a study: ``train_full`` (before scarcity), ``train`` (after), ``test``."""

    train_full: pd.DataFrame
    train: pd.DataFrame
    test: pd.DataFrame

    _FILES = {"real_train_full": "train_full", "real_train": "train", "real_test": "test"}

    def save(self, directory: str | Path) -> None:
        """Write ``real_train_full``, ``real_train`` and ``real_test`` parquet files to ``directory``."""
        write_frames(directory, {f: getattr(self, a) for f, a in self._FILES.items()})

    @classmethod
    def exists(cls, directory: str | Path) -> bool:
        """Whether ``directory`` holds a saved split."""
        return frames_exist(directory, tuple(cls._FILES))

    @classmethod
    def load(cls, directory: str | Path) -> "RealSplit":
        """Read a split written by :meth:`save`."""
        f = read_frames(directory, tuple(cls._FILES))
        return cls(**{a: f[name] for name, a in cls._FILES.items()})


@dataclass(frozen=True)
class Plan:
    """The plan stage's result: the generation plan (:func:`statcodgen.generation.generation_plan`)."""

    frame: pd.DataFrame

    def save(self, directory: str | Path) -> None:
        """Write ``plan.parquet`` to ``directory``."""
        write_frames(directory, {"plan": self.frame})

    @staticmethod
    def exists(directory: str | Path) -> bool:
        """Whether ``directory`` holds a saved plan."""
        return frames_exist(directory, ("plan",))

    @classmethod
    def load(cls, directory: str | Path) -> "Plan":
        """Read a plan written by :meth:`save`."""
        return cls(read_frames(directory, ("plan",))["plan"])


def load_study_notes(section: NotesSection) -> pd.DataFrame:
    """The notes a ``[notes]`` section names: a public file (``fetch``) or a local ``path``."""
    path = fetch_notes(section.fetch) if section.fetch is not None else section.path
    options = {key: getattr(section, key) for key in ("sheet", "columns", "system", "language") if getattr(section, key) is not None}
    return load_notes(path, layout=section.layout, **options)


def load_study_real(section: RealSection, hierarchy: Hierarchy) -> pd.DataFrame:
    """The real labelled rows a ``[real]`` section names (``text, code, ...``), sampled to ``max_rows``."""
    if section.fetch is not None:
        real = load_public_labelled(section.fetch)
    else:
        real = load_labelled(section.path, text_column=section.text_column, code_column=section.code_column, hierarchy=hierarchy)
    n_rejected = len(rejected_rows(real))
    if n_rejected:
        log.warning("%d real rows were rejected (empty text or unknown code); see sources.rejected_rows()", n_rejected)
    if section.max_rows is not None and len(real) > section.max_rows:
        real = real.sample(n=section.max_rows, random_state=section.split_seed)
    return real


def load_inputs(cfg: StudyConfig) -> StudyInputs:
    """Load the notes and the real data of a study, with ``label`` at ``cfg.targets.level`` (no rows without ``[real]``)."""
    notes = load_study_notes(cfg.notes)
    notes_h = Hierarchy.from_notes(notes)
    if cfg.real is None:  # no real data: the study generates, cleans and verifies, then stops (run_pipeline)
        empty = pd.DataFrame({"text": pd.Series(dtype=str), "code": pd.Series(dtype=str), "label": pd.Series(dtype=str)})
        return StudyInputs(notes, notes_h, notes_h, empty, resolve_language(cfg.generation.language, notes))
    real_h = Hierarchy.builtin(cfg.real.system) if cfg.real.system else notes_h
    real = load_study_real(cfg.real, real_h)
    real = real_h.with_labels(real, cfg.targets.level)
    real.attrs = {}  # the loader's metadata (source, rejected rows: logged above) is not part of the study's files
    return StudyInputs(notes, notes_h, real_h, real, resolve_language(cfg.generation.language, notes))


def split_real_data(real: pd.DataFrame, *, test_size: float = 0.2, seed: int = 0,
                    scarcity: dict[str, int] | RandomScarcity | None = None) -> RealSplit:
    """Stratified real train/test split (``label`` column), then keep only ``scarcity[label]`` training rows of the named labels.

    The scarcity simulation makes a gap where the data has none, so that the gain can be measured
    against the full data (``train_full``). ``scarcity``: ``{label: rows}`` or a :class:`RandomScarcity`,
    drawn from the training part only (:func:`resolve_scarcity`). The test part is never reduced.
    """
    if not len(real):  # a study without [real]: nothing to split
        return RealSplit(real, real, real)
    train, test = split_real(real, test_size=test_size, seed=seed)
    keep = resolve_scarcity(scarcity, train)
    scarce = simulate_scarcity(train, keep, seed=seed) if keep else train
    return RealSplit(train, scarce, test)


def resolve_scarcity(spec: dict[str, int] | RandomScarcity | None, train_full: pd.DataFrame) -> dict[str, int]:
    """The labels a scarcity simulation cuts, with the training rows each keeps: ``{label: rows}``.

    ``spec``: ``[training] simulate_scarcity``: a dict as it is, or a :class:`RandomScarcity` drawn (seeded:
    every stage gets the same set) by :func:`~statcodgen.modelling.experiments.random_scarcity` from
    ``train_full``, the real training part before the cut (:attr:`RealSplit.train_full`; never the test rows).
    """
    if not spec:
        return {}
    if isinstance(spec, RandomScarcity):
        return random_scarcity(train_full, n=spec.random, keep=spec.keep, min_rows=spec.min_rows, seed=spec.seed)
    return dict(spec)


def study_targets(cfg: StudyConfig, inputs: StudyInputs, train: pd.DataFrame, *, full: pd.DataFrame | None = None) -> list[str]:
    """The target labels of ``[targets]``, sorted (``under:N`` counted and ``worst:K`` cross-validated on the
    real training rows only), with the labels the scarcity simulation cut (see :func:`study_target_reasons`)."""
    return sorted(study_target_reasons(cfg, inputs, train, full=full)["code"].astype(str))


def study_target_reasons(cfg: StudyConfig, inputs: StudyInputs, train: pd.DataFrame, *,
                         full: pd.DataFrame | None = None) -> pd.DataFrame:
    """Why each target of ``[targets]`` was chosen: DataFrame[code, selected_by, reason]
    (:func:`statcodgen.gaps.target_reasons` on the real training rows ``train``; never the test rows).

    Every label ``[training] simulate_scarcity`` cuts is a target too (``selected_by`` "simulate_scarcity",
    reason "simulated scarcity: 23 real training rows cut to 1"): the simulation makes a gap so that
    the study fills it. ``full``: the training part before the cut (:attr:`RealSplit.train_full`),
    needed by a random scarcity set (default ``train``, right for a plain ``{label: rows}``).
    """
    from ..gaps.targets import target_reasons

    reasons = target_reasons(cfg.targets.labels, hierarchy=inputs.notes_hierarchy, level=cfg.targets.level, real=train,
                             real_hierarchy=inputs.real_hierarchy, func="[targets] labels", params=cfg.training.params,
                             language=inputs.language, seed=_split_seed(cfg))
    spec = cfg.training.simulate_scarcity
    if isinstance(spec, RandomScarcity) and full is None:
        raise ConfigError("study_target_reasons needs full= (the training part before the cut, RealSplit.train_full) to "
                          "draw the random scarcity set of [training] simulate_scarcity.")
    full = train if full is None else full
    cut = resolve_scarcity(spec, full)
    if not cut:
        return reasons
    before = full["label"].astype(str).value_counts()
    rows = reasons.set_index("code")
    for label, keep in cut.items():
        why = f"simulated scarcity: {int(before.get(label, 0))} real training rows cut to {keep}"
        if label in rows.index:
            rows.loc[label, "selected_by"] += ", simulate_scarcity"
            rows.loc[label, "reason"] += "; " + why
        else:
            rows.loc[label] = ["simulate_scarcity", why]
    return rows.rename_axis("code").reset_index()


def _split_seed(cfg: StudyConfig) -> int:
    return cfg.real.split_seed if cfg.real is not None else 0


def study_plan(cfg: StudyConfig, notes: pd.DataFrame, targets: list[str]) -> pd.DataFrame:
    """The generation plan of ``[targets]`` for the resolved ``targets``."""
    t = cfg.targets
    return generation_plan(notes, targets=targets, n_per_target=t.n_per_target, level=t.level,
                           min_per_code=t.min_per_code, weight=t.weight)


def make_personas(*, path: str | Path | None = None, n: int = 2000, locale: str = "en_GB", seed: int = 0) -> pd.DataFrame:
    """Personas from a file (``path``: Nemotron, Persona Hub, any table) or ``n`` sampled ones."""
    if path:
        return load_personas(path)
    return sample_personas(n, locale=locale, seed=seed)


def make_generator(cfg: StudyConfig, *, out_dir: str | Path, real: pd.DataFrame | None = None) -> Any:
    """The generator ``[generation]`` asks for: the offline generator, or the LLM engine of ``[llm]``.

    The LLM engine journals its requests in ``out_dir/journal.sqlite`` (resumable) and takes its
    few-shot examples from ``real`` (the real training rows).
    """
    g = cfg.generation
    if g.backend == "offline":
        return OfflineGenerator()
    real = real if real is not None and len(real) else None
    llm = cfg.llm.model_copy(update={"json_output": True}) if g.json_output and not cfg.llm.json_output else cfg.llm
    return LLMGenerator(llm, journal_path=Path(out_dir) / "journal.sqlite", lines_per_request=g.lines_per_request,
                        persona_strategy=cfg.personas.strategy, real=real, n_examples=g.n_examples,
                        template_dir=g.template_dir, mode=g.mode)


def study_prior(cfg: StudyConfig, split: RealSplit) -> dict[str, float] | None:
    """The label prior of ``[training] prior``: label -> share, or None (no correction).

    ``auto``: the full real training part's shares when a scarcity simulation gives them (they
    stand for the business-register counts an office would use), else None.
    """
    from ..modelling.prior import label_prior, read_prior

    t = cfg.training
    if t.prior == "none" or (t.prior == "auto" and not t.simulate_scarcity):
        return None
    if t.prior in ("auto", "full_real"):
        if not t.simulate_scarcity and t.prior == "full_real":
            raise ConfigError("[training] prior = 'full_real' needs [training] simulate_scarcity (there is no full data "
                              "otherwise); give a CSV of register counts (label, count) or 'none'.")
        return label_prior(split.train_full["label"])
    return read_prior(t.prior)


def verify_study_lines(cfg: StudyConfig, inputs: StudyInputs, split: RealSplit, kept: pd.DataFrame, targets: list[str], *,
                       out_dir: str | Path, progress: bool = True) -> Any:
    """The ``[verification]`` stage on the cleaned lines: a :class:`~statcodgen.verification.VerifyResult`.

    The out-of-fold models use ``[training.params]``; the judge, when on, uses ``[llm]`` and
    journals in ``out_dir/verification/judge.sqlite``.
    """
    from ..verification.stage import VerifyOptions, verify

    v = cfg.verification
    options = VerifyOptions(level=v.level, k=v.k, near_level=v.near_level, notes=v.notes, judge=v.judge, siblings=v.siblings,
                            **({} if v.max_sibling_prob is None else {"max_sibling_prob": v.max_sibling_prob}),
                            real_suspects=v.real_suspects, max_real_rows=v.max_real_rows, seed=_split_seed(cfg))
    if v.judge and cfg.llm is None:
        raise ConfigError("[verification] judge = true needs an [llm] section (the judge uses the same endpoint).")
    return verify(kept, real_train=split.train if len(split.train) else None, notes=inputs.notes, hierarchy=inputs.notes_hierarchy, targets=targets,
                  target_level=cfg.targets.level, language=inputs.language, params=cfg.training.params, options=options,
                  judge_config=cfg.llm, journal_path=Path(out_dir) / "verification" / "judge.sqlite", progress=progress)


def select_synthetic_use(cfg: StudyConfig, split: RealSplit, lines: pd.DataFrame, targets: list[str],
                         prior: dict[str, float] | None, *, language: str, progress: bool = True) -> Any:
    """The share of synthetic lines and the prior strength, chosen on a validation split of the real
    training part (:func:`~statcodgen.modelling.selection.choose_synthetic_use`; never the test rows)."""
    from ..modelling.selection import choose_synthetic_use

    t = cfg.training
    real = split.train_full if t.simulate_scarcity else split.train
    if t.max_rows_per_label:
        real = cap_per_label(real, t.max_rows_per_label)
    return choose_synthetic_use(real, lines, targets=targets, scarcity=resolve_scarcity(t.simulate_scarcity, split.train_full) or None,
                                fractions=t.synthetic_fractions, strengths=t.prior_strengths, prior=prior, params=t.params,
                                language=language, seed=cfg.real.split_seed, val_size=t.validation_size,
                                max_label_harm=t.max_label_harm, gate=t.target_gate, progress=progress)


def study_results(cfg: StudyConfig, *, targets: list[str], inputs: StudyInputs, split: RealSplit, generated: Any,
                  cleaned: Any, experiment: Any, verified: Any = None, selection: Any = None,
                  reasons: pd.DataFrame | None = None) -> Any:
    """The :class:`~statcodgen.report.StudyResults` of a finished study (what the report shows);
    ``verified`` / ``selection``: the verification stage's result and the choice made on validation;
    ``reasons``: :func:`study_target_reasons`; ``experiment`` None: a study without real data (nothing
    trained: the report shows what was generated, cleaned and verified, and says what is missing)."""
    from ..modelling.results import ExperimentResult

    level = cfg.targets.level
    experiment = experiment if experiment is not None else ExperimentResult(pd.DataFrame(), pd.DataFrame(), {}, pd.DataFrame())
    lines, dropped = generated.lines, cleaned.dropped
    kept = verified.verified if verified is not None else cleaned.kept
    diversity = pd.DataFrame()
    if len(lines):
        parts = [diversity_table(lines, by="label").assign(stage="generated")]
        if len(kept):
            parts.append(diversity_table(kept, by="label").assign(stage="kept"))
        diversity = pd.concat(parts, ignore_index=True)
    return StudyResults(
        title=cfg.title,
        targets=targets,
        level=level,
        coverage=_coverage_before_after(inputs.notes_hierarchy, split.train, lines, kept, level),
        metrics_per_label=experiment.metrics_per_label,
        metrics_overall=experiment.metrics_overall,
        confusion=experiment.confusion,
        auto_coding=experiment.auto_coding,
        diversity=diversity,
        cleaning=_cleaning_counts(dropped),
        cleaning_samples=_cleaning_samples(dropped),
        learning_curve=_curve_for_report(experiment.learning_curve, targets),
        settings=cfg.model_dump(mode="json"),
        costs=_costs(generated.stats),
        notes=_study_notes(cfg),
        verification=verified,
        selection=selection,
        hierarchy=inputs.notes_hierarchy,
        target_reasons=dict(zip(reasons["code"].astype(str), reasons["reason"].astype(str))) if reasons is not None else {},
    )


def _study_notes(cfg: StudyConfig) -> list[str]:
    """The sentences the report's summary adds about what this study did not run, and why."""
    t = cfg.training
    if cfg.real is None:
        return ["No real labelled data was given (the config has no [real] section): the lines were generated, cleaned and "
                "verified against the notes alone, and nothing was trained or evaluated. Measuring what they bring needs "
                "your real coded data: add [real] (path, text_column, code_column) and run the study again."]
    return ([] if t.titles_variant else ["The titles baseline (real + one line per code title) was not trained "
                                         "([training] titles_variant = false)."]) + \
        ([] if t.learning_curve else ["No learning curve was trained on the test rows ([training] learning_curve = [])."])


def _coverage_before_after(h: Hierarchy, train: pd.DataFrame, generated: pd.DataFrame, clean: pd.DataFrame, level: str) -> pd.DataFrame:
    labels = sorted(set(h.codes(level)) | set(train["label"]))
    df = pd.DataFrame({"label": labels})
    df["title"] = [h.title(label) if label in h else "" for label in labels]
    df["n_real_train"] = df["label"].map(train["label"].value_counts()).fillna(0).astype(int)
    df["n_synthetic_generated"] = df["label"].map(generated["label"].value_counts()).fillna(0).astype(int)
    df["n_synthetic_kept"] = df["label"].map(clean["label"].value_counts()).fillna(0).astype(int)
    return df


def _cleaning_counts(dropped: pd.DataFrame) -> pd.DataFrame:
    if dropped.empty:
        return pd.DataFrame(columns=["reason", "label", "count"])
    return dropped.groupby(["reason", "label"]).size().rename("count").reset_index()


def _cleaning_samples(dropped: pd.DataFrame, k: int = 5) -> pd.DataFrame:
    if dropped.empty:
        return pd.DataFrame(columns=["reason", "label", "text", "detail"])
    sample = dropped.sample(frac=1.0, random_state=0).groupby("reason", sort=True).head(k).sort_values("reason", kind="stable")
    return sample[["reason", "label", "text", "detail"]].reset_index(drop=True)


def _curve_for_report(lc: pd.DataFrame | None, targets: list[str]) -> pd.DataFrame | None:
    if lc is None or lc.empty:
        return None
    lc = lc.copy()
    lc["target_mean_f1"] = [sum(d.get(t, 0.0) for t in targets) / len(targets) for d in lc["f1_by_label"]]
    return lc[["variant", "n_synthetic", "seed", "target_mean_f1", "accuracy"]]


def _costs(stats: dict[str, Any]) -> dict[str, Any]:
    keep = ("model", "requests", "sent", "cached", "prompt_tokens", "completion_tokens", "cost", "lines")
    return {"backend": stats.get("generator", ""), **{k: stats[k] for k in keep if k in stats}}


def training_plan(cfg: StudyConfig, inputs: StudyInputs | None = None) -> pd.DataFrame:
    """The trainings a study will make, with their size and expected time: what ``statcodgen run --dry-run`` prints.

    Loads the notes and the real data (or takes ``inputs``), splits, resolves the targets and the
    plan, and counts for every training (variant x seed, then the learning curve) its rows (the
    planned synthetic lines stand for the kept ones: an upper bound), its labels, the epoch and
    loss ``"auto"`` resolve to, and :func:`statcodgen.modelling.estimate_fit_seconds`. Nothing is
    generated or trained. Out: DataFrame[variant, seed, fraction, n_rows, n_labels, epoch, loss,
    reused, expected_s]: the verification folds and the validation models first (when on), then the
    variants; a learning-curve point at fraction 1 is the variant itself (reused, 0 s).
    """
    if cfg.real is None:
        raise ConfigError("this study has no [real] section: it generates, cleans and verifies, and trains nothing to plan "
                          "(the evaluation needs real labelled data).")
    inputs = inputs or load_inputs(cfg)
    t = cfg.training
    split = split_real_data(inputs.real, test_size=cfg.real.test_size, seed=cfg.real.split_seed, scarcity=t.simulate_scarcity)
    targets = study_targets(cfg, inputs, split.train, full=split.train_full)
    plan = study_plan(cfg, inputs.notes, targets)
    train, full = split.train, split.train_full
    if t.max_rows_per_label:
        train, full = cap_per_label(train, t.max_rows_per_label), cap_per_label(full, t.max_rows_per_label)
    n_labels = len(set(train["label"]) | set(split.test["label"]) | set(targets))
    n_syn = int(plan["n_samples"].sum()) * t.synthetic_weight
    variants = [("real_only", len(train))]
    if t.titles_variant:
        variants.append(("real+titles", len(train) + len(plan) * t.synthetic_weight))
    variants.append((f"real+{cfg.generation.backend}", len(train) + n_syn))
    if t.full_real_ceiling and t.simulate_scarcity:
        variants.append(("full_real", len(full)))
    rows = []
    v = cfg.verification
    if v.enabled:  # k out-of-fold models on (k-1)/k of the real rows (capped per label) and of the lines, plus the note items
        n_real = len(cap_per_label(train, v.max_real_rows)) if v.max_real_rows else len(train)
        rows += [("verification fold", i, None, int((n_real + n_syn) * (v.k - 1) / v.k) + len(inputs.notes) * 4) for i in range(v.k)]
    if t.select_on_validation:  # real only (+ full real in a simulation) and one model per synthetic share, on 1 - validation_size
        fit = int(len(full if t.simulate_scarcity else train) * (1 - t.validation_size))
        rows += [("selection: real_only", 0, None, fit)] + ([("selection: full_real", 0, None, fit)] if t.simulate_scarcity else [])
        rows += [("selection: real+synthetic", 0, float(f), fit + int(n_syn * f)) for f in t.synthetic_fractions]
    rows += [(v_, s, None, n) for v_, n in variants for s in t.seeds]
    rows += [(f"real+{cfg.generation.backend}", s, float(f), len(train) + int(n_syn * min(f, 1.0))) for f in t.learning_curve for s in t.seeds]
    out = []
    for variant, seed, frac, n in rows:
        p = t.params.resolve(max(1, n), max(1, n_labels))
        reused = frac is not None and frac >= 1.0 and not variant.startswith("selection")
        out.append({"variant": variant, "seed": seed, "fraction": frac, "n_rows": n, "n_labels": n_labels, "epoch": p.epoch,
                    "loss": p.loss, "reused": reused, "expected_s": 0.0 if reused else round(estimate_fit_seconds(n, n_labels, p), 2)})
    return pd.DataFrame(out)

