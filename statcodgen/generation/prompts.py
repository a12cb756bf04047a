"""Chat prompts built from one explanatory note (pure: note row in, messages out).

Templates are Jinja2 files ``prompt_system.<lang>.j2`` and ``prompt_user.<lang>.j2`` in
``statcodgen/generation/templates``; a user folder (``template_dir``) is searched first, so a statistician can
override one file or add a language without touching the package. The variables a template
receives are documented in :func:`render_context`.

Template version 3 (issue 12) is short and about the note: the class title, its Includes and
Also-includes items, the titles of its sibling classes as "not this class" (``contrast``), an
optional ``focus`` (one note item: a code's successive requests take distinct angles, see
:func:`request_angle`), the format in one sentence, and one example (the user's real
declarations when given, else a bakery). Version 2 (the reference French prompt's structure: the
levels above, a list of conditions on the wording, the Excludes as negatives, "request number k:
other wordings") made a weak model write generic manufacturing and retail lines for every class and
drift further with each request; its variables (``ancestors``, ``excludes``, ``request_index``) are
still given to the templates, so a user template can use them.

The rewrite mode (:mod:`statcodgen.generation.rewrite`) has its own user template, ``rewrite_user.<lang>.j2``:
the class title, the numbered lines to rewrite (``seeds``), the instruction to say the same activity as a
declarant would, the real examples when given, and the format; the system template is shared.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from .._validation import check_in, check_int, check_type
from ..errors import ConfigError, DataFormatError, InputError
from ..text.languages import see_pattern

__all__ = [
    "TEMPLATE_VERSION",
    "LANGUAGES",
    "build_messages",
    "render_context",
    "examples_from_real",
    "prompt_id_for",
    "available_languages",
    "note_angles",
    "request_angle",
    "sibling_titles",
]

TEMPLATE_VERSION = "3"
#: most sibling titles shown as "not this class"
MAX_SIBLINGS = 5
LANGUAGES = ("fr", "en", "es")
_PACKAGE_TEMPLATES = Path(__file__).resolve().parent / "templates"
_PERSONA_FIELDS = ("id", "description", "occupation", "business_context", "region", "city", "age",
                   "education", "register", "length", "casing", "abbreviation_rate", "uses_lists")


def _environment(template_dir: str | Path | None) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if template_dir is not None:
        folder = Path(template_dir)
        if not folder.is_dir():
            raise ConfigError(f"The 'template_dir' parameter of build_messages must be an existing folder. "
                              f"Got {str(template_dir)!r} instead.")
        loaders.append(jinja2.FileSystemLoader(str(folder)))
    loaders.append(jinja2.FileSystemLoader(str(_PACKAGE_TEMPLATES)))
    return jinja2.Environment(loader=jinja2.ChoiceLoader(loaders), undefined=jinja2.StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False,
                              autoescape=False)


def available_languages(template_dir: str | Path | None = None) -> list[str]:
    """Languages with both a system and a user template (package + ``template_dir``)."""
    folders = [_PACKAGE_TEMPLATES] + ([Path(template_dir)] if template_dir is not None else [])
    langs: set[str] = set()
    for folder in folders:
        for f in folder.glob("prompt_system.*.j2"):
            lang = f.name.split(".")[1]
            if any((d / f"prompt_user.{lang}.j2").is_file() for d in folders):
                langs.add(lang)
    return sorted(langs)


def _template_names(language: str, rewrite: bool = False) -> tuple[str, str]:
    return f"prompt_system.{language}.j2", f"{'rewrite' if rewrite else 'prompt'}_user.{language}.j2"


def prompt_id_for(*, language: str = "fr", template_dir: str | Path | None = None, json_output: bool = False,
                  rewrite: bool = False) -> str:
    """Short id of the prompt: hash of the template names, their source text, the version and the mode
    (``rewrite``: the user template is ``rewrite_user.<lang>.j2``, the prompt that paraphrases given lines).

    A user override that changes one character gives another id, so cached answers are never
    mixed across prompt versions. Example: ``"fr-v1-3c9a1b2f"``.
    """
    env = _environment(template_dir)
    h = hashlib.sha1(f"{TEMPLATE_VERSION}|{int(bool(json_output))}".encode())
    for name in _template_names(language, rewrite):
        try:
            source = env.loader.get_source(env, name)[0]  # type: ignore[union-attr]
        except jinja2.TemplateNotFound as exc:
            raise ConfigError(f"The 'language' parameter of build_messages must have templates {name!r} in "
                              f"the package or template_dir. Got {language!r} instead.") from exc
        h.update(name.encode() + b"\0" + source.encode("utf-8"))
    return f"{language}-v{TEMPLATE_VERSION}-{h.hexdigest()[:8]}"


def _as_mapping(note: Any) -> dict[str, Any]:
    if isinstance(note, pd.Series):
        return note.to_dict()
    if isinstance(note, Mapping):
        return dict(note)
    raise ConfigError(f"The 'note' parameter of build_messages must be one row of the notes table "
                      f"(pandas Series or dict). Got {type(note).__name__} instead.")


def _items(note: Mapping[str, Any], column: str) -> list[str]:
    val = note.get(column)
    if val is None or (isinstance(val, float) and val != val):
        return []
    if isinstance(val, str):
        return [val] if val.strip() else []
    return [str(v).strip() for v in list(val) if str(v).strip()]


def _collapse(items: list[str]) -> list[str]:
    """Merge the loader's "head: a", "head: b" items back into "head: a, b" (shorter prompts)."""
    out: list[str] = []
    heads: dict[str, int] = {}
    for item in items:
        head, sep, tail = item.partition(": ")
        if sep and head in heads:
            i = heads[head]
            out[i] = out[i] + ", " + tail if out[i] != head else f"{head}: {tail}"
        elif sep and head in out:
            i = out.index(head)
            out[i] = item
            heads[head] = i
        else:
            if sep:
                heads[head] = len(out)
            out.append(item)
    return out


