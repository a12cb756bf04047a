"""Personas: who declares the business activity, and how they write it.

A :class:`Persona` is a frozen record (demographics, business context, Big Five T-scores, writing
style). :func:`sample_personas` draws coherent personas from the census-like marginal tables in
``statcodgen/data/personas`` (age -> education -> activity status/occupation -> business context),
deterministically for a seed. :func:`assign_personas` spreads personas over generation requests.
Loaders for external collections, text-to-persona and persona dedup live in
:mod:`statcodgen.personas.sources`, the writing style in :mod:`statcodgen.personas.style`; both
import from this module, never the other way, and :mod:`statcodgen.personas` re-exports them all.
"""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_in, check_int, check_type
from ..errors import DataFormatError
from ..text.languages import get_language

__all__ = [
    "LOCALES",
    "ASSIGN_STRATEGIES",
    "BUSINESS_CONTEXTS",
    "MARKET_CONTEXTS",
    "contexts_for_code",
    "fitting",
    "EDUCATION_LEVELS",
    "TRAITS",
    "MIN_AGE_BY_EDUCATION",
    "PENSION_AGE",
    "Persona",
    "trait_level",
    "trait_description",
    "load_marginals",
    "sample_personas",
    "personas_from_frame",
    "assign_personas",
]

LOCALES = ("fr_FR", "en_GB")
PROMPT_LANGUAGES = ("en", "fr", "es")
BUSINESS_CONTEXTS = (
    "sole_trader", "micro_enterprise", "sme", "association", "public_body", "household_employer",
    "international_body",
)
#: Business contexts that sell to clients (the only ones a client type such as "FOR BUSINESSES" fits).
MARKET_CONTEXTS = ("sole_trader", "micro_enterprise", "sme")
# Who declares an activity of these NACE sections / divisions: a household employs its cook, a
# public body runs the customs office, an embassy is an international body. Any other code is
# declared by a market unit, or also by an association in sections P-S (schools, care, clubs).
_SECTION_CONTEXTS = {"O": ("public_body",), "T": ("household_employer",), "U": ("international_body",)}
_DIVISION_CONTEXTS = {"84": ("public_body",), "94": ("association",), "97": ("household_employer",),
                      "98": ("household_employer",), "99": ("international_body",)}
_ASSOCIATION_SECTIONS = frozenset("PQRS")
EDUCATION_LEVELS = (
    "none", "lower_secondary", "upper_secondary", "short_tertiary", "bachelor", "master", "doctorate",
)
#: Youngest plausible age for each highest qualification (no doctorate at 19).
MIN_AGE_BY_EDUCATION = {
    "none": 18, "lower_secondary": 18, "upper_secondary": 18, "short_tertiary": 20, "bachelor": 21,
    "master": 23, "doctorate": 26,
}
#: Usual pension age; a retiree younger than this has ``early_retirement=True`` (never under 50).
PENSION_AGE = {"fr_FR": 62, "en_GB": 66}
TRAITS = ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism")
TRAIT_LEVELS = ("very_low", "low", "average", "high", "very_high")
_LEVEL_CUTS = np.array([35.0, 45.0, 55.0, 65.0])  # T-score: 20-34 | 35-44 | 45-54 | 55-64 | 65-80
CASINGS = ("upper", "lower", "title", "mixed")
STUDENT_TITLE = {"fr_FR": "étudiant", "en_GB": "student"}


def trait_level(t_score: float) -> str:
    """Map a Big Five T-score (20-80) to its label: very_low / low / average / high / very_high."""
    return TRAIT_LEVELS[int(np.searchsorted(_LEVEL_CUTS, float(t_score), side="right"))]


# --------------------------------------------------------------------------------------- tables
def _read_table(name: str) -> pd.DataFrame:
    text = resources.files("statcodgen").joinpath("data", "personas", name).read_text(encoding="utf-8")
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    return pd.read_csv(io.StringIO(body), keep_default_na=False)


