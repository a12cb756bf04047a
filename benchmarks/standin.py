"""A seeded stand-in for an office's real data: ~850,000 French declarations coded in NAF 2025.

In: the NAF 2025 explanatory notes (``load_notes(fetch_notes("naf2025"))``, read from the mirror
``STATCODGEN_MIRROR``, e.g. ``../shared/data``), a row count and a seed. Out: DataFrame[text, code,
section], one row per declaration, ``code`` a subclass as the notes give it (``47.71Y``). Nothing of
the notes is stored in the repo: the rows are made at run time.

How rows are made (all vectorised with numpy, one seeded generator):

- Section sizes follow :data:`SECTION_ROWS`, **our own assumption** shaped like the tutorial's
  Zipf-like imbalance (G 122,000 ... U 11, T 0 on 850,000 rows), scaled to ``n_rows``. Inside a
  section the rows go to its subclasses by a Zipf law (exponent :data:`ZIPF_S`, seeded rank order,
  log-normal jitter :data:`ZIPF_JITTER`), each subclass keeping at least one row while the section has enough.
- A text is a window of 2-12 words of the subclass's title or of one of its Includes /
  Also-includes items; sometimes with a generic word ("vente", "services" ...) in front, sometimes
  with a few words of a sibling subclass (same class, else group, else division) appended, and in
  :data:`P_CONFUSED` of the rows taken wholly from a sibling (the coding noise of real data).
  Then words are dropped, accents removed, the row lowercased or uppercased, and letters swapped
  or dropped (typos). French only: the ONS index (English) is not mixed in.

    .venv/bin/python benchmarks/standin.py --rows 850000 --out data/cache/standin/standin.parquet
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "data" / "cache" / "standin" / "standin.parquet"
if not os.environ.get("STATCODGEN_MIRROR") and (ROOT.parent / "shared" / "data").is_dir():
    os.environ["STATCODGEN_MIRROR"] = str(ROOT.parent / "shared" / "data")

#: Rows per NAF section on 850,000 rows (our own plausible figures, not the tutorial's counts; sum 850,000).
SECTION_ROWS = {
    "G": 122_000, "C": 96_000, "F": 88_000, "M": 82_000, "N": 74_000, "S": 66_000, "L": 58_000,
    "I": 52_000, "H": 46_000, "Q": 40_000, "K": 34_000, "J": 28_000, "P": 22_000, "R": 19_000,
    "A": 12_000, "E": 5_000, "D": 3_500, "B": 1_800, "O": 689, "U": 11, "T": 0,
}
ZIPF_S, ZIPF_JITTER = 1.5, 1.0  # exponent of the within-section Zipf law, sigma of its log-normal jitter
P_TITLE = 0.35  # share of rows whose source is the title (else one Includes / Also-includes item)
P_GENERIC, P_SIBLING, P_CONFUSED = 0.25, 0.2, 0.06
P_DROP, P_DROP_STOP, P_TYPO = 0.06, 0.25, 0.02
STYLES = np.array([0.40, 0.15, 0.15, 0.20, 0.10])  # lower, lower no accents, upper, upper no accents, as written
GENERIC = ("vente", "services", "activité", "commerce", "fabrication", "travaux", "prestations", "conseil",
           "location", "gestion", "négoce", "achat", "entretien", "prestation de services", "activités diverses",
           "holding", "installation", "réparation", "production", "distribution")
STOP = {"de", "du", "des", "la", "le", "les", "et", "en", "à", "au", "aux", "d", "l", "un", "une", "pour", "ou",
        "par", "sur", "dans", "y", "compris", "a"}
_WORD = re.compile(r"[^\W\d_](?:[\w'’-]*\w)?|\d+")
_REF = re.compile(r"\bvoir\b.*$|\(.*?\)")


def _unaccent(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c))


def _typo(w: str, r: np.random.Generator) -> str:
    if len(w) < 4:
        return w
    i, kind = int(r.integers(1, len(w) - 1)), int(r.integers(3))
    if kind == 0:
        return w[:i] + w[i + 1] + w[i] + w[i + 2:]  # swap two letters
    return w[:i] + w[i + 1:] if kind == 1 else w[:i] + w[i] + w[i:]  # drop / double a letter


def section_counts(n_rows: int) -> dict[str, int]:
    """:data:`SECTION_ROWS` scaled to ``n_rows`` (largest remainders; T stays 0)."""
    letters, base = list(SECTION_ROWS), np.array(list(SECTION_ROWS.values()), dtype=float)
    exact = base * n_rows / base.sum()
    counts = np.floor(exact).astype(int)
    counts[np.argsort(counts - exact)[: n_rows - counts.sum()]] += 1
    return dict(zip(letters, counts.tolist()))


def _spread(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` rows over ``k`` subclasses by a jittered Zipf law in a seeded rank order."""
    out = np.zeros(k, dtype=np.int64)
    if n == 0 or k == 0:
        return out
    w = np.arange(1, k + 1, dtype=float) ** -ZIPF_S * rng.lognormal(0.0, ZIPF_JITTER, k)
    w = w[rng.permutation(k)] / w.sum()
    floor = 1 if n >= k else 0
    exact = w * (n - floor * k)
    out[:] = np.floor(exact).astype(np.int64) + floor
    out[np.argsort(np.floor(exact) - exact)[: n - out.sum()]] += 1
    return out


