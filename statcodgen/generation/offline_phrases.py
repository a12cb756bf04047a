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

from ..text.languages import Lexicon, LanguagePack, available_languages, get_language, line_problem, see_pattern
from ..text.languages import fold_word, is_adjective, singular_phrase, starts_clause, trim_dangling
from ..text.normalize import strip_accents

__all__ = ["LEXICON"]


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


_PACKS: dict[int, LanguagePack] = {}


def _pack(lex: Lexicon) -> LanguagePack:
    """The language pack a lexicon belongs to (its function words cut phrases at a boundary)."""
    if id(lex) not in _PACKS or _PACKS[id(lex)].lexicon is not lex:
        _PACKS[id(lex)] = next(get_language(c) for c in available_languages() if get_language(c).lexicon is lex)
    return _PACKS[id(lex)]


def _trim(text: str, lex: Lexicon) -> str:  # cut back to a phrase boundary (text.languages.trim_dangling)
    return trim_dangling(text, language=_pack(lex).code) if text else text


def _headed(phrase: str, lex: Lexicon) -> bool:  # "surface mining", "extraction d'argiles": an activity, no object
    w = phrase.split()
    strong = (fam for i, (fam, _) in enumerate(lex.families) if i not in lex.weak_families)  # not "activities"
    return bool(w) and w[0 if _pack(lex).head_first else -1] in {t for fam in strong for t in fam}


def _is_clause(text: str, lex: Lexicon) -> bool:
    """A means, place or purpose clause, not an object (:func:`statcodgen.text.languages.starts_clause`)."""
    return starts_clause(text, language=_pack(lex).code)


_BULLET_RE = re.compile(r"(?:\n\s*[.•◦\-–*]\s+|\s[•◦]\s+|\s+[-–]\s+(?=[^\W\d]))")
_EXCEPT_RE = re.compile(r"\((?:except|excluding|other than|sauf|à l'exception|excepto|salvo)[^)]*\)", re.I)
_PAREN_RE = re.compile(r"\(([^()]*)\)")
#: References to other codes ("des divisions 05, 07, 08", "of groups 08.1 and 08.9"): never an object.
_CODES_RE = re.compile(r"(?:\b(?:of|de la|des|du|de las?|de los|del|di|della|delle)\s+)?\b(?:divisions?|groups?|groupes?|"
                       r"classes?|sections?|sous-classes?|subclasses?|divisiones|grupos|clases|divisioni|gruppi|classi)"
                       r"\s+\d[\d.]*(?:\s*(?:,|and|or|et|ou|y|o|e)\s*\d[\d.]*)*")
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
    t = re.sub(r"(\w)- (?!(?:and|or|et|ou|y|o|e)\b)(?=\w)", r"\1-", t)  # "garde- côtes" -> "garde-côtes"
    t = _CODES_RE.sub(" ", t)
    t = re.sub(r",?\s*(that is to say|i\.e\.|c'est-à-dire|es decir)\b.*$", "", t)
    t = see_pattern(tail=True).sub("", t)
    t = _EXCEPT_RE.sub("", t)
    t = re.sub(r",?\s*(except|excluding|sauf|excepto|salvo|à l'exception|à l'exclusion|hormis)\b.*$", "", t)
    for phrase in lex.drop_phrases:
        t = re.sub(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)", " ", t)
    t = re.sub(r"\s+([,;:])", r"\1", re.sub(r"\s+", " ", t))  # "services , required" after a dropped phrase
    return _trim(t.strip(" .;:,-–•◦*\"'"), lex)


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
            for p in _split_top(piece, [", "]):  # "les forces terrestres, navales et aériennes" stays whole
                if sub_phrases and all(" " not in w and is_adjective(w, language=_pack(lex).code)
                                       for w in _split_top(p, lex.splitters)):
                    sub_phrases[-1] += f", {p}"
                else:
                    sub_phrases.append(p)
    for phrase in [head, *sub_phrases]:
        if phrase and not _is_clause(phrase, lex):
            out.append(_enumeration(phrase, lex))
    # objects under a head: "mining of ores: copper, lead" -> attach sub objects to the head phrase
    if subs and out and _parse(out[0][0], lex)[0]:  # bare sub-objects only make sense with the head's action
        objs = [p for p, _ in out[1:] if len(p.split()) <= 4 and not _parse(p, lex)[0] and not _headed(p, lex)]
        out = [(out[0][0], out[0][1] + [_strip_articles(o, lex) for o in objs])] + [
            (p, e) for p, e in out[1:] if p not in objs]
    return out