@lru_cache(maxsize=None)
def _tables() -> dict[str, pd.DataFrame]:
    names = ("age_bands", "sex", "regions", "education", "employment", "occupation_groups",
             "occupations", "business_context", "big_five", "labels")
    return {n: _read_table(n + ".csv") for n in names}


def load_marginals(locale: str = "fr_FR") -> dict[str, pd.DataFrame]:
    """Return the marginal tables of ``locale`` (a copy): keys ``age_bands``, ``sex``, ``regions``,
    ``education``, ``employment``, ``occupation_groups``, ``occupations``, ``business_context``."""
    check_in("locale", locale, LOCALES, func="load_marginals")
    out = {}
    for name, df in _tables().items():
        if name in ("big_five", "labels"):
            continue
        out[name] = (df[df["locale"] == locale] if "locale" in df.columns else df).reset_index(drop=True).copy()
    return out


def trait_description(trait: str, level: str, language: str = "en") -> str:
    """Short description of a Big Five ``trait`` at ``level`` in ``language`` (en/fr/es)."""
    df = _tables()["big_five"]
    hit = df[(df["trait"] == trait) & (df["level"] == level) & (df["language"] == language)]
    if hit.empty:
        raise DataFormatError(f"no description for trait {trait!r}, level {level!r}, language {language!r}.",
                              file="statcodgen/data/personas/big_five.csv")
    return str(hit["description"].iloc[0])


@lru_cache(maxsize=None)
def _labels() -> dict[tuple[str, str, str], str]:
    df = _tables()["labels"]
    return {(r.kind, r.value, lang): getattr(r, lang) for r in df.itertuples() for lang in PROMPT_LANGUAGES}


def _label(kind: str, value: Any, language: str) -> str:
    return _labels().get((kind, str(value), language), str(value).replace("_", " "))


# -------------------------------------------------------------------------------------- persona
@dataclass(frozen=True)
class Persona:
    """One declarant. Missing demographic fields are ``None`` / ``""`` (loaded collections).

    ``id`` is deterministic (``"<locale>-s<seed>-<index>"`` for sampled personas). Big Five fields
    are T-scores in [20, 80]; style fields drive prompts and :func:`statcodgen.personas.style.apply_style`.
    """

    id: str
    locale: str = ""
    age: int | None = None
    sex: str = ""
    region: str = ""
    city: str = ""
    education: str = ""
    employment_status: str = ""
    early_retirement: bool = False
    occupation_group: str = ""
    occupation: str = ""
    business_context: str = ""
    openness: float = 50.0
    conscientiousness: float = 50.0
    extraversion: float = 50.0
    agreeableness: float = 50.0
    neuroticism: float = 50.0
    length: str = "medium"
    register: str = "plain"
    abbreviation_rate: float = 0.1
    typo_rate: float = 0.01
    casing: str = "upper"
    uses_lists: bool = False
    description: str = ""
    source: str = ""
    source_row: int | None = None

    def trait_labels(self) -> dict[str, str]:
        """``{trait: level label}`` for the five traits."""
        return {t: trait_level(getattr(self, t)) for t in TRAITS}

    def to_dict(self) -> dict[str, Any]:
        """Flat dict with the DataFrame column names (``persona_id`` instead of ``id``) + labels."""
        d = asdict(self)
        d["persona_id"] = d.pop("id")
        for t, lab in self.trait_labels().items():
            d[t + "_label"] = lab
        return d

    def to_prompt(self, language: str = "en") -> str:
        """A short paragraph (en/fr/es) saying who declares and how they write, ending with the
        instruction to write as this person would declare their activity."""
        check_in("language", language, PROMPT_LANGUAGES, func="Persona.to_prompt")
        w = get_language(language).persona_words or {}
        parts: list[str] = []
        who = []
        if self.sex or self.age is not None:
            sex = _label("sex", self.sex, language) if self.sex else w["person"]
            who.append(w["age"].format(sex=sex, age=self.age) if self.age is not None else sex)
        place = self.city or self.region
        if place:
            who.append(w["lives"].format(place=place + (f" ({self.region})" if self.city and self.region else "")))
        if self.education:
            who.append(w["education"].format(edu=_label("education", self.education, language)))
        if self.employment_status:
            who.append(_label("employment_status", self.employment_status, language))
        if self.occupation and self.employment_status != "student":
            who.append(self.occupation)
        if self.business_context:
            who.append(w["declares"] + " " + _label("business_context", self.business_context, language))
        if self.description:
            parts.append(w["who"] + " " + self.description.strip().rstrip(".") + ".")
            if who:
                parts.append("(" + ", ".join(who) + ".)")
        else:
            parts.append(w["who"] + " " + ", ".join(who or [w["person"]]) + ".")
        traits = "; ".join(trait_description(t, lab, language) for t, lab in self.trait_labels().items()
                           if lab != "average")
        if traits:
            parts.append(w["personality"] + " " + traits + ".")
        style = [_label("length", self.length, language), _label("register", self.register, language),
                 _label("casing", self.casing, language),
                 w["abbr_hi"] if self.abbreviation_rate >= 0.3 else w["abbr_mid"] if self.abbreviation_rate >= 0.1
                 else w["abbr_lo"]]
        if self.typo_rate >= 0.03:
            style.append(w["typos"])
        if self.uses_lists:
            style.append(w["lists"])
        parts.append(w["style"] + " " + ", ".join(style) + ".")
        parts.append(w["instruction"])
        return " ".join(parts)


