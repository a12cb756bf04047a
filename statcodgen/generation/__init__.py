"""Turning a generation plan into synthetic lines: prompts, the OpenAI-compatible engine, its journal and Batch API files, the offline generator and the baselines."""

from __future__ import annotations

from .batch import (
    export_batch,
    batch_paths,
    import_batch,
    import_batch_results,
)
from .engine import (
    OUTPUT_COLUMNS,
    GenerationResult,
    build_requests,
    generate,
    lines_from_journal,
    write_generated,
    load_generated,
)
from .journal import (
    request_key,
    Journal,
    STATUSES,
)
from .llm import (
    Endpoint,
    Prices,
    LLMConfig,
    Request,
    make_request,
    RunStats,
    run_requests,
    run_requests_async,
    register_requests,
    dry_run,
    DryRunSummary,
)
from .offline import (
    GENERATION_COLUMNS,
    OFFLINE_PROMPT_ID,
    generate_offline,
    titles_baseline,
    naive_bullets,
    candidate_lines,
)
from .offline_lexicon import (
    LEXICON,
    Lexicon,
)
from .offline_phrases import (
    prose_items,
    title_context,
    title_items,
)
from .parsing import (
    ParseResult,
    format_output,
)
from .prompts import (
    TEMPLATE_VERSION,
    LANGUAGES,
    build_messages,
    render_context,
    examples_from_real,
    prompt_id_for,
    available_languages,
)

__all__ = [
    "export_batch",
    "batch_paths",
    "import_batch",
    "import_batch_results",
    "OUTPUT_COLUMNS",
    "GenerationResult",
    "build_requests",
    "generate",
    "lines_from_journal",
    "write_generated",
    "load_generated",
    "request_key",
    "Journal",
    "STATUSES",
    "Endpoint",
    "Prices",
    "LLMConfig",
    "Request",
    "make_request",
    "RunStats",
    "run_requests",
    "run_requests_async",
    "register_requests",
    "dry_run",
    "DryRunSummary",
    "GENERATION_COLUMNS",
    "OFFLINE_PROMPT_ID",
    "generate_offline",
    "titles_baseline",
    "naive_bullets",
    "candidate_lines",
    "LEXICON",
    "Lexicon",
    "prose_items",
    "title_context",
    "title_items",
    "ParseResult",
    "format_output",
    "TEMPLATE_VERSION",
    "LANGUAGES",
    "build_messages",
    "render_context",
    "examples_from_real",
    "prompt_id_for",
    "available_languages",
]
