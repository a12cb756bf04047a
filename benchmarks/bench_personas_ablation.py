"""Persona ablation: the same generation with and without personas, same number of lines.

Part A, offline generator (the embedded default): NACE Rev. 2 notes, sections B, O, T, U,
with and without 2,000 sampled en_GB personas driving the style transforms (each line styled by a
persona whose business context fits its code). Diversity side by side
(share of unique lines, distinct-1/2/3, mean MinHash Jaccard) and the ONS measure (mean F1 over
B, O, T, U with 2 real training rows each; 5 seeds).

Part B, scripted local LLM server (OpenAIStubServer on 127.0.0.1): the server is NOT a language
model. Its scripted answer imitates the mode collapse the seed's LLM showed (it returns the note's
items in the same order for every request of a code) and, when the prompt carries a persona, it
rewrites the lines the way that persona writes (statcodgen.personas.style). This part checks the plumbing
(persona in every prompt, persona id in the provenance) and measures what conditioning does to
diversity under mode collapse; it says nothing about a real model's quality.

Part A runs the offline comparison for several generator seeds (``--gen-seeds``; the first one
gives the headline tables, diversity and development measure): with
3 T and 4 U test rows, one test row decides a few hundredths of the B/O/T/U mean, so one
generation is not enough to say whether personas help or hurt.

    .venv/bin/python benchmarks/bench_personas_ablation.py [--n-per-target 800] [--seeds 0 1 2 3 4] [--gen-seeds 0 1 2 3 4]
"""

from __future__ import annotations

import argparse
import random
import re
import tempfile
import time
from pathlib import Path

import pandas as pd

from _common import RESULTS, TARGETS, dev_measure, machine, measure, ons_measure_data, to_markdown

from statcodgen.generation.plan import generation_plan
from statcodgen.cleaning.diversity import diversity_table
from statcodgen.generation.engine import generate
from statcodgen.generation.generators import LLMGenerator
from statcodgen.llm.config import LLMConfig
from statcodgen.personas.persona import personas_from_frame, sample_personas
from statcodgen.personas.style import apply_style
from statcodgen.testing import OpenAIStubServer


DEV_TEXT = (
    "Development measure (where the style transforms were designed; the measure's test rows are never "
    "used): the measure's training part split again 80/20 with seeds 1-6, B/O/T/U reduced to 2 rows in each "
    "inner train part, predictions pooled over the 6 inner splits and fastText seeds 0-1 (n_T = pooled T rows)."
)


