"""Issue 13: filling every thin NACE class of the ONS index (~600 labels), measured.

Parts (each appends its section to ``benchmarks/results/class_study.md`` when it finishes):

- ``losses``: fastText ``softmax`` / ``hs`` / ``ova`` at class level on a development split of the
  shared training part (never the test rows): accuracy, macro F1 and fit time, for the real rows
  alone and for the scarce real rows + the offline lines; section level for reference; and, on the
  seeded NAF 2025 stand-in (``benchmarks/standin.py``, ~730 subclasses), the same comparison as the
  rows per label grow (where ``hs`` stops costing accuracy). This is what ``loss="auto"`` is set from;
- ``dev``: the development measure of the choices made here (lines per class): the training part is
  split again (80/20, seeds 1, 2), the seeded scarcity set cut to 1 row in each inner train part, and
  the macro F1 over the scarce classes and the accuracy are pooled on the inner dev parts;
- ``study``: ``configs/ons_class_study.toml`` end to end from scratch (3 seeds), timed per stage;
- ``scarce``: on the study's own split and seeded scarcity set, the macro F1 over the scarce
  classes on the real test rows for real only, titles, naive bullets, offline (cleaned), offline +
  verification, the study's main model (verified lines at the share and prior strength chosen on
  validation) and the full real data (the ceiling), with the share of the ceiling each recovers and
  the overall class accuracy; 3 seeds;
- ``llm``: the weak local LLM (``bench_llm_real.py --serve``) on 20 classes of the seeded scarcity set, the same figures.

    STATCODGEN_MIRROR=../shared/data .venv/bin/python benchmarks/bench_class_study.py --part losses dev study scarce
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from _common import machine, to_markdown  # noqa: E402  (sets STATCODGEN_MIRROR when ../shared/data exists)

OUT = ROOT / "benchmarks" / "results" / "class_study.md"
CONFIG = ROOT / "configs" / "ons_class_study.toml"
STUDY_DIR = ROOT / "runs" / "bench_class_study"
LOSSES = ("softmax", "hs", "ova")
PARAMS = {"lr": 0.5, "wordNgrams": 2, "minn": 3, "maxn": 5, "dim": 100, "epoch": 30}


def _append(title: str, lines: list[str]) -> None:
    text = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
    head = f"## {title}"
    if head in text:  # replace the part's previous section
        start = text.index(head)
        nxt = text.find("\n## ", start + len(head))
        text = text[:start] + (text[nxt + 1:] if nxt >= 0 else "")
    if not text:
        text = ("# Issue 13: every thin NACE class of the ONS index, measured\n\n"
                "`benchmarks/bench_class_study.py`; every F1 below is on real rows only.\n\n")
    OUT.write_text(text.rstrip("\n") + "\n\n" + head + "\n\n" + "\n".join(lines) + "\n", encoding="utf-8")
    print(head, *lines, sep="\n", flush=True)


def study_data(cfg: Any) -> dict[str, Any]:
    """The study's inputs, split, seeded scarcity set, targets and plan (the stage calls of the pipeline)."""
    from statcodgen.study.stages import load_inputs, resolve_scarcity, split_real_data, study_plan, study_target_reasons

    inputs = load_inputs(cfg)
    split = split_real_data(inputs.real, test_size=cfg.real.test_size, seed=cfg.real.split_seed,
                            scarcity=cfg.training.simulate_scarcity)
    scarce = sorted(resolve_scarcity(cfg.training.simulate_scarcity, split.train_full))
    targets = sorted(study_target_reasons(cfg, inputs, split.train, full=split.train_full)["code"].astype(str))
    return {"inputs": inputs, "split": split, "scarce": scarce, "targets": targets, "plan": study_plan(cfg, inputs.notes, targets)}


