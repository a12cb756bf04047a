"""``statcodgen generate``: synthetic lines for target labels, offline or from an OpenAI-compatible endpoint.

In: the notes (``--notes`` / ``--fetch-notes``), the targets and the plan options, the backend and its
endpoint options; with ``--real FILE``, labelled real rows whose lines the LLM prompts show as examples
(``--n-examples``, 3 by default: the setting that scored best with a real weak model, BENCHMARKS.md §12).
Out: the lines at ``--out`` and the rejected answers beside it (``<stem>.rejected.<ext>``). The CLI parses,
calls :func:`statcodgen.generation.generate` and prints.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import ConfigError

__all__: list[str] = []


def add_generate_parser(sub: Any, add_notes_args: Callable[[argparse.ArgumentParser], None], cmd: Callable[..., int]) -> None:
    """Register ``generate`` on the CLI's subparsers (``add_notes_args`` adds ``--notes`` / ``--fetch-notes``)."""
    g = sub.add_parser("generate", help="generate synthetic lines for target labels")
    add_notes_args(g)
    g.add_argument("--targets", nargs="+", required=True, help="target labels, e.g. B O T U")
    g.add_argument("--level", default="section")
    g.add_argument("--n-per-target", type=int, default=800)
    g.add_argument("--min-per-code", type=int, default=5)
    g.add_argument("--weight", choices=["uniform", "richness"], default="richness")
    g.add_argument("--backend", choices=["offline", "openai"], default="offline")
    g.add_argument("--language", help="template language (fr, en, es); default: the notes' language")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--personas", type=int, default=0, help="condition on N sampled personas")
    g.add_argument("--persona-locale", default="en_GB")
    g.add_argument("--persona-strategy", default="round_robin", choices=["round_robin", "random", "stratified", "matched"],
                   help="how personas are assigned to requests (matched: a persona whose business context fits the code)")
    g.add_argument("--persona-file", help="condition on a persona collection (Nemotron-Personas parquet, Persona Hub JSONL, CSV/parquet with a text column)")
    g.add_argument("--real", metavar="FILE", help="labelled real rows (csv/parquet/xlsx with text and code columns): the LLM "
                   "prompts show --n-examples of them as examples (rows of the code, else of its neighbours)")
    g.add_argument("--text-column", default="text", help="text column of --real")
    g.add_argument("--code-column", default="code", help="code column of --real")
    g.add_argument("--n-examples", type=int, default=3, help="real examples per prompt when --real is given (0: note-only prompts)")
    g.add_argument("--template-dir", metavar="DIR", help="prompt templates replacing the built-in ones (same file names)")
    g.add_argument("--mode", choices=("write", "rewrite"),
                   help="rewrite (default): the model rewrites the offline generator's lines in a declarant's words, so "
                        "they stay on the class; write: new lines from the note (a model that knows more than the notes)")
    g.add_argument("--refill", type=int, default=1, metavar="ROUNDS",
                   help="rounds of top-up requests for the lines the model did not write (0: none; default 1)")
    g.add_argument("--base-url", action="append", metavar="URL[@N]",
                   help="OpenAI-compatible endpoint, e.g. http://localhost:8000/v1; repeat for several servers, "
                        "URL@N caps that server at N requests at once")
    g.add_argument("--adaptive", action="store_true", help="AIMD concurrency: halve on 429, grow back slowly")
    g.add_argument("--model")
    g.add_argument("--api-key-env", default="OPENAI_API_KEY", help="name of the environment variable holding the key")
    g.add_argument("--concurrency", type=int, default=8)
    g.add_argument("--temperature", type=float, default=0.9)
    g.add_argument("--max-cost", type=float)
    g.add_argument("--lines-per-request", type=int, default=20)
    g.add_argument("--json", action="store_true", help="ask for JSON: exactly --lines-per-request lines (text if refused)")
    g.add_argument("--timeout", type=number, default="auto", metavar="SECONDS|auto",
                   help="wait before retrying (auto: 900 s local/LAN server, 120 s hosted API); with --stream, between chunks")
    g.add_argument("--max-tokens", type=int, metavar="N", help="cap on the tokens of each answer")
    g.add_argument("--max-retries", type=int, metavar="N", help="retries after the first attempt (default 6)")
    g.add_argument("--stream", action="store_true", help="stream answers: the timeout applies between chunks")
    g.add_argument("--journal", help="SQLite journal (default: next to --out)")
    g.add_argument("--dry-run", action="store_true", help="print requests, tokens and cost estimate; send nothing")
    g.add_argument("--batch-export", metavar="JSONL", help="write the requests as OpenAI Batch API input instead of sending them")
    g.add_argument("--out", required=True, help="output .parquet or .csv")
    g.set_defaults(func=cmd)


