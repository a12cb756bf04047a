"""Cleaning on the seed's situation, reproduced with our own generator.

The seed's published synthetic file for B, O, T, U held 2,462 rows of which 849 were distinct
(one line repeated 59 times), with the noise small LLMs add. We rebuild such a set from the
offline generator's lines for B, O, T, U (NACE Rev. 2 notes): draw 2,462 rows from ~850 lines with
a Zipf-like repetition, and mix in 6 % noise of the kinds seen in LLM output (preambles, numbering
left over, markdown, placeholders, another language, near-duplicates with a changed word).

We then clean (filters + exact/MinHash dedup against the real train and test data) and report the
share of distinct lines (after normalisation) before and after, the counts by reason, and the ONS
measure (mean F1 over B, O, T, U, 2 real training rows each) with the raw and the cleaned set.

    .venv/bin/python benchmarks/bench_cleaning.py [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import random
import time

import numpy as np
import pandas as pd

from _common import RESULTS, TARGETS, machine, measure, ons_measure_data, to_markdown

from statcodgen.cleaning.stage import clean
from statcodgen.generation.plan import generation_plan
from statcodgen.generation.engine import generate
from statcodgen.text.normalize import normalize_series

NOISE = {
    "preamble": ["HERE ARE 20 ACTIVITIES FOR THIS CLASS:", "SURE! HERE ARE THE LINES YOU ASKED FOR", "VOICI LES ACTIVITÉS DEMANDÉES :"],
    "numbering": ["1. {x}", "2) {x}", "- {x}"],
    "markdown": ["**{x}**", "## {x}"],
    "placeholder": ["%s", "[ACTIVITY]", "{x} {x} {x}"],
    "language": ["EXPLOITATION D'UNE CARRIÈRE DE PIERRES", "ADMINISTRATION PUBLIQUE GÉNÉRALE DE LA COMMUNE", "EMPLOYÉ DE MAISON CHEZ UN PARTICULIER"],
}


def seed_like(lines: pd.DataFrame, *, n_rows: int = 2462, n_distinct: int = 850, noise: float = 0.06, seed: int = 0) -> pd.DataFrame:
    """A set with the seed's repetition profile (n_rows rows over ~n_distinct lines) plus LLM-like noise."""
    rng = np.random.default_rng(seed)
    r = random.Random(seed)
    pool = lines.sample(n=min(n_distinct, len(lines)), random_state=seed).reset_index(drop=True)
    weights = 1.0 / np.arange(1, len(pool) + 1) ** 0.9
    weights /= weights.sum()
    base = pool.iloc[rng.choice(len(pool), size=int(n_rows * (1 - noise)), p=weights)].copy()
    noisy = []
    for _ in range(n_rows - len(base)):
        row = pool.iloc[r.randrange(len(pool))].copy()
        kind = r.choice([*NOISE, "near"])
        if kind == "near":
            words = row["text"].split()
            words[r.randrange(len(words))] = r.choice(["SERVICES", "ACTIVITIES", "WORKS"])
            row["text"] = " ".join(words)
        else:
            row["text"] = r.choice(NOISE[kind]).format(x=row["text"])
        noisy.append(row)
    out = pd.concat([base, pd.DataFrame(noisy)], ignore_index=True)
    return out.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = ap.parse_args()
    t0 = time.perf_counter()
    data = ons_measure_data()
    notes, h = data["notes"], data["hierarchy"]
    plan = generation_plan(notes, targets=TARGETS, n_per_target=400, weight="richness", min_per_code=10)
    lines = generate(notes, plan, generator="offline", seed=0, hierarchy=h).lines
    raw = seed_like(lines)
    res = clean(raw, real_train=data["train"], real_test=data["test"], notes=notes, language="en")
    unique_before = normalize_series(raw["text"]).nunique() / len(raw)
    unique_after = normalize_series(res.kept["text"]).nunique() / max(1, len(res.kept))
    by_reason = res.dropped["reason"].value_counts().rename_axis("reason").reset_index(name="n")
    f1 = measure(data, {"raw": raw, "cleaned": res.kept}, seeds=args.seeds)
    elapsed = time.perf_counter() - t0
    keep = ["variant", *[f"{t}_mean" for t in TARGETS], "target_mean_f1_mean", "target_mean_f1_std", "accuracy_mean"]
    md = [
        "# Cleaning on the seed's situation (heavy repetition + LLM-like noise), reproduced with our generator",
        "",
        f"Command: `.venv/bin/python benchmarks/bench_cleaning.py` — machine: {machine()}; {elapsed:.0f} s.",
        "",
        f"- rows before: {len(raw):,}; distinct after normalisation: {normalize_series(raw['text']).nunique():,} (share {unique_before:.3f})",
        f"- rows kept: {len(res.kept):,}; share of distinct lines among kept: **{unique_after:.3f}** (goal ≥ 0.95)",
        f"- rows dropped: {len(res.dropped):,}, each with a reason:",
        "",
        to_markdown(by_reason),
        "",
        f"ONS measure (mean over seeds {args.seeds}; real test data only):",
        "",
        to_markdown(f1[keep]),
        "",
    ]
    (RESULTS / "cleaning.md").write_text("\n".join(md), encoding="utf-8")
    print("\n".join(md))


if __name__ == "__main__":
    main()
