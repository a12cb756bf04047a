"""statcodgen: synthetic training data for statistical activity classifications (NACE, NAF, CNAE, ATECO, ...).

The calls a notebook needs, one import away (``from statcodgen import ...``); each lives in the
subpackage of its pipeline stage, which holds the rest of that stage's public names:

=================  =====================================================================================
stage              calls
=================  =====================================================================================
notes, data        ``load_notes``, ``fetch_notes``, ``load_labelled``, ``load_public_labelled``, ``Hierarchy``
gaps               ``coverage_table``, ``find_gaps``, ``resolve_targets``, ``target_reasons``, ``cross_validated_f1``
generation         ``generation_plan``, ``generate``, ``OfflineGenerator``, ``LLMGenerator``, ``LLMConfig``
personas           ``sample_personas``, ``load_personas``
cleaning           ``clean``, ``diversity_table``
verification       ``verify``, ``VerifyOptions``
modelling          ``split_real``, ``simulate_scarcity``, ``run_experiments``, ``target_summary``,
                   ``FastTextClassifier``, ``FastTextParams``, ``evaluate``, ``choose_synthetic_use``, ``attraction_rate``
study, report      ``load_config``, ``run_pipeline``, ``write_report``
errors             ``StatcodgenError``, ``ConfigError``, ``DataFormatError``, ``FetchError``
=================  =====================================================================================

Names are loaded on first use, so ``import statcodgen`` stays cheap (the CLI starts fast).
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_WHERE = {
    "load_notes": "sources", "fetch_notes": "sources", "load_labelled": "sources", "load_public_labelled": "sources",
    "Hierarchy": "classification",
    "coverage_table": "gaps", "find_gaps": "gaps", "resolve_targets": "gaps",
    "target_reasons": "gaps", "cross_validated_f1": "gaps",
    "generation_plan": "generation", "generate": "generation", "OfflineGenerator": "generation",
    "LLMGenerator": "generation", "LLMConfig": "llm",
    "sample_personas": "personas", "load_personas": "personas",
    "clean": "cleaning", "diversity_table": "cleaning",
    "verify": "verification", "VerifyOptions": "verification",
    "split_real": "modelling", "simulate_scarcity": "modelling", "run_experiments": "modelling",
    "target_summary": "modelling", "FastTextClassifier": "modelling", "FastTextParams": "modelling", "evaluate": "modelling",
    "choose_synthetic_use": "modelling", "attraction_rate": "modelling",
    "load_config": "study", "run_pipeline": "study", "write_report": "report",
    "StatcodgenError": "errors", "ConfigError": "errors", "DataFormatError": "errors", "FetchError": "errors",
}

__all__ = ["__version__", *_WHERE]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'statcodgen' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])
