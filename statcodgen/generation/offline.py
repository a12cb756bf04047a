"""Offline generator: training lines made from the explanatory notes alone, no LLM.

Every Includes / Also-includes item and the title of a code are exploded into activity phrases
(bullets, sub-bullets, "such as a, b, c" enumerations, coordinated actions and objects), each
phrase is parsed into activity nouns and object noun phrases, and the pair is re-rendered with
the forms declarations use in the language (the pack's :class:`~statcodgen.text.languages.Lexicon`): "X MINING",
"MANUFACTURE OF X", "X (MANUFACTURE)", "X SHOP", short head-noun forms, singular/plural.
Nothing is learned from labelled data.

Public functions return the *generation output* schema (see ARCHITECTURE.md)::

    text, code, label, generator, model, prompt_id, persona_id, temperature, seed, request_key, created_at

Codes whose notes give fewer distinct lines than planned get fewer lines, never near-copies;
:class:`statcodgen.generation.generators.OfflineGenerator` reports them in ``shortfall``. The
two comparison baselines (titles, raw bullets) are in :mod:`statcodgen.generation.baselines`.
"""

from __future__ import annotations

import hashlib
import logging
import math
import random
from collections import ChainMap
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

import pandas as pd

from .._validation import check_in, check_int, check_type
from ..errors import ConfigError, InputError
from ..personas.persona import contexts_for_code, fitting
from ..personas.style import TAIL_WORDS, apply_style, label_salience, persona_field, word_key, word_salience
from ..text.languages import fold_word, get_language, head_words, resolve_language
from .offline_lines import candidate_lines, prose_items, title_context, title_items
from .offline_phrases import LEXICON
from .results import OUTPUT_COLUMNS, SHORTFALL_ATTR

log = logging.getLogger("statcodgen")

__all__ = [
    "GENERATION_COLUMNS",
    "OFFLINE_PROMPT_ID",
    "generate_offline",
    "note_lookup",
    "note_items",
    "label_for",
    "line_key",
    "lines_frame",
]

GENERATION_COLUMNS = OUTPUT_COLUMNS
OFFLINE_PROMPT_ID = "offline-v1"
_NOTE_COLUMNS = ("code", "title")


