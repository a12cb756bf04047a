"""Broken offline lines (issue 11 item 7): the samples that are read by hand, and the automatic counts.

Two cases, as in the issue: NACE Rev. 2 English notes, sections B, O, T, U (configs/ons_study.toml:
800 per target, min 20 per code, weight "richness", its cleaning filters) and NAF 2025 French notes
(NAFclasses.xlsx, the tutorial's O, B, U, T, section level, 800 per target, weight "richness", the
default filters). Offline generator, seed 0, then cleaning (filters + dedup, no real data). For each
case the script writes to ``--out``:

``<lang>_kept.csv``     every kept line (code, label, text)
``<lang>_sample.csv``   a seeded sample of ``--n`` kept lines, with an empty ``verdict`` column to
                        fill in by hand (ok / cut / one_word / nonsense)
``<lang>_shortfall.csv`` the codes that got fewer lines than planned, and why
``summary.json``        planned / generated / kept counts, and the filters that ran

It runs on any checkout (filters it does not know are left out), so the "before" numbers come from
a worktree of HEAD::

    git worktree add /tmp/wt_head HEAD
    PYTHONPATH=/tmp/wt_head .venv/bin/python benchmarks/bench_broken_lines.py --out /tmp/broken_before
    .venv/bin/python benchmarks/bench_broken_lines.py --out /tmp/broken_after
    .venv/bin/python benchmarks/bench_broken_lines.py --check /tmp/broken_before /tmp/broken_after

``--check`` (current checkout only) counts, in each folder's samples and kept lines, the lines that
:func:`statcodgen.text.languages.line_problem` finds cut, unbalanced or one-word generic: the
automatic side of the hand reading in benchmarks/results/broken_lines.md.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd

from _common import ROOT, machine

CASES = {
    "en": {"notes": "nace_rev2", "targets": ["B", "O", "T", "U"], "min_per_code": 20,
           "filters": "ons_study"},
    "fr": {"notes": "naf2025", "targets": ["O", "B", "U", "T"], "min_per_code": 1, "filters": "default"},
}
N_PER_TARGET = 800


def _filters(kind: str) -> tuple[str, ...]:
    """The filters of a case that this checkout knows: configs/ons_study.toml's, or DEFAULT_FILTERS."""
    import tomllib

    from statcodgen.cleaning.filters import DEFAULT_FILTERS, FILTERS

    if kind == "default":
        names = list(DEFAULT_FILTERS)
    else:
        names = tomllib.loads((ROOT / "configs" / "ons_study.toml").read_text(encoding="utf-8"))["cleaning"]["filters"]
    return tuple(f for f in names if f in FILTERS)


def run_case(lang: str, out: Path, *, n: int, seed: int) -> dict[str, object]:
    """Generate, clean and sample one case; write its files to ``out``; return its counts."""
    from statcodgen import Hierarchy, clean, fetch_notes, generate, generation_plan, load_notes

    case = CASES[lang]
    t0 = time.perf_counter()
    notes = load_notes(fetch_notes(case["notes"]))
    plan = generation_plan(notes, targets=case["targets"], n_per_target=N_PER_TARGET, level="section",
                           min_per_code=case["min_per_code"], weight="richness")
    gen = generate(notes, plan, generator="offline", language=lang, hierarchy=Hierarchy.from_notes(notes), seed=0,
                   progress=False)
    filters = _filters(case["filters"])
    cleaned = clean(gen.lines, notes=notes, language=lang, filters=filters)
    kept = cleaned.kept[["code", "label", "text"]].reset_index(drop=True)
    kept.to_csv(out / f"{lang}_kept.csv", index=False)
    sample = kept.sample(n=min(n, len(kept)), random_state=seed).assign(verdict="")
    sample.to_csv(out / f"{lang}_sample.csv", index=False)
    gen.shortfall.to_csv(out / f"{lang}_shortfall.csv", index=False)
    dropped = cleaned.dropped["reason"].astype(str).value_counts().to_dict() if len(cleaned.dropped) else {}
    return {"notes": case["notes"], "targets": case["targets"], "planned": int(plan["n_samples"].sum()),
            "generated": len(gen.lines), "kept": len(kept), "kept_by_label": kept["label"].value_counts().to_dict(),
            "dropped_by_reason": dropped, "filters": list(filters), "seconds": round(time.perf_counter() - t0, 1)}


def check(folders: list[Path]) -> pd.DataFrame:
    """Automatic counts of :func:`~statcodgen.text.languages.line_problem` in each folder's files."""
    from statcodgen.text.languages import line_problem

    rows = []
    for folder in folders:
        for lang in CASES:
            for part in ("sample", "kept"):
                path = folder / f"{lang}_{part}.csv"
                if not path.exists():
                    continue
                df = pd.read_csv(path, dtype=str, keep_default_na=False)
                tags = [(line_problem(t, language=lang) or ("ok", ""))[0] for t in df["text"]]
                counts = pd.Series(tags).value_counts()
                rows.append({"folder": str(folder), "language": lang, "part": part, "lines": len(df),
                             **{k: int(counts.get(k, 0)) for k in ("cut_phrase", "unbalanced", "single_word", "generic_only")}})
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path("/tmp/broken_lines"))
    ap.add_argument("--n", type=int, default=200, help="kept lines sampled per language")
    ap.add_argument("--seed", type=int, default=0, help="seed of the sample")
    ap.add_argument("--check", type=Path, nargs="+", help="count line_problem verdicts in these output folders")
    args = ap.parse_args()
    if args.check:
        print(check(args.check).to_string(index=False))
        return
    args.out.mkdir(parents=True, exist_ok=True)
    summary = {"machine": machine(), "cases": {lang: run_case(lang, args.out, n=args.n, seed=args.seed) for lang in CASES}}
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    print(json.dumps(summary, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
