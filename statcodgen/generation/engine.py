"""Generation stage: turn a generation plan into synthetic lines, offline or through an LLM.

In: the notes DataFrame (``notes.load_notes``) and a plan (``coverage.generation_plan``:
``target, code, n_samples``). Out: a :class:`GenerationResult` whose ``lines`` follow the
generation output schema of ARCHITECTURE.md (``text, code, label, generator, model, prompt_id,
persona_id, temperature, seed, request_key, created_at``) and whose ``rejected`` keeps every line
or request that did not become a training line, with its reason and raw text.

The LLM path is resumable: every request has a deterministic key and its answer is written to the
SQLite journal as it completes, so a re-run after a crash sends only what is missing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from .._validation import check_in, check_int
from ..errors import ConfigError, DataFormatError

__all__ = [
    "OUTPUT_COLUMNS",
    "GenerationResult",
    "build_requests",
    "generate",
    "lines_from_journal",
    "write_generated",
    "load_generated",
]

OUTPUT_COLUMNS = [
    "text",
    "code",
    "label",
    "generator",
    "model",
    "prompt_id",
    "persona_id",
    "temperature",
    "seed",
    "request_key",
    "created_at",
]
REJECTED_COLUMNS = ["code", "request_key", "text", "reason", "raw"]
BACKENDS = ("offline", "openai")


@dataclass
class GenerationResult:
    """What a generation run produced.

    ``lines``: generated lines (generation output schema). ``rejected``: lines dropped by parsing
    and requests that failed (``code, request_key, text, reason, raw``). ``stats``: counts, usage
    and cost of the run (empty for the offline backend).
    """

    lines: pd.DataFrame
    rejected: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=REJECTED_COLUMNS))
    stats: dict[str, Any] = field(default_factory=dict)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _persona_records(personas: Any) -> list[Any]:
    """Accept a DataFrame of personas or a list of Persona records; return Persona records."""
    if personas is None:
        return []
    if isinstance(personas, pd.DataFrame):
        from ..personas.persona import personas_from_frame

        return list(personas_from_frame(personas))
    return list(personas)


def build_requests(
    notes: pd.DataFrame,
    plan: pd.DataFrame,
    *,
    llm: Any,
    language: str,
    lines_per_request: int = 20,
    seed: int = 0,
    personas: Any = None,
    persona_strategy: str = "round_robin",
    real: pd.DataFrame | None = None,
    n_examples: int = 3,
    template_dir: str | Path | None = None,
    hierarchy: Any = None,
) -> list[Any]:
    """Build one LLM request per chunk of ``lines_per_request`` lines of every planned code.

    In: notes (one row per code), plan (``target, code, n_samples``), ``llm`` (an
    ``llm.LLMConfig``: model, sampling parameters, ``json_output``). Out: a list of
    ``llm.Request`` whose ``key`` is deterministic (model, messages, parameters, seed, sample
    index) and whose ``metadata`` carries ``code``, ``label``, ``persona_id``, ``prompt_id``.
    """
    from .llm import make_request
    from .prompts import build_messages, examples_from_real, prompt_id_for

    check_int("lines_per_request", lines_per_request, 1, 500, func="build_requests")
    by_code = notes.drop_duplicates("code").set_index("code", drop=False)
    missing = sorted(set(plan["code"]) - set(by_code.index))
    if missing:
        raise ConfigError(f"The 'plan' parameter of build_requests names codes that are not in the notes: {missing[:10]}.")
    plist = _persona_records(personas)
    n_requests_per_code = [math.ceil(int(n) / lines_per_request) for n in plan["n_samples"]]
    total = sum(n_requests_per_code)
    persona_ids: list[str | None] = [None] * total
    if plist:
        from ..personas.persona import assign_personas

        request_codes = [(str(row.code), str(by_code.loc[row.code].get("section", "") or ""))
                         for row, n_req in zip(plan.itertuples(index=False), n_requests_per_code) for _ in range(n_req)]
        persona_ids = list(assign_personas(total, plist, strategy=persona_strategy, seed=seed, codes=request_codes))
    persona_by_id = {p.id: p for p in plist}
    pid = prompt_id_for(language=language, template_dir=template_dir, json_output=llm.json_output)
    requests = []
    k = 0
    for row, n_req in zip(plan.itertuples(index=False), n_requests_per_code):
        note = by_code.loc[row.code]
        examples: Any = ()
        if real is not None and n_examples > 0:
            examples = examples_from_real(real, row.code, hierarchy, k=n_examples, seed=seed)
        remaining = int(row.n_samples)
        for i in range(n_req):
            n_lines = min(lines_per_request, remaining)
            remaining -= n_lines
            persona = persona_by_id.get(persona_ids[k]) if persona_ids[k] else None
            messages = build_messages(
                note,
                language=language,
                n_lines=n_lines,
                examples=examples,
                persona=persona,
                json_output=llm.json_output,
                template_dir=template_dir,
                hierarchy=hierarchy,
                request_index=i,
            )
            meta = {"code": row.code, "label": row.target, "persona_id": persona_ids[k] or "", "prompt_id": pid, "n_lines": n_lines}
            requests.append(make_request(messages, config=llm, seed=seed, sample_index=i, metadata=meta))
            k += 1
    return requests


def _parser(uppercase: bool, json_output: bool) -> Any:
    """Parser given to the LLM run: strips echoes of the request's own user prompt too."""
    from .parsing import format_output

    def parse(content: str, request: Any) -> Any:
        prompt_lines = [line for m in request.messages if m["role"] == "user" for line in str(m["content"]).splitlines()]
        return format_output(content, uppercase=uppercase, prompt_lines=prompt_lines, json_expected=json_output)

    return parse