_FIELD_NAMES = tuple(f.name for f in fields(Persona))
PERSONA_COLUMNS = ("persona_id",) + _FIELD_NAMES[1:] + tuple(t + "_label" for t in TRAITS)


# -------------------------------------------------------------------------------------- sampler
def _draw(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of ``probs`` (rows need not be normalised)."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs)) * cum[:, -1]
    return np.minimum((cum <= u[:, None]).sum(axis=1), probs.shape[1] - 1)


def _matrix(df: pd.DataFrame, row: str, col: str, rows: list[str], cols: list[str]) -> np.ndarray:
    pivot = df.pivot_table(index=row, columns=col, values="share", aggfunc="sum").reindex(index=rows, columns=cols)
    return pivot.fillna(0.0).to_numpy(dtype=float)


def sample_personas(n: int, *, locale: str = "fr_FR", seed: int = 0) -> pd.DataFrame:
    """Draw ``n`` coherent personas for ``locale`` (``"fr_FR"`` or ``"en_GB"``), deterministically.

    Dependencies: age band -> age -> education (restricted to :data:`MIN_AGE_BY_EDUCATION`) ->
    activity status (by age band; retired only from 50, ``early_retirement`` below the pension age)
    -> occupation group (by education) -> business context (by status / employee group).
    Returns one row per persona with the columns of :meth:`Persona.to_dict` (``persona_id`` first).
    """
    func = "sample_personas"
    check_int("n", n, 0, func=func)
    check_in("locale", locale, LOCALES, func=func)
    check_int("seed", seed, 0, func=func)
    m = load_marginals(locale)
    rng = np.random.default_rng([seed, LOCALES.index(locale)])

    bands = m["age_bands"]
    band_idx = rng.choice(len(bands), size=n, p=bands["share"].to_numpy() / bands["share"].sum())
    age = rng.integers(bands["age_min"].to_numpy()[band_idx], bands["age_max"].to_numpy()[band_idx] + 1)
    band_names = bands["age_band"].tolist()
    band = np.array(band_names, dtype=object)[band_idx]

    sexes = m["sex"]
    sex = np.array(sexes["sex"].tolist(), dtype=object)[
        rng.choice(len(sexes), size=n, p=sexes["share"].to_numpy() / sexes["share"].sum())]
    regions = m["regions"]
    reg_idx = rng.choice(len(regions), size=n, p=regions["share"].to_numpy() / regions["share"].sum())
    region = np.array(regions["region"].tolist(), dtype=object)[reg_idx]
    city_lists = [c.split(";") for c in regions["cities"]]
    city_pick = rng.random(n)
    city = np.array([city_lists[r][int(u * len(city_lists[r]))] for r, u in zip(reg_idx, city_pick)], dtype=object)

    edu_levels = list(EDUCATION_LEVELS)
    p_edu = _matrix(m["education"], "age_band", "education", band_names, edu_levels)[band_idx]
    min_age = np.array([MIN_AGE_BY_EDUCATION[e] for e in edu_levels])
    p_edu = p_edu * (age[:, None] >= min_age[None, :])
    edu_idx = _draw(rng, p_edu)
    education = np.array(edu_levels, dtype=object)[edu_idx]

    statuses = ["employee", "self_employed", "unemployed", "student", "retired", "inactive"]
    p_emp = _matrix(m["employment"], "age_band", "employment_status", band_names, statuses)[band_idx]
    p_emp[:, statuses.index("retired")] *= age >= 50
    status = np.array(statuses, dtype=object)[_draw(rng, p_emp)]
    early = (status == "retired") & (age < PENSION_AGE[locale])

    og = m["occupation_groups"]
    groups = list(dict.fromkeys(og["occupation_group"]))
    grp = np.array(groups, dtype=object)[_draw(rng, _matrix(og, "education", "occupation_group", edu_levels, groups)[edu_idx])]
    titles = m["occupations"].groupby("occupation_group")["occupation"].apply(list).to_dict()
    title_pick = rng.random(n)
    occupation = np.array([titles[g][int(u * len(titles[g]))] for g, u in zip(grp, title_pick)], dtype=object)
    is_student = status == "student"
    grp[is_student] = "none"
    occupation[is_student] = STUDENT_TITLE[locale]

    bc = m["business_context"]
    keys = list(dict.fromkeys(bc["key"]))
    row_key = np.where(status == "employee", "employee:" + grp.astype(str), status.astype(str))
    p_bc = _matrix(bc, "key", "business_context", keys, list(BUSINESS_CONTEXTS))
    context = np.array(BUSINESS_CONTEXTS, dtype=object)[_draw(rng, p_bc[[keys.index(k) for k in row_key]])]

    big5 = np.clip(rng.normal(50.0, 10.0, size=(n, 5)), 20.0, 80.0).round(1)
    o, c, e, _a, ne = big5.T
    edu_rank = edu_idx.astype(float)
    score = 0.03 * (e - 50) + 0.02 * (o - 50) + 0.12 * (edu_rank - 2.5) + rng.normal(0.0, 0.7, n)
    length = np.where(score < -0.45, "terse", np.where(score > 0.6, "verbose", "medium")).astype(object)
    u = rng.random(n)
    technical = np.isin(grp, ["professional", "associate_professional", "craft"]) & (u < 0.4)
    formal = (np.isin(context, ["public_body", "international_body"]) | ((c > 60) & (u < 0.6))
              | ((age >= 65) & (u < 0.3)))
    register = np.where(technical, "technical", np.where(formal, "formal", "plain")).astype(object)
    abbr = np.clip(0.05 + 0.25 * (length == "terse") + 0.004 * (50 - c) + 0.002 * (age - 45)
                   + rng.normal(0.0, 0.05, n), 0.0, 0.7).round(2)
    typo = np.clip(0.02 + 0.0015 * (50 - c) + 0.001 * (ne - 50) - 0.003 * edu_rank
                   + rng.normal(0.0, 0.005, n), 0.0, 0.1).round(3)
    p_case = np.tile([0.55, 0.15, 0.10, 0.20], (n, 1))
    p_case[age >= 55] += [0.2, -0.1, 0.0, -0.1]
    p_case[age < 30] += [-0.2, 0.15, 0.0, 0.05]
    casing = np.array(CASINGS, dtype=object)[_draw(rng, np.clip(p_case, 0.0, None))]
    uses_lists = rng.random(n) < np.clip(0.25 + 0.01 * (c - 50) + 0.01 * (o - 50) + 0.2 * (length == "verbose"), 0.02, 0.9)

    df = pd.DataFrame({
        "persona_id": [f"{locale}-s{seed}-{i:06d}" for i in range(n)],
        "locale": locale, "age": age.astype(int), "age_band": band, "sex": sex, "region": region, "city": city,
        "education": education, "employment_status": status, "early_retirement": early,
        "occupation_group": grp, "occupation": occupation, "business_context": context,
    })
    for j, t in enumerate(TRAITS):
        df[t] = big5[:, j]
    df["length"], df["register"], df["abbreviation_rate"], df["typo_rate"] = length, register, abbr, typo
    df["casing"], df["uses_lists"] = casing, uses_lists
    df["description"], df["source"], df["source_row"] = "", f"sample_personas(locale={locale}, seed={seed})", pd.NA
    for j, t in enumerate(TRAITS):
        df[t + "_label"] = np.array(TRAIT_LEVELS, dtype=object)[np.searchsorted(_LEVEL_CUTS, big5[:, j], side="right")]
    df.attrs.update({"locale": locale, "seed": seed})
    return df


def _value(row: dict[str, Any], name: str, default: Any) -> Any:
    v = row.get(name, default)
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and not v.strip()
                                                                               and not isinstance(default, str)):
        return default
    return v