def offline_lines(cfg: Any, data: dict[str, Any], plan: pd.DataFrame, generator: str = "offline", cleaned: bool = True) -> pd.DataFrame:
    """Lines of ``generator`` for ``plan``, cleaned as the study cleans them (dedup against the real rows, filters)."""
    from statcodgen.cleaning.dedup import DedupOptions
    from statcodgen.cleaning.stage import clean
    from statcodgen.generation.engine import generate

    inputs, split = data["inputs"], data["split"]
    lines = generate(inputs.notes, plan, generator=generator, language=inputs.language, seed=cfg.generation.seed,
                     hierarchy=inputs.notes_hierarchy, target_level=cfg.targets.level, progress=False).lines
    if not cleaned:
        return lines
    c = cfg.cleaning
    return clean(lines, real_train=split.train, real_test=split.test, notes=inputs.notes, language=inputs.language,
                 filters=tuple(c.filters), dedup=c.dedup,
                 dedup_options=DedupOptions(threshold=c.threshold, num_perm=c.num_perm, shingle=c.shingle)).kept


def _fit_score(train: pd.DataFrame, dev: pd.DataFrame, params: dict[str, Any], seed: int, labels: list[str] | None = None) -> dict[str, float]:
    from sklearn.metrics import f1_score

    from statcodgen.modelling.experiments import fit_predict

    t0 = time.perf_counter()
    clf, pred = fit_predict(train["text"].astype(str).tolist(), train["label"].astype(str).tolist(), None,
                            dev["text"].astype(str).tolist(), params=params, language="en", seed=seed)
    seconds = time.perf_counter() - t0
    y, p = dev["label"].astype(str).to_numpy(), pred["label"].astype(str).to_numpy()
    out = {"accuracy": float((y == p).mean()), "macro_f1": float(f1_score(y, p, average="macro", zero_division=0)),
           "fit_s": seconds, "loss": str(clf.fitted_params_.loss)}
    if labels:
        out["scarce_f1"] = float(f1_score(y, p, labels=labels, average="macro", zero_division=0))
    return out


# --------------------------------------------------------------------------------------- losses
def part_losses(args: argparse.Namespace) -> None:
    from statcodgen.classification.hierarchy import Hierarchy
    from statcodgen.modelling.experiments import drop_test_leaks, simulate_scarcity, split_real
    from statcodgen.study.config import load_config

    cfg = load_config(CONFIG)
    data = study_data(cfg)
    split, scarce = data["split"], data["scarce"]
    inner, dev = split_real(split.train_full, test_size=0.2, seed=1)  # development split: the test rows are never used
    thin = simulate_scarcity(inner, {s: 1 for s in scarce if s in set(inner["label"])}, seed=1)
    syn, _ = drop_test_leaks(offline_lines(cfg, data, data["plan"]), dev)
    sets = {"real rows (class)": inner, "scarce real + offline lines (class)": pd.concat([thin, syn[["text", "label"]]])}
    h: Hierarchy = data["inputs"].notes_hierarchy
    to_section = lambda df: df.assign(label=h.aggregate(df["label"], "section").to_numpy())  # noqa: E731
    sets["real rows (section)"] = to_section(inner)
    rows = []
    for name, train in sets.items():
        d = to_section(dev) if "section" in name else dev
        for loss in LOSSES:
            for seed in args.seeds:
                r = _fit_score(train, d, {**PARAMS, "loss": loss}, seed, labels=scarce if "scarce" in name else None)
                rows.append({"training set": name, "rows": len(train), "labels": train["label"].nunique(), "loss": loss, "seed": seed, **r})
                print(rows[-1], flush=True)
    df = pd.DataFrame(rows)
    cols = ["accuracy", "macro_f1", "fit_s"] + (["scarce_f1"] if "scarce_f1" in df else [])
    tab = df.groupby(["training set", "rows", "labels", "loss"], sort=False)[cols].mean().reset_index()
    tab = tab.astype(object).where(tab.notna(), "–")
    lines = [f"Machine: {machine()} (shared with other jobs: times are relative, within one run).",
             f"Development split of the study's training part (80/20, seed 1; the test rows are never used); fastText epoch 30, "
             f"lr 0.5, wordNgrams 2, minn 3, maxn 5, dim 100; mean over seeds {args.seeds}. `scarce_f1`: macro F1 over the "
             f"{len(scarce)} classes of the seeded scarcity set, cut to 1 row in the inner training part.", "",
             to_markdown(tab.rename(columns={"fit_s": "fit s"}), ".3f"), ""]
    if args.standin:
        lines += _standin_losses(args)
    _append("fastText loss at class level (development split)", lines)