def _negatives(items: Sequence[str]) -> list[dict[str, Any]]:
    from ..sources.notes import excluded_codes

    out = []
    for item in items:
        text = see_pattern(tail=True).sub("", item).strip(" ,;.")
        if text:
            out.append({"text": text, "codes": excluded_codes(item)})
    return out


def _ancestors(code: str, note: Mapping[str, Any], hierarchy: Any) -> list[dict[str, str]]:
    if hierarchy is None:  # one row cannot tell its ancestors' titles
        return []
    try:
        codes = list(hierarchy.ancestors(code))
    except Exception:  # a code outside the hierarchy: the prompt still works without its ancestors
        return []
    out = []
    for c in reversed(codes):  # section first
        try:
            title = str(hierarchy.title(c) or "")
        except Exception:
            title = ""
        out.append({"code": str(c), "title": title})
    return out


def _persona(persona: Any, language: str | None = None) -> dict[str, Any] | None:
    """Persona fields for the templates, plus ``prompt``: the persona's own paragraph
    (:meth:`statcodgen.personas.persona.Persona.to_prompt`: who declares, personality, writing style) in
    ``language`` when the persona module has that language, else ``""`` (templates then fall back
    to the individual fields)."""
    from ..personas.persona import PROMPT_LANGUAGES, Persona, personas_from_frame

    if persona is None:
        return None
    if is_dataclass(persona) and not isinstance(persona, type):
        data = asdict(persona)
    elif isinstance(persona, Mapping):
        data = dict(persona)
    elif isinstance(persona, pd.Series):
        data = persona.to_dict()
    else:
        raise ConfigError(f"The 'persona' parameter of build_messages must be a Persona, a dict or None. "
                          f"Got {type(persona).__name__} instead.")
    if "id" not in data and "persona_id" in data:
        data["id"] = data["persona_id"]
    out: dict[str, Any] = {k: ("" if _missing(data.get(k)) else data.get(k)) for k in _PERSONA_FIELDS}
    out["prompt"] = ""
    if language in PROMPT_LANGUAGES:
        try:
            person = persona if isinstance(persona, Persona) else \
                personas_from_frame(pd.DataFrame([{**data, "persona_id": str(data.get("id", ""))}]))[0]
            out["prompt"] = person.to_prompt(language)
        except DataFormatError:  # a field the persona model cannot read: the individual fields still fill the slot
            out["prompt"] = ""
    return out


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def render_context(note: Any, *, n_lines: int = 20, examples: Sequence[str] = (), persona: Any = None,
                   json_output: bool = False, hierarchy: Any = None, request_index: int = 0,
                   language: str | None = None, focus: str = "", contrast: bool = True,
                   seeds: Sequence[str] = ()) -> dict[str, Any]:
    """The variables given to the templates.

    ``code, title, includes (list[str]), also_includes (list[str]), excludes (list of {text, codes}),
    ancestors (list of {code, title}, section first), examples (list[str]; empty -> the template's
    generic example), n_lines, persona (dict of Persona fields and ``prompt``, the persona's paragraph
    in ``language``; or None), json_output, request_index, focus (str: the one note item this request
    is about, "" for the whole note), siblings (list[str]: titles of the sibling codes when
    ``contrast`` and a ``hierarchy`` are given, see :func:`sibling_titles`), seeds (list[str]: the lines
    a rewrite request asks to paraphrase, ``rewrite_user.<lang>.j2``; empty otherwise)``.
    """
    row = _as_mapping(note)
    if "code" not in row or "title" not in row:
        raise InputError("the note row lacks 'code' or 'title'.", expected="a row of statcodgen.sources.notes.load_notes()")
    code = str(row["code"])
    return {
        "code": code,
        "title": re.sub(r"\s+", " ", str(row.get("title") or "")).strip(),
        "includes": _collapse(_items(row, "includes")),
        "also_includes": _collapse(_items(row, "also_includes")),
        "excludes": _negatives(_items(row, "excludes")),
        "ancestors": _ancestors(code, row, hierarchy),
        "examples": [str(e).strip() for e in examples if str(e).strip()],
        "n_lines": n_lines,
        "persona": _persona(persona, language),
        "json_output": json_output,
        "request_index": request_index,
        "focus": re.sub(r"\s+", " ", str(focus or "")).strip(),
        "siblings": sibling_titles(code, hierarchy) if contrast else [],
        "seeds": [re.sub(r"\s+", " ", str(x)).strip() for x in seeds if str(x).strip()],
    }