def _enumeration(phrase: str, lex: Lexicon) -> tuple[str, list[str]]:
    """Phrase -> (the phrase without its enumeration, the enumerated objects): "minerais (par exemple
    pechblende)" and "x such as a, b" give the objects; an enumeration that is a clause ("y compris
    par dissolution et pompage", "(e.g. to reduce unemployment)") gives none."""
    for m in _PAREN_RE.finditer(phrase):
        inner = f" {m.group(1).strip()} "
        marker = next((mk for mk in lex.enum_markers if mk.strip() and inner.startswith(mk)), None)
        if marker:
            rest = re.sub(r"\s+", " ", phrase[:m.start()] + phrase[m.end():]).strip(" ,")
            return _trim(rest, lex), _enum_items(inner[len(marker):], lex)
    padded = f" {phrase} "
    for marker in lex.enum_markers:
        pos = padded.find(marker) if marker.strip() else -1
        if pos == 0:  # "e.g. traditional prospecting methods": the examples are the phrase
            return _trim(padded[len(marker):].strip(" ,"), lex), []
        if pos > 0 and padded[:pos].count("(") == padded[:pos].count(")"):
            return _trim(padded[:pos].strip(" ,"), lex), _enum_items(padded[pos + len(marker):], lex)
    return phrase, []


def _enum_items(text: str, lex: Lexicon) -> list[str]:
    """The objects of an enumeration, articles stripped; none when it is a clause (:func:`_is_clause`)."""
    text = _strip_articles(text.strip(" ,"), lex)
    items = [] if _is_clause(text, lex) else [_strip_articles(i, lex) for i in _split_top(text, [", ", *lex.splitters])]
    return [i for i in items if i and not _is_clause(i, lex)]


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
    clause = any(phrase.startswith(w, best[0]) and len(w) > len(best[1]) for w in lex.clause_words)
    if clause or (best[1] in lex.clause_words and not any(rest.startswith(a) for a in lex.articles)):
        return [], [head]  # "processus employés pour obtenir", "en ayant recours à": a purpose or means
    pieces = _split_top(head, [", ", *lex.splitters])
    actions = []
    last_word = pieces[-1].split()[-1] if pieces else ""
    for p in pieces:
        p = _strip_articles(p, lex)
        if len(p.split()) == 1 and p not in triggers and p != pieces[-1] and last_word in triggers:
            p = f"{p} {last_word}"
        if not _is_clause(p, lex):  # "support services, required for": "required" is no activity
            actions.append(p)
    rest = _strip_articles(rest, lex)
    return actions, _split_objects(rest, lex)


def _drop_qualifiers(text: str, lex: Lexicon) -> str:
    """``text`` without its coordinated qualifiers ("granules, traités thermiquement ou non" -> "granules")."""
    pieces = _split_top(text, [", "]) if lex.qualifier_tails else [text]
    kept = [p for p in pieces if not any(p.endswith(" " + q) for q in lex.qualifier_tails)]
    return ", ".join(kept) if len(kept) < len(pieces) else text


