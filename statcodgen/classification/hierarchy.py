"""Activity classification codes: normalisation, hierarchy, aggregation to coarser levels.

Levels are ``LEVELS = ("section", "division", "group", "class", "subclass")`` with canonical
spellings ``B`` / ``08`` / ``08.1`` / ``08.12`` / ``08.12Z`` (NAF rév. 2), ``08.12Y`` (NAF 2025) or
``08.12.0`` (ATECO-style extensions keep their own form; every code below the class is a
"subclass").

Built-in systems (``Hierarchy.builtin``): ``"nace_rev2"`` (21 sections A–U, 615 classes),
``"nace_rev21"`` (22 sections A–V, 651 classes), ``"naf_rev2"`` (NACE Rev. 2 + 732 subclasses
``01.11Z``) and ``"naf2025"`` (NACE Rev. 2.1 + 747 subclasses ``01.11Y``). The package ships only
codes, division ranges and short section labels in our own words (``statcodgen/data/``); groups
and divisions are derived from the class codes; official titles come from a notes file
(``Hierarchy.from_notes``).

Section letters differ between NACE Rev. 2 and Rev. 2.1 from J onwards (public administration,
84, is ``O`` in Rev. 2 and ``P`` in Rev. 2.1). A hierarchy built from a notes file takes the
section letters the file gives (see :func:`statcodgen.sources.notes.load_notes` for ``NAFclasses.xlsx``,
which uses Rev. 2 letters for NAF 2025 codes).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_in, check_type
from ..errors import ConfigError, DataFormatError, UnknownCodeError

__all__ = ["LEVELS", "SYSTEMS", "normalize_code", "code_level", "structural_parent", "section_of_division", "Hierarchy"]

LEVELS: tuple[str, ...] = ("section", "division", "group", "class", "subclass")
SYSTEMS: tuple[str, ...] = ("nace_rev2", "nace_rev21", "naf_rev2", "naf2025")
_RANK = {lev: i for i, lev in enumerate(LEVELS)}
_BASE = {"nace_rev2": "nace_rev2", "naf_rev2": "nace_rev2", "nace_rev21": "nace_rev21", "naf2025": "nace_rev21"}

_SECTION_RE = re.compile(r"^[A-Z]$")
_DOTTED_RE = re.compile(r"^(\d{1,2})\.(\d{1,2})([A-Z]?)((?:\.\d{1,2})*)$")
_PLAIN_RE = re.compile(r"^(\d{1,5})([A-Z]?)$")
_CANON_RE = re.compile(r"^(?:[A-Z]|\d{2}|\d{2}\.\d|\d{2}\.\d{2}|\d{2}\.\d{2}[A-Z]|\d{2}\.\d{2}(?:\.\d{1,2})+)$")


def _bad(code: Any, why: str) -> UnknownCodeError:
    return UnknownCodeError(
        f"cannot read {code!r} as an activity code ({why}).",
        expected="a section letter (B), division (08), group (08.1), class (08.12 or 0812) or "
        "subclass (08.12Z, 0812Z, 08.12Y, 08.12.0)",
    )


def normalize_code(code: Any, *, system: str | None = None) -> str:
    """Return the canonical spelling of one code.

    Accepts the spellings found in real files: ``"0111Z"``, ``"01.11z"``, ``" 01.11Z "``,
    ``"1.11"`` (leading zero lost by a spreadsheet), ``"0111"``, ``"011"``, ``"8220Z"``.
    A 5-digit code is ambiguous and is only accepted with ``system="uksic2007"`` (UK SIC 2007
    subclass, e.g. ``10110`` -> class ``"10.11"``; there a 4-digit value such as ``1110`` is read
    as a 5-digit code whose leading zero a spreadsheet dropped, ``01110`` -> ``"01.11"``).
    Raises :class:`UnknownCodeError` when the text is not shaped like a code.
    """
    if system is not None and system not in (*SYSTEMS, "uksic2007"):
        check_in("system", system, (*SYSTEMS, "uksic2007", None), func="normalize_code")
    if code is None or (isinstance(code, float) and np.isnan(code)):
        raise _bad(code, "empty value")
    if isinstance(code, (int, np.integer)) and not isinstance(code, bool):
        text = str(int(code))
        if system == "uksic2007":
            text = text.zfill(5)
    elif isinstance(code, (float, np.floating)):
        raise _bad(code, "a decimal number; read the column as text (dtype=str)")
    else:
        text = str(code)
    text = text.strip().upper().replace(" ", "")
    if not text:
        raise _bad(code, "empty value")
    if _CANON_RE.match(text):
        return text
    if _SECTION_RE.match(text):
        return text
    m = _DOTTED_RE.match(text)
    if m:
        div, rest, letter, ext = m.groups()
        if len(rest) == 1 and (letter or ext):
            raise _bad(code, "a group code cannot carry a subclass suffix")
        return f"{div.zfill(2)}.{rest}{letter}{ext}"
    m = _PLAIN_RE.match(text)
    if m:
        digits, letter = m.groups()
        if system == "uksic2007" and not letter:
            digits = digits.zfill(5) if len(digits) >= 4 else digits
            if len(digits) == 5:
                return f"{digits[:2]}.{digits[2:4]}"
        if len(digits) == 5:
            raise _bad(code, "5 digits is ambiguous; pass system='uksic2007' for UK SIC 2007 codes")
        if letter and len(digits) != 4:
            raise _bad(code, "a subclass letter needs 4 digits before it")
        if len(digits) <= 2:
            return digits.zfill(2)
        if len(digits) == 3:
            return f"{digits[:2]}.{digits[2]}"
        return f"{digits[:2]}.{digits[2:]}{letter}"
    raise _bad(code, "unexpected characters")


def code_level(code: str) -> str:
    """Level of a canonical code from its shape (``"08.12"`` -> ``"class"``)."""
    if len(code) == 1:
        return "section"
    if len(code) == 2:
        return "division"
    if len(code) == 4:
        return "group"
    if len(code) == 5:
        return "class"
    return "subclass"


def structural_parent(code: str) -> str | None:
    """Parent of a canonical code below the division, from its shape (``None`` for divisions/sections)."""
    n = len(code)
    if n <= 2:
        return None
    if n == 4:
        return code[:2]
    if n == 5:
        return code[:4]
    if n == 6 and code[5].isalpha():
        return code[:5]
    head, _, tail = code.rpartition(".")
    if len(tail) > 1:  # 08.12.00 -> 08.12.0 (ATECO sub-category -> category)
        return code[:-1]
    return head


def _parse_range(text: str) -> list[str]:
    lo, _, hi = text.partition("-")
    return [f"{d:02d}" for d in range(int(lo), int(hi or lo) + 1)]


@lru_cache(maxsize=None)
def _section_table(base: str) -> tuple[dict[str, str], dict[str, str]]:
    """(division -> section, section -> short label) for ``nace_rev2`` or ``nace_rev21``."""
    with resources.files("statcodgen").joinpath("data", f"sections_{base}.csv").open(encoding="utf-8") as fh:
        table = pd.read_csv(fh, dtype=str, comment="#")
    div2sec = {d: row.section for row in table.itertuples() for d in _parse_range(row.divisions)}
    return div2sec, dict(zip(table.section, table.label))


def _read_codes(name: str) -> list[str]:
    text = resources.files("statcodgen").joinpath("data", name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


def section_of_division(division: str, *, system: str = "nace_rev2") -> str:
    """Section letter of a 2-digit division in ``system`` (UnknownCodeError if unknown)."""
    check_in("system", system, SYSTEMS, func="section_of_division")
    div2sec, _ = _section_table(_BASE[system])
    try:
        return div2sec[division]
    except KeyError:
        raise UnknownCodeError(f"division {division!r} does not exist in {system}.") from None


class Hierarchy:
    """A classification tree: code -> level, parent, title.

    Build it with :meth:`builtin`, :meth:`from_frame` or :meth:`from_notes`. Lookups accept any
    spelling :func:`normalize_code` understands and raise :class:`UnknownCodeError` for codes that
    are not in the tree. ``aggregate`` maps a whole column at once (one lookup per distinct code).
    """

    def __init__(self, frame: pd.DataFrame, *, system: str | None = None, name: str | None = None) -> None:
        """``frame`` has columns ``code, level, parent, title`` (canonical codes, parents present)."""
        self.system = system
        self.name = name or system or "custom"
        self._order: list[str] = list(frame["code"])
        self._level: dict[str, str] = dict(zip(frame["code"], frame["level"]))
        self._parent: dict[str, str | None] = {
            c: (p if isinstance(p, str) and p else None) for c, p in zip(frame["code"], frame["parent"])
        }
        self._title: dict[str, str] = {
            c: (t if isinstance(t, str) else "") for c, t in zip(frame["code"], frame["title"])
        }
        self._children: dict[str, list[str]] = {}
        for c in self._order:
            p = self._parent[c]
            if p is not None:
                if p not in self._level:
                    raise UnknownCodeError(f"code {c!r} has parent {p!r}, which is not in the hierarchy.")
                self._children.setdefault(p, []).append(c)
        self._agg_cache: dict[tuple[str, str], str | None] = {}

    # ---------------------------------------------------------------- constructors
    @classmethod
    def builtin(cls, system: str) -> Hierarchy:
        """Official structure of ``system`` (one of :data:`SYSTEMS`), cached."""
        check_in("system", system, SYSTEMS, func="Hierarchy.builtin")
        return _builtin(system)

    @classmethod
    def from_frame(
        cls,
        df: pd.DataFrame,
        *,
        system: str | None = None,
        name: str | None = None,
        section_system: str | None = None,
    ) -> Hierarchy:
        """Build from a table with a ``code`` column and optional ``parent, level, title, section``.

        Codes are normalised; missing ancestors are added from the code shape (``08.12Y`` ->
        ``08.12`` -> ``08.1`` -> ``08``); a division's section comes from the row's ``section``
        column, else from its ``parent``, else from the section table of ``section_system``
        (default: ``system``), which also gives the (short) section labels.
        """
        if "code" not in df.columns:
            raise UnknownCodeError("the table has no 'code' column.", column="code", expected="a 'code' column")
        sec_system = section_system or system
        sec_system = sec_system if sec_system in SYSTEMS else None
        div2sec, sec_titles = _section_table(_BASE[sec_system]) if sec_system else ({}, {})
        rows: dict[str, dict[str, Any]] = {}
        given_sec: dict[str, str] = {}
        for rec in df.to_dict("records"):
            code = normalize_code(rec["code"])
            title = rec.get("title")
            parent = rec.get("parent")
            parent = normalize_code(parent) if isinstance(parent, str) and parent.strip() else None
            sec = rec.get("section")
            sec = sec.strip().upper() if isinstance(sec, str) and sec.strip() else None
            rows[code] = {"code": code, "level": code_level(code), "parent": parent,
                          "title": title if isinstance(title, str) else ""}
            if sec:
                given_sec.setdefault(code[:2] if len(code) > 1 else code, sec)
        for code in list(rows):
            node = code
            while True:
                rec = rows[node]
                if rec["level"] == "section":
                    break
                if rec["parent"] is None:
                    if rec["level"] == "division":
                        sec = given_sec.get(node) or div2sec.get(node)
                        if sec is None:
                            raise UnknownCodeError(
                                f"no section known for division {node!r}.",
                                expected="a 'section' or 'parent' column, or system='nace_rev2'/'nace_rev21'",
                            )
                        rec["parent"] = sec
                    else:
                        rec["parent"] = structural_parent(node)
                par = rec["parent"]
                if par not in rows:
                    rows[par] = {"code": par, "level": code_level(par), "parent": None,
                                 "title": sec_titles.get(par, "") if len(par) == 1 else ""}
                node = par
        order = _tree_order({c: (r["level"], r["parent"]) for c, r in rows.items()})
        frame = pd.DataFrame([rows[c] for c in order], columns=["code", "level", "parent", "title"])
        return cls(frame, system=system, name=name)

    @classmethod
    def from_notes(cls, notes: pd.DataFrame) -> Hierarchy:
        """Build from a :func:`statcodgen.sources.notes.load_notes` frame (uses its ``section`` column)."""
        cols = [c for c in ("code", "parent", "title", "section") if c in notes.columns]
        return cls.from_frame(notes[cols], system=notes.attrs.get("system"),
                              name=str(notes.attrs.get("source", "notes")),
                              section_system=notes.attrs.get("section_system"))

    # ---------------------------------------------------------------- lookups
    def _norm(self, code: Any) -> str:
        if isinstance(code, str) and code in self._level:
            return code
        c = normalize_code(code)
        if c not in self._level:
            raise UnknownCodeError(f"code {c!r} is not in the {self.name} hierarchy.")
        return c

    def __contains__(self, code: object) -> bool:
        try:
            self._norm(code)
        except UnknownCodeError:
            return False
        return True

    def __len__(self) -> int:
        return len(self._order)

    def __repr__(self) -> str:
        counts = ", ".join(f"{lev}={n}" for lev, n in self.counts().items() if n)
        return f"Hierarchy({self.name!r}, {counts})"

    def counts(self) -> dict[str, int]:
        """Number of codes per level."""
        out = dict.fromkeys(LEVELS, 0)
        for lev in self._level.values():
            out[lev] += 1
        return out

    def level(self, code: Any) -> str:
        """Level name of ``code``."""
        return self._level[self._norm(code)]

    def parent(self, code: Any) -> str | None:
        """Parent code (``None`` for a section)."""
        return self._parent[self._norm(code)]

    def ancestors(self, code: Any) -> list[str]:
        """Ancestors from the parent up to the section."""
        out: list[str] = []
        p = self._parent[self._norm(code)]
        while p is not None:
            out.append(p)
            p = self._parent[p]
        return out

    def ancestor(self, code: Any, level: str) -> str:
        """The code's ancestor (or itself) at ``level``; ConfigError if ``level`` is finer than the code."""
        check_in("level", level, LEVELS, func="Hierarchy.ancestor")
        c = self._norm(code)
        if _RANK[self._level[c]] < _RANK[level]:
            raise ConfigError(f"cannot aggregate {c!r} ({self._level[c]}) to the finer level {level!r}.")
        while self._level[c] != level:
            p = self._parent[c]
            if p is None:  # pragma: no cover - malformed tree
                raise UnknownCodeError(f"{code!r} has no ancestor at level {level!r}.")
            c = p
        return c

    def section(self, code: Any) -> str:
        """Section letter of ``code``."""
        return self.ancestor(code, "section")

    def children(self, code: Any) -> list[str]:
        """Direct children of ``code``."""
        return list(self._children.get(self._norm(code), []))

    def leaves(self, code: Any = None) -> list[str]:
        """Most detailed codes under ``code`` (or of the whole tree), in tree order."""
        if code is None:
            return [c for c in self._order if c not in self._children]
        stack = [self._norm(code)]
        out: list[str] = []
        while stack:
            c = stack.pop()
            kids = self._children.get(c)
            if kids:
                stack.extend(reversed(kids))
            else:
                out.append(c)
        return out

    def title(self, code: Any) -> str:
        """Title of ``code`` ("" when the hierarchy has none)."""
        return self._title[self._norm(code)]

    def codes(self, level: str | None = None) -> list[str]:
        """All codes in tree order, optionally only those of ``level``."""
        if level is None:
            return list(self._order)
        check_in("level", level, LEVELS, func="Hierarchy.codes")
        return [c for c in self._order if self._level[c] == level]

    def to_frame(self) -> pd.DataFrame:
        """DataFrame[code, level, parent, section, title] in tree order."""
        return pd.DataFrame({
            "code": self._order,
            "level": [self._level[c] for c in self._order],
            "parent": [self._parent[c] for c in self._order],
            "section": [self.section(c) for c in self._order],
            "title": [self._title[c] for c in self._order],
        })

    def _aggregate_one(self, raw: Any, level: str, coerce: bool) -> str | None:
        key = (raw if isinstance(raw, str) else repr(raw), level)
        if key in self._agg_cache:
            return self._agg_cache[key]
        try:
            out: str | None = self.ancestor(raw, level)
        except (UnknownCodeError, ConfigError):
            if not coerce:
                raise
            out = None
        self._agg_cache[key] = out
        return out

    def aggregate(self, codes: Iterable[Any] | pd.Series, level: str, *, errors: str = "raise") -> pd.Series:
        """Map every code to its ancestor at ``level`` (vectorised: one lookup per distinct code).

        ``errors="raise"`` raises :class:`UnknownCodeError` naming the first unknown code and its
        row (1-based position); ``errors="coerce"`` returns ``None`` for unknown codes.
        Returns a Series aligned with the input (same index when a Series is given).
        """
        check_in("level", level, LEVELS, func="Hierarchy.aggregate")
        check_in("errors", errors, ("raise", "coerce"), func="Hierarchy.aggregate")
        series = codes if isinstance(codes, pd.Series) else pd.Series(list(codes), dtype=object)
        idx, uniq = pd.factorize(series, use_na_sentinel=True)
        mapped = np.empty(len(uniq) + 1, dtype=object)
        mapped[-1] = None
        for i, u in enumerate(uniq):
            try:
                mapped[i] = self._aggregate_one(u, level, errors == "coerce")
            except UnknownCodeError as exc:
                row = int(np.flatnonzero(idx == i)[0]) + 1
                raise UnknownCodeError(f"{exc.reason}", row=row, column=series.name,
                                       expected=f"a code of the {self.name} hierarchy") from None
        if errors == "raise" and (idx == -1).any():
            row = int(np.flatnonzero(idx == -1)[0]) + 1
            raise UnknownCodeError("empty code.", row=row, column=series.name)
        return pd.Series(mapped[idx], index=series.index, name=level, dtype=object)

    def with_labels(self, frame: pd.DataFrame, level: str, *, code_column: str = "code") -> pd.DataFrame:
        """A copy of ``frame`` with a ``label`` column: its ``code_column`` aggregated to ``level``.

        The one way real and synthetic rows get the label a study trains and scores on; unknown
        codes raise :class:`UnknownCodeError` as in :meth:`aggregate`.
        """
        check_type("frame", frame, pd.DataFrame, func="Hierarchy.with_labels")
        if code_column not in frame.columns:
            raise DataFormatError(f"no {code_column!r} column; columns are {list(frame.columns)}.", column=code_column,
                                  expected=f"a {code_column!r} column of codes")
        return frame.assign(label=self.aggregate(frame[code_column], level).to_numpy())


