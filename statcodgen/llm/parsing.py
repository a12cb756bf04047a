"""Turn a raw LLM answer into clean training lines, keeping every rejected line with a reason.

:func:`format_output` accepts a JSON answer (a list of strings, or an object with a ``lines`` /
``activities`` / ``items`` list) or free text, and strips what models add around the lines:
numbering (``1.``, ``1)``), bullets (``-``, ``*``, ``•``), markdown (bold, headers, code fences),
surrounding quotes, preambles in French, English and Spanish ("Voici ...", "Here are ...",
"Aquí tienes ..."), trailing dots, and lines that echo the prompt.

The echo rule (issue 12): a line that copies the prompt's instructions or examples is rejected as
``echo_prompt``; a line that copies one of the note's items or its title (``note_items``) is a
true line of the class (the naive-bullets baseline is nothing else), so by default it is kept
(``echo_items="keep"``); the cleaning stage's dedup then keeps one copy per code.
``echo_items="reject"`` restores the old rule (such a line rejected as ``echo_prompt``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from ..text.normalize import strip_accents

__all__ = ["ParseResult", "format_output", "echo_key"]

_JSON_KEYS = ("lines", "activities", "activites", "activités", "items", "examples", "data", "result")

_FENCE = re.compile(r"^\s*```[\w-]*\s*$")
_BULLET = re.compile(r"^\s*(?:[-*•·–—+>]+|\(?\d{1,3}[.)\]:](?!\d)|\(?[a-zA-Z][.)](?=\s))\s*")
_HEADER = re.compile(r"^\s*#{1,6}\s*")
_MD = re.compile(r"(\*\*|__|\*|`)")
_QUOTES = "\"'«»“”‘’„`"
_PREAMBLE = re.compile(
    r"^\s*(?:"
    r"voici|voilà|voila|ci-dessous|bien sûr|bien sur|d'accord|certainement|"
    r"here (?:are|is)|sure[,!.]|certainly|below (?:are|is)|of course|okay|ok[,!.]|"
    r"aquí (?:tienes|tiene|están|está)|aqui (?:tienes|tiene|estan|esta)|claro|por supuesto|a continuación"
    r")\b",
    re.IGNORECASE,
)
_CLOSING = re.compile(
    r"^\s*(?:j'espère|n'hésitez|i hope|let me know|feel free|espero|no dudes)\b", re.IGNORECASE
)
_SPACES = re.compile(r"\s+")
_SENTENCE = re.compile(r"(?<=[.:!?])\s+")  # a prompt line's sentences are echoes on their own too


@dataclass
class ParseResult:
    """Clean ``lines`` (in answer order, duplicates kept) and ``rejected`` ``(line, reason)`` pairs.

    Reasons: ``empty``, ``preamble``, ``closing``, ``too_short``, ``echo_prompt``, ``not_text``.
    ``json`` tells whether the answer was read as JSON.
    """

    lines: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    json: bool = False


def echo_key(text: str) -> str:
    """The form an answer line and a prompt line are compared in: accents, case, punctuation and spacing dropped."""
    return _SPACES.sub(" ", re.sub(r"[^\w\s]", " ", strip_accents(text).lower())).strip()


def _json_items(raw: str) -> list[Any] | None:
    text = raw.strip()
    if text.startswith("```"):
        text = "\n".join(ln for ln in text.splitlines() if not _FENCE.match(ln))
    start = min((i for i in (text.find("["), text.find("{")) if i >= 0), default=-1)
    if start < 0:
        return None
    try:
        obj = json.loads(text[start:])
    except ValueError:
        try:
            obj, _ = json.JSONDecoder().raw_decode(text[start:])
        except ValueError:
            return None
    if isinstance(obj, dict):
        for k in _JSON_KEYS:
            if isinstance(obj.get(k), list):
                return obj[k]
        lists = [v for v in obj.values() if isinstance(v, list)]
        return lists[0] if len(lists) == 1 else None
    return obj if isinstance(obj, list) else None


def _similar(a: str, b: str, threshold: float) -> bool:
    n = len(a) + len(b)
    if n == 0 or 2 * min(len(a), len(b)) / n < threshold:  # ratio upper bound from lengths
        return False
    m = SequenceMatcher(None, a, b)
    return m.quick_ratio() >= threshold and m.ratio() >= threshold


def _clean(line: str, *, uppercase: bool) -> str:
    s = _HEADER.sub("", line)
    for _ in range(2):
        s = _BULLET.sub("", s, count=1)
    s = _MD.sub("", s).strip()
    while len(s) >= 2 and s[0] in _QUOTES and s[-1] in _QUOTES:
        s = s[1:-1].strip()
    s = s.strip(_QUOTES + " ").rstrip(" .;,").strip()
    s = _SPACES.sub(" ", s)
    return s.upper() if uppercase else s


def format_output(
    raw: str | None,
    *,
    uppercase: bool = True,
    prompt_lines: Iterable[str] = (),
    json_expected: bool = False,
    min_chars: int = 3,
    echo_similarity: float = 0.9,
    note_items: Iterable[str] = (),
    echo_items: str = "keep",
) -> ParseResult:
    """Parse ``raw`` (an LLM answer) into clean lines.

    JSON is tried first when ``json_expected`` or when the answer looks like JSON, with a fallback
    to one line per text line. ``prompt_lines`` are lines of the prompt (examples, note items):
    an answer line equal or nearly equal (ratio >= ``echo_similarity`` after normalisation) to one
    of them, or to one of their sentences, is rejected as ``echo_prompt``, unless it copies one of
    ``note_items`` (the note's title and items, which are prompt lines too) and ``echo_items="keep"``
    (the default): then it is kept. With ``echo_items="reject"`` a copy of a note item is an ``echo_prompt`` as well.
    Lines shorter than ``min_chars`` are rejected. Returns a :class:`ParseResult`; nothing is
    dropped silently.
    """
    if echo_items not in ("keep", "reject"):
        raise ValueError(f"The 'echo_items' parameter of format_output must be 'keep' or 'reject'. Got {echo_items!r} instead.")
    result = ParseResult()
    if raw is None or not str(raw).strip():
        result.rejected.append((raw or "", "empty"))
        return result
    raw = str(raw)
    candidates: list[Any] | None = None
    stripped = raw.lstrip()
    if json_expected or stripped.startswith(("[", "{", "```json")):
        candidates = _json_items(raw)
    if candidates is not None:
        result.json = True
    else:
        candidates = [ln for ln in raw.splitlines() if not _FENCE.match(ln)]
    items = {echo_key(p) for p in note_items if str(p).strip()} - {""}
    parts = [f for p in prompt_lines if str(p).strip() for f in [str(p), *_SENTENCE.split(str(p))]]
    echoes = {echo_key(f) for f in parts if f.strip()} | items
    if echo_items == "keep":
        echoes = {e for e in echoes if e not in items and not any(e.endswith(i) for i in items)}
    echo_list = [e for e in echoes if e]
    item_list = sorted(items) if echo_items == "keep" else []
    first_text = True
    for item in candidates:
        if isinstance(item, dict):
            vals = [v for v in item.values() if isinstance(v, str)]
            item = vals[0] if len(vals) == 1 else None
        if not isinstance(item, str):
            result.rejected.append((json.dumps(item, ensure_ascii=False) if item is not None else "", "not_text"))
            continue
        if not item.strip():
            if not result.json:
                continue  # blank separator lines of a text answer are not content
            result.rejected.append((item, "empty"))
            continue
        if first_text and not result.json and _PREAMBLE.match(item) and (item.rstrip().endswith(":") or len(candidates) > 1):
            result.rejected.append((item, "preamble"))
            first_text = False
            continue
        first_text = False
        if _CLOSING.match(item):
            result.rejected.append((item, "closing"))
            continue
        line = _clean(item, uppercase=uppercase)
        if not line:
            result.rejected.append((item, "empty"))
            continue
        if len(line) < min_chars:
            result.rejected.append((item, "too_short"))
            continue
        if line.endswith(":") and _PREAMBLE.match(line):
            result.rejected.append((item, "preamble"))
            continue
        if echo_list:
            key = echo_key(line)
            if item_list and (key in items or any(_similar(key, i, echo_similarity) for i in item_list)):
                result.lines.append(line)
                continue
            if key in echoes or any(_similar(key, e, echo_similarity) for e in echo_list):
                result.rejected.append((item, "echo_prompt"))
                continue
        result.lines.append(line)
    return result
