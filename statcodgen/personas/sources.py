"""Persona collections from outside: file loaders, text-to-persona through the LLM, dedup.

* :func:`load_personas` reads Nemotron-Personas parquet, Persona Hub JSONL, or any CSV/TSV/parquet/
  JSONL with a text column, into a persona DataFrame (``persona_id``, ``description``, ``source``,
  ``source_row`` + whichever of ``age, sex, occupation, city, region, education, country`` exist).
* Text-to-persona (Persona Hub, Chan et al. 2024): :func:`build_text_to_persona_requests` (pure)
  asks "who is likely to have written this declaration?" for sampled real rows;
  :func:`parse_persona_answers` (pure) reads the journal records back; :func:`text_to_persona`
  runs both around :func:`statcodgen.llm.client.run_requests`. Persona-to-persona expansion follows the
  same pattern (:func:`build_persona_expansion_requests`).
* :func:`dedup_personas`: exact + MinHash-LSH near-duplicate removal on the description.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from .._validation import check_in, check_int, check_range, check_type
from ..errors import DataFormatError
from ..text.languages import refusal_pattern
from .persona import personas_from_frame

__all__ = [
    "load_personas",
    "build_text_to_persona_requests",
    "build_persona_expansion_requests",
    "parse_persona_answers",
    "text_to_persona",
    "dedup_personas",
    "PersonaDedupResult",
]

FORMATS = ("auto", "statcodgen", "nemotron", "personahub", "table")
_TEXT_CANDIDATES = ("persona", "description", "input persona", "text", "professional_persona")
#: structured field -> source column names tried in order (Nemotron-Personas USA / France / Japan...)
_FIELD_SOURCES = {
    "age": ("age",),
    "sex": ("sex", "gender"),
    "occupation": ("occupation", "profession"),
    "city": ("city", "commune", "town"),
    "region": ("region", "state", "province", "prefecture"),
    "education": ("education_level", "education"),
    "country": ("country",),
}
_SEX = {"f": "female", "female": "female", "woman": "female", "femme": "female", "féminin": "female",
        "feminin": "female", "mujer": "female", "m": "male", "male": "male", "man": "male", "homme": "male",
        "masculin": "male", "hombre": "male"}


# ------------------------------------------------------------------------------------- loaders
def _read_any(path: Path, fmt: str) -> pd.DataFrame:
    suffix = "".join(path.suffixes[-1:]).lower()
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        if suffix in (".jsonl", ".ndjson", ".json"):
            rows = []
            with path.open(encoding="utf-8") as fh:
                for i, line in enumerate(fh, start=1):
                    if not line.strip():
                        continue
                    try:
                        obj = json.loads(line)
                    except json.JSONDecodeError as e:
                        raise DataFormatError(f"line is not valid JSON ({e.msg}).", file=path, row=i,
                                              expected="one JSON object per line (JSONL)") from None
                    if not isinstance(obj, dict):
                        raise DataFormatError("line is not a JSON object.", file=path, row=i,
                                              expected="one JSON object per line (JSONL)")
                    rows.append(obj)
            return pd.DataFrame(rows)
        if suffix in (".csv", ".tsv", ".txt"):
            return pd.read_csv(path, sep="\t" if suffix == ".tsv" else None, engine="python",
                               dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except DataFormatError:
        raise
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except Exception as e:  # noqa: BLE001 - any reader failure becomes one clear error
        raise DataFormatError(f"cannot read the persona file ({type(e).__name__}: {e}).", file=path,
                              expected=f"a readable {suffix.lstrip('.') or 'table'} file") from None
    raise DataFormatError(f"unknown persona file extension {suffix!r}.", file=path,
                          expected=".parquet, .jsonl/.json, .csv or .tsv")


_SAMPLED_COLUMNS = ("persona_id", "business_context", "openness", "conscientiousness", "extraversion",
                    "agreeableness", "neuroticism", "length", "register", "casing")


def _load_sampled(raw: pd.DataFrame, path: Path) -> pd.DataFrame:
    """A file written from :func:`sample_personas` (descriptions may be empty): checked, typed, kept whole."""

    missing = [c for c in _SAMPLED_COLUMNS if c not in raw.columns]
    if missing:
        raise DataFormatError("the file is not a statcodgen persona table.", file=path, column=missing[0],
                              expected=f"the columns written by sample_personas ({', '.join(_SAMPLED_COLUMNS)})")
    try:
        records = personas_from_frame(raw)
    except DataFormatError as e:
        row = None if e.row is None else e.row + (1 if path.suffix.lower() in (".csv", ".tsv") else 0)
        raise DataFormatError(e.reason, file=path, row=row, column=e.column, expected=e.expected) from None
    out = pd.DataFrame([p.to_dict() for p in records])
    out = out[["persona_id"] + [c for c in out.columns if c != "persona_id"]]
    extra = [c for c in raw.columns if c not in out.columns]
    for c in extra:
        out[c] = raw[c].to_numpy()
    if out["persona_id"].duplicated().any():
        raise DataFormatError(f"duplicate persona id {out.loc[out['persona_id'].duplicated(), 'persona_id'].iloc[0]!r}.",
                              file=path, column="persona_id", expected="unique persona ids")
    out.attrs.update({"source": str(path), "format": "statcodgen", "text_column": None, "dropped_rows": []})
    return out


def _detect(df: pd.DataFrame, path: Path) -> str:
    cols = set(df.columns)
    if all(c in cols for c in _SAMPLED_COLUMNS):
        return "statcodgen"
    if "uuid" in cols and cols & {"persona", "professional_persona"}:
        return "nemotron"
    if cols & {"input persona", "persona"} and path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        return "personahub"
    return "table"


def _text_column(df: pd.DataFrame, fmt: str, text_column: str | None, path: Path) -> str:
    cols = list(df.columns)
    if text_column is not None:
        if text_column not in df.columns:
            raise DataFormatError("the persona text column is missing.", file=path, column=text_column,
                                  expected=f"one of the file's columns {cols}")
        return text_column
    order = {"nemotron": ("professional_persona", "persona"), "personahub": ("input persona", "persona")}
    for c in order.get(fmt, _TEXT_CANDIDATES):
        if c in df.columns:
            return c
    raise DataFormatError("no persona text column found.", file=path, column=" / ".join(order.get(fmt, _TEXT_CANDIDATES)),
                          expected=f"pass text_column= naming one of the file's columns {cols}")


def load_personas(path: str | Path, *, text_column: str | None = None, format: str = "auto") -> pd.DataFrame:
    """Read a persona collection into a DataFrame.

    ``format``: ``"statcodgen"`` (a table written from :func:`sample_personas`, CSV or parquet:
    every field kept and typed, empty descriptions allowed), ``"nemotron"`` (Nemotron-Personas parquet: ``uuid``, ``persona``,
    ``professional_persona``, ``age``, ``sex``, ``occupation``, ``city``, ``state``/``region``...;
    the text defaults to ``professional_persona``), ``"personahub"`` (JSONL with ``input persona``
    or ``persona``), ``"table"`` (CSV/TSV/parquet/JSONL; the text column defaults to the first of
    persona, description, input persona, text) or ``"auto"`` (detected from columns/extension).
    Returns ``persona_id`` (``uuid``/``id``/``persona_id`` column, else ``<file stem>-<row>``),
    ``description``, ``source`` (file name), ``source_row`` (0-based row in the file) and the
    structured fields found. Rows with an empty text are dropped and listed in
    ``df.attrs["dropped_rows"]`` as ``(row, reason)``. Raises :class:`DataFormatError` for a missing,
    empty or unreadable file, or a missing text column.
    """
    check_in("format", format, FORMATS, func="load_personas")
    if text_column is not None:
        check_type("text_column", text_column, str, func="load_personas")
    path = Path(path)
    if not path.is_file():
        raise DataFormatError("persona file not found.", file=path, expected="an existing file")
    if path.stat().st_size == 0:
        raise DataFormatError("the persona file is empty.", file=path, expected="at least one persona row")
    raw = _read_any(path, format)
    if raw.empty:
        raise DataFormatError("the persona file has no rows.", file=path, expected="at least one persona row")
    raw.columns = [str(c) for c in raw.columns]
    fmt = _detect(raw, path) if format == "auto" else format
    if fmt == "statcodgen":
        return _load_sampled(raw, path)
    col = _text_column(raw, fmt, text_column, path)
    text = raw[col].astype(object).where(raw[col].notna(), "").astype(str).str.strip()
    keep = text.str.len() > 0
    out = pd.DataFrame(index=raw.index)
    id_col = next((c for c in ("persona_id", "uuid", "id") if c in raw.columns), None)
    if id_col is not None:
        out["persona_id"] = raw[id_col].astype(str)
    else:
        out["persona_id"] = [f"{path.stem}-{i:06d}" for i in range(len(raw))]
    out["description"] = text
    out["source"] = path.name
    out["source_row"] = np.arange(len(raw))
    for name, sources in _FIELD_SOURCES.items():
        src = next((c for c in sources if c in raw.columns and c != col), None)
        if src is None:
            continue
        if name == "age":
            out[name] = pd.to_numeric(raw[src], errors="coerce").astype("Int64")
        elif name == "sex":
            out[name] = raw[src].astype(str).str.strip().str.lower().map(_SEX).fillna("")
        else:
            out[name] = raw[src].astype(object).where(raw[src].notna(), "").astype(str).str.replace("_", " ")
    dropped = [(int(i), "empty_description") for i in np.flatnonzero(~keep.to_numpy())]
    out = out[keep.to_numpy()].reset_index(drop=True)
    if out.empty:
        raise DataFormatError("every persona text is empty.", file=path, column=col,
                              expected="non-empty persona descriptions")
    dup = out["persona_id"].duplicated()
    if dup.any():
        first = int(out.loc[dup, "source_row"].iloc[0])
        raise DataFormatError(f"duplicate persona id {out.loc[dup, 'persona_id'].iloc[0]!r}.", file=path,
                              row=first + 2 if path.suffix.lower() in (".csv", ".tsv") else first + 1,
                              column=id_col, expected="unique persona ids")
    out.attrs.update({"source": str(path), "format": fmt, "text_column": col, "dropped_rows": dropped})
    return out


# ------------------------------------------------------------------------------ text-to-persona
_T2P = {
    "en": ("You help a statistical office understand who registers business activities.",
           "Here is an activity description written by someone registering a business:\n\"{text}\"\n"
           "Who is likely to have written this declaration? Describe this person in one or two sentences "
           "(age, occupation, kind of business, place, how they write). Answer with the description only."),
    "fr": ("Tu aides un institut statistique à comprendre qui déclare des activités d'entreprise.",
           "Voici le libellé d'activité écrit par une personne qui immatricule une entreprise :\n\"{text}\"\n"
           "Qui a probablement écrit cette déclaration ? Décris cette personne en une ou deux phrases "
           "(âge, métier, type d'entreprise, lieu, manière d'écrire). Réponds uniquement par la description."),
    "es": ("Ayudas a un instituto de estadística a entender quién declara actividades empresariales.",
           "Esta es la descripción de actividad escrita por alguien que registra una empresa:\n\"{text}\"\n"
           "¿Quién es probable que haya escrito esta declaración? Describe a esta persona en una o dos frases "
           "(edad, ocupación, tipo de empresa, lugar, forma de escribir). Responde solo con la descripción."),
}
_P2P = {
    "en": "Here is a person who declares a business activity:\n\"{text}\"\nDescribe, in one or two sentences, "
          "another person in close relationship with them (a client, supplier, competitor, employee or relative) "
          "who would declare a different activity. Answer with the description only.",
    "fr": "Voici une personne qui déclare une activité d'entreprise :\n\"{text}\"\nDécris en une ou deux phrases "
          "une autre personne proche d'elle (client, fournisseur, concurrent, salarié ou parent) qui déclarerait "
          "une autre activité. Réponds uniquement par la description.",
    "es": "Esta es una persona que declara una actividad empresarial:\n\"{text}\"\nDescribe en una o dos frases "
          "a otra persona cercana (cliente, proveedor, competidor, empleado o familiar) que declararía otra "
          "actividad. Responde solo con la descripción.",
}


def _sample_rows(df: pd.DataFrame, text_col: str, n: int, seed: int, func: str) -> pd.DataFrame:
    check_type("real_df", df, pd.DataFrame, func=func)
    if text_col not in df.columns:
        raise DataFormatError("the table has no text column.", column=text_col,
                              expected=f"one of its columns {list(df.columns)}")
    texts = df[text_col].astype(object).where(df[text_col].notna(), "").astype(str).str.strip()
    pos = np.flatnonzero((texts.str.len() > 0).to_numpy())
    rng = np.random.default_rng(seed)
    take = np.sort(rng.choice(pos, size=min(n, len(pos)), replace=False)) if len(pos) else pos
    out = df.iloc[take].copy()
    out["_text"] = texts.iloc[take].to_numpy()
    return out


def build_text_to_persona_requests(
    real_df: pd.DataFrame, *, language: str = "en", n: int = 100, seed: int = 0, text_col: str = "text",
) -> pd.DataFrame:
    """Chat messages asking who wrote each of ``n`` rows sampled (without replacement, ``seed``)
    from ``real_df`` (empty texts skipped). Returns one row per request: ``request_id``,
    ``messages`` (list of chat dicts), ``prompt_id`` (``"text_to_persona"``), ``source_row`` (index
    label in ``real_df``), ``source_text`` and ``code`` when ``real_df`` has one."""
    func = "build_text_to_persona_requests"
    check_in("language", language, tuple(_T2P), func=func)
    check_int("n", n, 1, func=func)
    check_int("seed", seed, 0, func=func)
    rows = _sample_rows(real_df, text_col, n, seed, func)
    system, user = _T2P[language]
    out = pd.DataFrame({
        "request_id": [f"t2p-{seed}-{i:06d}" for i in range(len(rows))],
        "messages": [[{"role": "system", "content": system}, {"role": "user", "content": user.format(text=t)}]
                     for t in rows["_text"]],
        "prompt_id": "text_to_persona",
        "source_row": list(rows.index),
        "source_text": rows["_text"].to_numpy(),
    })
    if "code" in rows.columns:
        out["code"] = rows["code"].astype(str).to_numpy()
    return out


def build_persona_expansion_requests(
    personas: pd.DataFrame, *, language: str = "en", n: int = 100, seed: int = 0,
) -> pd.DataFrame:
    """Persona-to-persona expansion: for ``n`` sampled personas (``description`` column), ask for
    another person in close relationship with them. Same columns as
    :func:`build_text_to_persona_requests`, ``prompt_id="persona_to_persona"``, ``source_row`` =
    the source persona's ``persona_id``."""
    func = "build_persona_expansion_requests"
    check_in("language", language, tuple(_P2P), func=func)
    check_int("n", n, 1, func=func)
    check_int("seed", seed, 0, func=func)
    rows = _sample_rows(personas, "description", n, seed, func)
    system = _T2P[language][0]
    ids = rows["persona_id"].astype(str).tolist() if "persona_id" in rows.columns else list(rows.index)
    return pd.DataFrame({
        "request_id": [f"p2p-{seed}-{i:06d}" for i in range(len(rows))],
        "messages": [[{"role": "system", "content": system}, {"role": "user", "content": _P2P[language].format(text=t)}]
                     for t in rows["_text"]],
        "prompt_id": "persona_to_persona",
        "source_row": ids,
        "source_text": rows["_text"].to_numpy(),
    })