def _coerce(name: str, v: Any, default: Any, row_no: int) -> Any:
    """Cast a cell (possibly read from CSV as text) to the type of the Persona field."""
    try:
        if v is None:
            return None
        if name in ("age", "source_row"):
            return int(float(v))
        if isinstance(default, bool):
            return v.strip().lower() in ("true", "1", "yes") if isinstance(v, str) else bool(v)
        if isinstance(default, float):
            return float(v)
        if isinstance(default, str):
            return str(v)
    except (TypeError, ValueError):
        raise DataFormatError(f"value {v!r} is not valid for this field.", row=row_no, column=name,
                              expected=f"a {type(default).__name__ if default is not None else 'int'}") from None
    return v


def personas_from_frame(df: pd.DataFrame) -> list[Persona]:
    """Turn a persona DataFrame (from :func:`sample_personas` or :func:`load_personas`) into
    :class:`Persona` records. Needs a ``persona_id`` column; other missing fields get defaults."""
    check_type("df", df, pd.DataFrame, func="personas_from_frame")
    if "persona_id" not in df.columns:
        raise DataFormatError("the persona table has no persona id.", column="persona_id",
                              expected=f"a 'persona_id' column; got columns {list(df.columns)}")
    defaults = {f.name: f.default for f in fields(Persona)}
    out = []
    for i, row in enumerate(df.to_dict("records"), start=1):
        kw: dict[str, Any] = {"id": str(row["persona_id"])}
        for name in _FIELD_NAMES[1:]:
            kw[name] = _coerce(name, _value(row, name, defaults[name]), defaults[name], i)
        out.append(Persona(**kw))
    return out


