"""Phrase machinery of the offline generator: from note items to candidate lines (pure functions).

An item is exploded into activity phrases (bullets, sub-bullets, ":" tails, "such as" enumerations,
";" lists), each phrase parsed into activity nouns and object noun phrases (coordinations split,
lone adjectives expanded, articles stripped), and every (activity, object) pair rendered with the
forms of its activity family in the language's :class:`statcodgen.text.languages.Lexicon` (the
``lexicon`` of its language pack). Lines are lowercase here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence

from ..text.languages import Lexicon, available_languages, get_language, see_pattern

__all__ = ["LEXICON", "candidate_lines", "prose_items", "title_context", "title_items"]


class _Lexicons(Mapping[str, Lexicon]):
    """Read-only ``{language: Lexicon}`` view of the language packs that have an offline lexicon."""

    def __getitem__(self, language: str) -> Lexicon:
        lex = get_language(language).lexicon if language in available_languages() else None
        if lex is None:
            raise KeyError(language)
        return lex

    def __iter__(self) -> Iterator[str]:
        return (code for code in available_languages() if get_language(code).lexicon is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)


#: The offline lexicon of every language that has one (``sorted(LEXICON)``: the offline languages).
LEXICON: Mapping[str, Lexicon] = _Lexicons()

_BULLET_RE = re.compile(r"(?:\n\s*[.•◦\-–*]\s+|\s[•◦]\s+|\s+[-–]\s+(?=[^\W\d]))")
_EXCEPT_RE = re.compile(r"\((?:except|excluding|other than|sauf|à l'exception|excepto|salvo)[^)]*\)", re.I)
_PAREN_RE = re.compile(r"\(([^()]*)\)")
_INTRO_RE = re.compile(
    r"^(this|these|cette|ce|cet|esta|este)\s+(class|group|division|section|item|sous-classe|classe|"
    r"groupe|subclase|clase|grupo|división)\s+(also\s+)?(includes?|comprend|comprenden?)\s*"
    r"(aussi|également|también)?\s*:?\s*", re.I)


def _norm_apostrophes(text: str) -> str:
    return text.replace("’", "'").replace("`", "'").replace("\u00a0", " ")


def _clean(text: str, lex: Lexicon) -> str:
    """Lowercase, drop cross-references, boilerplate, "except" brackets and edge punctuation."""
    t = _norm_apostrophes(str(text)).lower()
    t = _INTRO_RE.sub("", t.strip())
    t = re.sub(r"\b([\w]+)- (and|or|et|ou|y|o) ([\w]+)-([\w]+)", r"\1-\4 \2 \3-\4", t)
    t = re.sub(r",?\s*(that is to say|i\.e\.|c'est-à-dire|es decir)\b.*$", "", t)
    t = see_pattern(tail=True).sub("", t)
    t = _EXCEPT_RE.sub("", t)
    t = re.sub(r",?\s*(except|excluding|sauf|excepto)\b.*$", "", t)
    for phrase in lex.drop_phrases:
        t = re.sub(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)", " ", t)
    t = re.sub(r"\s+", " ", t)
    return t.strip(" .;:,-–•◦*\"'")


def _split_top(text: str, seps: Iterable[str]) -> list[str]:
    """Split ``text`` on any of ``seps`` outside parentheses; pieces stripped, empties dropped."""
    pattern = "|".join(re.escape(s) for s in sorted(seps, key=len, reverse=True))
    pieces, depth, start, i = [], 0, 0, 0
    matcher = re.compile(pattern)
    while i < len(text):
        ch = text[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif depth == 0:
            m = matcher.match(text, i)
            if m and m.end() > i:
                pieces.append(text[start:i])
                start = i = m.end()
                continue
        i += 1
    pieces.append(text[start:])
    return [p.strip(" .;:,") for p in pieces if p.strip(" .;:,")]


def _strip_articles(text: str, lex: Lexicon) -> str:
    changed = True
    while changed:
        changed = False
        for art in lex.articles:
            if text.startswith(art) and len(text) > len(art):
                text, changed = text[len(art):].lstrip(), True
    return text


def _explode(item: str, lex: Lexicon) -> list[tuple[str, list[str]]]:
    """Item -> list of (phrase, enumerated objects). Sub-bullets and ':' tails become objects/phrases."""
    raw = _norm_apostrophes(str(item))
    parts = [p for p in _BULLET_RE.split("\n" + raw) if p.strip()]
    out: list[tuple[str, list[str]]] = []
    if not parts:
        return out
    head, subs = parts[0], parts[1:]
    if ":" not in head and ";" in head:
        head, *more = _split_top(head, [";"])
        subs = [*more, *subs]
    if ":" in head:
        head, tail = head.split(":", 1)
        if tail.strip():
            subs = [tail, *subs]
    head = _clean(head, lex)
    sub_phrases: list[str] = []
    for sub in subs:
        for piece in _split_top(_clean(sub, lex), [";"]):
            sub_phrases.extend(_split_top(piece, [", "]))
    for phrase in [head, *sub_phrases]:
        if not phrase:
            continue
        enum: list[str] = []
        for marker in lex.enum_markers:
            if marker.strip() and marker in f" {phrase} ":
                left, _, right = f" {phrase} ".partition(marker)
                phrase, enum = left.strip(" ,"), _split_top(right.strip(" ,"), [", ", *lex.splitters])
                break
        out.append((phrase, enum))
    # objects under a head: "mining of ores: copper, lead" -> attach sub objects to the head phrase
    if subs and out and _parse(out[0][0], lex)[0]:  # bare sub-objects only make sense with the head's action
        objs = [p for p, _ in out[1:] if len(p.split()) <= 4 and not _parse(p, lex)[0]]
        out = [(out[0][0], out[0][1] + objs)] + [(p, e) for p, e in out[1:] if p not in objs]
    return out


def _parse(phrase: str, lex: Lexicon) -> tuple[list[str], list[str]]:
    """Phrase -> (activity nouns, object phrases); ([], [phrase]) when there is no activity head."""
    phrase = _strip_articles(phrase, lex)
    triggers = sorted({t for fam, _ in lex.families for t in fam}, key=len, reverse=True)
    for trig in triggers:  # multi-word activity nouns that contain a linker ("commerce de gros")
        if " " in trig and any(lk in f" {trig} " for lk in lex.linkers) and phrase.startswith(trig + " "):
            rest = _strip_articles(phrase[len(trig):].strip(), lex)
            for lk in lex.linkers:
                if rest.startswith(lk.strip() + " ") or rest.startswith(lk.strip()):
                    rest = rest[len(lk.strip()):].strip()
                    break
            return [trig], _split_objects(_strip_articles(rest, lex), lex) if rest else []
    best = None
    for linker in lex.linkers:
        pos = phrase.find(linker)
        if 0 < pos and (best is None or pos < best[0]):
            best = (pos, linker)
    if best is None or len(phrase[:best[0]].split()) > 5:
        return [], [phrase]
    head, rest = phrase[:best[0]], phrase[best[0] + len(best[1]):]
    pieces = _split_top(head, [", ", *lex.splitters])
    actions = []
    last_word = pieces[-1].split()[-1] if pieces else ""
    for p in pieces:
        p = _strip_articles(p, lex)
        if len(p.split()) == 1 and p not in triggers and p != pieces[-1] and last_word in triggers:
            p = f"{p} {last_word}"
        actions.append(p)
    rest = _strip_articles(rest, lex)
    return actions, _split_objects(rest, lex)


_ADJ_RE = re.compile(r"(ic|al|ar|ive|ous|ary|ern|ian|ile|ial|ed|que|aire|if|ico|ica|ivo|iva)$")


def _split_objects(rest: str, lex: Lexicon) -> list[str]:
    """Coordinated objects; a lone adjective borrows the noun of the last conjunct
    ("diplomatic and consular missions" -> "diplomatic missions", "consular missions")."""
    head = f" {rest} "
    for w in lex.clause_words:  # "of coal to classify, improve quality or ..." -> split "coal" only
        idx = head.find(w, 1)
        if idx > 0:
            head = head[:idx + 1]
    pieces = [_strip_articles(o, lex) for o in _split_top(head.strip(), [", ", *lex.splitters])]
    for i, p in enumerate(pieces):
        nxt = [q for q in pieces[i + 1:] if len(q.split()) >= 2]
        if len(p.split()) == 1 and _ADJ_RE.search(p) and nxt:
            pieces[i] = f"{p} {' '.join(nxt[0].split()[1:])}"
    return list(dict.fromkeys(o for o in [rest, *pieces] if o))


def _family_forms(action: str, lex: Lexicon) -> tuple[tuple[str, ...], bool]:
    """Forms for an activity noun and whether a bare one-word head object is safe with them."""
    words = action.split()
    for exact in (True, False):
        for i, (triggers, forms) in enumerate(lex.families):
            if action in triggers or (not exact and words and (words[-1] in triggers or words[0] in triggers)):
                return forms, i not in lex.weak_families
    return tuple(f.replace("{a}", action) for f in lex.default_forms), True


def _singular(word: str, language: str) -> str:
    if language == "en":
        if word.endswith("ies") and len(word) > 4:
            return word[:-3] + "y"
        if word.endswith(("ches", "shes", "sses", "xes")):
            return word[:-2]
        if word.endswith("s") and not word.endswith(("ss", "us", "is", "ics")) and len(word) > 3:
            return word[:-1]
        return word
    if word.endswith(("s", "x")) and not word.endswith(("ss", "us", "os", "is", "ys", "as")) and len(word) > 3:
        return word[:-1]
    return word


def _object_variants(obj: str, lex: Lexicon, language: str, *, head_word: bool = True) -> list[str]:
    """Full object, cut at the first cut word, its last 1–2 words, singulars, synonyms, parentheses."""
    out: list[str] = []
    for m in _PAREN_RE.finditer(obj):
        inner = m.group(1).strip()
        if inner and len(inner.split()) <= 4 and not re.search(r"\d", inner):
            out.extend(_split_top(inner, [", ", *lex.splitters]))
    base = re.sub(r"\s+", " ", _PAREN_RE.sub(" ", obj)).strip(" ,")
    if not base:
        return out
    cut = f" {base} "
    for w in lex.cut_words:
        idx = cut.find(w, 1)
        if idx > 0:
            cut = cut[:idx + 1]
    cut = _strip_articles(cut.strip(), lex)
    sticky = next((q for q in lex.sticky if f" {q} " in f" {base} "), "")
    if sticky and f" {sticky} " not in f" {cut} ":  # a place qualifier changes the class: keep it
        cut = f"{cut} {sticky}"
    words = cut.split()
    cands: list[str] = []
    atomic = not sticky and not any(s.strip() and s in f" {cut} " for s in (",", *lex.splitters))
    linked = [lk for lk in lex.linkers if lk in f" {cut} "]
    if atomic and linked and language == "en":
        head = cut.split(linked[0].strip(), 1)[0].strip()
        if head and head.split()[-1] not in lex.generic and len(head.split()) <= 3:
            cands.append(head)
    elif atomic and language == "en":
        if len(words) >= 3:
            cands.append(" ".join(words[-2:]))
        if len(words) >= 2 and words[-1] not in lex.generic and len(words[-1]) > 3 and head_word:
            cands.append(words[-1])
    elif atomic and len(words) >= 2 and words[0] not in lex.generic and len(words[0]) > 3 and head_word:
        cands.append(words[0])
    for other in lex.other_words:
        if cut.startswith(other + " "):
            cands.append(cut[len(other) + 1:])
    cands = [base, cut, *cands]
    for c in list(cands):
        w = c.split()
        if language == "en" and w:
            cands.append(" ".join([*w[:-1], _singular(w[-1], language)]))
        elif w:
            cands.append(" ".join([_singular(w[0], language), *w[1:]]))
    for key, syns in lex.synonyms.items():
        if re.search(r"(?<!\w)" + re.escape(key) + r"(?!\w)", cut):
            cands.extend(f"{syn} {sticky}".strip() for syn in syns)
    out.extend(cands)
    return [c for c in dict.fromkeys(o.strip(" ,.") for o in out) if c and c not in lex.generic]


def title_context(title: str, lex: Lexicon) -> str:
    """The holder named by a title ("... of private households for own use" -> "private households")."""
    _, objects = _parse(_clean(title, lex), lex)
    if not objects:
        return ""
    variants = _object_variants(objects[0], lex, "en" if lex is LEXICON["en"] else "xx", head_word=False)
    return variants[1] if len(variants) > 1 else ""


def candidate_lines(items: Sequence[str], *, language: str, max_words: int = 8,
                    context_items: Sequence[str] = (), context: str = "",
                    excluded: Sequence[str] = ()) -> list[tuple[str, str]]:
    """Every distinct line the generator can write for one code, as ``(group, line)`` pairs.

    ``items`` are the code's title pieces and Includes / Also-includes items (raw note text);
    ``group`` identifies the object a line talks about (used to spread the sample evenly).
    ``context_items`` are activities found in prose (e.g. "cooking"), written alone and, when
    ``context`` (the holder named by the title) is given, as "{context} {item}" / "{item} ({context})".
    ``excluded`` (the code's Not-includes items): their phrases and bare objects are never written.
    Lines are lowercase here; :func:`~statcodgen.generation.offline.generate_offline` uppercases them.
    """
    lex = LEXICON[language]
    seen = _lines(items, lex, language, max_words, context_items, context)
    banned = _excluded_lines(excluded, lex, language, max_words)
    return [(g, line) for line, g in seen.items() if line not in banned]


def _lines(items: Sequence[str], lex: Lexicon, language: str, max_words: int,
           context_items: Sequence[str] = (), context: str = "", shorten: bool = True) -> dict[str, str]:
    """``{line: group}`` for every line written from ``items`` (see :func:`candidate_lines`)."""
    seen: dict[str, str] = {}
    stop = get_language(language).stop_words

    def add(group: str, line: str) -> None:
        line = re.sub(r"\s+", " ", line).strip(" ,.;:")
        if not line or len(line) < 3 or len(line.split()) > max_words or re.fullmatch(r"[\W\d]+", line):
            return
        if language == "fr":
            line = re.sub(r"\bde (?=[aeiouyéèêàâîôh])", "d'", line)
        elif language == "es":
            line = re.sub(r"\bde (el|los|las|la) ", lambda m: "del " if m.group(1) == "el" else "de ", line)
        words = line.split()
        if line in lex.generic or all(w in stop for w in words) or (len(words) == 1 and len(line) < 4):
            return
        if words[0] in stop and words[0] not in ("other", "autres", "otros"):
            line = " ".join(words[1:]) if len(words) > 1 else line
        seen.setdefault(line, group)

    for item in items:
        for phrase, enum in _explode(item, lex):
            phrase = _strip_articles(re.sub(r"^(ainsi que|as well as|así como)\s+", "", _clean(phrase, lex)), lex)
            if not phrase:
                continue
            add(phrase, phrase)
            actions, objects = _parse(phrase, lex)
            rel = lex.relation.match(objects[0]) if objects and lex.relation is not None else None
            if rel:
                xs = _object_variants(rel.group("x"), lex, language)
                ys = _object_variants(rel.group("y"), lex, language) + [
                    v for e in enum for v in _object_variants(e, lex, language)]
                for y in ys:
                    for x in xs[:3]:
                        for form in lex.relation_forms:
                            add(y, form.format(x=x, y=y))
                for y in _object_variants(rel.group("y"), lex, language, head_word=False):
                    add(y, y)
                enum = []
                objects = objects[:1]
            for obj in objects + enum:
                strong = _object_variants(obj, lex, language, head_word=False)
                if not actions:
                    for o in strong:
                        add(o, o)
                for a in actions:
                    forms, head_ok = _family_forms(a, lex)
                    for o in (_object_variants(obj, lex, language) if head_ok and shorten else strong):
                        for form in forms:
                            add(o, form.format(o=o))
    for item in context_items:
        for phrase, _ in _explode(item, lex):
            if not phrase:
                continue
            if not context:
                add(phrase, phrase)
            elif len(phrase.split()) <= 3:
                add(phrase, f"{context} {phrase}")
                add(phrase, f"{phrase} ({context})")
    return seen


def _excluded_lines(excluded: Sequence[str], lex: Lexicon, language: str, max_words: int) -> set[str]:
    """Every line the Not-includes items would give, and their bare objects: never written for this code."""
    items = [see_pattern(tail=True).sub("", _norm_apostrophes(str(i))) for i in excluded]
    out: set[str] = set(_lines(items, lex, language, max_words, shorten=False)) if items else set()
    for item in items:
        for phrase, enum in _explode(item, lex):
            phrase = _clean(phrase, lex)
            out.add(phrase)
            actions, objects = _parse(phrase, lex)
            for obj in objects + enum:
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