def _standin_losses(args: argparse.Namespace) -> list[str]:
    from standin import make_standin, split_standin

    rows = []
    for n in args.standin:
        df = make_standin(n, seed=0).rename(columns={"code": "label"})
        train, dev = split_standin(df, test_size=0.1, seed=0, label="label")
        for loss in ("softmax", "hs"):
            r = _fit_score(train, dev, {**PARAMS, "loss": loss}, 0)
            rows.append({"rows": len(train), "labels": train["label"].nunique(),
                         "rows per label": round(len(train) / train["label"].nunique()), "loss": loss, **r})
            print(rows[-1], flush=True)
    tab = pd.DataFrame(rows).drop(columns=["loss"]).assign(loss=[r["loss"] for r in rows])
    return ["NAF 2025 stand-in (seeded, French, subclass level; `make_standin(n, seed=0)`, 90/10 split), seed 0:", "",
            to_markdown(tab[["rows", "labels", "rows per label", "loss", "accuracy", "macro_f1", "fit_s"]]
                        .rename(columns={"fit_s": "fit s"}), ".3f"), ""]


# ------------------------------------------------------------------------------------------ dev
def part_dev(args: argparse.Namespace) -> None:
    from statcodgen.generation.plan import generation_plan
    from statcodgen.modelling.experiments import drop_test_leaks, simulate_scarcity, split_real
    from statcodgen.study.config import load_config

    cfg = load_config(CONFIG)
    data = study_data(cfg)
    split, scarce, t = data["split"], data["scarce"], cfg.targets
    variants: dict[str, pd.DataFrame | None] = {"real only": None}
    for n in args.per_class:
        plan = generation_plan(data["inputs"].notes, targets=data["targets"], n_per_target=n, level=t.level,
                               min_per_code=t.min_per_code, weight=t.weight)
        variants[f"offline, {n} lines per class"] = offline_lines(cfg, data, plan)
    if not args.no_baselines:
        variants["titles"] = offline_lines(cfg, data, data["plan"], "titles", cleaned=False)
        variants["naive bullets"] = offline_lines(cfg, data, data["plan"], "naive_bullets", cleaned=False)
    variants["full real (ceiling)"] = None
    pooled: dict[str, list[dict[str, float]]] = {k: [] for k in variants}
    for inner_seed in args.inner_seeds:
        inner, dev = split_real(split.train_full, test_size=0.2, seed=inner_seed)
        present = [s for s in scarce if s in set(inner["label"])]
        thin = simulate_scarcity(inner, {s: 1 for s in present}, seed=inner_seed)
        for name, syn in variants.items():
            train = inner if name.startswith("full real") else thin if syn is None else \
                pd.concat([thin, drop_test_leaks(syn, dev)[0][["text", "label"]]])
            for seed in args.seeds:
                pooled[name].append(_fit_score(train, dev, PARAMS, seed, labels=present))
                print(name, inner_seed, seed, pooled[name][-1], flush=True)
    rows = [{"variant": k, "n_lines": 0 if variants[k] is None else len(variants[k]),
             **pd.DataFrame(v)[["scarce_f1", "accuracy", "macro_f1"]].mean().to_dict()} for k, v in pooled.items()]
    _append("Development measure: lines per class", [
        f"The study's training part split again (80/20, seeds {args.inner_seeds}); the {len(scarce)} classes of the seeded "
        f"scarcity set cut to 1 row in each inner training part; fastText seeds {args.seeds}, loss as resolved by "
        f"`loss=\"auto\"`; mean over the {len(args.inner_seeds) * len(args.seeds)} trainings. The test rows are never used.", "",
        to_markdown(pd.DataFrame(rows)), ""])