def _phrases(notes: pd.DataFrame) -> tuple[list[list[str]], np.ndarray, np.ndarray]:
    """Word lists of every code's title and items, with CSR offsets per code."""
    phrases, off, n_items = [], [], []
    for title, inc, also in zip(notes["title"], notes["includes"], notes["also_includes"]):
        off.append(len(phrases))
        items = [_WORD.findall(_REF.sub("", str(t)).replace("’", "'")) for t in [title, *inc, *also]]
        items = [i for i in items if i] or [["activité"]]
        phrases.extend(items)
        n_items.append(len(items))
    return phrases, np.array(off), np.array(n_items)


def _siblings(notes: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """For each code, the positions of its siblings (same class, else group, else division) as CSR."""
    codes, parent = notes["code"].to_numpy(str), notes["parent"].to_numpy(str)
    group, division = np.char.replace(codes, ".", "").astype("U3"), np.char.replace(codes, ".", "").astype("U2")
    lists = []
    for i in range(len(codes)):
        for key in (parent, group, division):
            pos = np.flatnonzero(key == key[i])
            pos = pos[pos != i]
            if pos.size:
                break
        lists.append(pos if pos.size else np.array([i]))
    off = np.cumsum([0] + [len(p) for p in lists])
    return np.concatenate(lists), off


def _segments(starts: list[np.ndarray], lens: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Token positions of per-row segments concatenated row by row, and the row of each token."""
    st, ln = np.stack(starts, 1).ravel(), np.stack(lens, 1).ravel()
    n_rows = len(starts[0])
    row = np.repeat(np.repeat(np.arange(n_rows), len(starts)), ln)
    ends = np.cumsum(ln)
    pos = np.arange(ends[-1] if len(ends) else 0) - np.repeat(ends - ln, ln) + np.repeat(st, ln)
    return pos, row


def make_standin(n_rows: int = 850_000, *, seed: int = 0, notes: pd.DataFrame | None = None) -> pd.DataFrame:
    """DataFrame[text, code, section] of ``n_rows`` declarations (see the module docstring); same seed, same frame."""
    if notes is None:
        import statcodgen
        notes = statcodgen.load_notes(statcodgen.fetch_notes("naf2025"))
    notes = notes[notes["level"] == "subclass"].sort_values("code").reset_index(drop=True)
    rng = np.random.default_rng(seed)
    per_code = np.zeros(len(notes), dtype=np.int64)
    for letter, n in section_counts(n_rows).items():
        idx = np.flatnonzero(notes["section"].to_numpy() == letter)
        per_code[idx] = _spread(n, len(idx), rng)
    code = rng.permutation(np.repeat(np.arange(len(notes)), per_code))
    n = len(code)

    phrases, ph_off, ph_n = _phrases(notes)
    vocab, tok = {}, []
    for p in phrases + [g.split() for g in GENERIC]:
        tok.append([vocab.setdefault(w, len(vocab)) for w in p])
    words = list(vocab)
    flat = np.fromiter((t for p in tok for t in p), dtype=np.int64)
    t_len = np.array([len(p) for p in tok])
    t_off = np.concatenate([[0], np.cumsum(t_len)[:-1]])
    generic0 = len(phrases)
    sib, sib_off = _siblings(notes)

    def pick_phrase(c: np.ndarray) -> np.ndarray:
        item = np.where(rng.random(len(c)) < P_TITLE, 0, (rng.random(len(c)) * ph_n[c]).astype(int))
        return ph_off[c] + np.minimum(item, ph_n[c] - 1)

    def sibling(c: np.ndarray) -> np.ndarray:
        return sib[sib_off[c] + (rng.random(len(c)) * (sib_off[c + 1] - sib_off[c])).astype(int)]

    src = np.where(rng.random(n) < P_CONFUSED, sibling(code), code)
    main = pick_phrase(src)
    want = np.clip(np.rint(rng.lognormal(np.log(4.5), 0.45, n)), 2, 12).astype(int)
    m_len = np.minimum(want, t_len[main])
    m_start = np.where(rng.random(n) < 0.5, 0, (rng.random(n) * (t_len[main] - m_len + 1)).astype(int))
    gen = generic0 + rng.integers(len(GENERIC), size=n)
    g_len = ((rng.random(n) < P_GENERIC) | (m_len < 2)).astype(int) * t_len[gen]
    other = pick_phrase(sibling(code))
    s_len = np.where(rng.random(n) < P_SIBLING, np.minimum(rng.integers(1, 5, n), t_len[other]), 0)
    s_start = (rng.random(n) * (t_len[other] - s_len + 1)).astype(int)
    pos, row = _segments([t_off[gen], t_off[main] + m_start, t_off[other] + s_start], [g_len, m_len, s_len])
    ids = flat[pos]

    # drop words (stop words more often), keeping >= 2 a row, and repeats; then cut to 12 words
    is_stop = np.array([w.lower() in STOP for w in words])
    keep = rng.random(len(ids)) >= np.where(is_stop[ids], P_DROP_STOP, P_DROP)
    keep |= (np.bincount(row, weights=keep, minlength=n) < 2)[row]
    ids, row = ids[keep], row[keep]
    again = np.r_[False, (ids[1:] == ids[:-1]) & (row[1:] == row[:-1])]  # "de de" left by a dropped word
    again &= (np.bincount(row, weights=~again, minlength=n) >= 2)[row]
    ids, row = ids[~again], row[~again]
    first = np.searchsorted(row, np.arange(n))
    rank = np.arange(len(row)) - first[row]
    ids, row = ids[rank < 12], row[rank < 12]
    # no stop word at either end of a row when >= 2 other words remain between
    content = ~is_stop[ids]
    at = np.arange(len(ids))
    lo = np.full(n, len(ids)); np.minimum.at(lo, row[content], at[content])
    hi = np.full(n, -1); np.maximum.at(hi, row[content], at[content])
    inner = (at >= lo[row]) & (at <= hi[row])
    inner |= (np.bincount(row, weights=inner, minlength=n) < 2)[row]
    ids, row = ids[inner], row[inner]

    # spelling: per-row style, per-word typos, from variant tables of the vocabulary
    trng = np.random.default_rng([seed, 1])
    variants = []
    for form in (words, [_typo(w, trng) for w in words]):
        low = [w.lower() for w in form]
        bare = [_unaccent(w) for w in low]
        variants.append([low, bare, [w.upper() for w in low], [w.upper() for w in bare], list(form)])
    table = np.array(variants, dtype=object).reshape(2 * len(STYLES), len(words))
    style = rng.choice(len(STYLES), size=n, p=STYLES)
    typo = rng.random(len(ids)) < P_TYPO
    out = table[typo * len(STYLES) + style[row], ids].tolist()
    bounds = np.searchsorted(row, np.arange(n + 1))
    text = [" ".join(out[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
    return pd.DataFrame({"text": text, "code": notes["code"].to_numpy()[code],
                         "section": notes["section"].to_numpy()[code]})


def split_standin(df: pd.DataFrame, *, test_size: float = 0.1, seed: int = 0, label: str = "code") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test) stratified on ``label``: about ``test_size`` of each label's rows (randomised rounding) go
    to test, always leaving one in train, so labels with a single row stay in train."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(df))
    lab = df[label].to_numpy()[order]
    size = pd.Series(lab).map(pd.Series(lab).value_counts()).to_numpy()
    exact = size * test_size
    # one draw per label for the rounding, so each label's test count is fixed
    codes, inv = np.unique(lab, return_inverse=True)
    n_test = np.minimum(np.floor(exact) + (rng.random(len(codes))[inv] < exact - np.floor(exact)), size - 1)
    rank = pd.Series(lab).groupby(lab).cumcount().to_numpy()
    test = np.zeros(len(df), dtype=bool)
    test[order] = rank < n_test
    return df[~test].reset_index(drop=True), df[test].reset_index(drop=True)


def summary(df: pd.DataFrame) -> str:
    """Sections, rows per subclass (quantiles, thin counts) and words per text."""
    per = df["code"].value_counts()
    words = df["text"].str.count(" ") + 1
    q = per.quantile([0, 0.1, 0.25, 0.5, 0.75, 0.9, 1]).round().astype(int).to_dict()
    return "\n".join([
        f"rows {len(df):,}, subclasses with rows {len(per)}, sections {df['section'].value_counts().to_dict()}",
        f"rows per subclass quantiles {q}; <= 5 rows: {(per <= 5).sum()}, <= 10 rows: {(per <= 10).sum()}",
        f"words per text: min {words.min()}, median {words.median():.0f}, max {words.max()}; "
        f"distinct texts {df['text'].nunique():,}",
        "examples: " + " | ".join(df["text"].head(8)),
    ])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=850_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    df = make_standin(args.rows, seed=args.seed)
    took = time.perf_counter() - t0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    df.to_parquet(args.out, index=False)
    print(f"made {len(df):,} rows in {took:.1f} s -> {args.out}\n{summary(df)}")


if __name__ == "__main__":
    sys.exit(main())
