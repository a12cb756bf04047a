"""The generators behind :func:`statcodgen.generation.generate`, one protocol for all of them.

In: the notes DataFrame (:func:`statcodgen.sources.load_notes`) and a plan (``target, code,
n_samples``, :func:`statcodgen.generation.generation_plan`). Out: a
:class:`~statcodgen.generation.results.GenerationResult` (lines in the generation output schema,
rejected lines and requests, shortfall per code, JSON-able stats).

- :class:`OfflineGenerator` -- lines from the notes alone (:mod:`statcodgen.generation.offline`);
- :class:`LLMGenerator` -- an OpenAI-compatible endpoint, resumable through an SQLite journal:
  every request has a deterministic key and its answer is journalled as it completes, so a
  re-run after a crash sends only what is missing;
- :class:`TitlesBaseline`, :class:`NaiveBullets` -- the comparison baselines
  (:mod:`statcodgen.generation.baselines`).

A generator is any object with a ``name`` (the ``generator`` column value) and a ``generate``
method of the :class:`Generator` signature.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import pandas as pd

from .._validation import check_in, check_int, check_type
from ..errors import ConfigError
from ..personas.persona import ASSIGN_STRATEGIES, assign_personas, personas_from_frame
from .baselines import naive_bullets, titles_baseline
from ..llm.batch import batch_paths, export_batch
from ..llm.client import register_requests, run_requests
from ..llm.journal import Journal
from ..llm.config import LLMConfig, Request, dry_run as llm_dry_run, make_request
from .offline import generate_offline
from ..llm.parsing import ParseResult, echo_key, format_output
from .plan import cap_requests
from .prompts import build_messages, examples_from_real, note_angles, prompt_id_for, request_angle
from .results import SHORTFALL_ATTR, OUTPUT_COLUMNS, REJECTED_COLUMNS, GenerationResult, shortfall_table
from .rewrite import MODES, copies_seed, drop_seed_echoes, seed_pool, without_seed_lines

__all__ = [
    "Generator",
    "OfflineGenerator",
    "LLMGenerator",
    "TitlesBaseline",
    "NaiveBullets",
    "GENERATORS",
    "build_requests",
    "lines_from_journal",
]

@runtime_checkable
class Generator(Protocol):
    """What :func:`statcodgen.generation.generate` runs: ``name`` is the value of the ``generator``
    column of the lines; ``generate`` turns notes and a plan into a :class:`GenerationResult`
    (``language`` is already resolved; ``personas``, ``hierarchy``, ``target_level`` may be unused)."""

    name: str

    def generate(self, notes: pd.DataFrame, plan: pd.DataFrame, *, language: str, seed: int, personas: Any,
                 hierarchy: Any, target_level: str, progress: bool) -> GenerationResult: ...


def _result(name: str, plan: pd.DataFrame, lines: pd.DataFrame, reason: str) -> GenerationResult:
    reasons = dict(lines.attrs.get(SHORTFALL_ATTR) or {})  # the offline generator's per-code reasons
    lines = lines.reset_index(drop=True)
    lines.attrs = {}  # not a side channel past this point: the reasons go into the typed shortfall
    return GenerationResult(lines=lines, shortfall=shortfall_table(plan, lines, reason=reason, reasons=reasons),
                            stats={"generator": name, "lines": len(lines)})


class OfflineGenerator:
    """Lines written from the notes alone, no LLM (:func:`statcodgen.generation.offline.generate_offline`);
    styled by ``personas`` when given. Shortfall: codes whose notes give too few distinct lines."""

    name = "offline"

    def generate(self, notes: pd.DataFrame, plan: pd.DataFrame, *, language: str, seed: int = 0, personas: Any = None,
                 hierarchy: Any = None, target_level: str = "section", progress: bool = True) -> GenerationResult:
        lines = generate_offline(notes, plan, language=language, seed=seed, personas=personas, hierarchy=hierarchy,
                                 target_level=target_level)
        return _result(self.name, plan, lines, "the notes give too few distinct lines")


class _Baseline:
    """A baseline of :mod:`statcodgen.generation.baselines` run on the plan's codes; ``n_samples`` is
    not used, so every code planned for more lines than the notes give is in the shortfall."""

    name: ClassVar[str]
    _lines: ClassVar[Callable[..., pd.DataFrame]]
    _reason: ClassVar[str]

    def generate(self, notes: pd.DataFrame, plan: pd.DataFrame, *, language: str = "", seed: int = 0, personas: Any = None,
                 hierarchy: Any = None, target_level: str = "section", progress: bool = True) -> GenerationResult:
        lines = type(self)._lines(notes, plan["code"].tolist(), seed=seed, hierarchy=hierarchy, target_level=target_level)
        return _result(self.name, plan, lines, self._reason)


class TitlesBaseline(_Baseline):
    """One line per planned code, its title (:func:`statcodgen.generation.baselines.titles_baseline`)."""

    name = "titles"
    _lines = staticmethod(titles_baseline)
    _reason = "one line per code title"


class NaiveBullets(_Baseline):
    """Each raw Includes / Also-includes item of each planned code as one line
    (:func:`statcodgen.generation.baselines.naive_bullets`)."""

    name = "naive_bullets"
    _lines = staticmethod(naive_bullets)
    _reason = "one line per Includes item"


#: Generators :func:`statcodgen.generation.generate` builds from a name (``generator="offline"``).
GENERATORS: dict[str, Callable[[], Generator]] = {"offline": OfflineGenerator, "titles": TitlesBaseline,
                                                  "naive_bullets": NaiveBullets}


class LLMGenerator:
    """Lines from an OpenAI-compatible endpoint, one request per ``lines_per_request`` lines of a code.

    ``llm``: an :class:`~statcodgen.llm.config.LLMConfig` (endpoints, model, sampling,
    ``json_output``). ``journal_path``: the SQLite journal; re-running with the same path resumes
    and never re-sends a completed request. ``persona_strategy``: how personas are given to
    requests (``round_robin``, ``random``, ``stratified``, ``matched``). ``real``, ``n_examples``: labelled lines
    shown as examples. ``template_dir``: prompt templates. ``dry_run=True``: nothing is sent;
    ``stats["dry_run"]`` holds the request count and the token/cost estimate.
    ``batch_export="requests.jsonl"``: the requests are journalled and the pending ones written as
    OpenAI Batch API input instead of being sent (``stats["batch_export"]``: count and files); once
    the results are imported (:func:`statcodgen.llm.batch.import_batch_results`), the same
    run without ``batch_export`` returns the lines and sends only what is still missing.

    The requests of one code (issue 12): ``max_requests`` caps them (``"auto"``: 2 + the note's
    items, :func:`statcodgen.generation.plan.cap_requests`; an int; None: no cap), the lines a capped
    code cannot take go to the other codes of its target, and the capped codes are in
    ``stats["capped"]`` and the shortfall. ``angles=True``: the first request is about the whole
    note, each next one about one note item (:func:`~statcodgen.generation.prompts.request_angle`).
    ``contrast=True``: the sibling codes' titles are named as "not this class". ``echo_items``:
    what happens to an answer line that copies a note item (or the title, or a rewrite's seed): ``"keep"``
    it as a training line, or ``"reject"`` it as ``echo_prompt`` (``echo_seed``) like other copies of the prompt.
    ``refill``: rounds of top-up requests for the codes whose answers gave fewer lines than asked
    (a weak model writes 15 lines for 20, or lines the parser rejects); each asks for exactly the
    missing lines, on the code's next angle. Codes with a failed request are not topped up (the
    failure is the shortfall's reason). ``stats["refill"]`` counts the rounds, requests and lines; the
    top-ups are journalled like the rest, so a resumed run sends none twice. 0 turns it off.

    ``mode``: ``"rewrite"`` (the default) gives each request lines the offline generator wrote for the
    code (:func:`~statcodgen.generation.rewrite.seed_pool`) and asks for them in a declarant's words, so
    the content stays on the class; ``"write"`` asks for new lines from the note (for a model that knows
    more than the notes say; with the weak local model it drifted off the class, BENCHMARKS.md §12). A
    rewrite request asks for as many lines as it gives; ``max_requests`` and ``angles`` do not apply
    (every request has its own seeds); an answer line equal to one of its seeds follows ``echo_items``
    (kept: the model found it already written as a declarant would, ``stats["echo_seed"]`` counts them;
    rejected as ``echo_seed``); a code whose notes give fewer seeds than planned says so in the
    shortfall; top-ups take the pool's next seeds.
    """

    name = "openai"

    def __init__(self, llm: LLMConfig, *, journal_path: str | Path, lines_per_request: int = 20,
                 persona_strategy: str = "round_robin", real: pd.DataFrame | None = None, n_examples: int = 3,
                 template_dir: str | Path | None = None, dry_run: bool = False,
                 batch_export: str | Path | None = None, max_requests: int | str | None = "auto",
                 angles: bool = True, contrast: bool = True, echo_items: str = "keep", refill: int = 1,
                 mode: str = "rewrite") -> None:
        f = "LLMGenerator"
        self.llm = check_type("llm", llm, LLMConfig, func=f)
        self.journal_path = check_type("journal_path", journal_path, (str, Path), func=f)
        self.lines_per_request = check_int("lines_per_request", lines_per_request, 1, 500, func=f)
        self.persona_strategy = check_in("persona_strategy", persona_strategy, ASSIGN_STRATEGIES, func=f)
        self.real = None if real is None else check_type("real", real, pd.DataFrame, func=f)
        self.n_examples = check_int("n_examples", n_examples, 0, None, func=f)
        self.template_dir = None if template_dir is None else check_type("template_dir", template_dir, (str, Path), func=f)
        self.dry_run = check_type("dry_run", dry_run, bool, func=f)
        self.batch_export = None if batch_export is None else check_type("batch_export", batch_export, (str, Path), func=f)
        if max_requests is not None and max_requests != "auto":
            check_int("max_requests", max_requests, 1, func=f)
        self.max_requests = max_requests
        self.angles = check_type("angles", angles, bool, func=f)
        self.contrast = check_type("contrast", contrast, bool, func=f)
        self.echo_items = check_in("echo_items", echo_items, ("keep", "reject"), func=f)
        self.refill = check_int("refill", refill, 0, 5, func=f)
        self.mode = check_in("mode", mode, MODES, func=f)

    def generate(self, notes: pd.DataFrame, plan: pd.DataFrame, *, language: str, seed: int = 0, personas: Any = None,
                 hierarchy: Any = None, target_level: str = "section", progress: bool = True) -> GenerationResult:
        llm = self.llm
        asked = plan
        rewrite = self.mode == "rewrite"
        plan = cap_requests(plan, lines_per_request=self.lines_per_request, notes=notes,
                            max_requests=None if rewrite else self.max_requests)
        capped = [{"code": str(r.code), "reason": str(r.capped_reason)} for r in plan.itertuples(index=False) if r.capped_reason]
        pool = seed_pool(notes, asked, language=language, seed=seed, hierarchy=hierarchy,
                         target_level=target_level) if rewrite else None
        used: dict[str, int] = {}  # seeds of the pool already given to a request, per code

        def requests_for(p: pd.DataFrame, offsets: dict[str, int] | None = None) -> list[Request]:
            seeds = None if pool is None else {str(c): pool[str(c)][used.get(str(c), 0):] for c in p["code"]}
            reqs = build_requests(notes, p, llm=llm, language=language, lines_per_request=self.lines_per_request,
                                  seed=seed, personas=personas, persona_strategy=self.persona_strategy, real=self.real,
                                  n_examples=self.n_examples, template_dir=self.template_dir, hierarchy=hierarchy,
                                  angles=self.angles, contrast=self.contrast, offsets=offsets, seeds=seeds)
            for r in reqs if seeds is not None else ():
                used[str(r.metadata["code"])] = used.get(str(r.metadata["code"]), 0) + int(r.metadata["n_lines"])
            return reqs

        requests = requests_for(plan)
        empty = pd.DataFrame(columns=OUTPUT_COLUMNS)
        if self.dry_run:
            est = llm_dry_run(requests, config=llm)
            estimate = {k: getattr(est, k) for k in ("requests", "cached", "to_send", "prompt_tokens", "completion_tokens",
                                                     "cost", "method")}
            return GenerationResult(lines=empty, stats={"generator": self.name, "dry_run": {**estimate, "summary": str(est)}})
        journal = Journal(self.journal_path)
        if self.batch_export is not None:
            try:
                pending = register_requests(requests, config=llm, journal=journal)
                n = export_batch(journal, self.batch_export)
            finally:
                journal.close()
            files = [str(f) for f in batch_paths(self.batch_export, n)] if n else []
            return GenerationResult(lines=empty, stats={"generator": self.name, "requests": len(requests), "pending": pending,
                                                        "batch_export": {"requests": n, "files": files}})
        refill: dict[str, Any] = {"rounds": 0, "requests": 0, "lines": 0}
        summed = ("cached", "sent", "succeeded", "failed", "retries", "rate_limited", "prompt_tokens", "completion_tokens",
                  "cost", "elapsed", "timeouts", "usage_estimated")
        try:
            parser = _parser(True, llm.json_output, self.echo_items)
            run = run_requests(requests, config=llm, journal=journal, progress=progress, parser=parser)

            def collect(reqs: list[Request]) -> tuple[pd.DataFrame, pd.DataFrame]:
                return lines_from_journal(reqs, journal, model=llm.model, temperature=llm.temperature, seed=seed,
                                          json_output=llm.json_output, echo_items=self.echo_items)

            lines, rejected = collect(requests)
            first = len(lines)
            for _ in range(self.refill):
                short = refill_plan(plan, lines, rejected)
                if short.empty:
                    break
                done = pd.Series([str(r.metadata["code"]) for r in requests]).value_counts().to_dict()
                extra = requests_for(short, offsets=done)
                more = run_requests(extra, config=llm, journal=journal, progress=progress, parser=parser).to_dict()
                requests += extra
                refill["rounds"] += 1
                refill["requests"] += len(extra)
                for k in summed:
                    refill[k] = refill.get(k, 0) + (more.get(k) or 0)
                lines, rejected = collect(requests)
            refill["lines"] = len(lines) - first
        finally:
            journal.close()
        stats = run.to_dict()
        for k in summed:  # the totals include the top-ups; stats["refill"] has their share
            if k in refill and isinstance(stats.get(k), (int, float)):
                stats[k] += refill[k]
        stats.update({"generator": self.name, "model": llm.model, "requests": len(requests), "lines": len(lines),
                      "capped": capped, "refill": refill, "mode": self.mode})
        if rewrite:
            stats["echo_seed"] = int(copies_seed(lines, {r.key: r.metadata.get("seeds") or () for r in requests}).sum())
        shortfall = shortfall_table(asked, lines, rejected, reason="the model returned fewer lines")
        why = {c["code"]: f"capped: {c['reason']}" for c in capped}
        for r in asked.itertuples(index=False) if pool is not None else ():
            if len(pool[str(r.code)]) < int(r.n_samples):
                why[str(r.code)] = f"rewrite: the offline generator gives {len(pool[str(r.code)])} seed lines"
        shortfall["reason"] = [f"{why[c]}; {r}" if c in why else r for c, r in zip(shortfall["code"], shortfall["reason"])]
        return GenerationResult(lines=lines, rejected=rejected, stats=stats, shortfall=shortfall)


def refill_plan(plan: pd.DataFrame, lines: pd.DataFrame, rejected: pd.DataFrame) -> pd.DataFrame:
    """The top-up plan: for each code of ``plan`` (``target, code, n_samples``) that got fewer ``lines`` than
    asked and none of whose requests failed (``rejected`` reason ``request_*``), the missing number of lines."""
    got = lines["code"].astype(str).value_counts() if len(lines) else pd.Series(dtype=int)
    failed = set(rejected.loc[rejected["reason"].astype(str).str.startswith("request_"), "code"].astype(str)) if len(rejected) else set()
    asked = plan.assign(code=plan["code"].astype(str)).groupby(["target", "code"], sort=False, as_index=False)["n_samples"].sum()
    asked["n_samples"] = [int(n) - int(got.get(c, 0)) for c, n in zip(asked["code"], asked["n_samples"])]
    return asked[(asked["n_samples"] > 0) & ~asked["code"].isin(failed)].reset_index(drop=True)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _persona_records(personas: Any) -> list[Any]:
    """Accept a DataFrame of personas or a list of Persona records; return Persona records."""
    if personas is None:
        return []
    if isinstance(personas, pd.DataFrame):
        return list(personas_from_frame(personas))
    return list(personas)


def build_requests(
    notes: pd.DataFrame,
    plan: pd.DataFrame,
    *,
    llm: LLMConfig,
    language: str,
    lines_per_request: int = 20,
    seed: int = 0,
    personas: Any = None,
    persona_strategy: str = "round_robin",
    real: pd.DataFrame | None = None,
    n_examples: int = 3,
    template_dir: str | Path | None = None,
    hierarchy: Any = None,
    angles: bool = True,
    contrast: bool = True,
    offsets: dict[str, int] | None = None,
    seeds: dict[str, list[str]] | None = None,
) -> list[Request]:
    """Build one LLM request per chunk of ``lines_per_request`` lines of every planned code.

    In: notes (one row per code), plan (``target, code, n_samples``), ``llm`` (an
    ``llm.LLMConfig``: model, sampling parameters, ``json_output``). ``angles``: the i-th request of
    a code is about :func:`~statcodgen.generation.prompts.request_angle` (the whole note, then one
    item each); ``contrast``: the prompts name the sibling codes' titles. Out: a list of
    ``llm.Request`` whose ``key`` is deterministic (model, messages, parameters, seed, sample
    index) and whose ``metadata`` carries ``code``, ``label``, ``persona_id``, ``prompt_id``,
    ``n_lines``, ``request_index`` (the rank among the code's requests), ``focus`` and ``note_items``
    (the title and items an answer may copy). ``offsets``: code -> requests it already had (a top-up's
    requests continue the code's angles and indices). ``seeds``: code -> lines to paraphrase (the rewrite
    mode, :mod:`statcodgen.generation.rewrite`): each request takes the next ``n_lines`` of them (a code
    gets at most as many lines as it has seeds), ``metadata["seeds"]`` holds them and no angle is used.
    """
    check_int("lines_per_request", lines_per_request, 1, 500, func="build_requests")
    by_code = notes.drop_duplicates("code").set_index("code", drop=False)
    missing = sorted(set(plan["code"]) - set(by_code.index))
    if missing:
        raise ConfigError(f"The 'plan' parameter of build_requests names codes that are not in the notes: {missing[:10]}.")
    plist = _persona_records(personas)
    wanted = [int(n) if seeds is None else min(int(n), len(seeds.get(str(c)) or ()))
              for c, n in zip(plan["code"], plan["n_samples"])]
    n_requests_per_code = [math.ceil(n / lines_per_request) for n in wanted]
    total = sum(n_requests_per_code)
    persona_ids: list[str | None] = [None] * total
    if plist:
        request_codes = [(str(row.code), str(by_code.loc[row.code].get("section", "") or ""))
                         for row, n_req in zip(plan.itertuples(index=False), n_requests_per_code) for _ in range(n_req)]
        persona_ids = list(assign_personas(total, plist, strategy=persona_strategy, seed=seed, codes=request_codes))
    persona_by_id = {p.id: p for p in plist}
    pid = prompt_id_for(language=language, template_dir=template_dir, json_output=llm.json_output, rewrite=seeds is not None)
    requests = []
    k = 0
    for row, n_req, remaining in zip(plan.itertuples(index=False), n_requests_per_code, wanted):
        note = by_code.loc[row.code]
        code_seeds = None if seeds is None else list(seeds.get(str(row.code)) or ())
        examples: Any = ()
        if real is not None and n_examples > 0:
            examples = examples_from_real(real, row.code, hierarchy, k=n_examples, seed=seed)
        items = note_angles(note)
        note_items = [str(note.get("title") or ""), *items]
        start = int((offsets or {}).get(str(row.code), 0))
        for i in range(start, start + n_req):
            n_lines = min(lines_per_request, remaining)
            chunk = [] if code_seeds is None else code_seeds[: n_lines]
            code_seeds = None if code_seeds is None else code_seeds[n_lines:]
            remaining -= n_lines
            focus = request_angle(items, i) if angles and seeds is None else ""
            persona = persona_by_id.get(persona_ids[k]) if persona_ids[k] else None
            messages = build_messages(note, language=language, n_lines=n_lines, examples=examples, persona=persona,
                                      json_output=llm.json_output, template_dir=template_dir, hierarchy=hierarchy,
                                      request_index=i, focus=focus, contrast=contrast, seeds=chunk)
            meta = {"code": row.code, "label": row.target, "persona_id": persona_ids[k] or "", "prompt_id": pid,
                    "n_lines": n_lines, "request_index": i, "focus": focus, "note_items": note_items,
                    **({"seeds": chunk} if seeds is not None else {})}
            requests.append(make_request(messages, config=llm, seed=seed, sample_index=i, metadata=meta))
            k += 1
    return requests


def _parser(uppercase: bool, json_output: bool, echo_items: str = "keep") -> Callable[[str, Request], ParseResult]:
    """Parser given to the LLM run: strips echoes of the request's own user prompt too (instructions,
    examples); a copy of a note item or the title (``metadata["note_items"]``) follows ``echo_items``; a
    copy of a rewrite request's seed (``metadata["seeds"]``) too (rejected as ``echo_seed``)."""
    def parse(content: str, request: Request) -> ParseResult:
        seeds = request.metadata.get("seeds") or ()
        prompt_lines = [line for m in request.messages if m["role"] == "user" for line in str(m["content"]).splitlines()]
        prompt_lines = without_seed_lines(prompt_lines, seeds) if seeds else prompt_lines  # echo_seed, not echo_prompt
        parsed = format_output(content, uppercase=uppercase, prompt_lines=prompt_lines, json_expected=json_output,
                               note_items=request.metadata.get("note_items") or (), echo_items=echo_items)
        return drop_seed_echoes(parsed, seeds) if seeds and echo_items == "reject" else parsed

    return parse


def _iso(ts: Any) -> str:
    try:
        return datetime.fromtimestamp(float(ts), tz=timezone.utc).isoformat(timespec="seconds")
    except (TypeError, ValueError):
        return _now()


def lines_from_journal(
    requests: list[Request],
    journal: Journal,
    *,
    model: str,
    temperature: float | None,
    seed: int,
    json_output: bool = False,
    uppercase: bool = True,
    echo_items: str = "keep",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Turn the journal's answers for ``requests`` into (lines, rejected) DataFrames.

    Lines parsed when the answer arrived are used as stored; answers imported without parsing
    (e.g. from a Batch API results file) are parsed now. Requests that never succeeded appear in
    ``rejected`` with reason ``request_<status>`` and the journal's error text; lines the parser
    removed appear with the parser's reason. A line equal (:func:`~statcodgen.llm.parsing.echo_key`) to an
    earlier line of the same code, in the same answer or another one, is ``repeated_line``: the cleaning would
    drop it as a duplicate, so it is not counted as a line the code got and a top-up round asks for it again.
    """
    records = journal.records()
    by_key = records.drop_duplicates("key").set_index("key") if len(records) else pd.DataFrame()
    parse = _parser(uppercase, json_output, echo_items)
    rows: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()  # (code, echo_key) of the lines kept so far
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
            key = (str(meta["code"]), echo_key(line))
            if key in seen:
                rejected.append({"code": meta["code"], "request_key": req.key, "text": line, "reason": "repeated_line",
                                 "raw": line})
                continue
            seen.add(key)
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


