"""The offline generator's lines for one code: candidate lines from its note items, without the
Not-includes, the prose items and the title's pieces (pure functions over the machinery of
:mod:`statcodgen.generation.offline_phrases`).

In: a code's title pieces and Includes / Also-includes items (raw note text), its Excludes items.
Out: ``(group, line)`` pairs, lowercase.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..text.languages import Lexicon, see_pattern
from .offline_phrases import LEXICON, _clean, _explode, _lines, _norm_apostrophes, _object_variants, _pack, _parse, _split_top

__all__ = ["candidate_lines", "prose_items", "title_context", "title_items"]


def title_context(title: str, lex: Lexicon) -> str:
    """The holder named by a title ("... of private households for own use" -> "private households")."""
    _, objects = _parse(_clean(title, lex), lex)
    if not objects:
        return ""
    variants = _object_variants(objects[0], lex, _pack(lex).code, head_word=False)
    return variants[1] if len(variants) > 1 else ""


def candidate_lines(items: Sequence[str], *, language: str, max_words: int = 8,
                    context_items: Sequence[str] = (), context: str = "",
                    excluded: Sequence[str] = (), heads: frozenset[str] | None = None) -> list[tuple[str, str]]:
    """Every distinct line the generator can write for one code, as ``(group, line)`` pairs.

    ``items`` are the code's title pieces and Includes / Also-includes items (raw note text);
    ``group`` identifies the object a line talks about (used to spread the sample evenly).
    ``context_items`` are activities found in prose (e.g. "cooking"), written alone and, when
    ``context`` (the holder named by the title) is given, as "{context} {item}" / "{item} ({context})".
    ``excluded`` (the code's Not-includes items): their phrases and bare objects are never written.
    ``heads`` (:func:`statcodgen.text.languages.head_words` of the code's notes): a one-word line
    must be one of them (without: only the pack's generic words are refused). Every line ends at a
    phrase boundary (:func:`statcodgen.text.languages.line_problem` finds nothing wrong with it).
    Lines are lowercase here; :func:`~statcodgen.generation.offline.generate_offline` uppercases them.
    """
    lex = LEXICON[language]
    seen = _lines(items, lex, language, max_words, context_items, context, heads=heads)
    banned = _excluded_lines(excluded, lex, language, max_words)
    return [(g, line) for line, g in seen.items() if line not in banned]


def _excluded_lines(excluded: Sequence[str], lex: Lexicon, language: str, max_words: int) -> set[str]:
    """Every line the Not-includes items would give, and their bare objects: never written for this code."""
    items = [see_pattern(tail=True).sub("", _norm_apostrophes(str(i))) for i in excluded]
    out: set[str] = set(_lines(items, lex, language, max_words, shorten=False)) if items else set()
    for item in items:
        for phrase, enum in _explode(item, lex):
            phrase = _clean(phrase, lex)
            out.add(phrase)
            for obj in _parse(phrase, lex)[1] + enum:
                out.update(_object_variants(obj, lex, language, head_word=False))
    return out


_PROSE_RE = re.compile(r"\b(?:activities|it|this \w+|which|they)\s+(?:also\s+)?(?:include|includes|comprise|cover|"
                       r"comprennent|comprend|incluent|comprenden|comprende|incluyen)[ \t]+(?P<list>[^.:\n]+)", re.I)


def prose_items(text: str, lex: Lexicon) -> list[str]:
    """Enumerations inside prose ("These activities include a, b and c.") as separate items."""
    out: list[str] = []
    for m in _PROSE_RE.finditer(_norm_apostrophes(str(text or ""))):
        body = m.group("list")
        if re.match(r"(the\s+)?(undifferentiated|activities)\b", body, re.I) and "," not in body:
            continue
        out.extend(p for p in _split_top(_clean(body, lex), [", ", *lex.splitters]) if 0 < len(p.split()) <= 6)
    return out


def title_items(title: str) -> list[str]:
    """A title split on ";" into activities ("Operation of pits; mining of clays" -> two items)."""
    title = _norm_apostrophes(str(title)).strip()
    return [p.strip() for p in re.split(r";", title) if p.strip()]
