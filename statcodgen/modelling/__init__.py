"""fastText training and evaluation on real test data only, and the leak-free experiments that compare variants."""

from __future__ import annotations

from .evaluation import (
    EvalResult,
    evaluate,
    automatic_coding_curve,
    tidy_metrics,
    summarise_seeds,
    OVERALL,
)
from .experiments import (
    ExperimentResult,
    split_real,
    simulate_scarcity,
    drop_test_leaks,
    run_experiments,
    target_summary,
)
from .preprocess import (
    LANGUAGES,
    preprocess,
    preprocess_one,
    stopwords,
)
from .train import (
    FastTextParams,
    FastTextClassifier,
    check_no_llama,
)

__all__ = [
    "EvalResult",
    "evaluate",
    "automatic_coding_curve",
    "tidy_metrics",
    "summarise_seeds",
    "OVERALL",
    "ExperimentResult",
    "split_real",
    "simulate_scarcity",
    "drop_test_leaks",
    "run_experiments",
    "target_summary",
    "LANGUAGES",
    "preprocess",
    "preprocess_one",
    "stopwords",
    "FastTextParams",
    "FastTextClassifier",
    "check_no_llama",
]
