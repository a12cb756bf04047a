"""Explanatory notes: load a notes file into one row per code, and split note texts into items.

Item rules (documented choices, :func:`parse_items`):

- The lead-in ("This class includes:", "Cette sous-classe comprend :", "Esta clase comprende:",
  "Questa classe include:", "In questa sezione sono incluse", ...) is removed.
- Bullets: ``-``/``–`` (depth 1), ``•``/``.``/``·`` (depth 2), ``◦`` (depth 3), either at line
  start (Eurostat, INE) or inline after a colon (``NAFclasses.xlsx`` flattens a cell into one
  line: ``"... : - a - b, par exemple : • c • d"``). Lines that start in lower case continue the
  previous bullet (PDF extraction wraps lines).
- A bullet that has sub-bullets is kept as an item itself (without its trailing ", for example :")
  and each sub-bullet becomes ``"<parent item>: <sub-bullet>"``, so the item keeps its context.
- An enumeration at the end of an item (``"X such as a, b, c etc."``, ``par exemple``, ``tales
  como``, ``ad esempio``) gives the item ``"X"`` plus ``"X: a"``, ``"X: b"``, ``"X: c"``; it is
  not split when it is inside parentheses, followed by more text, or its parts are long (> 6
  words). ``split_examples=False`` (used for exclusions) keeps every item whole.
- Prose sentences are kept only when they start with a lead-in ("This class includes the
  provision of ..." -> "the provision of ...") or when the note has no lead-in and no bullets at
  all; explanatory sentences around bullet lists are dropped from the items (the raw text keeps
  them).
- A trailing "etc." and trailing ``;``/``.``/``,`` are stripped.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_in, check_type
from ..classification.hierarchy import LEVELS, SYSTEMS, Hierarchy, code_level, normalize_code
from ..errors import ConfigError, NotesFormatError, UnknownCodeError
from ..text.languages import available_languages, conjunction_pattern, get_language, reference_pattern
from ._tables import read_table

__all__ = ["load_notes", "parse_items", "excluded_codes", "detect_layout", "LAYOUTS", "NOTES_COLUMNS"]

_UNIT = r"(?:sous-classe|sous-cat[ée]gorie|classe|class|subclass|section|division|group|groupe|item|rubrique|subclase|clase|divisi[óo]n|grupo|secci[óo]n|sottocategoria|categoria|sezione|divisione|gruppo)"
_HEADER_RE = re.compile(
    r"^(?:"
    rf"(?:this|the)\s+(?:{_UNIT}\s+)?(?:\([^)]*\)\s+)?(?:(?:only|also)\s+)*(?:includes|excludes|comprises|covers|does\s+not\s+include)(?:\s+also)?"
    r"|it\s+(?:also\s+)?(?:includes|excludes|comprises)(?:\s+also)?"
    rf"|(?:cette|la\s+pr[ée]sente|ce)\s+{_UNIT}\s+(?:ne\s+)?(?:comprend|couvre|recouvre)(?:\s+(?:[ée]galement|aussi|pas|en\s+outre))*"
    r"|elle\s+(?:ne\s+)?comprend(?:\s+(?:[ée]galement|aussi|pas|en\s+outre))*"
    rf"|(?:esta|este)\s+{_UNIT}\s+(?:no\s+)?(?:comprende|incluye)(?:\s+(?:tambi[ée]n|asimismo))?"
    rf"|(?:questa|questo|la\s+presente)\s+{_UNIT}\s+(?:non\s+)?(?:include|comprende|esclude)(?:\s+anche)?"
    rf"|(?:in\s+quest[ao]\s+{_UNIT}\s+)?sono\s+(?:anche\s+)?(?:incluse|inclusi|escluse|esclusi)(?:\s+anche)?"
    r")(?:\s+the\s+following(?:\s+activities)?)?\s*:?\s*",
    re.I,
)
_BULLET_LINE_RE = re.compile(r"^(?:([-–—])|([•·*\x83])|(◦|o(?=\s)))\s*(.*)$")
_DOT_BULLET_RE = re.compile(r"^\.\s+(.*)$")
_INLINE_SPLIT_RE = re.compile(r"\s([-–•◦])\s")
_EXAMPLE_RE = re.compile(
    r"[\s,]*\b(?:such\s+as|e\.\s?g\.,?|for\s+example|for\s+instance|par\s+exemple|tel(?:le)?s?\s+que|"
    r"tales\s+como|por\s+ejemplo|p\.\s?ej\.|come\s+ad\s+esempio|ad\s+esempio|quali\s+ad\s+esempio)\s*:?\s*",
    re.I,
)
_ETC_RE = re.compile(r"[\s,]*(?:\betc\b\.?|\beccetera\b\.?|…|\.\.\.)\s*$", re.I)
_SENT_RE = re.compile(r"(?<=[.;!?])\s+(?=[A-ZÀ-ÖØ-Þ])")
_CODE_TOKEN_RE = re.compile(r"(?<![\d.])(\d{2}(?:\.\d{1,2}(?:[A-Z](?![A-Za-z]))?(?:\.\d{1,2})?)?)(?![\d])")
_SECTION_REF_RE = re.compile(r"\b(?:section|secci[óo]n|sezione)\s+([A-V])\b", re.I)


def _clean(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    text = _ETC_RE.sub("", text)
    return text.strip(" ;,.").strip()


def _strip_header(sentence: str) -> tuple[bool, str]:
    m = _HEADER_RE.match(sentence)
    if not m:
        return False, sentence
    return True, sentence[m.end():]


def _segments(text: str) -> tuple[list[tuple[int, str]], bool]:
    """(depth, text) segments; depth 0 is prose. Second value: whether bullets were found."""
    lines = text.split("\n")
    line_mode = any(_BULLET_LINE_RE.match(ln.strip()) or _DOT_BULLET_RE.match(ln.strip()) for ln in lines
                    if ln.strip() and ln.strip()[0] in "-–—•·*\x83◦.")
    segs: list[list[Any]] = []
    if line_mode:
        brk = True
        for ln in lines:
            s = ln.strip()
            if not s:
                brk = True
                continue
            m = _BULLET_LINE_RE.match(s)
            d = _DOT_BULLET_RE.match(s)
            if m and (m.group(1) or m.group(2) or m.group(3)):
                depth = 1 if m.group(1) else (2 if m.group(2) else 3)
                segs.append([depth, m.group(4)])
            elif d:
                segs.append([2, d.group(1)])
            elif segs and not brk and (s[0].islower() or s[0] in "(,;"):
                segs[-1][1] += " " + s
            else:
                segs.append([0, s])
            brk = False
        return [(int(a), str(b)) for a, b in segs], True
    flat = re.sub(r"\s+", " ", text).strip()
    if not re.search(r":\s*[-–•◦]\s", flat):
        return [(0, flat)], False
    parts = _INLINE_SPLIT_RE.split(" " + flat + " ")
    out: list[tuple[int, str]] = [(0, parts[0])]
    for marker, chunk in zip(parts[1::2], parts[2::2]):
        out.append(({"-": 1, "–": 1, "•": 2, "◦": 3}[marker], chunk))
    return out, True


def _split_examples(item: str) -> list[str]:
    matches = list(_EXAMPLE_RE.finditer(item))
    if not matches:
        return [item]
    m = matches[-1]
    head = item[: m.start()].strip(" ,:")
    if not head or head.count("(") != head.count(")"):
        return [item]
    tail = _ETC_RE.sub("", item[m.end():]).strip(" .;:")
    if not tail or re.search(r"\betc\b", tail, re.I) or "(" in tail:
        return [item]
    parts = [p.strip() for p in re.split(r",\s*", tail) if p.strip()]
    last = conjunction_pattern().split(parts[-1], maxsplit=1) if parts else []
    if len(last) == 2:
        parts[-1:] = [p.strip() for p in last]
    parts = [conjunction_pattern(leading=True).sub("", p) for p in parts]
    if len(parts) < 2 or any(len(p.split()) > 6 for p in parts):
        return [item]
    return [head] + [f"{head}: {p}" for p in parts]


def parse_items(text: Any, *, split_examples: bool = True) -> list[str]:
    """Items of one note text (see the module docstring for the rules). ``NaN``/``""`` -> ``[]``."""
    if text is None or (isinstance(text, float) and text != text) or not str(text).strip():
        return []
    raw = str(text).replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ").replace("\u202f", " ")
    segs, has_bullets = _segments(raw)
    prose: list[tuple[bool, str]] = []
    out: list[str] = []
    heads: dict[int, str] = {}
    any_header = False
    for depth, seg in segs:
        if depth == 0:
            for para in re.split(r"\n\s*\n", seg):
                for sent in _SENT_RE.split(para):
                    has_header, rest = _strip_header(sent.strip())
                    any_header |= has_header
                    rest = rest.strip()
                    if rest and not rest.endswith(":"):
                        prose.append((has_header, _clean(rest)))
                        out.append("\x00" + str(len(prose) - 1))
            heads.clear()
            continue
        body = seg.strip()
        is_head = body.endswith(":")
        body = _clean(_EXAMPLE_RE.sub(" ", body[:-1]) if is_head else body) if is_head else _clean(body)
        body = body.strip(" ,:")
        for d in [d for d in heads if d >= depth]:
            del heads[d]
        parent = next((heads[d] for d in sorted(heads, reverse=True) if d < depth), None)
        if body:
            out.append(f"{parent}: {body}" if parent else body)
            heads[depth] = body
    keep_plain_prose = not any_header and not has_bullets
    items: list[str] = []
    for it in out:
        if it.startswith("\x00"):
            has_header, sent = prose[int(it[1:])]
            if not (has_header or keep_plain_prose):
                continue
            it = sent
        if not it:
            continue
        if split_examples and ": " not in it:
            items.extend(_split_examples(it))
        else:
            items.append(it)
    seen: set[str] = set()
    return [i for i in items if i and not (i in seen or seen.add(i))]


def excluded_codes(item: str) -> list[str]:
    """Codes an exclusion item refers to ("..., see 06.10" -> ``["06.10"]``; "voir 06.10Y",
    "véase 07.29", "cfr. 81.30", "classified in class 98.10", "cfr. sezione F" -> ``["F"]``).

    Codes are returned in canonical spelling, in order of appearance, without duplicates; an item
    with no reference word returns ``[]``.
    """
    if not isinstance(item, str):
        return []
    m = reference_pattern().search(item)
    if not m:
        return []
    tail = item[m.start():]
    found = [c for c in _CODE_TOKEN_RE.findall(tail)]
    found += _SECTION_REF_RE.findall(tail)
    seen: set[str] = set()
    out = []
    for c in found:
        c = c.upper()
        if c not in seen:
            seen.add(c)
            out.append(c)
    return out


# ====================================================================== loading notes files

LAYOUTS: dict[str, dict[str, str]] = {
    # layout -> {our column: file column}
    "naf_classes": {"section": "Section", "code": "Code", "title": "Title", "includes": "Includes",
                    "also_includes": "Also includes", "excludes": "Not includes"},
    "nace_rev2_ramon": {"code": "Code", "parent": "Parent", "title": "Description",
                        "includes": "This_item_includes", "also_includes": "This_item_also_includes",
                        "excludes": "This_item_excludes"},
    "nace_rev21_eurostat": {"code": "CODE", "parent": "PARENT_CODE", "title": "NAME", "includes": "Includes",
                            "also_includes": "IncludesAlso", "excludes": "Excludes"},
    "simple": {"code": "code", "title": "title", "includes": "includes", "also_includes": "also_includes",
               "excludes": "excludes", "section": "section", "parent": "parent"},
}
_LAYOUT_DEFAULTS = {
    "naf_classes": {"language": "fr", "system": None},
    "nace_rev2_ramon": {"language": "en", "system": "nace_rev2"},
    "nace_rev21_eurostat": {"language": "en", "system": "nace_rev21"},
}
_FIELDS = ("code", "parent", "section", "title", "includes", "also_includes", "excludes")
NOTES_COLUMNS = ["code", "level", "parent", "section", "title", "includes", "also_includes", "excludes",
                 "includes_text", "also_includes_text", "excludes_text"]
def detect_layout(columns: list[str]) -> str | None:
    """Name of the known layout whose columns are all present (``None`` when none matches)."""
    have = set(columns)
    for name in ("naf_classes", "nace_rev2_ramon", "nace_rev21_eurostat"):
        if set(LAYOUTS[name].values()) <= have:
            return name
    if {"code", "title"} <= have and have & {"includes", "also_includes", "excludes"}:
        return "simple"
    return None


def _guess_language(texts: list[str]) -> str | None:
    """The pack whose ``detect_words`` occur most often in the first texts (``None``: none occurs)."""
    sample = " ".join(t for t in texts[:200] if t)[:20000].lower()
    if not sample:
        return None
    scores = {code: len(re.findall(r"\b(?:" + "|".join(map(re.escape, get_language(code).detect_words)) + r")\b", sample))
              for code in available_languages()}
    best = max(scores, key=scores.__getitem__)
    return best if scores[best] else None


def load_notes(
    path: str | Path,
    *,
    layout: str = "auto",
    columns: dict[str, str] | None = None,
    sheet: str | int | None = None,
    system: str | None = None,
    language: str | None = None,
    encoding: str | None = None,
) -> pd.DataFrame:
    """Read an explanatory-notes file (xlsx / csv / parquet) into one row per code.

    Layouts recognised with ``layout="auto"`` (by their column names):

    - ``"naf_classes"``: the INSEE/AIML4OS tutorial ``NAFclasses.xlsx`` (Section, Code, Title,
      Includes, Also includes, Not includes), subclasses only (``01.11Y``). Its ``Section`` column
      uses the NACE Rev. 2 / NAF rév. 2 letters (84.11Y -> O, 97.00Y -> T, 99.00Y -> U), not the
      Rev. 2.1 letters; the file's letters are kept (``attrs["section_system"] = "nace_rev2"``), so
      its targets line up with real data coded in NAF rév. 2 at section level.
    - ``"nace_rev2_ramon"``: Eurostat RAMON NACE Rev. 2 export (Order, Level, Code, Parent,
      Description, This_item_includes, ...), comma- or semicolon-separated.
    - ``"nace_rev21_eurostat"``: Eurostat NACE Rev. 2.1 xlsx/csv (CODE, NAME, PARENT_CODE, LEVEL,
      Includes, IncludesAlso, Excludes).
    - ``"simple"``: our own layout, columns ``code, title`` and any of ``includes, also_includes,
      excludes`` (optional ``section, parent``), as in ``notes/sample_notes_en.csv``.

    Any other layout: pass ``columns={"code": "...", "title": "...", "includes": "...", ...}``
    (keys among code, parent, section, title, includes, also_includes, excludes; only ``code`` is
    required). ``system`` (one of ``nace_rev2, nace_rev21, naf_rev2, naf2025``) checks every code
    against that classification and gives divisions their section when the file has none.

    Returns DataFrame[code, level, parent, section, title, includes, also_includes, excludes,
    includes_text, also_includes_text, excludes_text] (items are ``list[str]``, see
    :func:`parse_items`; exclusions are not split on "such as"), with ``attrs`` ``source``,
    ``layout``, ``system``, ``section_system``, ``language``.

    Raises :class:`NotesFormatError` (missing column, empty file, wrong sheet, bad encoding, bad or
    duplicated code) or :class:`UnknownCodeError` (code not in ``system``); messages name the file,
    sheet, row (as seen in a spreadsheet, header = row 1) and column.
    """
    func = "load_notes"
    check_in("layout", layout, ("auto", *LAYOUTS), func=func)
    check_in("system", system, (None, *SYSTEMS), func=func)
    check_in("language", language, (None, "fr", "en", "es", "it", "de", "pt", "nl"), func=func)
    path = Path(path)
    df, sheet_name = read_table(path, sheet=sheet, encoding=encoding, error=NotesFormatError)
    cols = list(df.columns)
    if columns is not None:
        check_type("columns", columns, dict, func=func)
        bad = [k for k in columns if k not in _FIELDS]
        if bad:
            raise ConfigError(f"The 'columns' parameter of load_notes must map names among {list(_FIELDS)}. "
                              f"Got {bad!r} instead.")
        if "code" not in columns:
            raise ConfigError("The 'columns' parameter of load_notes must map 'code'. Got no 'code' key instead.")
        mapping, used_layout = dict(columns), "columns"
        required = list(mapping)
    else:
        used_layout = detect_layout(cols) if layout == "auto" else layout
        if used_layout is None:
            raise NotesFormatError(
                f"unknown notes layout; the columns are {cols}.", file=path, sheet=sheet_name,
                expected="the columns of NAFclasses.xlsx, the Eurostat NACE Rev. 2 or Rev. 2.1 export, "
                "or code/title/includes; for any other layout pass columns={'code': ..., 'title': ..., ...}")
        mapping = {k: v for k, v in LAYOUTS[used_layout].items() if used_layout != "simple" or v in cols}
        required = list(mapping) if used_layout != "simple" else ["code", "title"]
    for key in required:
        if mapping[key] not in cols:
            raise NotesFormatError(f"required column {mapping[key]!r} ({key}) is missing; the columns are {cols}.",
                                   file=path, sheet=sheet_name, column=mapping[key],
                                   expected=f"a column {mapping[key]!r}")
    defaults = _LAYOUT_DEFAULTS.get(used_layout, {})
    code_col = mapping["code"]
    where = {"file": path, "sheet": sheet_name}
    records: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for pos, (label, row) in enumerate(df.iterrows()):
        # header is row 1; blank rows were dropped but the index keeps the original positions
        rownum = int(label) + 2 if isinstance(label, (int, np.integer)) else pos + 2
        raw = str(row[code_col]).strip()
        if not raw:
            raise NotesFormatError("empty code.", row=rownum, column=code_col, expected="a code in every row", **where)
        try:
            code = normalize_code(raw)
        except UnknownCodeError as exc:
            raise NotesFormatError(exc.reason, row=rownum, column=code_col, expected=exc.expected, **where) from None
        if code in seen:
            raise NotesFormatError(f"code {code!r} is duplicated (first seen in row {seen[code]}).", row=rownum,
                                   column=code_col, expected="one row per code", **where)
        seen[code] = rownum
        rec: dict[str, Any] = {"code": code, "_row": rownum}
        for key in ("parent", "section", "title", "includes", "also_includes", "excludes"):
            col = mapping.get(key)
            val = str(row[col]).strip() if col in cols else ""
            rec[key] = "" if val.lower() == "nan" else val
        if rec["parent"]:
            try:
                rec["parent"] = normalize_code(rec["parent"])
            except UnknownCodeError as exc:
                raise NotesFormatError(exc.reason, row=rownum, column=mapping["parent"], **where) from None
        records.append(rec)
    # system: given, or the layout's, or from the subclass letters
    codes = [r["code"] for r in records]
    if system is None:
        system = defaults.get("system")
        letters = {c[5] for c in codes if len(c) == 6 and c[5].isalpha()}
        if letters and letters <= set("YGHJKL") and "Y" in letters:
            system = "naf2025"
        elif letters and letters <= set("ZABCDEFGHJKLMNPRST") and "Z" in letters:
            system = "naf_rev2"
    section_system = "nace_rev2" if used_layout == "naf_classes" else system
    if system is not None:
        ref = Hierarchy.builtin(system)
        depth = 4 if system in ("naf_rev2", "naf2025") else 3
        for r in records:
            lev = code_level(r["code"])
            probe = r["code"] if LEVELS.index(lev) <= depth else r["code"][:5]
            if probe not in ref:
                raise UnknownCodeError(f"code {r['code']!r} is not in {system}.", row=r["_row"], column=code_col,
                                       expected=f"a {system} code (or system=None for a national extension)",
                                       **where)
    frame = pd.DataFrame(records)
    try:
        hier = Hierarchy.from_frame(frame[["code", "parent", "title", "section"]], system=system,
                                    section_system=section_system, name=str(path))
    except UnknownCodeError as exc:
        raise NotesFormatError(exc.reason, column=mapping.get("section"), expected=(
            exc.expected or "") + " (pass system='nace_rev2' or 'nace_rev21' when the file has no sections)",
            **where) from None
    lang = language or defaults.get("language") or _guess_language(
        [r["includes"] or r["excludes"] for r in records])
    out = pd.DataFrame({
        "code": codes,
        "level": [code_level(c) for c in codes],
        "parent": [hier.parent(c) for c in codes],
        "section": [hier.section(c) for c in codes],
        "title": [r["title"] for r in records],
        "includes": [parse_items(r["includes"]) for r in records],
        "also_includes": [parse_items(r["also_includes"]) for r in records],
        "excludes": [parse_items(r["excludes"], split_examples=False) for r in records],
        "includes_text": [r["includes"] for r in records],
        "also_includes_text": [r["also_includes"] for r in records],
        "excludes_text": [r["excludes"] for r in records],
    })
    out.attrs.update(source=str(path), layout=used_layout, system=system, section_system=section_system,
                     language=lang, sheet=sheet_name)
    return out