def note_lookup(notes: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """The notes as ``{code: row dict}``; raises :class:`InputError` without ``code``/``title``."""
    missing = [c for c in _NOTE_COLUMNS if c not in notes.columns]
    if missing:
        raise InputError(f"the notes table lacks column(s) {missing}.",
                         expected="the load_notes() schema: code, level, parent, section, title, includes, ...")
    return {str(r["code"]): r for r in notes.to_dict("records")}


def note_items(row: dict[str, Any], column: str) -> list[str]:
    """The non-empty items of a list column of a note row (or its ``<column>_text`` as one item)."""
    val = row.get(column)
    if isinstance(val, (list, tuple)):
        return [str(v) for v in val if str(v).strip()]
    if hasattr(val, "tolist"):
        return [str(v) for v in val.tolist() if str(v).strip()]
    text = row.get(column + "_text", "") if column + "_text" in row else (val if isinstance(val, str) else "")
    return [text] if isinstance(text, str) and text.strip() else []


def _language(notes: pd.DataFrame, language: str | None, func: str) -> str:
    lang = resolve_language(language, notes)
    return check_in("language", lang, sorted(LEXICON), func=func)


def _plan_rows(plan: pd.DataFrame, func: str) -> list[tuple[str, str, int]]:
    check_type("plan", plan, pd.DataFrame, func=func)
    for col in ("code", "n_samples"):
        if col not in plan.columns:
            raise ConfigError(f"The 'plan' parameter of {func} must have columns code, n_samples "
                              f"(from generation.plan.generation_plan). Got columns {list(plan.columns)} instead.")
    rows = []
    for r in plan.itertuples(index=False):
        target = str(getattr(r, "target", "") or "")
        rows.append((str(r.code), target, int(r.n_samples)))
    return rows


def label_for(code: str, target: str, row: dict[str, Any] | None, hierarchy: Any, target_level: str) -> str:
    """The label of a line of ``code``: the plan's ``target`` if any, else the code's ancestor at
    ``target_level`` (from ``hierarchy``, or the row's section), else the code itself."""
    if target:
        return target
    if hierarchy is not None:
        return str(hierarchy.ancestor(code, target_level))
    if row is not None and target_level == "section" and row.get("section"):
        return str(row["section"])
    return code


def line_key(*parts: Any) -> str:
    """A deterministic 16-hex ``request_key`` from the parts of a line's provenance."""
    return hashlib.sha1("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()[:16]


def lines_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Row dicts as a DataFrame in the generation output schema (float ``temperature``)."""
    df = pd.DataFrame(rows, columns=GENERATION_COLUMNS)
    df["temperature"] = df["temperature"].astype(float)
    return df


def _spread(cands: list[tuple[str, str]], n: int, rng: random.Random) -> list[str]:
    """Pick ``n`` lines round-robin over groups (objects), in a seeded random order."""
    groups: dict[str, list[str]] = {}
    for g, line in cands:
        groups.setdefault(g, []).append(line)
    order = list(groups)
    rng.shuffle(order)
    for g in order:
        rng.shuffle(groups[g])
    picked: list[str] = []
    while len(picked) < n and any(groups[g] for g in order):
        for g in order:
            if groups[g] and len(picked) < n:
                picked.append(groups[g].pop())
    return picked


def _recombine(cands: list[tuple[str, str]], n: int, language: str, rng: random.Random,
               taken: set[str], max_words: int) -> list[str]:
    """Extra distinct lines when the notes are too thin: pairs of short lines joined by 'and'."""
    joiner = f" {get_language(language).conjunctions[0]} "
    group_of = {line: g for g, line in cands if line == g and len(line.split()) <= 3}
    short = sorted(group_of)
    out: list[str] = []
    n = min(n, len(group_of))  # a thin note stays thin: never pad with near-copies
    key = {line: frozenset(fold_word(w, language=language) for w in line.split()) for line in short}
    pairs = [(a, b) for i, a in enumerate(short) for b in short[i + 1:]  # not "bases et base": other words
             if group_of[a] != group_of[b] and a not in b and b not in a and key[a] != key[b]]
    rng.shuffle(pairs)
    for a, b in pairs:
        line = a + joiner + b
        if line not in taken and len(line.split()) <= max_words:
            out.append(line)
            taken.add(line)
            if len(out) >= n:
                break
    return out


def generate_offline(notes: pd.DataFrame, plan: pd.DataFrame, *, language: str | None = None, seed: int = 0,
                     personas: Any = None, hierarchy: Any = None, target_level: str = "section",
                     uppercase: bool = True, max_words: int = 8, use_ancestors: bool = True) -> pd.DataFrame:
    """Write ``plan.n_samples`` distinct lines per ``plan.code`` from the notes alone.

    ``notes``: a :func:`statcodgen.sources.notes.load_notes` frame (its ``attrs["language"]`` is used when
    ``language`` is None). ``plan``: ``code, n_samples`` (+ ``target``, used as ``label``).
    ``personas``: optional list of Persona objects or a DataFrame with ``persona_id``; when given each
    line is passed through ``statcodgen.personas.style.apply_style`` and its ``persona_id`` recorded.
    Returns the generation output schema; a code whose notes cannot give enough distinct lines gets
    fewer: ``df.attrs["shortfall_reasons"]`` says why, per code ("the notes give 3 Includes item(s):
    only 41 distinct phrasing(s) ..."), a warning names the codes, and
    :func:`statcodgen.generation.results.shortfall_table` puts the reasons in ``shortfall``.
    """
    func = "generate_offline"
    check_type("notes", notes, pd.DataFrame, func=func)
    lang = _language(notes, language, func)
    check_int("seed", seed, func=func)
    check_int("max_words", max_words, 1, func=func)
    rows_by_code = note_lookup(notes)
    plan_rows = _plan_rows(plan, func)
    planned: dict[str, int] = {}
    for code, _, n in plan_rows:
        planned[code] = planned.get(code, 0) + n
    persona_list = _persona_list(personas)
    salience_for = _salience_for(rows_by_code) if persona_list else None
    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    out: list[dict[str, Any]] = []
    pools: dict[str, list[Any]] = {}
    short: dict[str, str] = {}
    for code, target, n in plan_rows:
        row = rows_by_code.get(code)
        if row is None:
            raise InputError(f"plan code {code!r} is not in the notes table.",
                             expected="plan codes taken from the same notes (generation.plan.generation_plan)")
        items = title_items(row.get("title", "")) + note_items(row, "includes") + note_items(row, "also_includes")
        prose = [p for col in ("includes_text", "also_includes_text")
                 for p in prose_items(row.get(col, ""), LEXICON[lang])]
        if use_ancestors:
            parent = row.get("parent")
            while parent and str(parent) in rows_by_code and rows_by_code[str(parent)].get("level") != "section":
                items += title_items(rows_by_code[str(parent)].get("title", ""))
                parent = rows_by_code[str(parent)].get("parent")
        cands = candidate_lines(items, language=lang, max_words=max_words, context_items=prose,
                                context=title_context(row.get("title", ""), LEXICON[lang]),
                                excluded=note_items(row, "excludes"), heads=head_words(items, language=lang))
        rng = random.Random(f"{seed}:{code}")
        lines = _spread(cands, n, rng)
        if len(lines) < n:
            joined = _recombine(cands, n - len(lines), lang, rng, set(lines), max_words)
            lines += joined
            short[code] = _shortfall_reason(row, n, len(cands), len(joined))
        label = label_for(code, target, row, hierarchy, target_level)
        line_salience = salience_for(row) if salience_for is not None else None
        for i, line in enumerate(lines):
            persona_id = ""
            text = line.upper() if uppercase else line
            if persona_list:  # the persona's style decides the casing, abbreviations and typos
                pool = pools.setdefault(code, _compatible(persona_list, code, row.get("section", "")))
                persona = pool[rng.randrange(len(pool))]
                text, persona_id = _styled(text, persona, lang, rng, line_salience)
            out.append({"text": text, "code": code, "label": label, "generator": "offline", "model": "",
                        "prompt_id": OFFLINE_PROMPT_ID, "persona_id": persona_id, "temperature": float("nan"),
                        "seed": seed, "request_key": line_key("offline", code, seed, i, text), "created_at": created})
    df = lines_frame(out)
    _warn_small_pools(pools, len(persona_list))
    counts = df["code"].value_counts()
    reasons = {code: why for code, why in short.items() if int(counts.get(code, 0)) < planned.get(code, 0)}
    df.attrs[SHORTFALL_ATTR] = reasons
    if reasons:
        first = list(reasons.items())[:5]
        log.warning("offline generation: %d code(s) got fewer lines than planned: %s%s", len(reasons),
                    "; ".join(f"{c} ({int(counts.get(c, 0))} of {planned[c]}: {why})" for c, why in first),
                    f"; and {len(reasons) - len(first)} more (the result's shortfall table has them all)" if len(reasons) > len(first) else "")
    return df


def _shortfall_reason(row: dict[str, Any], planned: int, n_candidates: int, n_joined: int) -> str:
    """Why a code's notes give fewer distinct lines than planned, in numbers."""
    n_inc, n_also = len(note_items(row, "includes")), len(note_items(row, "also_includes"))
    what = (f"{n_inc} Includes item(s)" + (f" and {n_also} Also-includes item(s)" if n_also else "")
            if n_inc or n_also else "no Includes items (title only)")
    joined = f" + {n_joined} pair(s) of short lines" if n_joined else ""
    return f"the notes give {what}: only {n_candidates} distinct phrasing(s){joined} for {planned} planned"


def _persona_list(personas: Any) -> list[Any]:
    if personas is None:
        return []
    if isinstance(personas, pd.DataFrame):
        return personas.to_dict("records")
    return list(personas)


#: A code whose matching personas are fewer than this takes the habits of a handful of writers.
MIN_PERSONA_POOL = 20


def _warn_small_pools(pools: dict[str, list[Any]], n_personas: int) -> None:
    """Log a warning naming the codes styled by fewer than :data:`MIN_PERSONA_POOL` personas."""
    small = sorted((len(pool), code) for code, pool in pools.items() if len(pool) < min(MIN_PERSONA_POOL, n_personas))
    if small:
        size, code = small[0]
        log.warning("%d planned code(s) draw their style from fewer than %d personas (smallest: %s with %d of %d); "
                    "sample more personas (e.g. 2,000) so that a few writers do not set the style of a whole class.",
                    len(small), MIN_PERSONA_POOL, code, size, n_personas)


def _compatible(persona_list: list[Any], code: str, section: Any) -> list[Any]:
    """The personas whose business context can declare ``code`` (household employers for T,
    public bodies for O...: :func:`statcodgen.personas.persona.contexts_for_code`); all of them when the
    personas carry no business context or none fits."""
    contexts = [str(persona_field(p, "business_context", "")) for p in persona_list]
    return fitting(persona_list, contexts, contexts_for_code(code, "" if section is None else str(section)))


#: Weight added to the specific words of a code's own title: they say what the class is, so a
#: terse declarant who cuts a long line keeps one of them.
TITLE_BONUS = 10.0


def _salience_for(rows_by_code: dict[str, Any]) -> Callable[[dict[str, Any]], Mapping[str, float]]:
    """Word weights for the lines of one note row, built once from all the notes (one document per
    code: its title and items): the log-lift of each word for the row's section
    (:func:`statcodgen.personas.style.label_salience`), with the code's specific title words (and their
    singular/plural forms) raised by :data:`TITLE_BONUS`. Title words found in more than a tenth of
    the notes ("ACTIVITIES", "OTHER", "SERVICES"; with few notes, in more than two) get no bonus."""

    docs = [" ".join([str(r.get("title", ""))] + note_items(r, "includes") + note_items(r, "also_includes"))
            for r in rows_by_code.values()]
    lift = label_salience(docs, [str(r.get("section", "")) for r in rows_by_code.values()])
    idf = word_salience(docs)
    too_common = math.log(len(docs) / max(2.0, len(docs) / 10))  # IDF of a word in that many notes

    def for_row(row: dict[str, Any]) -> Mapping[str, float]:
        section_table = lift.get(str(row.get("section", "")), {})
        bonus: dict[str, float] = {}
        for word in str(row.get("title", "") or "").replace(",", " ").replace(";", " ").split():
            key = word_key(word)
            if len(key) < 3 or key in TAIL_WORDS or idf.get(key, math.inf) < too_common:
                continue
            forms = {key, key[:-1], key[:-2] if key.endswith("ES") else key} if key.endswith("S") else {key, key + "S"}
            for form in forms:
                bonus[form] = section_table.get(form, 0.0) + TITLE_BONUS
        return ChainMap(bonus, section_table)

    return for_row


def _styled(line: str, persona: Any, language: str, rng: random.Random,
            salience: Mapping[str, float] | None = None) -> tuple[str, str]:

    pid = persona_field(persona, "persona_id", None)
    if pid is None:
        pid = getattr(persona, "id", "")
    styled = apply_style(line, persona, language=language, rng=rng, salience=salience)
    return (styled if isinstance(styled, str) and styled.strip() else line), str(pid)
