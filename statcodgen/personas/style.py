"""Offline style transforms: rewrite an activity line the way a given persona would type it.

:func:`apply_style` chains, with rates and probabilities taken from the persona's writing style
(:class:`statcodgen.personas.persona.Persona` fields ``length``, ``register``, ``abbreviation_rate``,
``typo_rate``, ``casing``, ``uses_lists``, ``city``):

terse truncation / verbose sentence / formal prefix -> word order -> list commas -> client type
or place -> typos -> abbreviations -> casing.

What a transform adds must fit the declarant: a client type ("FOR BUSINESSES") or a
"I RUN A SMALL BUSINESS" sentence only for a market unit (``business_context`` in
:data:`statcodgen.personas.persona.MARKET_CONTEXTS`, or unknown), never for a household employer, a public
body or an embassy. Truncation keeps the words that say what the activity is: given a
``salience`` table (one label's table of :func:`label_salience`), a terse declarant keeps the most
specific run of whole phrases ("EXTRACTION OF CRUDE PETROLEUM" -> "CRUDE PETROLEUM"), as the
plumber who writes "PLOMBERIE CHAUFFAGE" does, instead of the first words, and lines of at most
:data:`TERSE_WORDS` content words are not cut at all.

Each step is a public pure function taking a ``numpy.random.Generator``, so results are
deterministic for a seed and each rate can be tested alone. The language tables come from the
language packs (:mod:`statcodgen.text.languages`: ``fr``, ``en`` and ``es`` have them); a language
without style tables gets truncation, word order, typos and casing only.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Collection, Iterable, Mapping
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_in, check_range, check_type
from ..errors import ConfigError, DataFormatError
from ..text.languages import LanguagePack, StyleTables, available_languages, get_language
from ..text.normalize import strip_accents
from .persona import MARKET_CONTEXTS

__all__ = [
    "ABBREVIATIONS",
    "abbreviate",
    "add_typos",
    "apply_casing",
    "truncate",
    "drop_function_words",
    "reorder",
    "add_context",
    "verbose_form",
    "formal_form",
    "apply_style",
    "style_frame",
    "word_salience",
    "label_salience",
    "persona_field",
    "word_key",
    "TAIL_WORDS",
]

# The language tables (client types, sentences, abbreviations, keyboards...) live in the language
# packs (:mod:`statcodgen.text.languages`). Client types say who buys, never what the activity is:
# "FOR HOUSEHOLDS", "FOR LOCAL COUNCILS", "A DOMICILE" were dropped because they are themselves coding
# signals (sections T, O, home services): appended to a line of another class they taught the
# classifier the wrong label (measured: benchmarks/results/personas_ablation.md).
_STYLED = {code: get_language(code).style for code in available_languages() if get_language(code).style}
#: Word -> abbreviation, per shipped language with style tables (:func:`abbreviate` reads the packs).
ABBREVIATIONS: dict[str, dict[str, str]] = {code: dict(t.abbreviations) for code, t in _STYLED.items()}
# Coordinators a line is swapped around (any language).
_CONNECTORS = frozenset({","}).union(*(t.connectors for t in _STYLED.values()))
#: Function words (DE, OF, Y...) of every shipped language with style tables, and "&", "-", ":": they
#: are not content words and never end a truncated line.
TAIL_WORDS = frozenset({"&", "-", ":"}).union(*(t.tail_words for t in _STYLED.values()))
_LIST_JOIN = re.compile(r"\s+(?:" + "|".join(sorted(_CONNECTORS - {","}) + ["&"]) + r")\s+")
#: A terse declarant cuts a line longer than this many content words down to 3-4 of them (medium:
#: lines longer than 6 words to 5-6). Shorter lines are left whole: cutting "COOK IN PRIVATE
#: HOUSEHOLD" to "COOK" turns a line of section T into one that says section I (measured on the
#: development splits, benchmarks/results/personas_ablation.md).
TERSE_WORDS = 4


def _key(token: str) -> str:
    """Accent-free upper-case form of a token, trailing punctuation removed (table lookups)."""
    return strip_accents(token.upper()).rstrip(",.;:!?")


def word_key(token: str) -> str:
    """:func:`_key` without surrounding brackets ("(ACTIVITIES)" -> "ACTIVITIES"): salience lookups."""
    return _key(token).strip("()")


@lru_cache(maxsize=None)
def _neighbours(rows: tuple[str, ...]) -> dict[str, str]:
    """Letter -> the letters around it on a keyboard given by its ``rows``."""
    out: dict[str, str] = {}
    for r, row in enumerate(rows):
        for c, ch in enumerate(row):
            near = [row[j] for j in (c - 1, c + 1) if 0 <= j < len(row)]
            near += [rows[rr][c] for rr in (r - 1, r + 1) if 0 <= rr < len(rows) and c < len(rows[rr])]
            out[ch] = "".join(near)
    return out


def _pack(language: str) -> LanguagePack | None:
    try:
        return get_language(language)
    except ConfigError:
        return None


def _near(language: str) -> dict[str, str]:
    """Adjacent keys on the keyboard of ``language``'s pack (English's for a language without a pack)."""
    return _neighbours((_pack(language) or get_language("en")).keyboard)


def _tables(language: str) -> StyleTables | None:
    """The style tables of ``language``'s pack (``None``: no pack, or a pack without style tables)."""
    pack = _pack(language)
    return pack.style if pack is not None else None