def number(value: str) -> int | float | str:
    """A command-line value as an int, else a float, else the string itself (e.g. ``auto``)."""
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


def endpoints(values: list[str] | None, concurrency: int) -> str | list[dict[str, Any]]:
    """``--base-url`` values (``URL`` or ``URL@N`` for a per-endpoint concurrency of N) -> LLMConfig.base_url."""
    if not values:
        raise ConfigError("--backend openai needs --base-url (an OpenAI-compatible endpoint, e.g. http://localhost:8000/v1).")
    out = []
    for v in values:
        url, _, n = v.rpartition("@")
        if "/" in n:  # the "@" belongs to the URL itself (user@host), not a concurrency suffix
            url, n = v, ""
        if n and not n.isdigit():
            raise ConfigError(f"--base-url {v!r}: expected URL or URL@N with N a positive integer (the endpoint's concurrency).")
        out.append({"base_url": url, "concurrency": int(n) if n else concurrency})
    return out[0]["base_url"] if len(out) == 1 and out[0]["concurrency"] == concurrency else out


def cmd_generate(args: argparse.Namespace, *, notes: pd.DataFrame, read_real: Callable[[str, Any], pd.DataFrame]) -> int:
    """Run the command (``notes`` come from the CLI; ``read_real(path, hierarchy)`` reads ``--real``)."""
    import warnings

    from .classification import Hierarchy
    from .generation import LLMGenerator, OfflineGenerator, generate, generation_plan, write_generated
    from .llm import LLMConfig, LLMTimeoutWarning
    from .study import make_personas

    h = Hierarchy.from_notes(notes)
    plan = generation_plan(notes, targets=args.targets, n_per_target=args.n_per_target, level=args.level, min_per_code=args.min_per_code, weight=args.weight)
    personas = None
    if args.persona_file or args.personas:
        personas = make_personas(path=args.persona_file, n=args.personas, locale=args.persona_locale, seed=args.seed)
    generator: Any = OfflineGenerator()
    journal = args.journal or str(Path(args.out).with_suffix(".journal.sqlite"))
    if args.backend != "openai" and (args.dry_run or args.batch_export or args.real or args.template_dir or args.mode):
        raise ConfigError("--dry-run, --batch-export, --real, --template-dir and --mode are options of LLM requests: they need "
                          "--backend openai (the offline generator sends nothing and shows no examples).")
    if args.template_dir and not Path(args.template_dir).is_dir():
        raise ConfigError(f"--template-dir {args.template_dir!r}: not a folder (expected the prompt templates, *.j2).")
    if args.backend == "openai":
        llm = LLMConfig(
            base_url=endpoints(args.base_url, args.concurrency), model=args.model, api_key_env=args.api_key_env,
            concurrency=args.concurrency, temperature=args.temperature, max_cost=args.max_cost, adaptive=args.adaptive,
            json_output=args.json, timeout=args.timeout, max_tokens=args.max_tokens, stream=args.stream,
            **({} if args.max_retries is None else {"max_retries": args.max_retries}),
        )
        real = read_real(args.real, h) if args.real else None
        generator = LLMGenerator(llm, journal_path=journal, lines_per_request=args.lines_per_request, persona_strategy=args.persona_strategy,
                                 dry_run=args.dry_run, batch_export=args.batch_export, real=real, n_examples=args.n_examples,
                                 template_dir=args.template_dir, refill=args.refill, mode=args.mode or "rewrite")
    with warnings.catch_warnings():  # the engine logs this warning too: print it once, through logging
        warnings.simplefilter("ignore", LLMTimeoutWarning)
        res = generate(notes, plan, generator=generator, language=args.language, seed=args.seed, personas=personas,
                       hierarchy=h, target_level=args.level)
    if args.dry_run:
        print(res.stats["dry_run"]["summary"])
        return 0
    if args.batch_export:
        b = res.stats["batch_export"]
        print(f"{b['requests']:,} pending requests written as OpenAI Batch API input: {', '.join(b['files']) or '(none)'}; "
              f"after `statcodgen batch-import {journal} RESULTS.jsonl`, re-run this command without --batch-export")
        return 0
    write_generated(res.lines, args.out)
    if len(res.rejected):
        write_generated(res.rejected.assign(label=""), Path(args.out).with_name(Path(args.out).stem + ".rejected" + Path(args.out).suffix))
    print(f"{len(res.lines):,} lines for {res.lines['label'].nunique() if len(res.lines) else 0} labels written to {args.out}; {len(res.rejected):,} rejected kept beside it")
    return 0
