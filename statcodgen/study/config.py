"""Study configuration: one validated object, loadable from TOML (unknown keys rejected).

In: a TOML file or a dict. Out: :class:`StudyConfig`. Secrets never live here: the LLM section
names the *environment variable* that holds the API key (``api_key_env``), not the key.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import ConfigError
from ..llm.config import LLMConfig
from ..modelling.params import FastTextParams
from ..sources.datasets import NOTES_FETCHERS, PUBLIC_LABELLED

__all__ = [
    "NotesSection",
    "RealSection",
    "TargetsSection",
    "GenerationSection",
    "PersonasSection",
    "VerificationSection",
    "CleaningSection",
    "RandomScarcity",
    "TrainingSection",
    "StudyConfig",
    "load_config",
]



def _build(model: type[BaseModel], value: Any) -> Any:
    """A table of the TOML file -> ``model`` (its own validation, with its ConfigError message)."""
    if isinstance(value, dict):
        try:
            return model(**value)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Source(_Strict):
    """A public file to ``fetch`` (one of ``_fetchable``) or a local ``path``: exactly one of them."""

    _fetchable: ClassVar[tuple[str, ...]] = ()
    fetch: str | None = None
    path: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> "_Source":
        names = ", ".join(self._fetchable)
        if (self.fetch is None) == (self.path is None):
            raise ValueError(f"give exactly one of 'fetch' (one of {names}) or 'path'")
        if self.fetch is not None and self.fetch not in self._fetchable:
            raise ValueError(f"'fetch' must be one of {names}. Got {self.fetch!r} instead")
        return self


class NotesSection(_Source):
    """Where the explanatory notes come from: ``fetch`` a known public file, or a local ``path``."""

    _fetchable: ClassVar[tuple[str, ...]] = tuple(NOTES_FETCHERS)
    layout: str = "auto"
    sheet: str | None = None
    columns: dict[str, str] | None = None
    system: str | None = None
    language: str | None = None


class RealSection(_Source):
    """Real labelled data: ``fetch`` a known public set or read ``path`` with named columns."""

    _fetchable: ClassVar[tuple[str, ...]] = PUBLIC_LABELLED
    text_column: str = "text"
    code_column: str = "code"
    system: str | None = Field(None, description="classification of the real codes if it differs from the notes'")
    test_size: float = Field(0.2, gt=0, lt=1)
    split_seed: int = 0
    max_rows: int | None = Field(None, gt=0, description="use a random sample of this many rows (quick studies)")


class TargetsSection(_Strict):
    """Which labels to fill and how many lines per label."""

    labels: list[str] = Field(default_factory=list, description='labels, or ["under:N"] for every label under N real rows')
    level: Literal["section", "division", "group", "class", "subclass"] = "section"
    n_per_target: int = Field(800, gt=0)
    min_per_code: int = Field(5, ge=0)
    weight: Literal["uniform", "richness"] = "richness"

    @field_validator("labels")
    @classmethod
    def _non_empty(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("list at least one target label (e.g. [\"B\", \"O\"]) or [\"under:100\"]")
        return v


class GenerationSection(_Strict):
    """Generator backend and its options."""

    backend: Literal["offline", "openai"] = "offline"
    language: str | None = None
    seed: int = 0
    lines_per_request: int = Field(20, ge=1, le=500)
    json_output: bool = False
    template_dir: str | None = None
    n_examples: int = Field(3, ge=0)
    mode: Literal["write", "rewrite"] = "rewrite"  # the LLM generator's mode (statcodgen.generation.rewrite)


class PersonasSection(_Strict):
    """Persona conditioning (who declares, how they write)."""

    enabled: bool = False
    locale: str = "en_GB"
    n: int = Field(2000, gt=0)  # enough that the embassy and public-body pools hold ~15 and ~170 personas
    seed: int = 0
    path: str | None = None
    strategy: Literal["round_robin", "random", "stratified", "matched"] = "round_robin"


class CleaningSection(_Strict):
    """Deduplication and filters."""

    dedup: bool = True
    threshold: float = Field(0.9, gt=0, le=1)
    num_perm: int = Field(128, ge=16)
    shingle: Literal["word", "char"] = "word"
    drop_real_train_duplicates: bool = True
    filters: list[str] = Field(default_factory=lambda: ["length", "echo", "garbage", "well_formed", "language", "excluded"])

    @model_validator(mode="before")
    @classmethod
    def _moved(cls, v: Any) -> Any:
        if isinstance(v, dict) and "label_consistency_action" in v:
            raise ValueError("label_consistency_action was removed: the [verification] stage judges every line with a "
                             "classifier that knows the targets (see [verification] in ARCHITECTURE.md); delete the key")
        return v


class VerificationSection(_Strict):
    """The verification stage (statcodgen.verification.verify): classifier and notes evidence, optional LLM judge."""

    enabled: bool = True
    level: Literal["section", "division", "group", "class", "subclass"] | None = Field(
        None, description="judge at this level; default: the target level")
    k: int = Field(5, ge=2, le=20, description="folds of the out-of-fold models")
    near_level: Literal["section", "division", "group", "class"] = "division"
    notes: bool = True
    siblings: bool = Field(True, description="judging codes finer than near_level: a local model per division decides the sibling")
    max_sibling_prob: float | None = Field(None, ge=0.0, le=1.0,
                                           description="the sibling evidence acts below this probability of the line's own code (None: 0.3)")
    judge: bool = Field(False, description="ask the [llm] endpoint to pick each line's code among a few candidates")
    real_suspects: bool = True
    max_real_rows: int | None = Field(2000, ge=1, description="real rows per label taking part (seeded cap)")


class RandomScarcity(_Strict):
    """A seeded random scarcity simulation: ``random`` labels drawn among those with at least ``min_rows`` real
    training rows (never the test rows), each cut to ``keep`` rows
    (:func:`statcodgen.modelling.experiments.random_scarcity`). The drawn labels are targets too."""

    random: int = Field(..., ge=1, description="how many labels to draw")
    keep: int = Field(1, ge=0, description="real training rows each drawn label keeps")
    min_rows: int = Field(20, ge=1, description="only labels with at least this many real training rows are drawn")
    seed: int = Field(0, ge=0, description="seed of the draw (the rows kept follow [real] split_seed)")

    @model_validator(mode="after")
    def _cuts(self) -> "RandomScarcity":
        if self.keep >= self.min_rows:
            raise ValueError(f"keep ({self.keep}) must be below min_rows ({self.min_rows}), or nothing is cut")
        return self


_RANDOM_KEYS = set(RandomScarcity.model_fields)


def _scarcity(v: Any) -> Any:
    """``{random = N, ...}`` -> :class:`RandomScarcity`; ``{label = k}`` checked (k >= 0); anything else left to pydantic."""
    if not isinstance(v, dict):
        return v
    if "random" in v:
        try:
            return RandomScarcity(**v)
        except ValidationError as exc:
            msgs = "; ".join(("" if not e["loc"] else ".".join(map(str, e["loc"])) + ": ")
                             + ("unknown key (the keys are random, keep, min_rows, seed)" if e["type"] == "extra_forbidden"
                                else e["msg"].removeprefix("Value error, ")) for e in exc.errors())
            raise ValueError(f"random scarcity set {{random = N, keep = 1, min_rows = 20, seed = 0}}: {msgs}") from None
    misplaced = sorted(_RANDOM_KEYS & set(v))
    if misplaced:
        raise ValueError(f"{misplaced} belong to a random scarcity set: add 'random = N' (how many labels to draw), "
                         "e.g. { random = 50, keep = 1, min_rows = 20, seed = 0 }, or give {label = rows} pairs only")
    bad = {k: n for k, n in v.items() if isinstance(n, bool) or not isinstance(n, int) or n < 0}
    if bad:
        raise ValueError(f"each label keeps a whole number >= 0 of training rows, e.g. {{ B = 2 }}. Got {bad} instead")
    return v


class TrainingSection(_Strict):
    """fastText training and the experiment variants."""

    seeds: list[int] = Field(default_factory=lambda: [0, 1, 2])
    params: FastTextParams = Field(default_factory=FastTextParams, description="fastText hyper-parameters (FastTextParams)")
    simulate_scarcity: RandomScarcity | dict[str, int] = Field(
        default_factory=dict, description="cut labels of the real training part: {label = rows}, or a seeded random set "
        "{ random = N, keep = 1, min_rows = 20, seed = 0 }; the cut labels are targets too")
    synthetic_weight: int = Field(1, ge=1)
    titles_variant: bool = True
    full_real_ceiling: bool = True
    learning_curve: list[float] = Field(default_factory=list, description="fractions of the synthetic set, e.g. [0.25, 0.5, 1]")
    max_rows_per_label: int | None = Field(None, ge=1, description="cap the real training rows of each label (seeded); for large data")
    n_jobs: int = Field(1, ge=1, le=64, description="trainings at once, in separate processes sharing the cores")
    prior: str = Field("auto", description="label prior the synthetic models are corrected toward: 'auto' (the full "
                       "data's shares when a scarcity simulation gives them, else none), 'none', 'full_real', or a CSV "
                       "path with columns label, count (e.g. business-register counts)")
    prior_strengths: list[float] = Field(default_factory=lambda: [0.0, 0.5, 1.0, 1.5, 2.0],
                                         description="candidate strengths of the prior correction, chosen on validation")
    synthetic_fractions: list[float] = Field(default_factory=lambda: [0.25, 0.5, 1.0],
                                             description="candidate shares of the verified synthetic lines, chosen on validation")
    select_on_validation: bool = True
    target_gate: bool | Literal["auto"] = Field("auto", description="the synthetic model answers only for the rows it assigns "
                                                "to a target; every other row keeps the real-only model's answer (saved with "
                                                "the model, as model/fallback). auto: on or off as chosen on validation")
    max_label_harm: float = Field(0.15, ge=0, le=1, description="on validation, no non-target label with >= 10 rows may lose more "
                                  "F1 than this (1 = no per-label gate: at class level the report's most harmed codes show it)")
    validation_size: float = Field(0.2, gt=0, lt=1)
    quantize: bool | Literal["auto"] = Field("auto", description="save the main model quantised (model.ftz, 8x smaller); "
                                             "auto: from 100,000 rows and up to 100 labels, where it cost < 0.5 point (BENCHMARKS.md)")

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, v: list[int]) -> list[int]:
        if not v:
            raise ValueError("give at least one seed")
        return v

    @field_validator("params", mode="before")
    @classmethod
    def _params(cls, v: Any) -> Any:
        return _build(FastTextParams, v)

    @field_validator("simulate_scarcity", mode="before")
    @classmethod
    def _simulate_scarcity(cls, v: Any) -> Any:
        return _scarcity(v)


class StudyConfig(_Strict):
    """A whole gap-filling study: notes, real data, targets, generator, cleaning, training, output."""

    title: str = "statcodgen gap-filling study"
    output_dir: str = "runs/study"
    notes: NotesSection
    real: RealSection | None = Field(None, description="real labelled data; without it the study generates, cleans and "
                                     "verifies (notes only), then stops: the evaluation needs real data")
    targets: TargetsSection
    generation: GenerationSection = GenerationSection()
    llm: LLMConfig | None = None
    personas: PersonasSection = PersonasSection()
    cleaning: CleaningSection = CleaningSection()
    verification: VerificationSection = VerificationSection()
    training: TrainingSection = TrainingSection()

    @field_validator("llm", mode="before")
    @classmethod
    def _llm(cls, v: Any) -> Any:
        return _build(LLMConfig, v)  # validated now, not after the first stages have run

    @model_validator(mode="after")
    def _llm_needed(self) -> "StudyConfig":
        if self.generation.backend == "openai" and self.llm is None:
            raise ValueError("generation.backend = 'openai' needs an [llm] section (base_url, model, api_key_env)")
        if self.real is None:
            if self.training.simulate_scarcity:
                raise ValueError("[training] simulate_scarcity cuts real training rows: it needs a [real] section "
                                 "(without real data the study generates, cleans and verifies only)")
            worst = [x for x in self.targets.labels if x.startswith("worst:")]
            if worst:
                raise ValueError(f"[targets] labels {worst} rank codes by cross-validated F1 on real data: they need a [real] "
                                 "section; without it use codes, 'under:N' (every code: no real rows) or a file")
        return self

    def fingerprint(self, *parts: str) -> str:
        """Stable hash of the named sections (all when none): a stage re-runs when its inputs change."""
        data = self.model_dump(mode="json")
        if parts:
            data = {p: data.get(p) for p in parts}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def _format_validation(exc: ValidationError, source: str) -> str:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; the keys are the fields of statcodgen.study.StudyConfig and its sections, see ARCHITECTURE.md)"
        lines.append(f"  {loc}: {msg}")
    return f"invalid study configuration in {source}:\n" + "\n".join(lines)


def load_config(source: str | Path | dict[str, Any]) -> StudyConfig:
    """Read and validate a study configuration from a TOML file path or a dict.

    Relative paths inside the file (notes.path, real.path, output_dir, template_dir) are resolved
    against the file's folder. Raises :class:`ConfigError` naming every bad key.
    """
    if isinstance(source, dict):
        data, where, base = dict(source), "dict", None
    else:
        path = Path(source)
        if not path.is_file():
            raise ConfigError(f"configuration file {str(path)!r} not found.")
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"configuration file {str(path)!r} is not valid TOML: {exc}") from exc
        where, base = repr(str(path)), path.resolve().parent
    try:
        cfg = StudyConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_validation(exc, where)) from None
    if base is not None:
        cfg = _resolve_paths(cfg, base)
    return cfg


def _resolve_paths(cfg: StudyConfig, base: Path) -> StudyConfig:
    def res(p: str | None) -> str | None:
        if p is None or Path(p).is_absolute():
            return p
        return str((base / p).resolve())

    return cfg.model_copy(
        update={
            "output_dir": res(cfg.output_dir),
            "notes": cfg.notes.model_copy(update={"path": res(cfg.notes.path)}),
            "real": cfg.real.model_copy(update={"path": res(cfg.real.path)}) if cfg.real is not None else None,
            "generation": cfg.generation.model_copy(update={"template_dir": res(cfg.generation.template_dir)}),
            "personas": cfg.personas.model_copy(update={"path": res(cfg.personas.path)}),
        }
    )
