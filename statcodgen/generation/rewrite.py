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
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from .._validation import check_int
from ..cleaning.stage import clean
from ..llm.parsing import ParseResult, echo_key
from ..text.languages import get_language
from .offline import generate_offline

__all__ = ["MODES", "RESERVE_FACTOR", "seed_pool", "spread", "drop_seed_echoes", "without_seed_lines", "copies_seed"]

#: How :class:`~statcodgen.generation.generators.LLMGenerator` asks for lines: ``write`` new ones from the
#: note, or ``rewrite`` the offline generator's.
MODES = ("write", "rewrite")
#: The pool holds up to this many times a code's planned lines: the rest are the top-ups' seeds.
RESERVE_FACTOR = 2


def _spaced(text: Any) -> str:
    return " ".join(str(text).split())


def seed_pool(notes: pd.DataFrame, plan: pd.DataFrame, *, language: str, seed: int = 0, hierarchy: Any = None,
              target_level: str = "section", window: int | None = None) -> dict[str, list[str]]:
    """The seeds of every code of ``plan`` (``target, code, n_samples``): code -> list of lines.

    In: the notes (:func:`statcodgen.sources.load_notes`), the plan, the language, seed, hierarchy and
    target level the offline generator takes. Out: for each code, first the offline generator's lines
    for ``n_samples`` (what ``generator="offline"`` writes, in its order), then up to ``(RESERVE_FACTOR - 1)
    x n_samples`` further lines of a larger plan, the seeds of top-up requests. Only the lines the cleaning
    stage keeps are seeds (:func:`statcodgen.cleaning.clean` with its default filters and deduplication
    over the whole pool, no real data): a seed the cleaning would drop (a near duplicate of another seed, an
    exact one in another code, a one-word or excluded line) would cost a request line whose copy or
    paraphrase is dropped too. ``window`` (the lines per request): each part of the list (the plan's
    lines, the reserve) is put in :func:`spread` order, so that one request does not hold two variants of
    the same words ("CONSULAR OFFICE", "CONSULAR OFFICE (ACTIVITIES)"), which a weak model merges into one
    line or rewrites into the same one. A code whose notes give fewer lines has a shorter list (its
    shortfall). Deterministic for a seed, so the requests built on it have the same keys on a resumed run.
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
    both = pd.concat([main.assign(_part=0), reserve.assign(_part=1)], ignore_index=True)
    both = both[~pd.Series(list(zip(both["code"].astype(str), both["text"].map(echo_key))), index=both.index).duplicated()]
    kept = clean(both, notes=notes, language=language, progress=False).kept.sort_index()  # the first copy stays first
    parts: dict[str, tuple[list[str], list[str]]] = {}
    for code, text, part in zip(kept["code"].astype(str), kept["text"], kept["_part"]):
        if _spaced(text):
            parts.setdefault(code, ([], []))[int(part)].append(_spaced(text))
    pool: dict[str, list[str]] = {}
    for code, (first, rest) in parts.items():
        pool[code] = spread(first, language=language, window=window) if window else first
        pool[code] += spread(rest, language=language, window=window, before=pool[code]) if window else rest
    return {str(c): pool.get(str(c), []) for c in plan["code"]}


def _content(text: str, language: str) -> frozenset[str]:
    pack = get_language(language)
    stem = pack.stemmer().stemWord
    skip = pack.stop_words | pack.generic_words
    return frozenset(stem(w) for w in echo_key(text).split() if w not in skip and not w.isdigit())


def spread(lines: Sequence[str], *, language: str, window: int, before: Sequence[str] = (),
           similar: float = 0.5) -> list[str]:
    """``lines`` reordered so that no two of any ``window`` consecutive lines (the last ones of ``before``
    included) share most of their content words: stems of the words that are neither stop words nor generic
    words of the language pack ("activities", "services") nor in 40 % or more of ``lines`` when there are ten
    or more ("household" in every line of 97.00), Jaccard >= ``similar``. Greedy and stable: each position takes the first line
    left that differs from the ``window - 1`` lines before it, or the first line left when none does. Out:
    the same lines, each once."""
    check_int("window", window, 1, func="spread")
    words = [_content(t, language) for t in lines]
    df = Counter(w for ws in words for w in ws)
    common = {w for w, n in df.items() if len(lines) >= 10 and n >= 0.4 * len(lines)}
    words = [ws - common for ws in words]
    recent = [_content(t, language) - common for t in list(before)[-(window - 1):]] if window > 1 else []
    left, out = list(range(len(lines))), []

    def close(a: frozenset[str], b: frozenset[str]) -> bool:
        return bool(a | b) and len(a & b) / len(a | b) >= similar

    while left:
        pick = next((i for i in left if not any(close(words[i], r) for r in recent)), left[0])
        left.remove(pick)
        out.append(lines[pick])
        recent = (recent + [words[pick]])[-(window - 1):] if window > 1 else []
    return out


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
