"""The rewrite mode of the LLM generator: the model paraphrases lines of the offline generator (issue 12).

In the default ``write`` mode a request gives the model a code's note and asks for N new lines; a weak
model drifts off the class (a 1.5B model put about 37 % of its lines in the right section). In the
``rewrite`` mode a request gives it N lines the offline generator wrote from the same note (the
*seeds*) and asks for each one in the words a declarant would use: the content stays on the class by
construction and the model adds the wording, abbreviations and the persona's style.

- :func:`seed_pool` -- the seeds of every planned code: the offline generator's lines for the plan, in
  its order, then a reserve of further distinct lines for the top-up requests;
- :func:`drop_seed_echoes` -- an answer line equal to one of its request's seeds (after normalisation)
  is no paraphrase: it is moved to the rejected lines as ``echo_seed`` (the offline generator alone gives
  it), with its raw text;
- :func:`without_seed_lines` -- a request's prompt lines minus those that list a seed (the echo rule of
  the parser must not take a copy of a seed for a copy of the instructions);
- :func:`copies_seed` -- which lines copy one of their request's seeds (``stats["echo_seed"]``).

The requests themselves are built by :func:`statcodgen.generation.generators.build_requests` with its
``seeds`` argument (prompt ``rewrite_user.<lang>.j2``, :func:`statcodgen.generation.prompts.build_messages`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from ..cleaning.stage import clean
from ..llm.parsing import ParseResult, echo_key
from .offline import generate_offline

__all__ = ["MODES", "RESERVE_FACTOR", "seed_pool", "drop_seed_echoes", "without_seed_lines", "copies_seed"]

#: How :class:`~statcodgen.generation.generators.LLMGenerator` asks for lines: ``write`` new ones from the
#: note, or ``rewrite`` the offline generator's.
MODES = ("write", "rewrite")
#: The pool holds up to this many times a code's planned lines: the rest are the top-ups' seeds.
RESERVE_FACTOR = 2


def _spaced(text: Any) -> str:
    return " ".join(str(text).split())


def seed_pool(notes: pd.DataFrame, plan: pd.DataFrame, *, language: str, seed: int = 0, hierarchy: Any = None,
              target_level: str = "section") -> dict[str, list[str]]:
    """The seeds of every code of ``plan`` (``target, code, n_samples``): code -> list of lines.

    In: the notes (:func:`statcodgen.sources.load_notes`), the plan, the language, seed, hierarchy and
    target level the offline generator takes. Out: for each code, first the offline generator's lines
    for ``n_samples`` (what ``generator="offline"`` writes, in its order), then up to ``(RESERVE_FACTOR - 1)
    x n_samples`` further lines of a larger plan, the seeds of top-up requests. Only the lines the cleaning
    stage keeps are seeds (:func:`statcodgen.cleaning.clean` with its default filters and deduplication
    over the whole pool, no real data): a seed the cleaning would drop (a near duplicate of another seed, an
    exact one in another code, a one-word or excluded line) would cost a request line whose copy or
    paraphrase is dropped too. A code whose notes give fewer lines has a shorter list (its shortfall).
    Deterministic for a seed, so the requests built on it have the same keys on a resumed run.
    """
    main = generate_offline(notes, plan, language=language, seed=seed, hierarchy=hierarchy, target_level=target_level)
    big = plan.assign(n_samples=[int(n) * RESERVE_FACTOR for n in plan["n_samples"]])
    quiet = logging.getLogger("statcodgen")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # the reserve's own shortfall is not the run's: the pool's length tells it
    try:
        reserve = generate_offline(notes, big, language=language, seed=seed, hierarchy=hierarchy, target_level=target_level)
    finally:
        quiet.setLevel(level)
    both = pd.concat([main, reserve], ignore_index=True)
    both = both[~pd.Series(list(zip(both["code"].astype(str), both["text"].map(echo_key))), index=both.index).duplicated()]
    kept = clean(both, notes=notes, language=language, progress=False).kept.sort_index()  # the first copy stays first
    pool: dict[str, list[str]] = {}
    for code, text in zip(kept["code"].astype(str), kept["text"]):
        if _spaced(text):
            pool.setdefault(code, []).append(_spaced(text))
    return {str(c): pool.get(str(c), []) for c in plan["code"]}


def drop_seed_echoes(parsed: ParseResult, seeds: Sequence[str]) -> ParseResult:
    """``parsed`` with every line equal to one of ``seeds`` (compared by
    :func:`statcodgen.llm.parsing.echo_key`) moved to ``rejected`` as ``echo_seed``; the other lines and
    rejects are kept as they were."""
    keys = {echo_key(s) for s in seeds}
    out = ParseResult(rejected=list(parsed.rejected), json=parsed.json)
    for line in parsed.lines:
        if echo_key(line) in keys:
            out.rejected.append((line, "echo_seed"))
        else:
            out.lines.append(line)
    return out


def without_seed_lines(prompt_lines: Iterable[str], seeds: Sequence[str]) -> list[str]:
    """``prompt_lines`` without the lines that list one of ``seeds`` ("3. COAL MINING", "- COAL MINING": a
    leading list number or bullet is ignored), whatever way the template numbers them."""
    keys = {echo_key(s) for s in seeds}
    return [line for line in prompt_lines if re.sub(r"^\d+ ", "", echo_key(line)) not in keys]


def copies_seed(lines: pd.DataFrame, seeds: Mapping[str, Iterable[str]]) -> pd.Series:
    """For each of ``lines`` (``text, request_key``), whether it copies one of the seeds of its request
    (``seeds``: request key -> the seeds it gave; a key without seeds copies nothing). Boolean, same index."""
    keys = {k: {echo_key(s) for s in v} for k, v in seeds.items()}
    return pd.Series([echo_key(t) in keys.get(k, ()) for t, k in zip(lines["text"].astype(str), lines["request_key"])],
                     index=lines.index, dtype=bool)