def _iso(ts: Any) -> str:
    try:
        return datetime.fromtimestamp(float(ts), tz=timezone.utc).isoformat(timespec="seconds")
    except (TypeError, ValueError):
        return _now()


def lines_from_journal(
    requests: list[Any],
    journal: Any,
    *,
    model: str,
    temperature: float | None,
    seed: int,
    json_output: bool = False,
    uppercase: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Turn the journal's answers for ``requests`` into (lines, rejected) DataFrames.

    Lines parsed when the answer arrived are used as stored; answers imported without parsing
    (e.g. from a Batch API results file) are parsed now. Requests that never succeeded appear in
    ``rejected`` with reason ``request_<status>`` and the journal's error text; lines the parser
    removed appear with the parser's reason.
    """
    records = journal.records()
    by_key = records.drop_duplicates("key").set_index("key") if len(records) else pd.DataFrame()
    parse = _parser(uppercase, json_output)
    rows: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    for req in requests:
        meta = req.metadata
        rec = by_key.loc[req.key] if req.key in by_key.index else None
        if rec is None or rec["status"] != "done":
            err = "" if rec is None else str(rec.get("error") or "")
            status = "missing" if rec is None else str(rec["status"])
            raw = "" if rec is None else str(rec.get("raw") or err)
            rejected.append({"code": meta["code"], "request_key": req.key, "text": "", "reason": f"request_{status}", "raw": raw})
            continue
        lines, bad = rec.get("lines"), rec.get("rejected")
        if not isinstance(lines, list):
            parsed = parse(str(rec["raw"] or ""), req)
            lines, bad = parsed.lines, parsed.rejected
        created = _iso(rec.get("updated_at"))
        for line in lines:
            rows.append(
                {
                    "text": line,
                    "code": meta["code"],
                    "label": meta["label"],
                    "generator": "openai",
                    "model": model,
                    "prompt_id": meta["prompt_id"],
                    "persona_id": meta.get("persona_id") or "",
                    "temperature": temperature,
                    "seed": seed,
                    "request_key": req.key,
                    "created_at": created,
                }
            )
        for line, reason in bad or []:
            rejected.append({"code": meta["code"], "request_key": req.key, "text": line, "reason": reason, "raw": line})
    return (
        pd.DataFrame(rows, columns=OUTPUT_COLUMNS),
        pd.DataFrame(rejected, columns=REJECTED_COLUMNS),
    )


def generate(
    notes: pd.DataFrame,
    plan: pd.DataFrame,
    *,
    backend: str = "offline",
    language: str | None = None,
    seed: int = 0,
    llm: Any = None,
    journal_path: str | Path | None = None,
    lines_per_request: int = 20,
    personas: Any = None,
    persona_strategy: str = "round_robin",
    real: pd.DataFrame | None = None,
    n_examples: int = 3,
    json_output: bool = False,
    template_dir: str | Path | None = None,
    hierarchy: Any = None,
    target_level: str = "section",
    dry_run: bool = False,
    batch_export: str | Path | None = None,
    progress: bool = True,
) -> GenerationResult:
    """Generate synthetic lines for every code of ``plan``.

    ``backend="offline"`` (default) needs no LLM. ``backend="openai"`` needs ``llm`` (an
    ``llm.LLMConfig``) and ``journal_path`` (SQLite file; re-running with the same path resumes
    and never re-sends a completed request). ``dry_run=True`` returns the request count and the
    token/cost estimate in ``stats`` and sends nothing. ``batch_export="requests.jsonl"`` records
    the requests in the journal and writes the pending ones as OpenAI Batch API input instead of
    sending them (``stats["batch_export"]``: files and count); once the results are imported
    (:func:`statcodgen.generation.batch.import_batch_results`), the same call without ``batch_export`` returns
    the lines and sends only what is still missing.
    """
    check_in("backend", backend, BACKENDS, func="generate")
    for col in ("target", "code", "n_samples"):
        if col not in plan.columns:
            raise ConfigError(f"The 'plan' parameter of generate must have a {col!r} column. Got columns {list(plan.columns)} instead.")
    language = language or notes.attrs.get("language") or "en"
    if backend == "offline":
        from .offline import generate_offline

        lines = generate_offline(
            notes, plan, language=language, seed=seed, personas=personas, hierarchy=hierarchy, target_level=target_level
        )
        shortfall = lines.attrs.get("shortfall")
        stats: dict[str, Any] = {"backend": "offline", "lines": len(lines)}
        if shortfall is not None and len(shortfall):
            stats["shortfall"] = pd.DataFrame(shortfall).to_dict("records")
        lines = lines.copy()
        lines.attrs = {}  # a DataFrame in attrs breaks pd.concat and parquet; the shortfall is in stats
        return GenerationResult(lines=lines.reset_index(drop=True), stats=stats)

    from .journal import Journal
    from .llm import LLMConfig, dry_run as llm_dry_run, run_requests

    if not isinstance(llm, LLMConfig):
        raise ConfigError("The 'llm' parameter of generate must be an LLMConfig when backend='openai'. Got {!r} instead.".format(llm))
    if journal_path is None:
        raise ConfigError("The 'journal_path' parameter of generate is required when backend='openai' (it makes the run resumable).")
    if json_output and not llm.json_output:
        llm = llm.model_copy(update={"json_output": True})
    requests = build_requests(
        notes,
        plan,
        llm=llm,
        language=language,
        lines_per_request=lines_per_request,
        seed=seed,
        personas=personas,
        persona_strategy=persona_strategy,
        real=real,
        n_examples=n_examples,
        template_dir=template_dir,
        hierarchy=hierarchy,
    )
    if dry_run:
        estimate = llm_dry_run(requests, config=llm)
        return GenerationResult(lines=pd.DataFrame(columns=OUTPUT_COLUMNS), stats={"backend": "openai", "dry_run": estimate})
    journal = Journal(journal_path)
    if batch_export is not None:
        from .batch import batch_paths, export_batch
        from .llm import register_requests

        try:
            pending = register_requests(requests, config=llm, journal=journal)
            n = export_batch(journal, batch_export)
        finally:
            journal.close()
        files = [str(f) for f in batch_paths(batch_export, n)] if n else []
        return GenerationResult(lines=pd.DataFrame(columns=OUTPUT_COLUMNS),
                                stats={"backend": "openai", "requests": len(requests), "pending": pending,
                                       "batch_export": {"requests": n, "files": files}})
    try:
        stats = run_requests(requests, config=llm, journal=journal, progress=progress, parser=_parser(True, llm.json_output))
        lines, rejected = lines_from_journal(
            requests, journal, model=llm.model, temperature=llm.temperature, seed=seed, json_output=llm.json_output
        )
    finally:
        journal.close()
    stats_dict = stats.to_dict() if hasattr(stats, "to_dict") else dict(vars(stats))
    stats_dict.update({"backend": "openai", "model": llm.model, "requests": len(requests), "lines": len(lines)})
    return GenerationResult(lines=lines, rejected=rejected, stats=stats_dict)


def write_generated(df: pd.DataFrame, path: str | Path) -> Path:
    """Write generated lines to ``path`` (``.parquet`` or ``.csv``), atomically. Returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    df = df.copy()
    df.attrs = {}  # attrs (e.g. the offline shortfall table) are reported elsewhere, not stored
    if path.suffix == ".parquet":
        df.to_parquet(tmp, index=False)
    elif path.suffix == ".csv":
        df.to_csv(tmp, index=False)
    else:
        raise ConfigError(f"The 'path' parameter of write_generated must end in .parquet or .csv. Got {str(path)!r} instead.")
    tmp.replace(path)
    return path


def load_generated(path: str | Path) -> pd.DataFrame:
    """Read a generated-lines file (parquet or csv) and check it has ``text``, ``code``, ``label``."""
    path = Path(path)
    if not path.exists():
        raise DataFormatError("file not found.", file=path, expected="a generated-lines file written by write_generated")
    try:
        df = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path, dtype=str, keep_default_na=False)
    except Exception as exc:  # noqa: BLE001 - reported with the file name
        raise DataFormatError(f"cannot be read ({exc.__class__.__name__}: {exc}).", file=path) from exc
    for col in ("text", "code", "label"):
        if col not in df.columns:
            raise DataFormatError(
                f"missing column {col!r} (has {list(df.columns)}).", file=path, column=col, expected="columns text, code, label"
            )
    return df