# ---------------------------------------------------------------------------------------- study
def part_study(args: argparse.Namespace) -> None:
    from statcodgen.study.config import load_config
    from statcodgen.study.pipeline import run_pipeline

    cfg = load_config(CONFIG)
    cfg = cfg.model_copy(update={"output_dir": str(args.out), "training": cfg.training.model_copy(update={"seeds": args.study_seeds})})
    if Path(args.out).exists():
        shutil.rmtree(args.out)
    marks: list[tuple[str, float]] = []

    def echo(msg: str) -> None:
        if msg.startswith("[") or msg.strip().startswith(("verifying", "verified", "chosen on validation")):
            marks.append((msg.strip()[:60], time.perf_counter()))
        print(msg, flush=True)

    t0 = time.perf_counter()
    res = run_pipeline(cfg, progress=False, echo=echo)
    total = time.perf_counter() - t0
    marks.append(("end", t0 + total))
    steps = [{"stage": a, "seconds": round(tb - ta, 1)} for (a, ta), (_, tb) in zip(marks[:-1], marks[1:])]
    ov = pd.read_csv(Path(args.out) / "metrics_overall.csv").groupby("variant")["accuracy"].agg(["mean", "std"]).reset_index()
    _append("The class-level study end to end", [
        f"`statcodgen run configs/ons_class_study.toml` in process, from scratch, seeds {args.study_seeds}; machine: {machine()} "
        f"(shared with other jobs). **Whole study: {total:.0f} s ({total / 60:.1f} min)**; budget 10 min.", "",
        to_markdown(pd.DataFrame(steps), ".1f"), "", "Overall class accuracy on the real test rows (mean, std over seeds):", "",
        to_markdown(ov, ".4f"), "", "Summary printed by the study:", "", "```", res.summary, "```", ""])