def build_messages(note: Any, *, language: str = "fr", n_lines: int = 20, examples: Sequence[str] = (),
                   persona: Any = None, json_output: bool = False, template_dir: str | Path | None = None,
                   hierarchy: Any = None, request_index: int = 0, focus: str = "",
                   contrast: bool = True, seeds: Sequence[str] = ()) -> list[dict[str, str]]:
    """Chat messages ``[{"role": "system", ...}, {"role": "user", ...}]`` for one note row.

    ``note``: one row (Series or dict) of :func:`statcodgen.sources.notes.load_notes`. ``language``: template
    language (``fr``, ``en``, ``es`` or any language with templates in ``template_dir``).
    ``examples``: real declarations to show (see :func:`examples_from_real`); without them the
    template shows its generic example. ``persona``: a :class:`statcodgen.personas.persona.Persona` (or dict)
    whose description and writing style are put in the persona slot. ``json_output``: ask for
    ``{"lines": [...]}`` instead of plain lines. ``request_index``: the rank of this request among
    its code's (given to the templates; the package's do not use it). ``focus``: one item of the
    note this request is about (:func:`request_angle`). ``contrast``: name the sibling codes' titles
    (from ``hierarchy``) as "not this class". ``seeds``: lines to paraphrase (a rewrite request,
    :mod:`statcodgen.generation.rewrite`): the user message comes from ``rewrite_user.<lang>.j2`` and
    ``n_lines`` must be their number.
    """
    func = "build_messages"
    check_int("n_lines", n_lines, 1, 500, func=func)
    check_int("request_index", request_index, 0, func=func)
    check_type("json_output", json_output, bool, func=func)
    check_type("focus", focus, str, func=func)
    check_type("contrast", contrast, bool, func=func)
    check_in("language", language, available_languages(template_dir), func=func)
    ctx = render_context(note, n_lines=n_lines, examples=examples, persona=persona, json_output=json_output,
                         hierarchy=hierarchy, request_index=request_index, language=language, focus=focus,
                         contrast=contrast, seeds=seeds)
    if seeds and len(ctx["seeds"]) != n_lines:
        raise ConfigError(f"The 'seeds' parameter of build_messages must hold n_lines={n_lines} non-empty lines. "
                          f"Got {len(ctx['seeds'])} instead.")
    env = _environment(template_dir)
    system_name, user_name = _template_names(language, bool(seeds))
    try:
        system = env.get_template(system_name).render(**ctx).strip()
        user = env.get_template(user_name).render(**ctx).strip()
    except jinja2.TemplateNotFound as exc:
        raise ConfigError(f"Template {exc.name!r} is not in the package or template_dir: language {language!r} has no "
                          f"{'rewrite' if seeds else 'generation'} prompt. Add the file to template_dir.") from exc
    except jinja2.TemplateError as exc:
        raise ConfigError(f"Template {system_name!r}/{user_name!r} failed to render: {exc}. "
                          "Check the variables listed in statcodgen.generation.prompts.render_context.") from exc
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def examples_from_real(real: pd.DataFrame, code: str, hierarchy: Any = None, *, k: int = 5,
                       seed: int = 0) -> list[str]:
    """Up to ``k`` distinct real declarations for ``code``: same code first, then its siblings.

    ``real``: labelled data with ``text, code``. Siblings are the codes under the same parent in
    ``hierarchy`` (or, without one, codes sharing all but the last character/digit group).
    Deterministic for a seed; returns ``[]`` when the real data has nothing close.
    """
    func = "examples_from_real"
    check_type("real", real, pd.DataFrame, func=func)
    check_int("k", k, 0, func=func)
    check_int("seed", seed, func=func)
    for col in ("text", "code"):
        if col not in real.columns:
            raise DataFormatError(f"the real data lacks column {col!r}.", column=col, expected="columns text, code")
    code = str(code)
    codes = real["code"].astype(str)
    rng = random.Random(f"{seed}:{code}")
    picked: list[str] = []

    def take(mask: pd.Series) -> None:
        seen = {p.casefold() for p in picked}
        texts: dict[str, str] = {}
        for t in sorted(real.loc[mask, "text"].astype(str).str.strip()):
            if t and t.casefold() not in seen:
                texts.setdefault(t.casefold(), t)
        pool = sorted(texts.values())
        rng.shuffle(pool)
        picked.extend(pool[: k - len(picked)])

    take(codes == code)
    if len(picked) < k:
        take(codes.map(lambda c: _is_sibling(c, code, hierarchy)))
    return picked[:k]


