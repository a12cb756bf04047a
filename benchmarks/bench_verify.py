"""Planted errors: does the verifier find lines whose label was changed to a wrong target?

English: the offline lines of ``make study`` (NACE Rev. 2, sections B, O, T, U, 800 lines per target),
cleaned, verified once (the base: what the study trains on), with the ONS training part of the
measure (B, O, T, U cut to 2 rows) as the real rows. French: the offline lines for O, B, U, T from the
NAF 2025 notes (no French labelled data here: the verifier has the synthetic lines and the notes'
items only). In each base set, 10% of the lines are relabelled:

- *other section*: a line of one target given another target's label, judged at section level;
- *sibling*: a line given a sibling class of its own class (same group, else same division), judged
  at class level with every class of the four sections as a target;
- *other section, judged at class level*: the first kind again, on the class-level base, to show
  what the class-level rules (the global model at division level) still find of them.

The verifier's recall (planted lines dropped or relabelled) and precision (planted among every line it
touched) are printed beside the baseline of the same run: a classifier trained on the real rows alone
(no synthetic lines, no notes), which cannot know the targets. Output: ``benchmarks/results/verify.md``.

Each base set is planted with three seeds; the report gives each and their mean and range.

Run: ``.venv/bin/python benchmarks/bench_verify.py`` (about 8 minutes on 2 cores).
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

from _common import PROTOCOL_PARAMS, RESULTS, TARGETS, machine, ons_measure_data, to_markdown

from statcodgen.classification import Hierarchy
from statcodgen.cleaning import clean
from statcodgen.generation import generate, generation_plan
from statcodgen.modelling import FastTextClassifier, FastTextParams
from statcodgen.sources import fetch_notes, load_notes
from statcodgen.verification import VerifyOptions, verify

PARAMS = FastTextParams(**PROTOCOL_PARAMS)
FR_TARGETS = ["O", "B", "U", "T"]
#: Each base set is planted three times (seeds 0, 1, 2): the spread is part of the result.
PLANT_SEEDS = (0, 1, 2)


def offline_lines(notes: pd.DataFrame, h: Hierarchy, targets: list[str], language: str, real_test=None) -> pd.DataFrame:
    plan = generation_plan(notes, targets=targets, n_per_target=800, level="section", min_per_code=20, weight="richness")
    lines = generate(notes, plan, generator="offline", language=language, seed=0, hierarchy=h, target_level="section",
                     progress=False).lines
    return clean(lines, real_test=real_test, notes=notes, language=language).kept.reset_index(drop=True)


def plant(base: pd.DataFrame, h: Hierarchy, kind: str, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """10% of ``base`` relabelled to a wrong target of ``kind`` ('section' or 'sibling'); returns (set, planted mask)."""
    rng = np.random.default_rng(seed)
    df = base.copy()
    mask = np.zeros(len(df), dtype=bool)
    order = rng.permutation(len(df))
    want = len(df) // 10
    for i in order:
        if mask.sum() >= want:
            break
        code, label = str(df.at[i, "code"]), str(df.at[i, "label"])
        if kind == "section":
            new_label = str(rng.choice([t for t in sorted(set(df["label"])) if t != label]))
            pool = sorted(set(df.loc[df["label"] == new_label, "code"]))
            df.at[i, "label"], df.at[i, "code"] = new_label, str(rng.choice(pool))
        else:
            sibs = [c for c in h.children(h.parent(code)) if c != code] if h.parent(code) else []
            if not sibs:
                div = h.ancestor(code, "division")
                sibs = [c for c in h.leaves(div) if c != code]
            if not sibs:
                continue
            df.at[i, "code"] = str(rng.choice(sibs))
        mask[i] = True
    return df, mask


def score(res, planted_set: pd.DataFrame, mask: np.ndarray) -> dict[str, float]:
    key = planted_set["text"].astype(str) + "\x1f" + planted_set["code"].astype(str)
    touched_keys = set(res.dropped["text"].astype(str) + "\x1f" + res.dropped["code"].astype(str))
    rl = res.relabelled
    touched_keys |= set(rl["text"].astype(str) + "\x1f" + rl["old_code"].astype(str))
    touched = key.isin(touched_keys).to_numpy()
    tp = int((touched & mask).sum())
    return {"planted": int(mask.sum()), "touched": int(touched.sum()), "found": tp,
            "recall": tp / max(1, mask.sum()), "precision": tp / max(1, touched.sum())}


def baseline_real_only(real: pd.DataFrame, planted_set: pd.DataFrame, mask: np.ndarray, level: str, h: Hierarchy) -> dict[str, float]:
    """A classifier trained on the real rows alone flags a line whose predicted label differs from its label."""
    if real is None or not len(real):
        return {"planted": int(mask.sum()), "touched": 0, "found": 0, "recall": 0.0, "precision": 0.0}
    y = real["label"] if level == "section" else h.aggregate(real["code"], level)
    clf = FastTextClassifier(PARAMS, language="en").fit(real["text"].astype(str).tolist(), y.astype(str).tolist())
    given = planted_set["label"] if level == "section" else planted_set["code"]
    pred = clf.predict(planted_set["text"].astype(str).tolist())["label"].astype(str).to_numpy()
    touched = pred != given.astype(str).to_numpy()
    tp = int((touched & mask).sum())
    return {"planted": int(mask.sum()), "touched": int(touched.sum()), "found": tp,
            "recall": tp / max(1, mask.sum()), "precision": tp / max(1, touched.sum())}


def run(name: str, notes: pd.DataFrame, h: Hierarchy, base_lines: pd.DataFrame, real: pd.DataFrame | None, language: str) -> list[dict]:
    """For each kind of planted error: verify the lines at the kind's level (the base: the study's
    verified set), plant 10% errors into the verified lines, verify again, score."""
    rows = []
    targets = sorted(set(base_lines["label"]))
    bases: dict[str | None, pd.DataFrame] = {}
    for kind, level in (("section", None), ("sibling", "class"), ("section", "class")):
        options = VerifyOptions(level=level, notes=False)
        if level not in bases:
            t0 = time.perf_counter()
            base = verify(base_lines, real_train=real, notes=notes, hierarchy=h, targets=targets, target_level="section",
                          language=language, params=PARAMS, options=options, progress=False)
            rows.append({"set": name, "step": f"base verification at {level or 'section'} level", "lines": len(base_lines),
                         **{k: base.stats.get(k, 0) for k in ("dropped", "relabelled")}, "seconds": round(time.perf_counter() - t0, 1)})
            bases[level] = base.verified.drop(columns=["old_code", "old_label"]).reset_index(drop=True)
        v = bases[level]
        for seed in PLANT_SEEDS:
            planted_set, mask = plant(v, h, kind, seed=seed)
            t0 = time.perf_counter()
            res = verify(planted_set, real_train=real, notes=notes, hierarchy=h, target_level="section", language=language,
                         params=PARAMS, targets=targets, options=options, progress=False)
            step = f"planted: {kind} (judged at {level or 'section'} level)"
            rows.append({"set": name, "step": step, "plant seed": seed, "method": "verifier", **score(res, planted_set, mask),
                         "seconds": round(time.perf_counter() - t0, 1)})
            rows.append({"set": name, "step": step, "plant seed": seed, "method": "baseline: real-only classifier",
                         **baseline_real_only(real, planted_set, mask, level or "section", h)})
    return rows


def summary(df: pd.DataFrame) -> pd.DataFrame:
    """Mean, lowest and highest recall and precision of the verifier over the plant seeds, per set and step."""
    v = df[df["method"] == "verifier"]
    g = v.groupby(["set", "step"], sort=False)[["recall", "precision"]].agg(["mean", "min", "max"]).round(3)
    g.columns = [f"{a} {b}" for a, b in g.columns]
    return g.reset_index()


def main() -> None:
    out = []
    d = ons_measure_data()
    en = offline_lines(d["notes"], d["hierarchy"], TARGETS, "en", real_test=d["test"])
    out += run("English (NACE Rev. 2, ONS real rows)", d["notes"], d["hierarchy"], en, d["train"], "en")
    fr_notes = load_notes(fetch_notes("naf2025"))
    fr_h = Hierarchy.from_notes(fr_notes)
    fr = offline_lines(fr_notes, fr_h, FR_TARGETS, "fr")
    out += run("French (NAF 2025, no real rows)", fr_notes, fr_h, fr, None, "fr")
    df = pd.DataFrame(out)
    for col in ("lines", "dropped", "relabelled", "planted", "touched", "found", "plant seed"):
        if col in df:
            df[col] = df[col].astype("Int64")
    text = ("# Planted errors: the verifier against a real-only classifier (same run)\n\n" + machine() + "\n\n"
            + "Over the plant seeds " + ", ".join(map(str, PLANT_SEEDS)) + " (verifier only):\n\n" + to_markdown(summary(df)) + "\n\n"
            + to_markdown(df.astype(object).where(df.notna(), "")) + "\n")
    (RESULTS / "verify.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    sys.exit(main())
