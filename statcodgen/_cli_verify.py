"""``statcodgen verify``: the verification stage on a generated (or cleaned) file, from the command line.

In: the lines file (``text, code`` [``label``]), the notes, optionally the real training rows and an
LLM endpoint for the judge. Out: the verified lines at ``--out`` and, beside it,
``<stem>.dropped.parquet``, ``.relabelled.parquet``, ``.flagged.parquet``, ``.real_suspects.parquet``
and ``.stats.json``; a summary on stdout. The CLI parses, calls :func:`statcodgen.verification.verify`
and prints.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__: list[str] = []


def add_verify_parser(sub: Any, data_args: Callable[[argparse.ArgumentParser], None], cmd: Callable[..., int]) -> None:
    """Register ``verify`` on the CLI's subparsers (``data_args`` adds the notes/real-data options)."""
    v = sub.add_parser("verify", help="verify synthetic lines: out-of-fold classifier (cleanlab), notes, optional LLM judge")
    data_args(v)
    v.add_argument("--in", dest="input", required=True, help="generated or cleaned lines (text, code)")
    v.add_argument("--out", required=True, help="verified lines (parquet or csv); the other outcomes are written beside it")
    v.add_argument("--real-train", help="real training rows (text, code): judged too, and part of the evidence")
    v.add_argument("--targets", nargs="+", required=True, help="target labels at --level (relabels go only to targets)")
    v.add_argument("--judge-level", help="judge at this level (default: --level)")
    v.add_argument("--k", type=int, default=5, help="folds of the out-of-fold models")
    v.add_argument("--near-level", default="division", help="a relabel must stay within this ancestor")
    v.add_argument("--no-notes", action="store_true", help="skip the notes evidence")
    v.add_argument("--no-siblings", action="store_true",
                   help="judging codes finer than --near-level: skip the sibling evidence (a local model per division)")
    v.add_argument("--max-sibling-prob", type=float, default=None,
                   help="the sibling evidence acts on a line whose own code gets less than this (default: VerifyOptions', 0.3)")
    v.add_argument("--judge", action="store_true", help="also ask an LLM (same options as generate) to pick each line's code")
    v.add_argument("--base-url", default="http://127.0.0.1:8765/v1")
    v.add_argument("--model", default="qwen-1.5b")
    v.add_argument("--api-key-env", default="OPENAI_API_KEY")
    v.add_argument("--concurrency", type=int, default=4)
    v.add_argument("--timeout", type=float, default=900.0)
    v.set_defaults(func=cmd)


def _given(**kw: Any) -> dict[str, Any]:
    """The options the user gave (not None): the others keep :class:`VerifyOptions`' defaults."""
    return {k: v for k, v in kw.items() if v is not None}


def cmd_verify(args: argparse.Namespace, *, notes: Any, real: Any, hierarchy: Any, read_table: Callable[[str], Any]) -> int:
    """Run the command (``notes``, ``real`` rows with ``label`` or None, and the ``hierarchy`` come from the CLI)."""
    from .generation import write_generated
    from .llm import LLMConfig
    from .verification import VerifyOptions, verify

    lines = read_table(args.input)
    if "label" not in lines.columns:
        lines = hierarchy.with_labels(lines, args.level)
    out = Path(args.out)
    judge = LLMConfig(model=args.model, base_url=args.base_url, api_key_env=args.api_key_env, concurrency=args.concurrency,
                      timeout=args.timeout) if args.judge else None
    res = verify(lines, real_train=real, notes=notes, hierarchy=hierarchy, targets=list(args.targets), target_level=args.level,
                 language=args.language, options=VerifyOptions(level=args.judge_level, k=args.k, near_level=args.near_level,
                                                               notes=not args.no_notes, judge=args.judge, siblings=not args.no_siblings,
                                                               **_given(max_sibling_prob=args.max_sibling_prob)),
                 judge_config=judge, journal_path=out.with_name(out.stem + ".judge.sqlite"))
    write_generated(res.verified, out)
    from .cleaning import storable

    for name in ("dropped", "relabelled", "flagged", "real_suspects"):
        write_generated(storable(getattr(res, name)), out.with_name(f"{out.stem}.{name}.parquet"))
    out.with_name(out.stem + ".stats.json").write_text(json.dumps(res.stats, indent=2), encoding="utf-8")
    st = res.stats
    print(f"verified {st['verified']:,} of {st['lines']:,} lines -> {out}: {st['dropped']:,} dropped, {st['relabelled']:,} "
          f"relabelled, {st['flagged']:,} flagged; reasons {st['by_reason']}; {len(res.real_suspects):,} real rows look mislabelled")
    return 0
