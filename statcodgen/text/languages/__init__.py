"""Per-language knowledge in one place: one :class:`LanguagePack` per language.

Each module of this folder (``en.py``, ``fr.py``, ``es.py``, ``it.py``...) defines
``PACK = LanguagePack(...)``; the modules are discovered on first use, so a new language is one
new file. A user's own pack can also be added at run time with :func:`register_language`.

What a pack holds: the Snowball stemmer name and the stop words (fastText preprocessing), the
words that tell the language of a notes file, the conjunctions of note items, the
cross-reference ("see 16.24") and refusal ("as an AI...") phrases, the writing-style tables of
:mod:`statcodgen.personas.style` (:class:`StyleTables`) and the offline generator's lexicon
(:class:`Lexicon`). A language without style tables or lexicon (``None``) gets what the style
functions and the offline generator do for an unknown language.

>>> get_language("fr").snowball
'french'
>>> resolve_language(None)
'en'
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import pandas as pd

from ..._validation import check_type
from ...errors import ConfigError
from ..normalize import strip_accents
from . import _morphology, _wellformed

__all__ = [
    "LanguagePack",
    "StyleTables",
    "Lexicon",
    "QWERTY",
    "AZERTY",
    "get_language",
    "available_languages",
    "register_language",
    "resolve_language",
    "refusal_pattern",
    "see_pattern",
    "reference_pattern",
    "excludes_cut_pattern",
    "conjunction_pattern",
    "word_set",
    "DEFAULT_LANGUAGE",
    "line_problem",
    "head_words",
    "trim_dangling",
    "fold_word",
    "singular_phrase",
    "is_adjective",
    "starts_clause",
]

#: Keyboard rows (upper case), for the adjacent-key typos of :func:`statcodgen.personas.style.add_typos`.
QWERTY = ("QWERTYUIOP", "ASDFGHJKL", "ZXCVBNM")
AZERTY = ("AZERTYUIOP", "QSDFGHJKLM", "WXCVBN")
#: Language used when neither the caller nor the notes name one.
DEFAULT_LANGUAGE = "en"


def word_set(text: str) -> frozenset[str]:
    """Words of ``text`` (whitespace-separated; lines starting with ``#`` are comments), lower-cased,
    accents stripped and ligatures expanded: the form stop words are compared in."""
    words: set[str] = set()
    for line in text.splitlines():
        if not line.lstrip().startswith("#"):
            words.update(strip_accents(w.lower(), ligatures=True) for w in line.split())
    return frozenset(words)


@dataclass(frozen=True)
class StyleTables:
    """How a declarant of this language writes (upper case, accents stripped unless said otherwise).

    ``clients``: client types appended to a line ("FOR BUSINESSES"); ``place``: the place pattern
    with ``{city}`` ("IN {city}"); ``verbose`` / ``verbose_neutral``: sentences around ``{x}`` for
    a market unit / for anyone; ``formal``: administrative wording around ``{x}``; ``connectors``:
    coordinators a line is swapped around ("AND"); ``tail_words``: function words that do not count
    as content and never end a truncated line; ``abbreviations``: word -> short form; ``elision``:
    a pattern whose groups 1 and 2 are the word and the vowel that follows, for "DE ELEVAGE" ->
    "D'ELEVAGE" (``None``: no elision).
    """

    clients: tuple[str, ...]
    place: str
    verbose: tuple[str, ...]
    verbose_neutral: tuple[str, ...]
    formal: tuple[str, ...]
    connectors: frozenset[str]
    tail_words: frozenset[str]
    abbreviations: Mapping[str, str]
    elision: re.Pattern[str] | None = None


@dataclass(frozen=True)
class Lexicon:
    """Language tables of the offline generator (:mod:`statcodgen.generation.offline_phrases`; all lowercase).

    A family entry is ``(trigger nouns, forms)``: a phrase whose activity noun is one of the triggers
    is rendered with every form of its family around the object ``{o}``. ``synonyms``: everyday
    words for the institutional nouns of notes (whole-word keys of an object phrase); ``relation``:
    a pattern with groups ``x`` and ``y`` for "households as employers of domestic personnel", and
    ``relation_forms`` its renderings; ``qualifier_tails``: the ends of a coordinated qualifier
    ("traités thermiquement ou non"), which is never an object; ``bare_linkers``: prepositions
    without article (" de "), dropped after a conjunction in an object ("pétrole et de gaz" -> "pétrole et gaz");
    ``invariable``: nouns whose plural is their singular ("corps", "fonds", "puits").
    """

    articles: tuple[str, ...]
    linkers: tuple[str, ...]
    splitters: tuple[str, ...]          # coordination inside a list: "and", "or"
    enum_markers: tuple[str, ...]       # "such as", "e.g." ... introduce an enumeration
    cut_words: tuple[str, ...]          # words after which an object phrase is cut for a short form
    drop_phrases: tuple[str, ...]       # boilerplate removed everywhere
    generic: frozenset[str]             # nouns too vague to stand alone
    families: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]
    default_forms: tuple[str, ...]      # forms for an activity noun outside every family
    other_words: tuple[str, ...] = field(default=())  # "other" / destination variants
    weak_families: frozenset[int] = field(default=frozenset())  # families where a bare head noun misleads
    sticky: tuple[str, ...] = field(default=())  # place qualifiers never cut off ("abroad")
    clause_words: tuple[str, ...] = field(default=())  # start a purpose/means clause: objects end there
    synonyms: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    relation: re.Pattern[str] | None = None
    relation_forms: tuple[str, ...] = field(default=())
    qualifier_tails: tuple[str, ...] = field(default=())  # "ou non": "X, traités ou non" qualifies, names nothing
    bare_linkers: tuple[str, ...] = field(default=())  # " de ": "pétrole et de gaz" is written "pétrole et gaz"
    invariable: frozenset[str] = field(default=frozenset())  # plurals that are their own singular ("corps")
    adjective: re.Pattern[str] | None = None  # endings of a lone adjective in a coordination ("consular", "navales")


@dataclass(frozen=True)
class LanguagePack:
    """Everything the library knows about one language.

    ``code``: ISO 639-1 code ("fr"); ``name``: English name; ``snowball``: Snowball stemmer name
    ("french"); ``stop_words``: from :func:`word_set` (fastText preprocessing); ``function_words``:
    the short list of articles, prepositions and pronouns (3+ letters, accent-free) the Excludes
    matcher ignores, whatever the language of the line; ``detect_words``: frequent words whose count
    tells the language of a notes file; ``conjunctions``: lowercase coordinators of note items
    ("and", "or"); ``see_words`` / ``classified_words``: regex fragments of the words that introduce
    a cross-reference ("see", "v[ée]ase") and of "classified in" phrases; ``excludes_cut_words``:
    further fragments at which the Excludes matcher (:mod:`statcodgen.cleaning._excluded`) also
    cuts an item ("included in"); ``refusal``: regex fragments of what an assistant says when it
    refuses ("as\\s+an\\s+ai"); ``keyboard``: keyboard rows; ``style`` and ``lexicon``: optional
    tables (``None``: the language has none); ``persona_words``: the phrases of a persona's prompt
    paragraph ("a person", "Writing style:", ...; ``None``: personas are not described in it); ``order``: position in :func:`available_languages`
    (lower first; also wins a tie when guessing the language of a notes file).

    What a whole phrase is (the ``well_formed`` filter and the offline generator's cutting, see
    :func:`line_problem`; all lower-case and accent-free, from :func:`word_set`; empty by default,
    so a new pack only loses the checks it gives no words for): ``dangling_words``: words a complete
    line never ends with (articles, prepositions, conjunctions, relatives, "ainsi", "such");
    ``dangling_phrases``: the same for word groups whose last word alone may end a line ("en tant",
    "for example"); ``linking_words``: prepositions and relatives after which a noun completes
    another one instead of heading its phrase ("de", "of", "qui"); ``enum_words``: phrases that
    introduce an enumeration ("par exemple", "such as"); ``generic_words``: nouns that never make a
    line on their own ("services", "activités", "divers"); ``activity_words``: activity nouns whose
    complement names the product (the lexicon's triggers count too: "extraction", "manufacture");
    ``holder_words``: who carries an activity out ("ménages", "households", "organisations"): never a
    line on their own, and what completes them ("organisation des nations") names no product;
    ``head_first``: whether a noun phrase's head is its first noun (French, Spanish, Italian) or its
    last (English).
    """

    code: str
    name: str
    snowball: str
    stop_words: frozenset[str]
    function_words: frozenset[str]
    detect_words: tuple[str, ...]
    conjunctions: tuple[str, ...]
    see_words: tuple[str, ...]
    classified_words: tuple[str, ...]
    excludes_cut_words: tuple[str, ...]
    refusal: tuple[str, ...]
    keyboard: tuple[str, ...] = QWERTY
    style: StyleTables | None = None
    lexicon: Lexicon | None = None
    persona_words: Mapping[str, str] | None = None
    order: int = 100
    dangling_words: frozenset[str] = frozenset()
    dangling_phrases: frozenset[str] = frozenset()
    linking_words: frozenset[str] = frozenset()
    enum_words: tuple[str, ...] = ()
    generic_words: frozenset[str] = frozenset()
    activity_words: frozenset[str] = frozenset()
    holder_words: frozenset[str] = frozenset()
    head_first: bool = True

    def stemmer(self) -> Any:
        """The Snowball stemmer of this language (``snowballstemmer``), built once and cached."""
        return _snowball(self.snowball)


@functools.lru_cache(maxsize=None)
def _snowball(name: str) -> Any:
    import snowballstemmer

    return snowballstemmer.stemmer(name)


_REGISTERED: dict[str, LanguagePack] = {}


@functools.lru_cache(maxsize=1)
def _shipped() -> dict[str, LanguagePack]:
    """The packs of the modules of this folder (each module's ``PACK``), by code."""
    packs: dict[str, LanguagePack] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        pack = getattr(importlib.import_module(f"{__name__}.{info.name}"), "PACK", None)
        if isinstance(pack, LanguagePack):
            packs[pack.code] = pack
    return packs


def _packs() -> dict[str, LanguagePack]:
    return {**_shipped(), **_REGISTERED} if _REGISTERED else _shipped()


def available_languages() -> tuple[str, ...]:
    """Codes of every known pack (shipped modules and registered packs), by pack ``order`` then code:
    ``("fr", "en", "es", "it")`` for the shipped ones."""
    packs = _packs()
    return tuple(sorted(packs, key=lambda c: (packs[c].order, c)))


def get_language(code: str) -> LanguagePack:
    """The :class:`LanguagePack` of ``code`` ("fr"); :class:`ConfigError` naming the available codes otherwise."""
    pack = _packs().get(code) if isinstance(code, str) else None
    if pack is None:
        raise ConfigError(f"Unknown language {code!r}: the available languages are {list(available_languages())} "
                          f"(add a module to statcodgen/text/languages or call register_language).")
    return pack


def register_language(pack: LanguagePack) -> LanguagePack:
    """Add (or replace) a user's pack for this session; returns it. The pattern helpers include it
    from then on."""
    check_type("pack", pack, LanguagePack, func="register_language")
    _REGISTERED[pack.code] = pack
    _pattern.cache_clear()
    return pack


def resolve_language(language: str | None, notes: pd.DataFrame | None = None) -> str:
    """The language to work in: ``language`` when given, else ``notes.attrs["language"]``, else "en"."""
    attrs = notes.attrs if notes is not None else {}
    return language or attrs.get("language") or DEFAULT_LANGUAGE


_FIELDS = {"see": ("see_words",), "reference": ("see_words", "classified_words"),
           "excludes_cut": ("see_words", "classified_words", "excludes_cut_words"), "refusal": ("refusal",),
           "conjunction": ("conjunctions",)}


@functools.lru_cache(maxsize=None)
def _pattern(kind: str, prefix: str, suffix: str) -> re.Pattern[str]:
    """``prefix (?:fragments of every pack) suffix``, case-insensitive (conjunctions are plain words)."""
    frags = dict.fromkeys(f for p in _packs().values() for name in _FIELDS[kind] for f in getattr(p, name))
    body = "|".join(re.escape(f) for f in frags) if kind == "conjunction" else "|".join(frags)
    if not body:
        return re.compile(r"(?!)")  # no pack has such words: match nothing
    return re.compile(f"{prefix}(?:{body}){suffix}", re.IGNORECASE)


def refusal_pattern() -> re.Pattern[str]:
    """Case-insensitive pattern of every pack's refusal phrases ("as an AI", "je ne peux pas"...);
    use ``.search``. The fragments are written to match text whose accents were stripped too."""
    return _pattern("refusal", r"\b", r"\b")


def see_pattern(*, tail: bool = False) -> re.Pattern[str]:
    """Case-insensitive pattern of the cross-reference words of every pack ("see", "voir", "véase",
    "cfr"...). ``tail=True``: the pattern also takes the punctuation before the word and the rest
    of the text, so ``see_pattern(tail=True).sub("", item)`` cuts ", see 16.24" off an item."""
    check_type("tail", tail, bool, func="see_pattern")
    return _pattern("see", r"[,;(]?\s*\b" if tail else r"\b", r"\b.*$" if tail else r"\b")


def reference_pattern() -> re.Pattern[str]:
    """:func:`see_pattern` plus the "classified in" phrases ("classified", "classées", "clasificado"...);
    ``reference_pattern().search(item)`` finds where an item's reference to other codes starts."""
    return _pattern("reference", r"\b", r"\b")


def excludes_cut_pattern() -> re.Pattern[str]:
    """What the Excludes matcher cuts off an item: from the first reference word
    (:func:`reference_pattern`) or "included in" phrase (``excludes_cut_words``) to the end."""
    return _pattern("excludes_cut", r"\b", r"\b.*$")


def conjunction_pattern(*, leading: bool = False) -> re.Pattern[str]:
    """Case-insensitive pattern of one conjunction of any pack between spaces (" and ", " ou ");
    ``leading=True``: a conjunction that starts the text, with the spaces after it ("and ")."""
    check_type("leading", leading, bool, func="conjunction_pattern")
    return _pattern("conjunction", "^" if leading else r"\s+", r"\s+")


def line_problem(text: str, *, language: str, heads: frozenset[str] | None = None) -> tuple[str, str] | None:
    """What makes ``text`` not a whole phrase in ``language``, as ``(tag, detail)``, or None:
    ``("cut_phrase", "ends with function word 'OU'")`` (also a trailing comma/hyphen, a leading
    conjunction or enumeration marker), ``("unbalanced", "unbalanced '('")``, ``("single_word",
    "single generic word 'SERVICES'")``, ``("generic_only", ...)`` (every word generic: "SERVICE
    ACTIVITIES") -- and, when ``heads`` (:func:`head_words` of the line's code) is given, a one-word
    line whose word is not a head of the code's notes. Word lists: the pack's ``dangling_*``,
    ``linking_words``, ``enum_words``, ``generic_words``, ``holder_words`` (see :class:`LanguagePack`).

    >>> line_problem("EXTRACTION SOUTERRAINE OU", language="fr")
    ('cut_phrase', "ends with function word 'OU'")
    >>> line_problem("EXTRACTION DE HOUILLE", language="fr") is None
    True
    """
    return _wellformed.line_problem(text, get_language(language), heads)


def head_words(texts: Sequence[str], *, language: str) -> frozenset[str]:
    """The head nouns of a code's notes (its title and Includes items), folded with
    :func:`fold_word`: the words a one-word line may be. The rule is in
    :mod:`statcodgen.text.languages._wellformed`: the head of each noun phrase, where a phrase
    after a preposition counts only when it completes an activity or generic noun
    ("fabrication de **pain**", "sondages d'essai": not "essai").

    >>> sorted(head_words(["Fabrication de produits de boulangerie", "les sondages d'essai"], language="fr"))
    ['boulanger', 'fabriqu', 'produit', 'sondag']
    """
    return _wellformed.head_words(list(texts), get_language(language))


def fold_word(word: str, *, language: str) -> str:
    """The comparison key of a noun in :func:`head_words`: lower case, no accents, Snowball stem."""
    return _wellformed.fold(word, get_language(language))


def trim_dangling(text: str, *, language: str) -> str:
    """``text`` cut back to a phrase boundary: trailing function words of ``language``, edge
    punctuation and an unclosed bracket removed ("commerce extérieur, ainsi" -> "commerce extérieur")."""
    return _wellformed.trim(text, get_language(language))


def singular_phrase(phrase: str, *, language: str) -> str:
    """The singular of a lower-case noun phrase in ``language`` ("forces armées navales" -> "force
    armée navale", "iron ores" -> "iron ore"; the lexicon's ``invariable`` nouns keep their form)."""
    return _morphology.singular_phrase(phrase, get_language(language))


def is_adjective(word: str, *, language: str) -> bool:
    """Whether a lone lower-case word is an adjective by its ending (the lexicon's ``adjective`` pattern)."""
    return _morphology.is_adjective(word, get_language(language))


def starts_clause(text: str, *, language: str) -> bool:
    """Whether a lower-case phrase is a means, place or purpose clause rather than an object: it starts
    with a preposition or relative (``linking_words``, an article excepted: "des forces" is an
    object), a conjunction, or a ``clause_words`` entry of the lexicon ("par dissolution", "dans les
    locaux", "to reduce", "effectuée sur"); or it has no letter ("08")."""
    return _wellformed.starts_clause(text, get_language(language))