_PREFIX = re.compile(r"^\s*(?:\*\*)?(?:persona|description|réponse|reponse|answer|respuesta|descripción)\s*(?:\*\*)?\s*:\s*",
                     re.IGNORECASE)


def _clean_answer(raw: Any) -> str:
    if raw is None or (isinstance(raw, float) and raw != raw):
        return ""
    text = str(raw).strip()
    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    text = paragraphs[0] if paragraphs else ""
    text = _PREFIX.sub("", text)
    text = re.sub(r"\s+", " ", text).strip().strip("\"'«»“”").strip()
    return text


def parse_persona_answers(
    records: pd.DataFrame, *, requests: pd.DataFrame | None = None, min_chars: int = 20, max_chars: int = 800,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Turn journal records (``Journal.records()``: ``key``, ``status``, ``raw``, ``error``,
    ``metadata``) into personas. ``metadata`` must carry the request row (``request_id``,
    ``prompt_id``, ``source_row``, ``source_text``, ``code``) as :func:`text_to_persona` stores it;
    with ``requests`` (the builder's frame) only records of those ``request_id`` are read.

    Returns ``(personas, failed)``: personas have ``persona_id`` (``<prompt>-<key[:12]>``),
    ``description``, ``source`` (prompt id), ``source_row``, ``source_text``, ``request_key`` (+ ``code``);
    failed rows keep ``request_key, source_row, raw, reason, detail`` with reason one of
    ``request_failed``, ``empty_answer``, ``too_short``, ``too_long``, ``refusal``.
    """
    func = "parse_persona_answers"
    check_type("records", records, pd.DataFrame, func=func)
    check_int("min_chars", min_chars, 0, func=func)
    check_int("max_chars", max_chars, 1, func=func)
    for c in ("key", "status", "raw"):
        if c not in records.columns:
            raise DataFormatError("the journal records lack a column.", column=c,
                                  expected="the columns of Journal.records(): key, status, raw, metadata")
    wanted = None if requests is None else set(requests["request_id"])
    good, bad = [], []
    for rec in records.to_dict("records"):
        meta = rec.get("metadata") if isinstance(rec.get("metadata"), dict) else {}
        if wanted is not None and meta.get("request_id") not in wanted:
            continue
        base = {"request_key": rec["key"], "source_row": meta.get("source_row"), "raw": rec.get("raw")}
        text = _clean_answer(rec.get("raw"))
        reason, detail = None, ""
        if rec["status"] != "done":
            reason, detail = "request_failed", str(rec.get("error") or rec["status"])
        elif not text:
            reason, detail = "empty_answer", "the answer has no text"
        elif len(text) < min_chars:
            reason, detail = "too_short", f"{len(text)} characters < min_chars={min_chars}"
        elif len(text) > max_chars:
            reason, detail = "too_long", f"{len(text)} characters > max_chars={max_chars}"
        elif refusal_pattern().search(text):
            reason, detail = "refusal", text[:80]
        if reason:
            bad.append({**base, "reason": reason, "detail": detail})
            continue
        prompt = str(meta.get("prompt_id", "text_to_persona"))
        row = {"persona_id": f"{prompt}-{str(rec['key'])[:12]}", "description": text, "source": prompt,
               "source_row": meta.get("source_row"), "source_text": meta.get("source_text", ""),
               "request_key": rec["key"]}
        if "code" in meta:
            row["code"] = meta["code"]
        good.append(row)
    personas = pd.DataFrame(good, columns=["persona_id", "description", "source", "source_row", "source_text",
                                           "request_key"] + (["code"] if any("code" in g for g in good) else []))
    failed = pd.DataFrame(bad, columns=["request_key", "source_row", "raw", "reason", "detail"])
    return personas, failed


def _json_scalar(v: Any) -> Any:
    """Metadata values as plain JSON scalars (numpy ints/floats unwrapped, anything else as str)."""
    if isinstance(v, np.generic):
        v = v.item()
    return v if isinstance(v, (str, int, float, bool)) or v is None else str(v)


def text_to_persona(
    real_df: pd.DataFrame,
    *,
    config: Any,
    journal_path: str | Path,
    language: str = "en",
    n: int = 100,
    seed: int = 0,
    text_col: str = "text",
    expand: bool = False,
    progress: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Persona Hub's text-to-persona over ``n`` sampled rows of ``real_df``, through
    :func:`statcodgen.llm.client.run_requests` (``config``: an :class:`~statcodgen.llm.config.LLMConfig`; answers
    cached in the SQLite journal at ``journal_path``, so a re-run sends only what is missing).
    With ``expand=True`` each persona found is expanded once more (persona-to-persona).
    Returns ``(personas, failed)`` as :func:`parse_persona_answers`."""
    from ..llm.journal import Journal
    from ..llm.client import run_requests
    from ..llm.config import make_request
    from ..llm.parsing import ParseResult

    def keep_raw(content: str, request: Any) -> ParseResult:
        return ParseResult(lines=[content.strip()] if content and content.strip() else [], rejected=[])

    def run(reqs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        built = [make_request(r["messages"], config=config, seed=seed,
                              metadata={k: _json_scalar(v) for k, v in r.items() if k != "messages"})
                 for r in reqs.to_dict("records")]
        with Journal(journal_path) as journal:
            run_requests(built, config=config, journal=journal, progress=progress, parser=keep_raw)
            records = journal.records()
        return parse_persona_answers(records, requests=reqs)

    personas, failed = run(build_text_to_persona_requests(real_df, language=language, n=n, seed=seed,
                                                          text_col=text_col))
    if expand and not personas.empty:
        more, more_failed = run(build_persona_expansion_requests(personas, language=language, n=len(personas),
                                                                 seed=seed))
        personas = pd.concat([personas, more], ignore_index=True)
        failed = pd.concat([failed, more_failed], ignore_index=True)
    return personas, failed


# ----------------------------------------------------------------------------------------- dedup
def _persona_ref(ref: Any, ids: pd.Series) -> Any:
    """Map dedup's ``syn:<row>`` reference to the kept persona's ``persona_id``."""
    m = re.fullmatch(r"syn:(\d+)", str(ref))
    if m and int(m.group(1)) < len(ids):
        return ids.iloc[int(m.group(1))]
    return ref


class PersonaDedupResult(NamedTuple):
    """``kept`` personas and ``dropped`` ones (+ ``reason``, ``detail``, ``duplicate_of``, ``similarity``)."""

    kept: pd.DataFrame
    dropped: pd.DataFrame


def dedup_personas(
    df: pd.DataFrame, *, threshold: float = 0.9, num_perm: int = 128, seed: int = 1, ngram: int = 1,
) -> PersonaDedupResult:
    """Drop exact and near-duplicate personas on ``description`` (normalised text; MinHash LSH over
    word ``ngram``-grams, datasketch-compatible, via :func:`statcodgen.cleaning.dedup.dedup`). The persona
    kept in each group is chosen in dedup's canonical content order, so shuffling the input keeps
    the same set; ``kept`` stays in input order and every dropped row names, in ``duplicate_of``,
    the ``persona_id`` it duplicates (+ ``reason``, ``detail``, ``similarity``)."""
    func = "dedup_personas"
    check_type("df", df, pd.DataFrame, func=func)
    check_range("threshold", threshold, 0.0, 1.0, low_open=True, func=func)
    check_int("num_perm", num_perm, 2, 4096, func=func)
    check_int("seed", seed, 0, func=func)
    check_int("ngram", ngram, 1, 10, func=func)
    for c in ("persona_id", "description"):
        if c not in df.columns:
            raise DataFormatError("the persona table lacks a column.", column=c,
                                  expected="persona_id and description columns")
    from ..cleaning.dedup import dedup

    work = df.reset_index(drop=True)
    res = dedup(work, text_col="description", label_col=None, threshold=threshold, num_perm=num_perm,
                seed=seed, shingle="word", ngram=ngram, progress=False)
    kept = res.kept.sort_index().reset_index(drop=True)
    dropped = res.dropped.copy()
    if "duplicate_of" in dropped.columns and len(dropped):
        # map the row id of the kept line back to its persona_id when dedup used positional ids
        ids = work["persona_id"].astype(str)
        dropped["duplicate_of"] = [_persona_ref(d, ids) for d in dropped["duplicate_of"]]
    return PersonaDedupResult(kept, dropped.reset_index(drop=True))
