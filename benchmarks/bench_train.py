"""Training time at production scale: ~850,000 French-like declarations (a seeded stand-in).

The machine may be shared: wall times then include waiting for a core. The CPU seconds of each
fit, divided by its threads, are printed too as the idle-machine estimate.

Each training runs in its own spawned process (fastText never shares a process with anything
else, and peak RSS is measured per training). Reported per run: wall time of ``fit`` (including
preprocessing), preprocessing time, throughput (rows/s), peak RSS, held-out accuracy on the
stand-in (a sanity check only, the stand-in is synthetic), and the scaling ratio against a
baseline trained in the same run on ``--baseline-rows`` rows with the same settings.

    .venv/bin/python benchmarks/bench_train.py                      # defaults + INSEE, 850k rows
    .venv/bin/python benchmarks/bench_train.py --insee-epochs 10    # INSEE settings, fewer epochs,
                                                                    # time extrapolated to 50 epochs
    .venv/bin/python benchmarks/bench_train.py --rows 100000 --baseline-rows 10000 --skip-insee

The ONS measurement that chose the defaults (real data, 80/20 split) is ``--ons``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# Our own French-like vocabulary (stems combined into word forms); nothing copied from real data.
_ROOTS = ("vent", "fabric", "repar", "install", "commerc", "transport", "cultur", "elev", "constru", "nettoy",
          "location", "conseil", "formation", "restaur", "heberg", "entretien", "product", "negoc", "distribu",
          "soin", "gestion", "edition", "impress", "menuis", "plomb", "electric", "boulang", "coiff", "jardin",
          "peint", "serrur", "maconn", "couvert", "livr", "import", "export", "assembl", "decoup", "souder", "trait")
_ENDINGS = ("e", "es", "ation", "age", "eur", "euse", "ier", "iere", "erie", "ique", "iste", "ement", "ant", "ee", "is")
_FILLER = ("de", "des", "du", "et", "en", "pour", "la", "le", "les", "a", "domicile", "atelier", "auto", "entrepreneur",
           "artisan", "petite", "grande", "neuf", "occasion", "service", "activite", "societe", "local", "rural")


def make_standin(n_rows: int, *, n_labels: int = 732, seed: int = 0) -> pd.DataFrame:
    """Seeded stand-in of coded declarations: DataFrame[text, label].

    ``n_labels`` NAF-like codes with Zipf-distributed frequencies; each code owns 12 content
    words, a declaration has 2-4 of them plus 1-3 shared words (some generic across codes, so
    the task is not trivially separable) and 0-2 filler words.
    """
    rng = np.random.default_rng(seed)
    vocab = np.array(sorted({r + e for r in _ROOTS for e in _ENDINGS}))
    extra = np.array([f"{a}{b}" for a in ("pro", "multi", "eco", "bio", "agri", "micro", "semi", "inter", "auto", "hydro")
                      for b in vocab[:300]])
    vocab = np.concatenate([vocab, extra])
    labels = np.array([f"{d:02d}.{g:02d}{chr(65 + z)}" for d, g, z in
                       zip(rng.integers(1, 99, n_labels), rng.integers(0, 99, n_labels), rng.integers(0, 26, n_labels))])
    labels = np.unique(labels)
    own = rng.integers(0, len(vocab), size=(len(labels), 12))
    freq = 1.0 / np.arange(1, len(labels) + 1) ** 0.9
    lab_idx = rng.choice(len(labels), size=n_rows, p=freq / freq.sum())
    n_own = rng.integers(2, 5, n_rows)
    n_shared = rng.integers(1, 4, n_rows)
    n_fill = rng.integers(0, 3, n_rows)
    own_pick = own[lab_idx[:, None], rng.integers(0, 12, size=(n_rows, 4))]
    shared_pick = rng.integers(0, len(vocab), size=(n_rows, 3))
    fill_pick = np.asarray(_FILLER)[rng.integers(0, len(_FILLER), size=(n_rows, 2))]
    vocab_l = vocab.tolist()
    texts = [
        " ".join([vocab_l[w] for w in own[:a]] + [vocab_l[w] for w in sh[:b]] + fi[:c])
        for own, sh, fi, a, b, c in zip(own_pick.tolist(), shared_pick.tolist(), fill_pick.tolist(),
                                        n_own.tolist(), n_shared.tolist(), n_fill.tolist())
    ]
    return pd.DataFrame({"text": texts, "label": labels[lab_idx]})


def _train_child(queue: Any, n_rows: int, params: dict[str, Any], seed: int) -> None:
    from statcodgen.modelling.preprocess import preprocess
    from statcodgen.modelling import FastTextClassifier, FastTextParams

    data = make_standin(n_rows + 20_000, seed=seed)
    train, test = data.iloc[:n_rows], data.iloc[n_rows:]
    t0 = time.perf_counter()
    preprocess(train["text"], language="fr")
    t_prep = time.perf_counter() - t0
    clf = FastTextClassifier(FastTextParams(**params), language="fr")
    t0, r0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
    clf.fit(train["text"], train["label"])
    t_fit = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu_s = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    acc = float((clf.predict(test["text"], k=2)["label"].to_numpy() == test["label"].to_numpy()).mean())
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put({"rows": n_rows, "labels": len(clf.labels_), "fit_s": t_fit, "prep_s": t_prep, "rows_per_s": n_rows / t_fit,
               "peak_rss_mb": rss_mb, "heldout_acc": acc, "cpu_s": cpu_s, "thread": clf.params.thread})


def run_one(n_rows: int, params: dict[str, Any], *, seed: int = 0) -> dict[str, Any]:
    """Train once in a spawned process; return its measurements."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_train_child, args=(queue, n_rows, params, seed))
    proc.start()
    out = queue.get()
    proc.join()
    return out