# ----------------------------------------------------------------------------------- assignment
ASSIGN_STRATEGIES = ("round_robin", "random", "stratified", "matched")


def _matched(n_requests: int, frame: pd.DataFrame, ids: list[str], codes: list[tuple[str, str]] | None,
             rng: np.random.Generator) -> list[str]:
    """``matched`` assignment: each request's persona fits its (code, section)."""
    if codes is None or len(codes) != n_requests:
        raise DataFormatError("strategy 'matched' needs one (code, section) per request.", column="codes",
                              expected=f"a list of {n_requests} (code, section) pairs")
    contexts = frame["business_context"].astype(str).tolist() if "business_context" in frame.columns else [""] * len(ids)
    perm = rng.permutation(len(ids))
    order, order_contexts = [ids[i] for i in perm], [contexts[i] for i in perm]
    pools: dict[tuple[str, ...], list[str]] = {}
    used: dict[tuple[str, ...], int] = {}
    out = []
    for code, section in codes:
        fits = contexts_for_code(code, section)
        pool = pools.setdefault(fits, fitting(order, order_contexts, fits))
        out.append(pool[used.get(fits, 0) % len(pool)])
        used[fits] = used.get(fits, 0) + 1
    return out


def fitting(items: list[Any], contexts: list[str], fits: tuple[str, ...]) -> list[Any]:
    """The ``items`` (personas or their ids) whose business context (``contexts``, same order) is
    one of ``fits``; all of them when none is."""
    return [item for item, context in zip(items, contexts) if context in fits] or items