def abbreviate(text: str, rate: float, *, language: str, rng: np.random.Generator,
               keep: Collection[str] = ()) -> str:
    """Replace each word found in the abbreviations of ``language``'s pack (``ABBREVIATIONS[language]``
    for a shipped language) by its abbreviation with probability ``rate`` (trailing punctuation
    kept); words whose key is in ``keep`` are left alone. Languages without style tables return
    ``text`` unchanged."""
    tables = _tables(language)
    table = tables.abbreviations if tables is not None else {}
    out = []
    for tok in text.split():
        key = _key(tok)
        if key in table and word_key(tok) not in keep and rng.random() < rate:
            tail = tok[len(tok.rstrip(",.;:!?")):]
            out.append(table[key] + tail)
        else:
            out.append(tok)
    return " ".join(out)


def _typo(word: str, language: str, rng: np.random.Generator) -> str:
    letters = [i for i, ch in enumerate(word) if ch.isalpha()]
    if len(letters) < 4:
        return word
    kind = int(rng.integers(0, 3))
    i = letters[int(rng.integers(0, len(letters)))]
    if kind == 0:  # adjacent key
        near = _near(language).get(_key(word[i])[:1], "")
        if near:
            ch = near[int(rng.integers(0, len(near)))]
            return word[:i] + (ch if word[i].isupper() else ch.lower()) + word[i + 1:]
        kind = 2
    if kind == 1:  # transposition with the next letter, when it differs
        j = next((k for k in letters if k > i), None)
        if j is not None and j == i + 1 and word[i] != word[j]:
            return word[:i] + word[j] + word[i] + word[j + 1:]
    return word[:i] + word[i + 1:]  # drop a letter


def add_typos(text: str, rate: float, *, language: str = "en", rng: np.random.Generator,
              keep: Collection[str] = ()) -> str:
    """Give each word of 4+ letters one typo (adjacent key, transposition or dropped letter, chosen
    uniformly) with probability ``rate``; words whose key (:func:`_key`) is in ``keep`` are left alone."""
    return " ".join(_typo(w, language, rng) if rng.random() < rate and word_key(w) not in keep else w
                    for w in text.split())


def apply_casing(text: str, casing: str) -> str:
    """``upper``, ``lower``, ``title`` (Each Word Capitalised) or ``mixed`` (sentence case)."""
    check_in("casing", casing, ("upper", "lower", "title", "mixed"), func="apply_casing")
    if casing == "upper":
        return text.upper()
    if casing == "lower":
        return text.lower()
    if casing == "title":
        return " ".join(w[:1].upper() + w[1:].lower() for w in text.split())
    low = text.lower()
    return low[:1].upper() + low[1:]