def _fmt(name: str, r: dict[str, Any], base: dict[str, Any] | None, scale: float = 1.0) -> str:
    s = (f"{name:34s} rows={r['rows']:>8,d} labels={r['labels']:>4d} fit={r['fit_s']:8.1f}s "
         f"(preprocess {r['prep_s']:5.1f}s) {r['rows_per_s']:>9,.0f} rows/s peak_rss={r['peak_rss_mb']:7.0f} MB "
         f"heldout_acc={r['heldout_acc']:.3f}")
    if "cpu_s" in r:  # CPU seconds of the fit over its threads ~ wall time on an idle machine
        s += f" cpu={r['cpu_s']:.0f}s (~{r['cpu_s'] / r['thread']:.0f}s wall if idle)"
    if base is not None:
        s += (f" | time x{r['fit_s'] / base['fit_s']:.1f} for rows x{r['rows'] / base['rows']:.1f}"
              f" (throughput ratio {r['rows_per_s'] / base['rows_per_s']:.2f})")
    if scale != 1.0:
        s += f" | extrapolated to full epochs: {r['fit_s'] * scale / 60:.1f} min"
    return s


def ons_defaults(shared: Path, seeds: tuple[int, ...] = (0, 1)) -> pd.DataFrame:
    """Measure candidate settings on the ONS UK SIC index (real data; section labels; 80/20)."""
    from statcodgen.classification.hierarchy import Hierarchy
    from statcodgen.modelling.evaluation import evaluate
    from statcodgen.modelling import FastTextClassifier, FastTextParams

    h = Hierarchy.builtin("nace_rev2")
    df = pd.read_csv(shared / "ons_uksic2007_index_en" / "uksic2007_alphabetical_index_train70.csv", dtype=str)
    df["section"] = h.aggregate(df["nace_rev2_class"], "section").to_numpy()
    settings = {
        "benchmark preset": FastTextParams.benchmark(),
        "INSEE production (minCount 3)": FastTextParams.insee(),
        "INSEE, minCount 1": FastTextParams.insee(minCount=1),
        "defaults": FastTextParams(),
    }
    rows = []
    for seed in seeds:
        mask = np.random.default_rng(seed).random(len(df)) < 0.8
        tr, te = df[mask], df[~mask]
        for name, params in settings.items():
            t0 = time.perf_counter()
            clf = FastTextClassifier(params.model_copy(update={"seed": seed}), language="en")
            clf.fit(tr["activity"], tr["nace_rev2_class"])
            fit_s = time.perf_counter() - t0
            res = evaluate(te["nace_rev2_class"], clf.predict(te["activity"]), hierarchy=h, level_name="class")
            o = res.overall.set_index("level")
            rows.append({"setting": name, "seed": seed, "fit_s": fit_s, "class_acc": o.loc["class", "accuracy"],
                         "section_acc": o.loc["section", "accuracy"], "section_macro_f1": o.loc["section", "macro_f1"]})
            print(rows[-1], flush=True)
    return pd.DataFrame(rows).groupby("setting", sort=False).mean(numeric_only=True).drop(columns="seed")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=850_000)
    ap.add_argument("--baseline-rows", type=int, default=85_000)
    ap.add_argument("--epochs", type=int, default=None,
                    help="epochs for the full-size run with the defaults (fewer => time extrapolated linearly)")
    ap.add_argument("--insee-epochs", type=int, default=50, help="fewer epochs => time extrapolated linearly to 50")
    ap.add_argument("--skip-insee", action="store_true")
    ap.add_argument("--ons", type=Path, default=None, help="path of shared/data: run the ONS settings measurement")
    ap.add_argument("--ons-seeds", type=int, nargs="+", default=[0, 1])
    args = ap.parse_args(argv)
    from statcodgen.modelling import FastTextParams

    if args.ons is not None:
        print(ons_defaults(args.ons, seeds=tuple(args.ons_seeds)).round(3).to_string())
        return
    defaults = FastTextParams().model_dump()
    print(f"defaults: {defaults}", flush=True)
    full_ep = defaults["epoch"]
    ep = args.epochs or full_ep
    base = run_one(args.baseline_rows, defaults)
    print(_fmt(f"baseline, defaults (epoch={full_ep})", base, None), flush=True)
    if ep != full_ep:
        short = run_one(args.baseline_rows, {**defaults, "epoch": ep})
        print(_fmt(f"baseline, defaults, epoch={ep}", short, base), flush=True)
        print(f"  epoch scaling check: {full_ep}/{ep} epochs = x{full_ep / ep:.1f}, measured time x{base['fit_s'] / short['fit_s']:.1f}"
              f" (non-preprocess part x{(base['fit_s'] - base['prep_s']) / max(short['fit_s'] - short['prep_s'], 1e-9):.1f})",
              flush=True)
    full = run_one(args.rows, {**defaults, "epoch": ep})
    print(_fmt(f"defaults, epoch={ep}", full, base, full_ep / ep), flush=True)
    if ep != full_ep:
        est = full["prep_s"] + (full["fit_s"] - full["prep_s"]) * full_ep / ep
        print(f"  => estimated full defaults training on {args.rows:,d} rows: {est / 60:.1f} min "
              f"({args.rows / est:,.0f} rows/s); rows x{args.rows / args.baseline_rows:.0f} vs baseline, "
              f"time x{est / base['fit_s']:.1f}", flush=True)
    if not args.skip_insee:
        insee = FastTextParams.insee(epoch=args.insee_epochs).model_dump()
        scale = 50 / args.insee_epochs
        r = run_one(args.rows, insee)
        print(_fmt(f"INSEE production, epoch={args.insee_epochs}", r, full, scale), flush=True)


if __name__ == "__main__":
    main()