def contexts_for_code(code: str, section: str = "") -> tuple[str, ...]:
    """Business contexts that plausibly declare an activity of NACE-like ``code`` (section ``section``).

    Sections O, T, U and divisions 84, 94, 97, 98, 99 map to the unit that carries them out
    (public body, household employer, international body, association); sections P-S add
    ``association`` to the market contexts; every other code gives :data:`MARKET_CONTEXTS`.
    """
    digits = "".join(ch for ch in str(code) if ch.isdigit())
    if digits[:2] in _DIVISION_CONTEXTS:
        return _DIVISION_CONTEXTS[digits[:2]]
    sec = str(section).strip().upper()
    if sec in _SECTION_CONTEXTS:
        return _SECTION_CONTEXTS[sec]
    return MARKET_CONTEXTS + (("association",) if sec in _ASSOCIATION_SECTIONS else ())


def assign_personas(
    n_requests: int,
    personas: pd.DataFrame | list[Persona],
    *,
    strategy: str = "round_robin",
    seed: int = 0,
    by: str = "business_context",
    codes: list[tuple[str, str]] | None = None,
) -> list[str]:
    """Persona ids for ``n_requests`` generation requests.

    ``round_robin``: cycle through the personas in order; ``random``: independent draws with
    ``seed``; ``stratified``: cycle through the values of column ``by`` (equal share per stratum),
    and through a seeded shuffle of the personas inside each stratum; ``matched``: request ``i``
    is for ``codes[i] = (code, section)`` and gets a persona whose business context can declare
    it (:func:`contexts_for_code`: household employers for T, public bodies for O...), cycling
    through a seeded shuffle of those (all personas when none fits or the table has no
    ``business_context``).
    """
    func = "assign_personas"
    check_int("n_requests", n_requests, 0, func=func)
    check_in("strategy", strategy, ASSIGN_STRATEGIES, func=func)
    check_int("seed", seed, 0, func=func)
    if isinstance(personas, pd.DataFrame):
        frame = personas
    else:
        frame = pd.DataFrame([p.to_dict() for p in personas])
    if frame.empty or "persona_id" not in frame.columns:
        raise DataFormatError("no personas to assign.", column="persona_id",
                              expected="a non-empty persona table with a 'persona_id' column")
    ids = frame["persona_id"].astype(str).tolist()
    rng = np.random.default_rng(seed)
    if strategy == "round_robin":
        return [ids[i % len(ids)] for i in range(n_requests)]
    if strategy == "random":
        return [ids[i] for i in rng.integers(0, len(ids), size=n_requests)]
    if strategy == "matched":
        return _matched(n_requests, frame, ids, codes, rng)
    if by not in frame.columns:
        raise DataFormatError(f"cannot stratify personas by {by!r}.", column=by,
                              expected=f"one of the persona columns {list(frame.columns)}")
    strata = {k: [ids[i] for i in rng.permutation(idx)]
              for k, idx in frame.reset_index(drop=True).groupby(frame[by].astype(str).tolist()).indices.items()}
    keys = sorted(strata)
    return [strata[keys[i % len(keys)]][(i // len(keys)) % len(strata[keys[i % len(keys)]])]
            for i in range(n_requests)]

