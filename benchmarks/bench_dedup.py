"""Benchmark: MinHash near-duplicate removal of N short lines (default 1,000,000).

Generates N lines of 3-12 words from a Zipf-distributed vocabulary (seeded), of which a known
share are planted near duplicates of another line, then runs in separate subprocesses (so that
each peak RSS is its own):

* ``ours``   statcodgen.cleaning.dedup.dedup(method="minhash", shingle="word", num_perm=128, threshold=0.9)
* ``naive``  a per-line datasketch loop (MinHash() + update per token, MinHashLSH query/insert)
             on a sample of ``--naive-n`` lines, time extrapolated linearly to N
* ``rensa``  rensa.RMinHashDeduplicator (Rust) on the same N lines, 128 perms, threshold 0.9
             (keeps the first of each group, verifies the estimate like ours)
* ``rensa_matrix``  rensa's bulk path: RMinHash.digest_matrix_from_token_sets + RMinHashLSH
             insert_matrix_and_query_duplicate_flags (flags every member of a candidate group:
             no keep-one decision, no verification, so "dropped" counts are not comparable)

Planted kinds (true word-set Jaccard with their source in brackets):
``reorder`` words shuffled [1.0]; ``repeat`` one word repeated + punctuation [1.0];
``add`` one new word added to a line of >= 9 distinct words [0.90-0.92];
``swap`` one word replaced [< 0.9: a control, not expected to be caught at 0.9].
Recall is reported per kind and over the kinds whose true Jaccard >= threshold. Note that
datasketch's default LSH parameters for 0.9/128 perms are 5 bands x 25 rows, which make a pair at
Jaccard 0.90-0.92 a candidate with probability ~0.3-0.4 only; rensa needs bands dividing 128,
we give it 8 x 16. statcodgen's default ``lsh_weights=(0.05, 0.95)`` gives 9 x 14 (candidates are
verified on the exact Jaccard afterwards, so LSH false positives cost time, not precision). Precision = share of dropped near duplicates whose exact
word-set Jaccard with the line they point to is >= threshold.

Usage: python benchmarks/bench_dedup.py [--n 1000000] [--naive-n 20000] [--skip-rensa]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd

KINDS = ("reorder", "repeat", "add", "swap")
KIND_SHARE = (0.3, 0.3, 0.25, 0.15)


def _vocab(size: int, rng: np.random.Generator) -> np.ndarray:
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    lens = rng.integers(3, 11, size)
    words = {"".join(rng.choice(letters, k)) for k in lens}
    return np.array(sorted(words), dtype=object)


def make_lines(n: int, *, dup_share: float = 0.1, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(lines DataFrame[text], planted DataFrame[row, source, kind, jaccard])."""
    rng = np.random.default_rng(seed)
    vocab = _vocab(20_000, rng)
    p = 1.0 / np.arange(1, len(vocab) + 1) ** 0.9
    p /= p.sum()
    n_plant = int(n * dup_share)
    n_base = n - n_plant
    lens = rng.integers(3, 13, n_base)
    ids = rng.choice(len(vocab), size=int(lens.sum()), p=p)
    offs = np.concatenate(([0], np.cumsum(lens)))
    words = [list(vocab[ids[offs[k] : offs[k + 1]]]) for k in range(n_base)]
    kinds = rng.choice(len(KINDS), size=n_plant, p=KIND_SHARE)
    src = rng.integers(0, n_base, n_plant)
    planted_rows = []
    for t in range(n_plant):
        w = list(words[src[t]])
        kind = KINDS[kinds[t]]
        s = set(w)
        if kind == "reorder":
            if len(s) < 2:
                continue
            new = list(rng.permutation(w))
            if new == w:
                new = w[1:] + w[:1]
        elif kind == "repeat":
            k = int(rng.integers(len(w)))
            new = w[: k + 1] + [w[k] + ","] + w[k + 1 :]
        elif kind == "add":
            if len(s) < 9:
                # pick another source long enough (deterministic walk)
                j = int(src[t])
                while len(set(words[j])) < 9:
                    j = (j + 7919) % n_base
                src[t] = j
                w = list(words[j])
                s = set(w)
            extra = str(vocab[rng.integers(len(vocab))])
            while extra in s:
                extra = str(vocab[rng.integers(len(vocab))])
            k = int(rng.integers(len(w) + 1))
            new = w[:k] + [extra] + w[k:]
        else:  # swap
            extra = str(vocab[rng.integers(len(vocab))])
            while extra in s:
                extra = str(vocab[rng.integers(len(vocab))])
            new = list(w)
            new[int(rng.integers(len(w)))] = extra
        ns = {x.strip(",") for x in new}
        jac = len(ns & s) / len(ns | s)
        words.append(new)
        planted_rows.append((len(words) - 1, int(src[t]), kind, jac))
    texts = [" ".join(w) for w in words]
    # half of the lines upper-cased, like coded declarations often are
    up = rng.random(len(texts)) < 0.5
    texts = [t.upper() if u else t for t, u in zip(texts, up)]
    df = pd.DataFrame({"text": texts})
    planted = pd.DataFrame(planted_rows, columns=["row", "source", "kind", "jaccard"])
    return df, planted


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(engine: str, n: int, naive_n: int, seed: int) -> dict:
    df, planted = make_lines(n, seed=seed)
    base_rss = _rss_mib()
    out: dict = {"engine": engine, "n": n, "rss_after_data_mib": round(base_rss, 1)}
    if engine == "ours":
        from statcodgen.cleaning.dedup import dedup

        t0 = time.perf_counter()
        res = dedup(df, label_col=None, method="minhash", threshold=0.9, num_perm=128, shingle="word", seed=1)
        out["seconds"] = time.perf_counter() - t0
        dropped = res.dropped
        out["n_dropped"] = len(dropped)
        out["stats"] = dict(zip(res.stats["metric"], res.stats["value"]))
        # duplicate_of always names a kept line, so a line's cluster is itself or duplicate_of
        root = np.arange(len(df))
        root[dropped.index.to_numpy()] = dropped["duplicate_of"].str.slice(4).astype(int).to_numpy()
        near = dropped[dropped["reason"] == "near_duplicate"]
        out["precision"] = float((near["similarity"] >= 0.9).mean()) if len(near) else float("nan")
        caught = root[planted["row"].to_numpy()] == root[planted["source"].to_numpy()]
    elif engine == "rensa":
        import rensa

        from statcodgen.text.normalize import normalize_series

        t0 = time.perf_counter()
        toks = [t.split() for t in normalize_series(df["text"])]
        dd = rensa.RMinHashDeduplicator(threshold=0.9, num_perm=128, use_lsh=True, num_bands=8, seed=1)
        added = np.array(dd.add_pairs([(str(k), t) for k, t in enumerate(toks)]))
        out["seconds"] = time.perf_counter() - t0
        out["n_dropped"] = int((~added).sum())
        out["precision"] = float("nan")
        caught = [(not added[r]) or (not added[s]) for r, s in zip(planted["row"], planted["source"])]
    elif engine == "rensa_matrix":
        import rensa

        from statcodgen.text.normalize import normalize_series

        t0 = time.perf_counter()
        toks = [t.split() for t in normalize_series(df["text"])]
        matrix = rensa.RMinHash.digest_matrix_from_token_sets(toks, 128, 1)
        lsh = rensa.RMinHashLSH(0.9, 128, 8)
        flags = np.array(lsh.insert_matrix_and_query_duplicate_flags(matrix))
        out["seconds"] = time.perf_counter() - t0
        out["n_dropped"] = int(flags.sum())  # flags every member of a candidate group (no keep-one, no verification)
        out["precision"] = float("nan")
        caught = [bool(flags[r]) and bool(flags[s]) for r, s in zip(planted["row"], planted["source"])]
    else:  # naive datasketch loop on a sample
        from datasketch import MinHash, MinHashLSH

        from statcodgen.text.normalize import normalize_text

        pick = np.sort(np.random.default_rng(seed).choice(len(df), size=min(naive_n, len(df)), replace=False))
        sample = df["text"].iloc[pick].tolist()
        t0 = time.perf_counter()
        lsh = MinHashLSH(threshold=0.9, num_perm=128)
        n_dup = 0
        for k, t in enumerate(sample):
            m = MinHash(num_perm=128, seed=1)
            for w in normalize_text(t).split():
                m.update(w.encode("utf-8"))
            if lsh.query(m):
                n_dup += 1
            else:
                lsh.insert(str(k), m)
        sec = time.perf_counter() - t0
        out.update(sample_n=len(sample), sample_seconds=sec, seconds=sec * n / len(sample), n_dropped=n_dup)
        out["peak_rss_mib"] = round(_rss_mib(), 1)
        return out
    out["peak_rss_mib"] = round(_rss_mib(), 1)
    planted = planted.assign(caught=caught)
    out["recall_by_kind"] = planted.groupby("kind")["caught"].mean().round(4).to_dict()
    out["planted_by_kind"] = planted["kind"].value_counts().to_dict()
    above = planted["jaccard"] >= 0.9
    out["recall_jaccard_ge_0.9"] = float(planted.loc[above, "caught"].mean())
    out["recall_jaccard_ge_0.95"] = float(planted.loc[planted["jaccard"] >= 0.95, "caught"].mean())
    out["recall_jaccard_0.9_to_0.95"] = float(planted.loc[above & (planted["jaccard"] < 0.95), "caught"].mean())
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--naive-n", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-rensa", action="store_true")
    ap.add_argument("--worker", choices=("ours", "rensa", "rensa_matrix", "naive"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.n, args.naive_n, args.seed)))
        return
    engines = ["ours", "naive"] + ([] if args.skip_rensa else ["rensa", "rensa_matrix"])
    results = {}
    for e in engines:
        cmd = [sys.executable, __file__, "--worker", e, "--n", str(args.n), "--naive-n", str(args.naive_n),
               "--seed", str(args.seed)]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
        results[e] = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"[{e}] {json.dumps(results[e], default=str)}", flush=True)
    ours = results["ours"]
    print(f"\n=== MinHash dedup of {args.n:,} lines (128 perms, word 1-grams, threshold 0.9) ===")
    print(f"{'engine':<28}{'seconds':>10}{'peak RSS MiB':>14}{'dropped':>10}{'recall J>=0.9':>15}")
    for e, r in results.items():
        name = {"ours": "statcodgen (datasketch params)", "naive": f"naive datasketch (x{args.n // args.naive_n} extrap.)",
                "rensa": "rensa RMinHashDeduplicator", "rensa_matrix": "rensa digest matrix + LSH flags"}[e]  # fmt: skip
        rec = r.get("recall_jaccard_ge_0.9", float("nan"))
        print(f"{name[:28]:<28}{r['seconds']:>10.1f}{r['peak_rss_mib']:>14.0f}{r['n_dropped']:>10}{rec:>15.3f}")
    print(f"\nspeed-up vs naive datasketch loop: {results['naive']['seconds'] / ours['seconds']:.1f}x")
    for e in ("rensa", "rensa_matrix"):
        if e in results:
            print(f"time ratio ours / {e}: {ours['seconds'] / results[e]['seconds']:.2f}")
    print(f"ours: recall by kind {ours['recall_by_kind']}; precision {ours['precision']:.4f}")
    print(f"ours: recall J>=0.95 {ours['recall_jaccard_ge_0.95']:.4f}, 0.9<=J<0.95 {ours['recall_jaccard_0.9_to_0.95']:.4f}")
    if "rensa" in results:
        print(f"rensa: recall by kind {results['rensa']['recall_by_kind']}")
    goal = ours["seconds"] < 60 and ours["peak_rss_mib"] < 2048
    print(f"goal (< 60 s and < 2 GiB on {args.n:,} lines): {'met' if goal else 'NOT met'}")


if __name__ == "__main__":
    main()