def _is_sibling(other: str, code: str, hierarchy: Any) -> bool:
    if other == code:
        return False
    if hierarchy is not None:
        try:
            return hierarchy.parent(other) == hierarchy.parent(code)
        except Exception:
            return False
    stem = code[:-1]  # 08.12Z -> 08.12 (same class), 08.12 -> 08.1 (same group)
    return bool(stem) and other.startswith(stem)


def note_angles(note: Any) -> list[str]:
    """The distinct angles of a note: its Includes then Also-includes items as parsed (an enumeration
    split by the loader, "head: a", "head: b", stays one angle per member), duplicates dropped."""
    row = _as_mapping(note)
    seen: set[str] = set()
    out: list[str] = []
    for item in _items(row, "includes") + _items(row, "also_includes"):
        key = re.sub(r"\W+", " ", item.casefold()).strip()
        if key and key not in seen:
            seen.add(key)
            out.append(re.sub(r"\s+", " ", item).strip())
    return out


def request_angle(angles: Sequence[str], index: int) -> str:
    """The focus of a code's request number ``index`` (0-based): ``""`` (the whole note) for the first,
    then each angle in turn, then the whole note again, and around (period ``len(angles) + 1``)."""
    k = index % (len(angles) + 1)
    return "" if k == 0 else str(angles[k - 1])


def sibling_titles(code: str, hierarchy: Any, *, k: int = MAX_SIBLINGS) -> list[str]:
    """Titles of up to ``k`` codes next to ``code``: the other children of its parent, else (an only child,
    e.g. 05.10 alone in group 05.1) the other finest codes of its division. ``[]`` without a hierarchy
    or when the code has no neighbour (99.00, alone in section U)."""
    if hierarchy is None:
        return []
    try:
        parent = hierarchy.parent(code)
        sibs = [c for c in hierarchy.children(parent) if c != code] if parent else []
        if not sibs:
            level = getattr(hierarchy, "level")(code)
            div = hierarchy.ancestor(code, "division") if level not in ("section", "division") else None
            sibs = [c for c in hierarchy.leaves(div) if c != code] if div else []
        titles = [re.sub(r"\s+", " ", str(hierarchy.title(c) or "")).strip() for c in sibs]
    except Exception:  # a code outside the hierarchy: the prompt works without its neighbours
        return []
    return [t for t in titles if t][:k]
