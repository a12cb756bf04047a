"""Is a line a whole phrase? The language-pack side of the ``well_formed`` filter and of the offline
generator's cutting (private; :mod:`statcodgen.text.languages` exposes the functions).

Every word list comes from the :class:`~statcodgen.text.languages.LanguagePack` passed in (its
``dangling_words``, ``dangling_phrases``, ``linking_words``, ``enum_words``, ``generic_words``,
``activity_words``, ``conjunctions``, ``head_first``, and the lexicon's activity triggers and
synonyms); words are compared lower-cased with accents stripped, nouns by their Snowball stem
(so "BOULANGERIES" matches "boulangerie", "BAKERIES" "bakery").

A one-word line names an activity or a product when its word is a *head* of the code's notes
(:func:`head_words`): the head noun of a noun phrase of the title or of an Includes item (the first
noun in French, Spanish, Italian; the last one in English, or the one before a generic last noun:
"bakery products" -> "bakery"), where a phrase that follows a preposition ("de", "of", ...) is a
head only when the noun it completes is an activity or a generic noun ("extraction **du gypse**",
"produits **de boulangerie**", "manufacture **of bakery** products"), and never otherwise
("sondages d'**essai**", "en cas de **décès**"). Coordinated phrases and enumerations ("par
exemple", "such as") keep the standing of the phrase they continue; a bracket, a colon or a
semicolon starts a new item (examples, acronyms: "(ONU)", "(par exemple le marbre)"). Words of the pack's
``generic_words`` ("SERVICES", "ACTIVITÉS", "DIVERS") never stand alone.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..normalize import strip_accents

if TYPE_CHECKING:
    from . import LanguagePack

_OPEN, _CLOSE = "([{«“", ")]}»”"
_PAIRS = dict(zip(_CLOSE, _OPEN))
_EDGE_PUNCT = ",;:-–—/&+"
_TOKEN_RE = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*'?|[^\w\s]")
_ENUM = "\x00enum"


@functools.lru_cache(maxsize=65536)
def plain(word: str) -> str:
    """``word`` lower-cased, accents stripped, ligatures expanded, curly apostrophes made straight:
    the form the word lists of a pack are written in."""
    return strip_accents(word.replace("’", "'").lower(), ligatures=True)


def fold(word: str, pack: LanguagePack) -> str:
    """The comparison key of a noun: :func:`plain`, then the pack's Snowball stem."""
    return _fold(word, pack.snowball)


@functools.lru_cache(maxsize=65536)
def _fold(word: str, snowball: str) -> str:
    w = plain(word).strip("'")
    try:
        return str(_stemmer(snowball).stemWord(w))
    except Exception:  # noqa: BLE001 - a pack without a Snowball stemmer compares plain words
        return w


@functools.lru_cache(maxsize=None)
def _stemmer(name: str) -> Any:
    import snowballstemmer

    return snowballstemmer.stemmer(name)


_CACHE: dict[tuple[int, str], tuple[LanguagePack, frozenset[str]]] = {}


def _cached(pack: LanguagePack, kind: str, make: Callable[[], frozenset[str]]) -> frozenset[str]:
    """A word set derived from ``pack``, computed once per pack (stems are not free)."""
    hit = _CACHE.get((id(pack), kind))
    if hit is None or hit[0] is not pack:
        hit = _CACHE[(id(pack), kind)] = (pack, make())
    return hit[1]


def _words(pack: LanguagePack) -> frozenset[str]:
    """The function words of ``pack``: dangling and linking words, conjunctions."""
    return _cached(pack, "function", lambda: pack.dangling_words | pack.linking_words
                   | frozenset(plain(c) for c in pack.conjunctions))


def _vague(pack: LanguagePack) -> frozenset[str]:
    """Folded generic and holder words of ``pack``."""
    return _cached(pack, "vague", lambda: frozenset(fold(w, pack) for w in pack.generic_words | pack.holder_words))


def unbalanced(text: str) -> str | None:
    """The first bracket or quote of ``text`` that is not matched ("(", ")", "«", '"'...), or None."""
    stack: list[str] = []
    for ch in text:
        if ch in _OPEN:
            stack.append(ch)
        elif ch in _CLOSE:
            if not stack or stack[-1] != _PAIRS[ch]:
                return ch
            stack.pop()
    if stack:
        return stack[0]
    return '"' if text.count('"') % 2 else None


def _segments(text: str) -> list[str]:
    """The places where a phrase ends: the whole text, and when it ends with a bracket group,
    the text before the group and the group's content ("X DE (SERVICES)" -> "X DE", "SERVICES")."""
    t = text.strip()
    out = [t]
    m = re.search(r"\(([^()]*)\)\s*$", t)
    if m:
        out = [t[:m.start()].strip(), m.group(1).strip()]
    return [s for s in out if s]