# --------------------------------------------------------------------------------------- scarce
def part_scarce(args: argparse.Namespace) -> None:
    from statcodgen.modelling.experiments import run_experiments
    from statcodgen.modelling.selection import Selection
    from statcodgen.study.config import load_config

    cfg = load_config(CONFIG)
    out = Path(args.out)
    if not (out / "verification" / "verified.parquet").exists():
        raise SystemExit(f"run --part study first (no study in {out})")
    data = study_data(cfg)
    split, scarce = data["split"], data["scarce"]
    saved = pd.read_parquet(out / "real_train.parquet")
    pairs = lambda df: sorted(zip(df["text"].astype(str), df["label"].astype(str)))  # noqa: E731
    assert pairs(saved) == pairs(split.train), "the study folder was made with another split or scarcity set"
    kept = pd.read_parquet(out / "cleaning" / "kept.parquet")
    verified = pd.read_parquet(out / "verification" / "verified.parquet")
    synthetic = {"titles": offline_lines(cfg, data, data["plan"], "titles", cleaned=False),
                 "naive_bullets": offline_lines(cfg, data, data["plan"], "naive_bullets", cleaned=False),
                 "offline": kept, "offline+verification": verified}
    t0 = time.perf_counter()
    exp = run_experiments(split.train, split.test, synthetic, seeds=args.study_seeds, params=cfg.training.params, language="en",
                          full_real=split.train_full, progress=False)
    pl = [exp.metrics_per_label, pd.read_csv(out / "metrics_per_label.csv", dtype={"label": str})
          .query("variant == 'real+offline'").assign(variant="study main model")]
    ov = [exp.metrics_overall, pd.read_csv(out / "metrics_overall.csv").query("variant == 'real+offline'").assign(variant="study main model")]
    if args.ova:  # the same lines with fastText's one-vs-all loss (not what loss="auto" picks: see the losses part)
        ova = run_experiments(split.train, split.test, {"offline": kept}, seeds=args.study_seeds, progress=False, language="en",
                              params=cfg.training.params.model_copy(update={"loss": "ova"}), full_real=split.train_full)
        pl.append(ova.metrics_per_label.assign(variant=lambda d: d["variant"] + " (ova)"))
        ov.append(ova.metrics_overall.assign(variant=lambda d: d["variant"] + " (ova)"))
    seconds = time.perf_counter() - t0
    pl, ov = pd.concat(pl), pd.concat(ov)
    sel = Selection.load(out / "selection")
    names = {"real_only": "real only", "real+titles": "real + titles", "real+naive_bullets": "real + naive bullets",
             "real+offline": "real + offline (cleaned)", "real+offline+verification": "real + offline + verification",
             "study main model": f"study's model (verified, {sel.fraction:.0%} of the lines, prior strength {sel.strength:g})",
             "full_real": "full real data (ceiling)"}
    if args.ova:
        names |= {f"{k} (ova)": f"{v}, loss ova" for k, v in names.items() if k in ("real_only", "real+offline", "full_real")}
    sc = pl[pl["label"].isin(scarce)]
    per_seed = sc.groupby(["variant", "seed"])["f1"].mean().rename("scarce_f1").reset_index()
    acc = ov.groupby("variant")["accuracy"].agg(["mean", "std"])
    tab = per_seed.groupby("variant")["scarce_f1"].agg(["mean", "std"]).reindex(list(names)).reset_index()
    ceiling, base = float(tab.set_index("variant").loc["full_real", "mean"]), float(tab.set_index("variant").loc["real_only", "mean"])
    rows = [{"variant": names[r.variant], "macro F1 scarce": f"{r.mean:.3f} ± {r.std:.3f}",
             "share of ceiling": f"{r.mean / ceiling:.0%}", "share of the gap closed": f"{(r.mean - base) / (ceiling - base):.0%}",
             "accuracy": f"{acc.loc[r.variant, 'mean']:.4f} ± {acc.loc[r.variant, 'std']:.4f}",
             "accuracy vs real only": f"{acc.loc[r.variant, 'mean'] - acc.loc['real_only', 'mean']:+.4f}"} for r in tab.itertuples()]
    n_test = int(split.test["label"].isin(scarce).sum())
    counts = {k: len(v) for k, v in synthetic.items()}
    _append("The seeded scarcity set: macro F1 over the scarce classes (real test rows)", [
        f"The study's split (seed 0) and its seeded scarcity set: {len(scarce)} classes with at least "
        f"{cfg.training.simulate_scarcity.min_rows} real training rows, cut to {cfg.training.simulate_scarcity.keep} "
        f"({n_test} real test rows among them); {len(data['targets'])} targets in all (every class under 5 training rows + the set). "
        f"Lines for every target: titles {counts['titles']:,}, naive bullets {counts['naive_bullets']:,} (raw), offline "
        f"{counts['offline']:,} (cleaned), offline + verification {counts['offline+verification']:,}. No prior correction except in "
        f"the study's model (its row is the study's own test figures). fastText `[training.params]` of the config, seeds "
        f"{args.study_seeds}; {seconds:.0f} s for these trainings. Share of ceiling = F1 / F1 of the full real data; share of "
        f"the gap closed = (F1 − real only) / (ceiling − real only).", "",
        to_markdown(pd.DataFrame(rows)), ""])


# ------------------------------------------------------------------------------------------ llm
LLM_DIR = ROOT / "runs" / "class_llm"