def _split_objects(rest: str, lex: Lexicon) -> list[str]:
    """Coordinated objects, each completed from its conjuncts when it is only a part of a noun phrase:
    a lone adjective borrows their noun ("diplomatic and consular missions" -> "consular missions";
    "forces armées terrestres, navales" -> "forces armées navales"; in French, Spanish, Italian one
    that finds no noun is dropped), a bare noun after a complement completes it ("minerais de fer,
    cuivre" -> "minerais de cuivre"). Means, place and purpose clauses ("dans les locaux de", "par
    dissolution", "directement ou par le truchement de") and qualifiers ("ou non") are not objects."""
    parts, gap, dropped = [], [], False  # gap: a clause was dropped just before the part
    for part in _split_top(_drop_qualifiers(rest, lex), [", "]):
        sticky = any(f" {q} " in f" {part} " for q in lex.sticky)  # "à l'étranger" stays (see _object_variants)
        conjuncts = _split_top(part, lex.splitters)  # "aux niveaux central, régional et local": all adverbial
        if not sticky and (any(_is_clause(c, lex) for c in conjuncts) or dropped and all(
                is_adjective(c, language=_pack(lex).code) for c in conjuncts)):
            dropped = True
        else:
            parts, gap, dropped = [*parts, part], [*gap, dropped], False
    rest = ", ".join(parts)
    head = f" {rest} "
    for w in lex.clause_words:  # "of coal to classify, improve quality or ..." -> split "coal" only
        idx = head.find(w, 1)
        if idx > 0:
            head = head[:idx + 1]
    pieces: list[tuple[str, str, int]] = []  # (article or preposition stripped before it, piece, part)
    for k, part in enumerate(_split_top(_trim(head.strip(), lex), [", "])):
        pieces += [(c[:len(c) - len(s)], s, k) for c in _split_top(part, lex.splitters) for s in [_strip_articles(
            c, lex)] if s and not _is_clause(c, lex) and not _headed(s, lex)]  # "extraction d'argiles": no object
    out: list[str] = []
    for i, (lead, p, k) in enumerate(pieces):
        lone_adj = len(p.split()) == 1 and not lead and is_adjective(p, language=_pack(lex).code)
        if not _pack(lex).head_first:  # "consular and diplomatic missions", "land, sea and space defence forces"
            nxt = [q for _, q, _ in pieces[i + 1:] if len(q.split()) >= 2]
            adj = is_adjective(p.split()[-1], language=_pack(lex).code)  # a noun borrows a plain noun group only
            if nxt and (adj or len(p.split()) == 1 and len(nxt[0].split()) >= 3
                        and not any(f" {lk.strip()} " in f" {nxt[0]} " or "(" in nxt[0] for lk in lex.linkers)):
                p = f"{p} {' '.join(nxt[0].split()[1:])}"
        elif lone_adj:
            donors = [q for _, q, kq in reversed(pieces[:i]) if (kq == k or kq == k - 1 and not gap[k])
                      and len(q.split()) >= 2 and not any(lk in f" {q} " for lk in lex.linkers)]
            p = f"{' '.join(donors[0].split()[:-1])} {p}" if donors else ""
        elif i and not lead:
            first = pieces[0][1]
            inner = [(first.rfind(lk), lk) for lk in lex.bare_linkers + lex.linkers if lk in first]
            if inner:
                pos, lk = max(inner)
                tail = first[pos + len(lk):].split()
                p = f"{first[:pos]}{lk}{tail[0] + ' ' if len(tail) > 1 else ''}{p}"  # "minerais de" + "cuivre"
        pieces[i] = (lead, p, k)  # an expanded adjective lends its noun to the next one
        out.append(p)
    return list(dict.fromkeys(o for o in [rest, *out] if o))


def _family_forms(action: str, lex: Lexicon) -> tuple[tuple[str, ...], bool, bool]:
    """Forms for an activity noun, whether a bare one-word head object is safe with them, and whether it is in a family."""
    words = action.split()
    for exact in (True, False):
        for i, (triggers, forms) in enumerate(lex.families):
            if action in triggers or (not exact and words and (words[-1] in triggers or words[0] in triggers)):
                return tuple(f.replace("{a}", action) for f in forms), i not in lex.weak_families, True
    return tuple(f.replace("{a}", action) for f in lex.default_forms), True, False


def _head_of(obj: str, lex: Lexicon) -> str:
    """The folded head noun of an object phrase (its first word, or last in English)."""
    words = _strip_articles(_PAREN_RE.sub(" ", obj), lex).split()
    return fold_word(words[0] if _pack(lex).head_first else words[-1], language=_pack(lex).code) if words else ""


