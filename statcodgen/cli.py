"""Thin command-line interface: each command parses options, makes one library call, prints.

    statcodgen coverage   --fetch-real ons_index --level section
    statcodgen generate   --notes FILE --targets B O T U --n-per-target 800 --out gen.parquet
    statcodgen clean      --in gen.parquet --out clean.parquet [--real-test test.parquet]
    statcodgen diversity  gen.parquet
    statcodgen personas   --n 100 --locale fr_FR --out personas.parquet
    statcodgen experiment --synthetic offline=clean.parquet --simulate-scarcity B=2 O=2 T=2 U=2
    statcodgen train      --real train.csv --synthetic clean.parquet --out model/ ; evaluate --model model/ --test test.csv
    statcodgen run        configs/ons_study.toml
    statcodgen generate ... --backend openai --batch-export requests.jsonl   (then batch-import, then generate again)
    statcodgen batch-export JOURNAL --out FILE / batch-import JOURNAL RESULTS.jsonl

Library errors (:class:`~statcodgen.errors.StatcodgenError`) are printed as one line on stderr
with exit code 2; nothing here holds pipeline logic.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from ._cli_generate import number
from .errors import ConfigError, StatcodgenError
from .sources.datasets import NOTES_FETCHERS

__all__ = ["main", "build_parser"]


def _read_table(path: str) -> pd.DataFrame:
    from .generation import load_generated

    p = Path(path)
    if p.suffix in (".parquet", ".csv") and p.exists():
        try:
            return load_generated(p)
        except StatcodgenError:
            pass
    return pd.read_parquet(p) if p.suffix == ".parquet" else pd.read_csv(p, dtype=str, keep_default_na=False)


def _print(df: pd.DataFrame, max_rows: int = 60) -> None:
    with pd.option_context("display.max_rows", max_rows, "display.width", 200, "display.max_colwidth", 60):
        print(df.to_string(index=False))


def _notes_from_args(args: argparse.Namespace) -> pd.DataFrame:
    from .sources import fetch_notes, load_notes

    return load_notes(args.notes or fetch_notes(args.fetch_notes), layout=args.layout)


def _add_notes_args(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--notes", help="explanatory-notes file (xlsx/csv/parquet)")
    g.add_argument("--fetch-notes", choices=sorted(NOTES_FETCHERS), default="nace_rev2",
                   help="public notes file to fetch (default nace_rev2; see sources.NOTES_FETCHERS)")
    p.add_argument("--layout", default="auto", help="notes layout (default: recognised automatically)")


def cmd_coverage(args: argparse.Namespace) -> int:
    from .gaps import coverage_table, find_gaps, format_table

    real, h = _real(args, args.real)
    table = coverage_table(real, h, level=args.level)
    print(f"Real rows per {args.level} ({len(real):,} rows)")
    print(format_table(table))
    gaps = find_gaps(real, h, level=args.level, threshold=args.threshold)
    print(f"\nGaps: {args.level}s with fewer than {args.threshold} rows: {len(gaps)}")
    if len(gaps):
        print(format_table(gaps))
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from ._cli_generate import cmd_generate as run

    return run(args, notes=_notes_from_args(args), read_real=lambda path, h: _load_real(args, path, h))


def _load_real(args: argparse.Namespace, path: str, h: Any) -> pd.DataFrame:
    from .sources import load_labelled

    return load_labelled(path, text_column=args.text_column, code_column=args.code_column, hierarchy=h)


def cmd_clean(args: argparse.Namespace) -> int:
    from .cleaning import DedupOptions, clean, format_cleaning_report, storable
    from .generation import write_generated

    df = _read_table(args.input)
    res = clean(
        df,
        real_train=_read_table(args.real_train) if args.real_train else None,
        real_test=_read_table(args.real_test) if args.real_test else None,
        notes=_notes_from_args(args) if (args.notes or args.with_notes) else None,
        language=args.language,
        filters=tuple(args.filters),
        dedup_options=DedupOptions(threshold=args.threshold, shingle=args.shingle),
    )
    write_generated(res.kept, args.out)
    dropped_path = Path(args.out).with_name(Path(args.out).stem + ".dropped.parquet")
    write_generated(storable(res.dropped), dropped_path)
    print(format_cleaning_report(res.report))
    print(f"kept {len(res.kept):,} of {len(df):,} lines -> {args.out}; dropped lines with reasons -> {dropped_path}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from ._cli_verify import cmd_verify as run
    from .classification import Hierarchy

    notes = _notes_from_args(args)
    real, h = _labelled(args, args.real_train) if args.real_train else (None, Hierarchy.from_notes(notes))
    return run(args, notes=notes, real=real, hierarchy=Hierarchy.from_notes(notes) if args.system is None else h,
               read_table=_read_table)


def cmd_diversity(args: argparse.Namespace) -> int:
    from .cleaning import diversity_table

    _print(diversity_table(_read_table(args.file), text_col=args.text_column, by=args.by))
    return 0


def _real(args: argparse.Namespace, path: str | None) -> tuple[pd.DataFrame, Any]:
    """Real labelled rows (``path``, or the ONS index) and the hierarchy (``--system`` or the notes)."""
    from .classification import Hierarchy
    from .sources import load_labelled, load_public_labelled

    h = Hierarchy.builtin(args.system) if args.system else Hierarchy.from_notes(_notes_from_args(args))
    if path:
        real = load_labelled(path, text_column=args.text_column, code_column=args.code_column, hierarchy=h)
    else:
        real = load_public_labelled("ons_index")
    return real, h


def _labelled(args: argparse.Namespace, path: str | None) -> tuple[pd.DataFrame, Any]:
    """:func:`_real` with ``label`` = code aggregated to ``--level``."""
    real, h = _real(args, path)
    return h.with_labels(real, args.level), h


def _synthetic_sets(values: list[str], h: Any, level: str) -> dict[str, pd.DataFrame]:
    """``NAME=FILE`` (or ``FILE``: name = file stem) -> generated lines with ``label`` at ``level``."""
    from .generation import load_generated

    sets = {}
    for v in values or []:
        name, _, path = v.rpartition("=") if "=" in v else (Path(v).stem, "", v)
        sets[name] = h.with_labels(load_generated(path), level)
    return sets


def _params(args: argparse.Namespace) -> Any:
    from .modelling import FastTextParams

    overrides: dict[str, Any] = {}
    for item in args.set or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--set {item!r}: expected NAME=VALUE, e.g. --set epoch=30.")
        overrides[key] = number(value)
    if args.params == "insee":
        return FastTextParams.insee(**overrides)
    if args.params == "benchmark":
        return FastTextParams.benchmark(**overrides)
    return FastTextParams(**overrides)


def cmd_experiment(args: argparse.Namespace) -> int:
    from .modelling import run_experiments, target_summary
    from .study import split_real_data

    real, h = _labelled(args, args.real)
    keep = _scarcity(args.simulate_scarcity)
    split = split_real_data(real, test_size=args.test_size, seed=args.split_seed, scarcity=keep)
    res = run_experiments(
        split.train, split.test, _synthetic_sets(args.synthetic, h, args.level), seeds=args.seeds, params=_params(args),
        language=args.language, synthetic_weight=args.synthetic_weight, full_real=split.train_full if keep else None,
    )
    summary = target_summary(res, list(keep) or sorted(real["label"].unique()))
    _print(summary)
    if args.out:
        res.write_csv(args.out)
        summary.to_csv(Path(args.out) / "summary.csv", index=False)
        print(f"tidy metrics (real test data only) -> {args.out}")
    return 0


def _scarcity(values: list[str] | None) -> dict[str, int]:
    keep = {}
    for item in values or []:
        label, sep, k = item.partition("=")
        if not sep or not k.isdigit():
            raise ConfigError(f"--simulate-scarcity {item!r}: expected LABEL=K with K a whole number, e.g. B=2.")
        keep[label] = int(k)
    return keep


def cmd_train(args: argparse.Namespace) -> int:
    from .modelling import FastTextClassifier, training_set

    real, h = _labelled(args, args.real)
    sets = list(_synthetic_sets(args.synthetic, h, args.level).values())
    texts, labels, weights = training_set(real, pd.concat(sets) if sets else None, synthetic_weight=args.synthetic_weight)
    clf = FastTextClassifier(_params(args), language=args.language).fit(texts, labels, weights=weights)
    folder = (clf.quantize() if args.quantize else clf).save(args.out)
    print(f"fastText trained on {len(texts):,} rows ({len(set(labels))} {args.level} labels) -> {folder}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .modelling import FastTextClassifier, evaluate

    clf = FastTextClassifier.load(args.model)
    test, _ = _labelled(args, args.test)
    res = evaluate(test["label"].astype(str).tolist(), clf.predict(test["text"].astype(str).tolist(), k=3))
    _print(res.overall)
    _print(res.per_label.sort_values("support"))
    if args.out:
        res.per_label.to_csv(args.out, index=False)
        print(f"per-label metrics -> {args.out}")
    return 0


def cmd_personas(args: argparse.Namespace) -> int:
    from .personas import sample_personas

    df = sample_personas(args.n, locale=args.locale, seed=args.seed)
    if args.out:
        df.to_parquet(args.out, index=False) if args.out.endswith(".parquet") else df.to_csv(args.out, index=False)
        print(f"{len(df):,} personas -> {args.out}")
    else:
        _print(df.head(20))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from .study import load_config, run_pipeline

    cfg = load_config(args.config)
    if args.output_dir:
        cfg = cfg.model_copy(update={"output_dir": args.output_dir})
    if args.dry_run:
        from .study import training_plan

        plan = training_plan(cfg)
        _print(plan, max_rows=200)
        total = plan["expected_s"].sum()
        print(f"\n{len(plan)} trainings ({int((~plan['reused']).sum())} to run), expected {total / 60:.1f} min of training "
              f"on this machine's kind (estimate from the data size; nothing was generated or trained)")
        return 0
    res = run_pipeline(cfg)
    print()
    print(res.summary)
    print(f"\nReport: {res.report_html}\nMarkdown: {res.report_markdown}\nAll outputs: {res.out_dir}")
    return 0


def cmd_batch_export(args: argparse.Namespace) -> int:
    from .llm import Journal, export_batch

    with Journal(args.journal) as j:
        n = export_batch(j, args.out, model=args.model)
    print(f"{n:,} pending requests written to {args.out} (OpenAI Batch API JSONL)")
    return 0


def cmd_batch_import(args: argparse.Namespace) -> int:
    from .llm import Journal, import_batch_results

    with Journal(args.journal) as j:
        stats = import_batch_results(j, args.results, errors_path=args.errors)
    print(f"imported into {args.journal}: {stats}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser with every subcommand (each documented by its help text)."""
    p = argparse.ArgumentParser(prog="statcodgen", description="Synthetic training data for statistical classifications.")
    p.add_argument("-v", "--verbose", action="store_true", help="log each stage")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("coverage", help="real rows per code at a level, and the gaps")
    _add_notes_args(c)
    c.add_argument("--real", help="labelled real data (csv/parquet/xlsx); default: the ONS UK SIC index")
    c.add_argument("--text-column", default="text")
    c.add_argument("--code-column", default="code")
    c.add_argument("--system", help="built-in classification of the real codes (nace_rev2, nace_rev21, naf_rev2, naf2025)")
    c.add_argument("--level", default="section")
    c.add_argument("--threshold", type=int, default=200, help="a gap is a label with fewer rows than this")
    c.set_defaults(func=cmd_coverage)

    from ._cli_generate import add_generate_parser

    add_generate_parser(sub, _add_notes_args, cmd_generate)

    cl = sub.add_parser("clean", help="deduplicate and filter a generated file (a reason for every dropped line)")
    cl.add_argument("--in", dest="input", required=True)
    cl.add_argument("--out", required=True)
    cl.add_argument("--real-train", help="real training data (text, label): drop synthetic lines equal to it")
    cl.add_argument("--real-test", help="real test data: always drop synthetic lines equal or near to it")
    cl.add_argument("--threshold", type=float, default=0.9)
    cl.add_argument("--shingle", choices=["word", "char"], default="word")
    cl.add_argument("--language")
    cl.add_argument("--filters", nargs="*", default=["length", "echo", "garbage", "well_formed", "language", "excluded"],
                    help="filters to apply, in order (excluded needs --notes or --with-notes; it is skipped without them)")
    cl.add_argument("--notes", help="notes file, for the excluded-activity filter")
    cl.add_argument("--with-notes", action="store_true", help="fetch the default notes for the excluded-activity filter")
    cl.add_argument("--fetch-notes", choices=["nace_rev2", "nace_rev21", "naf2025"], default="nace_rev2")
    cl.add_argument("--layout", default="auto")
    cl.set_defaults(func=cmd_clean)

    d = sub.add_parser("diversity", help="distinct-n, unique share and MinHash Jaccard per label")
    d.add_argument("file")
    d.add_argument("--text-column", default="text")
    d.add_argument("--by", default="label")
    d.set_defaults(func=cmd_diversity)

    pe = sub.add_parser("personas", help="sample coherent declarant personas")
    pe.add_argument("--n", type=int, default=20)
    pe.add_argument("--locale", default="fr_FR")
    pe.add_argument("--seed", type=int, default=0)
    pe.add_argument("--out")
    pe.set_defaults(func=cmd_personas)

    def data_args(q: argparse.ArgumentParser) -> None:
        _add_notes_args(q)
        q.add_argument("--text-column", default="text")
        q.add_argument("--code-column", default="code")
        q.add_argument("--system", help="built-in classification of the codes (nace_rev2, nace_rev21, naf_rev2, naf2025); default: from the notes")
        q.add_argument("--level", default="section", help="level the classifier predicts (default section)")
        q.add_argument("--language", default="en", help="language of the texts (preprocessing)")

    def model_args(q: argparse.ArgumentParser) -> None:
        q.add_argument("--synthetic", nargs="*", default=[], metavar="[NAME=]FILE", help="generated-lines files (generate/clean output)")
        q.add_argument("--synthetic-weight", type=int, default=1, help="oversampling factor of synthetic rows")
        q.add_argument("--params", choices=["default", "benchmark", "insee"], default="default", help="fastText settings")
        q.add_argument("--set", nargs="*", metavar="NAME=VALUE", help="override one fastText setting, e.g. epoch=30")

    from ._cli_verify import add_verify_parser

    add_verify_parser(sub, data_args, cmd_verify)

    ex = sub.add_parser("experiment", help="train and evaluate real-only vs real+synthetic side by side (real test data only)")
    data_args(ex)
    model_args(ex)
    ex.add_argument("--real", help="labelled real data (csv/parquet/xlsx); default: the ONS UK SIC index")
    ex.add_argument("--simulate-scarcity", nargs="*", metavar="LABEL=K", help="keep only K real training rows of LABEL")
    ex.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ex.add_argument("--test-size", type=float, default=0.2)
    ex.add_argument("--split-seed", type=int, default=0)
    ex.add_argument("--out", help="folder for the tidy metric tables")
    ex.set_defaults(func=cmd_experiment)

    tr = sub.add_parser("train", help="train a fastText classifier on real (+ synthetic) data and save it")
    data_args(tr)
    model_args(tr)
    tr.add_argument("--real", help="labelled real data (csv/parquet/xlsx); default: the ONS UK SIC index")
    tr.add_argument("--out", required=True, help="model folder")
    tr.add_argument("--quantize", action="store_true", help="save the model quantised (model.ftz, ~8x smaller, slightly less accurate)")
    tr.set_defaults(func=cmd_train)

    ev = sub.add_parser("evaluate", help="evaluate a saved classifier on real labelled test data")
    data_args(ev)
    ev.add_argument("--model", required=True, help="model folder written by `train`")
    ev.add_argument("--test", help="labelled real test data; default: the ONS UK SIC index")
    ev.add_argument("--out", help="per-label metrics CSV")
    ev.set_defaults(func=cmd_evaluate)

    r = sub.add_parser("run", help="run a whole study from a TOML config (resumes after interruption)")
    r.add_argument("config")
    r.add_argument("--output-dir", help="override output_dir of the config")
    r.add_argument("--dry-run", action="store_true", help="print the trainings the study will make and their expected time; run nothing")
    r.set_defaults(func=cmd_run)

    be = sub.add_parser("batch-export", help="export a journal's pending requests as an OpenAI Batch API JSONL")
    be.add_argument("journal")
    be.add_argument("--out", required=True)
    be.add_argument("--model")
    be.set_defaults(func=cmd_batch_export)

    bi = sub.add_parser("batch-import", help="import an OpenAI Batch API results JSONL into a journal")
    bi.add_argument("journal")
    bi.add_argument("results")
    bi.add_argument("--errors", help="the batch's error file, if any")
    bi.set_defaults(func=cmd_batch_import)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``statcodgen`` / ``python -m statcodgen``. Returns the exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except StatcodgenError as exc:
        print(f"statcodgen {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: finished work is saved; run the same command again to resume", file=sys.stderr)
        return 130