def part_llm(args: argparse.Namespace) -> None:
    """The weak local LLM on ``--llm-classes`` classes drawn (seeded) from the seeded scarcity set: the study's plan for
    them (80 lines per class, 20 per request) through ``statcodgen generate`` against the server of
    ``bench_llm_real.py --serve``; then, in this process (which never loads a model), the lines cleaned and verified
    as the study does, and the macro F1 over those classes on the study's real test rows for real only, offline
    (the same classes), LLM (cleaned), LLM + verification, offline + LLM verified, and the ceiling."""
    import json
    import random
    import subprocess

    from _llm_server import MODEL, URL, log_offset, server_record
    from statcodgen.modelling.experiments import run_experiments
    from statcodgen.study.config import load_config
    from statcodgen.study.stages import study_plan, verify_study_lines

    cfg = load_config(CONFIG)
    data = study_data(cfg)
    split, scarce, t = data["split"], data["scarce"], cfg.targets
    chosen = sorted(random.Random(args.llm_seed).sample(scarce, args.llm_classes))
    where = LLM_DIR.with_name(LLM_DIR.name + "_real") if args.llm_real else LLM_DIR
    where.mkdir(parents=True, exist_ok=True)
    out = where / "lines.parquet"
    run_file = where / "run.json"
    extra: list[str] = []
    if args.llm_real:  # as the study prompts: 3 real rows of the class or its neighbours (the scarce ones keep 1)
        split.train[["text", "code"]].to_csv(where / "real_train.csv", index=False)
        extra = ["--real", str(where / "real_train.csv")]
    if not run_file.exists():
        cmd = [sys.executable, "-m", "statcodgen", "generate", "--fetch-notes", "nace_rev2", "--targets", *chosen, "--level", t.level,
               "--n-per-target", str(t.n_per_target), "--min-per-code", "1", "--backend", "openai", "--base-url", URL,
               "--model", MODEL, "--concurrency", "1", "--lines-per-request", "20", "--refill", "0", "--out", str(out), *extra]
        start, t0 = log_offset(), time.time()
        with open(where / "stdout.txt", "a") as log:  # re-running resumes from the journal next to --out
            rc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT).returncode
        if rc:
            raise SystemExit(f"statcodgen generate failed ({rc}): see {where / 'stdout.txt'}")
        run_file.write_text(json.dumps({"wall_s": time.time() - t0, "server": server_record(start, log_offset()),
                                        "classes": chosen}, indent=1))
    run = json.loads(run_file.read_text())
    assert run.get("classes", chosen) == chosen, "the LLM lines were made for other classes"
    from statcodgen.cleaning.dedup import DedupOptions
    from statcodgen.cleaning.stage import clean

    raw = pd.read_parquet(out)
    c = cfg.cleaning
    inputs = data["inputs"]
    llm_kept = clean(raw, real_train=split.train, real_test=split.test, notes=inputs.notes, language=inputs.language,
                     filters=tuple(c.filters), dedup=c.dedup,
                     dedup_options=DedupOptions(threshold=c.threshold, num_perm=c.num_perm, shingle=c.shingle)).kept
    plan = study_plan(cfg, inputs.notes, chosen)
    offline = offline_lines(cfg, data, plan)
    offline = offline[offline["label"].astype(str).isin(chosen)]
    checked = {}
    for name, lines in (("llm", llm_kept), ("offline", offline)):
        checked[name] = verify_study_lines(cfg, inputs, split, lines, chosen, out_dir=where / name, progress=False)
    llm_ver, off_ver = checked["llm"].verified, checked["offline"].verified
    synthetic = {"offline": offline, "offline+verification": off_ver, "llm": llm_kept, "llm+verification": llm_ver,
                 "offline+llm, verified": pd.concat([off_ver, llm_ver], ignore_index=True)}
    t0 = time.perf_counter()
    exp = run_experiments(split.train, split.test, synthetic, seeds=args.study_seeds, params=cfg.training.params, language="en",
                          full_real=split.train_full, progress=False)
    seconds = time.perf_counter() - t0
    pl, ov = exp.metrics_per_label, exp.metrics_overall
    per_seed = pl[pl["label"].isin(chosen)].groupby(["variant", "seed"])["f1"].mean().rename("f1").reset_index()
    tab = per_seed.groupby("variant")["f1"].agg(["mean", "std"])
    acc = ov.groupby("variant")["accuracy"].mean()
    ceiling, base = float(tab.loc["full_real", "mean"]), float(tab.loc["real_only", "mean"])
    order = ["real_only", *(f"real+{k}" for k in synthetic), "full_real"]
    counts = {"real_only": 0, "full_real": 0, **{f"real+{k}": len(v) for k, v in synthetic.items()}}
    rows = [{"variant": v, "lines": counts[v], "macro F1 (20 classes)": f"{tab.loc[v, 'mean']:.3f} ± {tab.loc[v, 'std']:.3f}",
             "share of ceiling": f"{tab.loc[v, 'mean'] / ceiling:.0%}",
             "share of the gap closed": f"{(tab.loc[v, 'mean'] - base) / (ceiling - base):.0%}",
             "accuracy": f"{acc[v]:.4f}", "accuracy vs real only": f"{acc[v] - acc['real_only']:+.4f}"} for v in order]
    srv = run["server"]
    ver = checked["llm"]
    drops = ver.dropped["reason"].value_counts().to_dict() if len(ver.dropped) else {}
    requested = int(plan["n_samples"].sum())
    _append("The weak local LLM on 20 scarce classes" + (", with 3 real examples per prompt" if args.llm_real else ""), [
        f"{len(chosen)} classes drawn (seed {args.llm_seed}) from the {len(scarce)} of the seeded scarcity set: "
        f"{', '.join(chosen)}. The study's plan for them ({t.n_per_target} lines per class, 20 per request) through "
        f"`statcodgen generate --backend openai{' --real train' if args.llm_real else ''}` against the local server ({MODEL}, 2 cores, concurrency 1): "
        f"{srv['completions']} completions, {srv['server_s'] / 60:.1f} min of server time in {run['wall_s'] / 60:.1f} min of wall "
        f"time ({srv['server_s'] / run['wall_s']:.0%}), {srv['tokens_per_s']:.1f} tokens/s.", "",
        f"Lines: {requested:,} requested, {len(raw):,} parsed, {len(llm_kept):,} kept by cleaning, {len(llm_ver):,} verified "
        f"({len(llm_ver) / max(1, requested):.0%} of the requested lines; dropped by the verifier: "
        f"{'; '.join(f'{k} {v}' for k, v in drops.items()) or 'none'}; relabelled {len(ver.relabelled)}). Offline lines for the "
        f"same classes: {len(offline):,} cleaned, {len(off_ver):,} verified.", "",
        f"Macro F1 over the {len(chosen)} classes on the study's real test rows ({int(split.test['label'].isin(chosen).sum())} rows), "
        f"every other scarce class at 1 real row and without lines; no prior correction; fastText `[training.params]`, seeds "
        f"{args.study_seeds}; {seconds:.0f} s for these trainings.", "",
        to_markdown(pd.DataFrame(rows)), ""])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", nargs="+", default=["losses", "dev", "study", "scarce"], choices=["losses", "dev", "study", "scarce", "llm"])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0], help="fastText seeds of the development measures")
    ap.add_argument("--inner-seeds", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--per-class", type=int, nargs="+", default=[20, 40, 80])
    ap.add_argument("--standin", type=int, nargs="*", default=[], help="stand-in sizes for the loss curve, e.g. 30000 75000 150000")
    ap.add_argument("--study-seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--out", type=Path, default=STUDY_DIR)
    ap.add_argument("--no-baselines", action="store_true", help="dev: only the offline variants, real only and the ceiling")
    ap.add_argument("--llm-classes", type=int, default=20, help="llm: scarce classes generated with the local LLM")
    ap.add_argument("--llm-seed", type=int, default=0)
    ap.add_argument("--llm-real", action="store_true", help="llm: prompts show 3 real rows of the study's training part")
    ap.add_argument("--ova", action="store_true", help="scarce: also real only, offline and full real with loss ova")
    args = ap.parse_args()
    for part in args.part:
        {"losses": part_losses, "dev": part_dev, "study": part_study, "scarce": part_scarce, "llm": part_llm}[part](args)


if __name__ == "__main__":
    main()