def truncate(text: str, max_words: int, *, salience: Mapping[str, float] | None = None) -> str:
    """Keep at most ``max_words`` content words (function words such as DE, ET, OF do not count; at
    least one), dropping dangling connectors at both ends.

    Without ``salience``: the shortest prefix holding them,
    ``truncate("REPARATION DE VEHICULES AUTOMOBILES", 2) == "REPARATION DE VEHICULES"``.
    With ``salience`` (word key -> weight, see :func:`label_salience`): the run of consecutive
    content words (never across a function word, comma or bracket, so phrases stay whole) of at
    most ``max_words`` words whose weights sum highest, as a terse declarant writes "CRUDE
    PETROLEUM" for "EXTRACTION OF CRUDE PETROLEUM". Unknown words weigh 0.
    """
    words = text.split()
    k = max(1, max_words)
    if salience is None:
        kept: list[str] = []
        content = 0
        for w in words:
            if content >= k:
                break
            kept.append(w)
            content += _key(w) not in TAIL_WORDS
        return _trim_connectors(" ".join(kept))
    if sum(_key(w) not in TAIL_WORDS for w in words) <= k:
        return _trim_connectors(text)
    runs: list[list[int]] = [[]]
    for i, w in enumerate(words):
        if _key(w) in TAIL_WORDS or w.startswith("("):
            runs.append([])
        if _key(w) not in TAIL_WORDS:
            runs[-1].append(i)
        if w.endswith((",", ")", ";", ":")):
            runs.append([])
    weight = [salience.get(word_key(w), 0.0) for w in words]
    best: tuple[float, int, int] | None = None
    for run in runs:
        for size in range(min(k, len(run)), 0, -1):
            for j in range(len(run) - size + 1):
                score = sum(weight[i] for i in run[j:j + size])
                if best is None or score > best[0]:
                    best = (score, run[j], run[j + size - 1])
    if best is None:
        return _trim_connectors(text)
    return _trim_connectors(" ".join(words[best[1]:best[2] + 1]).strip("(),;:"))


def word_salience(texts: Iterable[str]) -> dict[str, float]:
    """Inverse document frequency ``log(N / df)`` of each word key (accent-free upper case) over
    ``texts`` (one document per code, e.g. title + includes of every note). Specific words
    ("QUARRYING", "GOVERNESS") weigh more than words found in many notes ("ACTIVITIES", "PRIVATE")."""
    docs = [{word_key(w) for w in str(t).split()} for t in texts]
    n = len(docs)
    df: dict[str, int] = {}
    for d in docs:
        for w in d:
            if w:
                df[w] = df.get(w, 0) + 1
    return {w: math.log(n / c) for w, c in df.items()}


def label_salience(texts: Iterable[str], labels: Iterable[str]) -> dict[str, dict[str, float]]:
    """Per label, how much each word says about that label: the smoothed log-lift
    ``log((df_l(w) + 0.5) / (n_l + 1)) - log((df(w) + 0.5) / (n + 1))`` over documents ``texts``
    (one per code) grouped by ``labels`` (e.g. their section). "HOUSEHOLDS" weighs much more for
    section T than "ACTIVITIES" does; words absent from a label's notes weigh less than zero."""
    docs = [({word_key(w) for w in str(t).split()} - {""}, str(lab)) for t, lab in zip(texts, labels)]
    n = len(docs)
    df: dict[str, int] = {}
    df_l: dict[str, dict[str, int]] = {}
    n_l: dict[str, int] = {}
    for words, lab in docs:
        n_l[lab] = n_l.get(lab, 0) + 1
        per = df_l.setdefault(lab, {})
        for w in words:
            df[w] = df.get(w, 0) + 1
            per[w] = per.get(w, 0) + 1
    out: dict[str, dict[str, float]] = {}
    for lab, per in df_l.items():
        base = math.log(n_l[lab] + 1)
        out[lab] = {w: math.log(per.get(w, 0) + 0.5) - base - math.log((c + 0.5) / (n + 1)) for w, c in df.items()}
    return out


def _trim_connectors(text: str) -> str:
    """Drop connectors left dangling at either end and an unclosed parenthesis ("X (PRIVATE" -> "X PRIVATE")."""
    if text.count("(") != text.count(")"):
        text = text.replace("(", " ").replace(")", " ")
    words = text.split()
    while len(words) > 1 and _key(words[-1]) in TAIL_WORDS | {""}:
        words.pop()
    while len(words) > 1 and _key(words[0]) in TAIL_WORDS | {""}:
        words.pop(0)
    return " ".join(words).strip(",;: ")


def drop_function_words(text: str) -> str:
    """Remove articles, prepositions and conjunctions ("DE", "ET", "OF", "AND"...), keeping at least
    one word: "REPARATION DE VEHICULES" -> "REPARATION VEHICULES"."""
    words = [w for w in text.split() if _key(w) not in TAIL_WORDS]
    return " ".join(words) if words else text