def dangling_end(text: str, pack: LanguagePack) -> str | None:
    """What makes ``text`` end in mid-phrase, as written: a trailing function word or phrase of the
    pack ("OU", "EN TANT"), or a trailing comma/hyphen/slash; also checked before and inside a
    final bracket group. None when the text ends at a phrase boundary. A text that ends with a
    closing quote is a quoted term and is not checked."""
    words, phrases = _words(pack), pack.dangling_phrases
    for seg in _segments(text):
        if seg[-1] in "\"»”":
            continue
        if seg[-1] in _EDGE_PUNCT:
            return seg[-1]
        toks = seg.split()
        for n in range(min(3, len(toks)), 1, -1):
            if plain(" ".join(toks[-n:])) in phrases:
                return " ".join(toks[-n:])
        last = toks[-1]
        if plain(last) in words:
            return last
        if len(last) > 1 and plain(last).endswith("'"):
            return last  # an elision with nothing after it ("D'")
    return None


def starts_clause(text: str, pack: LanguagePack) -> bool:
    """See :func:`statcodgen.text.languages.starts_clause`."""
    words = text.split()
    first = plain(words[0]) if words else ""
    lex = pack.lexicon
    article = lex is not None and any(f"{first} ".startswith(plain(a)) for a in lex.articles)  # "des forces"
    return (not re.search(r"[^\W\d_]", text) or (first in pack.linking_words and not article)
            or first in {plain(c) for c in pack.conjunctions}
            or (lex is not None and any(f" {text} ".startswith(w) for w in lex.clause_words)))


def dangling_start(text: str, pack: LanguagePack) -> str | None:
    """A conjunction or an enumeration marker that starts ``text`` ("ET ...", "E.G. ..."), as written, or None."""
    toks = text.split()
    if toks and plain(toks[0]) in {plain(c) for c in pack.conjunctions}:
        return toks[0]
    return next((" ".join(toks[:n]) for n in (3, 2, 1) if len(toks) > n and plain(" ".join(toks[:n])) in pack.enum_words),
                None)


def trim(text: str, pack: LanguagePack) -> str:
    """``text`` without what makes it end in mid-phrase: trailing function words and phrases of the
    pack, edge punctuation, and an unclosed bracket with what follows it ("gestion du commerce
    extérieur, ainsi" -> "gestion du commerce extérieur"). Case is kept."""
    t = text.strip()
    while True:
        before = t
        bad = unbalanced(t)
        if bad is not None and bad in _OPEN + '"':
            t = t[:t.rfind(bad)] if bad != '"' else t[:t.rfind('"')]
        elif bad is not None:
            t = t.replace(bad, " ", 1)
        t = re.sub(r"\s+", " ", t).strip(" " + _EDGE_PUNCT + ".")
        tail = dangling_end(t, pack) if t else None
        if tail is not None and t.endswith(tail):
            t = t[: len(t) - len(tail)]
        t = t.strip(" " + _EDGE_PUNCT)
        if t == before or not t:
            return t


def activity_nouns(pack: LanguagePack) -> frozenset[str]:
    """Folded nouns whose complement is a head: the pack's ``activity_words`` and
    ``generic_words`` and the first word of every activity trigger of its lexicon."""
    return _cached(pack, "activity", lambda: _activity_nouns(pack))


def _activity_nouns(pack: LanguagePack) -> frozenset[str]:
    words = set(pack.activity_words) | set(pack.generic_words) - set(pack.holder_words)
    if pack.lexicon is not None:
        words |= {trig.split()[0] for triggers, _ in pack.lexicon.families for trig in triggers}
    return frozenset(fold(w, pack) for w in words) - frozenset(fold(w, pack) for w in pack.holder_words)


def _tokens(text: str, pack: LanguagePack) -> list[str]:
    """Plain tokens of ``text``: words (hyphenated ones whole), punctuation, elisions split off
    ("d'essai" -> "d'", "essai"), enumeration markers replaced by one marker token."""
    t = " " + plain(text) + " "
    for phrase in sorted(pack.enum_words, key=len, reverse=True):
        t = re.sub(r"(?<![\w'])" + re.escape(phrase) + r"(?![\w'])", f" {_ENUM} ", t)
    words = _words(pack)
    t = re.sub(r"\b(\w+')(?=\w)", lambda m: m.group(1) + " " if m.group(1) in words else m.group(1), t)
    return [w for w in re.findall(r"\x00enum|" + _TOKEN_RE.pattern, t)]