def _object_variants(obj: str, lex: Lexicon, language: str, *, head_word: bool = True) -> list[str]:
    """Full object, cut at the first cut word, its last 1–2 words, singulars, synonyms, parentheses."""
    out: list[str] = []
    for m in _PAREN_RE.finditer(obj):
        left, inner = _enumeration(f"({m.group(1).strip()})", lex)  # left is "" when the bracket is an enumeration
        if left and (len(m.group(1).split()) > 4 or re.search(r"\d|^[\w/]{1,5}$", m.group(1).strip())
                     or _is_clause(m.group(1).strip(), lex)):  # nor a clause, nor the acronym ("(onu)") of the whole
            continue
        inner = [m.group(1).strip()] if left else inner
        pieces = [p for i in inner for p in _split_top(i, [", ", *lex.splitters])]
        if not any(len(p.split()) == 1 and is_adjective(p, language=_pack(lex).code) for p in pieces):
            out.extend(pieces)  # "(tubages)", "(ONU)"; not "(temporaire ou permanente)"
    base = _trim(re.sub(r"\s+", " ", _PAREN_RE.sub(" ", obj)).strip(" ,"), lex)
    for s, lk in ((s, lk) for s in lex.splitters if s.strip().isalpha() for lk in sorted(lex.linkers, key=len)[::-1]):
        base = base.replace(s.rstrip() + lk, s) if any(lk.startswith(b) for b in lex.bare_linkers) else base  # "et de"
    if not base:
        return out
    cut = f" {base} "
    for w in lex.cut_words:
        idx = cut.find(w, 1)
        if idx > 0:
            cut = cut[:idx + 1]
    if cut.strip() != base and "," in cut:  # the cut fell inside the last item of a list: drop that item
        cut = cut.rsplit(",", 1)[0]
    cut = _trim(_strip_articles(cut.strip(), lex), lex)
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
    for other in lex.other_words:
        if cut.startswith(other + " "):
            cands.append(cut[len(other) + 1:])
    cands = [base, cut, *cands]
    cands += [singular_phrase(c, language=language) for c in cands]
    for key, syns in lex.synonyms.items():
        if re.search(r"(?<!\w)" + re.escape(key) + r"(?!\w)", cut):
            cands.extend(f"{syn} {sticky}".strip() for syn in syns)
    out.extend(cands)
    return [c for c in dict.fromkeys(o.strip(" ,.") for o in out) if c and c not in lex.generic]


_CONTRACTIONS = {"de le ": "du ", "de les ": "des ", "à le ": "au ", "à les ": "aux "}


def _lines(items: Sequence[str], lex: Lexicon, language: str, max_words: int, context_items: Sequence[str] = (),
           context: str = "", shorten: bool = True, heads: frozenset[str] | None = None) -> dict[str, str]:
    """``{line: group}`` for every line written from ``items`` (see :func:`candidate_lines`)."""
    seen: dict[str, str] = {}
    stop = get_language(language).stop_words

    def add(group: str, line: str) -> None:
        line = _trim(re.sub(r"\s+", " ", line).strip(" ,.;:"), lex)
        if not line or len(line) < 3 or len(line.split()) > max_words or re.fullmatch(r"[\W\d]+", line):
            return
        if language == "fr":
            line = re.sub(r"\b(de|à) (le|les) ", lambda m: _CONTRACTIONS[m.group(0)], line)
            line = re.sub(r"\bde (?=[aeiouyéèêàâîôh])", "d'", line)
        elif language == "es":
            line = re.sub(r"\bde (el|los|las|la) ", lambda m: "del " if m.group(1) == "el" else "de ", line)
        for art in (a for a in lex.articles if f" {a.strip()} " not in lex.linkers and a.strip() not in ("de", "d'")):
            line = re.sub(rf"(,|{'|'.join(s.strip() for s in lex.splitters if s.strip().isalpha())}) {re.escape(art)}",
                          r"\1 ", line)  # "lavage, la pulvérisation" -> "lavage, pulvérisation"
        words = line.split()
        vague = _pack(lex).generic_words | _pack(lex).holder_words  # "activités de ménage" names nothing
        if all(w in stop or w in lex.generic or strip_accents(w.strip("()")) in vague for w in words) or \
                (len(words) == 1 and len(line) < 4):
            return
        if words[0] in stop and words[0] not in ("other", "autres", "otros"):
            line = " ".join(words[1:]) if len(words) > 1 else line
        # a noun said twice ("services de service"), or not a whole phrase (text.languages.line_problem, heads)
        content = [fold_word(w, language=language) for w in re.findall(r"[^\W\d_]{3,}", line) if w not in stop]
        if len(content) > 1 and content[0] == content[1] or line_problem(line, language=language, heads=heads):
            return
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
                for a in (a for a in actions if a.split()[-1] not in obj.split()):  # not "forces (forces)"
                    forms, head_ok, family = _family_forms(a, lex)
                    for o in (_object_variants(obj, lex, language) if head_ok and shorten else strong):
                        # outside the activity families ("sondages d'essai"), a form that puts the
                        # object first ("essai (sondages)") needs an object the notes make a head
                        named = heads is None or family or _head_of(o, lex) in heads
                        for form in forms:
                            if named or not form.startswith("{o}"):
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
