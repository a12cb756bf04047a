"""The study: its validated configuration and the one composition of the stages that the CLI and notebooks call."""

from __future__ import annotations

from .config import (
    NotesSection,
    RealSection,
    TargetsSection,
    GenerationSection,
    PersonasSection,
    CleaningSection,
    TrainingSection,
    StudyConfig,
    load_config,
)
from .pipeline import (
    PipelineResult,
    run_pipeline,
    load_study_inputs,
)

__all__ = [
    "NotesSection",
    "RealSection",
    "TargetsSection",
    "GenerationSection",
    "PersonasSection",
    "CleaningSection",
    "TrainingSection",
    "StudyConfig",
    "load_config",
    "PipelineResult",
    "run_pipeline",
    "load_study_inputs",
]