def reorder(text: str, *, rng: np.random.Generator) -> str:
    """Swap the two sides around a coordinator (ET / AND / Y / &) or a comma; unchanged otherwise."""
    words = text.split()
    spots = [i for i, w in enumerate(words) if 0 < i < len(words) - 1 and (_key(w) in _CONNECTORS or w == "&")]
    commas = [i for i, w in enumerate(words[:-1]) if w.endswith(",")]
    if spots:
        i = spots[int(rng.integers(0, len(spots)))]
        left, right = _trim_connectors(" ".join(words[:i])), _trim_connectors(" ".join(words[i + 1:]))
        return f"{right} {words[i]} {left}" if left and right else text
    if commas:
        i = commas[int(rng.integers(0, len(commas)))]
        left, right = words[: i + 1], words[i + 1:]
        left[-1] = left[-1].rstrip(",")
        right[-1] = right[-1] + ","
        return " ".join(right + left).rstrip(",")
    return text


def _is_market(business_context: str) -> bool:
    """A unit with clients (:data:`statcodgen.personas.persona.MARKET_CONTEXTS`), or an unknown context."""
    return not business_context or business_context in MARKET_CONTEXTS


def add_context(text: str, *, language: str, rng: np.random.Generator, city: str = "",
                business_context: str = "") -> str:
    """Append a client type ("POUR PARTICULIERS", "FOR BUSINESSES"...) or, when ``city`` is given,
    possibly the place ("A LYON", "IN LEEDS"). A declarant that has no clients (``business_context``
    set and not a market unit: household employer, public body, international body, association)
    gets the place only, or nothing without a city."""
    tables = _tables(language)
    if tables is None:
        return text
    market = _is_market(business_context)
    if city and (not market or rng.random() < 0.5):
        return f"{text} {tables.place.format(city=city.upper())}"
    if not market:
        return text
    clients = tables.clients
    return f"{text} {clients[int(rng.integers(0, len(clients)))]}"


def verbose_form(text: str, *, language: str, rng: np.random.Generator, business_context: str = "") -> str:
    """Wrap the line in a first-person or full sentence ("JE SOUHAITE EXERCER UNE ACTIVITE DE ...",
    "I RUN A SMALL BUSINESS DOING ..."); a declarant that is not a market unit gets a sentence that
    fits anyone ("MAIN ACTIVITY: ..."). No business-context prefix ("HOUSEHOLD EMPLOYER:",
    "PUBLIC SERVICE:"): each would be a coding signal of its own whatever the line that follows."""
    tables = _tables(language)
    if tables is None:
        return text
    forms = tables.verbose if _is_market(business_context) else tables.verbose_neutral
    return _elide(forms[int(rng.integers(0, len(forms)))].format(x=text), tables)


def _elide(text: str, tables: StyleTables) -> str:
    """Elision after a template, when the language has one: "DE ÉLEVAGE" -> "D'ÉLEVAGE" in French."""
    if tables.elision is None:
        return text
    return tables.elision.sub(lambda m: m.group(1)[0] + "'" + m.group(2), text)


def formal_form(text: str, *, language: str, rng: np.random.Generator) -> str:
    """Administrative wording: "EXPLOITATION DE ...", "PROVISION OF ...", "ACTIVIDAD DE ..."."""
    tables = _tables(language)
    if tables is None:
        return text
    forms = tables.formal
    return _elide(forms[int(rng.integers(0, len(forms)))].format(x=text), tables)


def persona_field(persona: Any, name: str, default: Any) -> Any:
    """Field ``name`` of ``persona`` (a Persona or a mapping), ``default`` when absent, ``None`` or NaN."""
    v = persona.get(name, default) if isinstance(persona, Mapping) else getattr(persona, name, default)
    return default if v is None or (isinstance(v, float) and v != v) else v


def _anchor(text: str, salience: Mapping[str, float] | None) -> frozenset[str]:
    """The key of the line's most salient content word (kept intact by truncation, typos and
    abbreviations), or nothing without a salience table."""
    if not salience:
        return frozenset()
    keys = [k for k in map(word_key, text.split()) if k and k not in TAIL_WORDS]
    return frozenset({max(keys, key=lambda k: salience.get(k, 0.0))}) if keys else frozenset()