@lru_cache(maxsize=None)
def _builtin(system: str) -> Hierarchy:
    base = _BASE[system]
    div2sec, titles = _section_table(base)
    classes = _read_codes(f"classes_{base}.txt")
    codes = list(classes)
    if system in ("naf_rev2", "naf2025"):
        codes += _read_codes(f"subclasses_{system}.txt")
    rows: dict[str, tuple[str, str | None]] = {}
    for c in codes:
        node: str | None = c
        while node is not None and node not in rows:
            lev = code_level(node)
            par = div2sec[node] if lev == "division" else (None if lev == "section" else structural_parent(node))
            rows[node] = (lev, par)
            node = par
    order = _tree_order(rows)
    frame = pd.DataFrame({
        "code": order,
        "level": [rows[c][0] for c in order],
        "parent": [rows[c][1] for c in order],
        "title": [titles.get(c, "") for c in order],
    })
    return Hierarchy(frame, system=system, name=system)


def _tree_order(rows: dict[str, tuple[str, str | None]]) -> list[str]:
    """Depth-first order: each section followed by its divisions, groups, classes, subclasses."""
    kids: dict[str | None, list[str]] = {}
    for c, (_, p) in rows.items():
        kids.setdefault(p, []).append(c)
    out: list[str] = []
    stack = sorted(kids.get(None, []), reverse=True)
    while stack:
        c = stack.pop()
        out.append(c)
        stack.extend(sorted(kids.get(c, []), reverse=True))
    return out