def head_words(texts: Iterable[str], pack: LanguagePack) -> frozenset[str]:
    """Folded head nouns of ``texts`` (a code's title and Includes items), plus the one-word
    synonyms of the pack's lexicon whose key occurs in them; see the module docstring."""
    acts = activity_nouns(pack)
    generic = _cached(pack, "generic", lambda: frozenset(fold(w, pack) for w in pack.generic_words))
    linking, conj = pack.linking_words, {plain(c) for c in pack.conjunctions}
    function = _words(pack)
    heads: set[str] = set()
    for text in texts:
        status, group_act, coord = True, False, False
        stack: list[tuple[bool, bool]] = []
        phrase: list[str] = []

        def close() -> None:
            nonlocal group_act
            if phrase and status:
                head = [phrase[0]] if pack.head_first else [phrase[-1]]
                if not pack.head_first and len(phrase) > 1 and fold(phrase[-1], pack) in generic:
                    head.append(phrase[-2])
                heads.update(fold(h, pack) for h in head)
                group_act = group_act or any(fold(h, pack) in acts for h in head)
            phrase.clear()

        for tok in _tokens(text, pack):
            if tok in _OPEN:
                close()
                stack.append((status, group_act))
                status, group_act, coord = True, False, False
            elif tok in _CLOSE:
                close()
                status, group_act = stack.pop() if stack else (True, False)
            elif tok in (":", ";", ".", "-", "–", "•"):
                close()
                status, group_act, coord = True, False, False
            elif tok in (",", _ENUM) or tok in conj:
                close()
                coord = True
            elif tok in linking:
                close()
                if not coord:
                    status, group_act = status and group_act, False
                coord = False
            elif tok[0].isalpha() and tok not in function:
                phrase.append(tok)
                coord = False
        close()
    if pack.lexicon is not None:
        joined = " ".join(plain(t) for t in texts)
        for key, syns in pack.lexicon.synonyms.items():
            if plain(key) in joined:
                heads.update(fold(s, pack) for s in syns if " " not in s)
    return frozenset(heads)


def single_word_problem(text: str, pack: LanguagePack, heads: frozenset[str] | None = None) -> str | None:
    """Why a one-word ``text`` is not a declaration (None when it is, or when it has more words):
    a generic word of the pack, or -- when ``heads`` (:func:`head_words` of its code) is given --
    a word that is not a head of the code's notes."""
    toks = text.split()
    if len(toks) != 1:
        return None
    word = re.sub(r"^\w+'", "", toks[0].strip("()[]«»\"“”.,;:"))
    if not word:
        return None
    key = fold(word, pack)
    if plain(word) in pack.generic_words | pack.holder_words or key in _vague(pack):
        return f"single generic word {toks[0]!r}"
    if heads is not None and key not in heads:
        return f"single word {toks[0]!r} names no activity or product of the code's notes"
    return None


def line_problem(text: str, pack: LanguagePack, heads: frozenset[str] | None = None) -> tuple[str, str] | None:
    """``(tag, detail)`` of what is wrong with ``text`` as a whole phrase, or None:
    ``cut_phrase`` (ends with a function word or a comma/hyphen, starts with a conjunction),
    ``unbalanced`` (a bracket or quote not matched), ``single_word`` (see :func:`single_word_problem`),
    ``generic_only`` (every word is a generic or holder word: "SERVICE ACTIVITIES", "ACTIVITÉS DES MÉNAGES")."""
    t = (text or "").strip()
    if not t:
        return None
    bad = unbalanced(t)
    if bad is not None:
        return "unbalanced", f"unbalanced {bad!r}"
    tail = dangling_end(t, pack)
    if tail is not None:
        what = "punctuation" if tail in _EDGE_PUNCT else ("function words" if " " in tail else "function word")
        return "cut_phrase", f"ends with {what} {tail!r}"
    head = dangling_start(t, pack)
    if head is not None:
        what = "conjunction" if plain(head) in {plain(c) for c in pack.conjunctions} else "enumeration marker"
        return "cut_phrase", f"starts with {what} {head!r}"
    why = single_word_problem(t, pack, heads)
    if why:
        return "single_word", why
    words = [re.sub(r"^\w+'", "", w) for w in re.findall(r"[^\W\d_][\w'-]*", t)]
    content = [w for w in words if w and plain(w) not in _words(pack)]
    if len(t.split()) > 1 and content and all(fold(w, pack) in _vague(pack) for w in content):
        return "generic_only", f"only generic words ({t!r})"
    return None