def _same_size(a: pd.DataFrame, b: pd.DataFrame, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Subsample both sets to the same number of lines per label."""
    out_a, out_b = [], []
    for label in sorted(set(a["label"]) | set(b["label"])):
        ga, gb = a[a["label"] == label], b[b["label"] == label]
        n = min(len(ga), len(gb))
        out_a.append(ga.sample(n=n, random_state=seed))
        out_b.append(gb.sample(n=n, random_state=seed))
    return pd.concat(out_a, ignore_index=True), pd.concat(out_b, ignore_index=True)


def _diversity_side_by_side(sets: dict[str, pd.DataFrame]) -> pd.DataFrame:
    rows = []
    for name, df in sets.items():
        d = diversity_table(df, by="label")
        d.insert(0, "variant", name)
        rows.append(d)
    cols = ["variant", "label", "n_lines", "unique_share", "distinct_1", "distinct_2", "distinct_3", "mean_jaccard", "mean_words"]
    out = pd.concat(rows, ignore_index=True)
    return out[[c for c in cols if c in out.columns]].sort_values(["label", "variant"]).reset_index(drop=True)


class _ScriptedModel:
    """Answer = the note's items, same order every time (mode collapse), styled by the persona if any."""

    def __init__(self, personas: pd.DataFrame) -> None:
        self.paragraphs = {p.to_prompt("en"): p for p in personas_from_frame(personas)}

    def _persona(self, prompt: str):  # noqa: ANN202
        for paragraph, p in self.paragraphs.items():  # the prompt carries the persona's paragraph, not its id
            if paragraph in prompt:
                return p
        return None

    def __call__(self, body: dict) -> str:
        prompt = "\n".join(str(m["content"]) for m in body["messages"])
        n = int(m.group(1)) if (m := re.search(r"write (\d+) different", prompt)) else 10
        items = re.findall(r"^- (.+)$", prompt.split("Do NOT write")[0].split("Conditions:")[0], flags=re.M)
        items = [i for i in items if not re.match(r"^[A-Z]\b|^\d{2}", i)] or ["ACTIVITY"]
        lines = [items[i % len(items)].upper().split(",")[0] for i in range(n)]
        persona = self._persona(prompt)
        if persona is not None:
            rng = random.Random(hash(prompt) & 0xFFFFFFFF)
            lines = [apply_style(line, persona, language="en", rng=rng) for line in lines]
        return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-per-target", type=int, default=800)
    ap.add_argument("--llm-n-per-target", type=int, default=300)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--gen-seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--n-personas", type=int, default=2000,
                    help="sampled en_GB personas (2,000: the embassy pool of section U then holds ~16, not 4)")
    args = ap.parse_args()
    t0 = time.perf_counter()
    data = ons_measure_data()
    notes, h = data["notes"], data["hierarchy"]
    personas = sample_personas(args.n_personas, locale="en_GB", seed=0)
    plan = generation_plan(notes, targets=TARGETS, n_per_target=args.n_per_target, weight="richness", min_per_code=20)

    # Part A: offline generator, once per generator seed; the first seed's run is the headline
    by_gen, first = [], {}
    for g in args.gen_seeds:
        p_g = generate(notes, plan, seed=g, hierarchy=h).lines
        s_g = generate(notes, plan, seed=g, hierarchy=h, personas=personas).lines
        sets = dict(zip(("offline", "offline+personas"), _same_size(p_g, s_g, seed=g)))
        m = measure(data, sets, seeds=args.seeds)
        first = first or {"sets": sets, "f1": m.copy()}
        m.insert(0, "generator_seed", g)
        by_gen.append(m[m["variant"] != "real_only"])
    div_a = _diversity_side_by_side(first["sets"])
    f1_a = first["f1"]
    dev_a = dev_measure(data, first["sets"])
    by_gen_df = pd.concat(by_gen, ignore_index=True)
    gen_mean = by_gen_df.groupby("variant", as_index=False)[["target_mean_f1_mean", "accuracy_mean"]].mean()

    # Part B: scripted local server through the real OpenAI client, journal and parser
    plan_b = generation_plan(notes, targets=TARGETS, n_per_target=args.llm_n_per_target, weight="richness", min_per_code=10)
    with tempfile.TemporaryDirectory() as tmp, OpenAIStubServer(responder=_ScriptedModel(personas)) as server:
        cfg = LLMConfig(base_url=server.base_url, model="scripted", concurrency=16, temperature=0.9)
        llm_plain = generate(notes, plan_b, generator=LLMGenerator(cfg, journal_path=Path(tmp) / "a.sqlite"), hierarchy=h,
                             progress=False).lines
        llm_pers = generate(notes, plan_b, generator=LLMGenerator(cfg, journal_path=Path(tmp) / "b.sqlite",
                                                                  persona_strategy="stratified"),
                            hierarchy=h, personas=personas, progress=False).lines
        n_requests = len(server.requests)
    with_id = float((llm_pers["persona_id"].astype(str) != "").mean())
    llm_plain, llm_pers = _same_size(llm_plain, llm_pers)
    div_b = _diversity_side_by_side({"scripted-llm": llm_plain, "scripted-llm+personas": llm_pers})
    f1_b = measure(data, {"scripted-llm": llm_plain, "scripted-llm+personas": llm_pers}, seeds=args.seeds)
    dev_b = dev_measure(data, {"scripted-llm": llm_plain, "scripted-llm+personas": llm_pers})
    elapsed = time.perf_counter() - t0

    def cols(df: pd.DataFrame) -> pd.DataFrame:
        keep = ["variant", *(f"{t}_mean" for t in TARGETS), "target_mean_f1_mean", "target_mean_f1_std",
                "accuracy_mean", "accuracy_std"]
        return df[[c for c in keep if c in df.columns]]

    md = [
        "# Persona ablation (offline generator and scripted local LLM server)",
        "",
        f"Command: `.venv/bin/python benchmarks/bench_personas_ablation.py` — machine: {machine()}; {elapsed:.0f} s.",
        "Same number of lines with and without personas (subsampled per label). F1: ONS measure, sections B, O, T, U "
        f"with 2 real training rows, seeds {args.seeds}, real test data only. The test part holds 34 B, 23 O, 3 T "
        "and 4 U rows: one test row more or less in T moves its F1 by about 0.14 and the B/O/T/U mean by 0.035.",
        "",
        "## A. Offline generator",
        "",
        to_markdown(div_a[div_a["label"] == "ALL"]),
        "",
        to_markdown(cols(f1_a)),
        "",
        "Per label:",
        "",
        to_markdown(div_a[div_a["label"] != "ALL"]),
        "",
        f"Over generator seeds {args.gen_seeds} (each: fastText seeds {args.seeds}):",
        "",
        to_markdown(by_gen_df[["generator_seed", *cols(by_gen_df).columns]]),
        "",
        "Mean over generator seeds:",
        "",
        to_markdown(gen_mean),
        "",
        DEV_TEXT,
        "",
        to_markdown(dev_a),
        "",
        "## B. Scripted local LLM server (not a language model: mode collapse imitated, see the script's docstring)",
        "",
        f"{n_requests} requests received by the server; share of persona-conditioned lines carrying a persona id: {with_id:.3f}.",
        "",
        to_markdown(div_b[div_b["label"] == "ALL"]),
        "",
        to_markdown(cols(f1_b)),
        "",
        "Development measure (as in part A):",
        "",
        to_markdown(dev_b),
        "",
    ]
    (RESULTS / "personas_ablation.md").write_text("\n".join(md), encoding="utf-8")
    print("\n".join(md))


if __name__ == "__main__":
    main()