def apply_style(text: str, persona: Any, *, language: str, rng: np.random.Generator | random.Random,
                salience: Mapping[str, float] | None = None) -> str:
    """Rewrite ``text`` as ``persona`` (a Persona, or a mapping with the same field names) would
    type it in ``language``; deterministic given ``rng`` (numpy Generator, or a ``random.Random``
    from which one 64-bit seed is drawn). ``salience`` (optional: word key -> weight, from
    :func:`word_salience` or one label's table of :func:`label_salience`) makes truncation keep the
    most specific words, and typos and abbreviations spare the line's most specific word. Never
    returns an empty string (falls back to the cased input)."""
    check_type("text", text, str, func="apply_style")
    check_type("rng", rng, (np.random.Generator, random.Random), func="apply_style")
    if isinstance(rng, random.Random):  # stdlib generator (offline generator): derive a numpy one
        rng = np.random.default_rng(rng.getrandbits(64))
    length = persona_field(persona, "length", "medium")
    register = persona_field(persona, "register", "plain")
    casing = persona_field(persona, "casing", "upper")
    abbr = float(persona_field(persona, "abbreviation_rate", 0.1))
    typo = float(persona_field(persona, "typo_rate", 0.01))
    check_range("abbreviation_rate", abbr, 0.0, 1.0, func="apply_style")
    check_range("typo_rate", typo, 0.0, 1.0, func="apply_style")
    lists = bool(persona_field(persona, "uses_lists", False))
    city = str(persona_field(persona, "city", ""))
    context = str(persona_field(persona, "business_context", ""))

    t = re.sub(r"\s+", " ", text).strip().upper()
    base = t
    if not t:
        return apply_casing(text.strip(), casing if casing in ("upper", "lower", "title", "mixed") else "upper")
    wrapped = False
    anchor = _anchor(t, salience)
    n_content = sum(_key(w) not in TAIL_WORDS for w in t.split())
    if length == "terse" and rng.random() < 0.6:
        if n_content > TERSE_WORDS:  # a line of 4 words is terse already: cutting it loses what it is
            t = truncate(t, int(rng.integers(TERSE_WORDS - 1, TERSE_WORDS + 1)), salience=salience)
        if rng.random() < 0.4:
            t = drop_function_words(t)
    elif length == "medium" and rng.random() < 0.15 and n_content > TERSE_WORDS + 2:
        t = truncate(t, int(rng.integers(TERSE_WORDS + 1, TERSE_WORDS + 3)), salience=salience)
    elif length == "verbose" and rng.random() < 0.6:
        t, wrapped = verbose_form(t, language=language, rng=rng, business_context=context), True
    if register == "formal" and not wrapped and rng.random() < 0.25:
        t = formal_form(t, language=language, rng=rng)
    if rng.random() < (0.3 if lists else 0.1):
        t = reorder(t, rng=rng)
    if lists and rng.random() < 0.5:
        t = _LIST_JOIN.sub(", ", t)
    p_ctx = {"verbose": 0.5, "medium": 0.2, "terse": 0.05}.get(length, 0.2)
    if rng.random() < p_ctx:
        t = add_context(t, language=language, rng=rng, city=city, business_context=context)
    t = add_typos(t, typo, language=language, rng=rng, keep=anchor)
    t = abbreviate(t, abbr, language=language, rng=rng, keep=anchor)
    t = re.sub(r"\s+", " ", t).strip(" ,;:")
    return apply_casing(t or base, casing)


def style_frame(
    df: pd.DataFrame, personas: pd.DataFrame, *, language: str, seed: int = 0, text_col: str = "text",
    persona_col: str = "persona_id",
) -> pd.DataFrame:
    """Apply :func:`apply_style` to every row of ``df`` with the persona named in ``persona_col``
    (looked up in ``personas`` by ``persona_id``). Row ``i`` uses ``default_rng([seed, i])``, so the
    result does not depend on the order of other rows. Returns a copy; the input text goes to
    ``text_before_style``. Unknown persona ids raise :class:`DataFormatError`."""
    check_type("df", df, pd.DataFrame, func="style_frame")
    check_type("personas", personas, pd.DataFrame, func="style_frame")
    for c in (text_col, persona_col):
        if c not in df.columns:
            raise DataFormatError("the table lacks a column.", column=c, expected=f"{text_col} and {persona_col}")
    lookup = {str(r["persona_id"]): r for r in personas.to_dict("records")}
    missing = sorted(set(df[persona_col].astype(str)) - set(lookup))
    if missing:
        raise DataFormatError(f"{len(missing)} persona ids are not in the persona table (first: {missing[0]!r}).",
                              column=persona_col, expected="ids present in personas['persona_id']")
    out = df.copy()
    out["text_before_style"] = out[text_col]
    out[text_col] = [apply_style(str(t), lookup[str(p)], language=language, rng=np.random.default_rng([seed, i]))
                     for i, (t, p) in enumerate(zip(df[text_col], df[persona_col].astype(str)))]
    return out
