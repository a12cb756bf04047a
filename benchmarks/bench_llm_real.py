"""The LLM path against a real model (issue 12): a weak local model, the default settings, and baselines.

Server: the real local LLM of ``../shared/tools/local-llm.sh`` (Qwen2.5-Coder-1.5B-Instruct Q4_K_M served by
llama-cpp-python on http://127.0.0.1:8765/v1, model ``qwen-1.5b``, one request at a time)::

    bash ../shared/tools/local-llm.sh start      # ~6 min and 1.1 GB the first time; then `status`, `stop`
    .venv/bin/python benchmarks/bench_llm_real.py --serve   # the same server with the AMX weight buffers off

On a CPU with AMX under a hypervisor that does not give AMX to guests, llama.cpp's AMX buffers crash the server
(general protection fault in libggml-cpu) at the first completion; ``--serve`` (re)starts it from the same
files with ``use_extra_bufts`` off and ``OMP_WAIT_POLICY=PASSIVE``, and logs to the same ``server.log``.

Run: ``.venv/bin/python benchmarks/bench_llm_real.py`` (``--phase generate``, ``evaluate``, ``replicate``; a
generation already done is not redone; ~90 min of server time at the 4-7 tokens/s of a loaded 2-core machine,
then ~30 min of fastText). Every LLM run goes through a subprocess (the CLI, or this script's ``--worker`` mode
for what the CLI does not offer: real examples, the plain prompt, JSON mode, the drift runs); the ``default``
run is killed with SIGKILL at a random point and resumed, and the server's log must show every request
answered once (``kill_check``). The
fastText side (cleaning, verification, the development measure) runs in this process, which never loads a
model. Sections B, O, T, U of the NACE Rev. 2 notes; real rows: the ONS measure of ``_common.py`` (B, O, T, U cut
to 2 training rows); F1 on the development measure (``_common.dev_measure``: never the test rows).
Output: ``benchmarks/results/llm_real.md`` (and the runs under ``runs/llm_real/``, not committed).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from _common import RESULTS, ROOT, TARGETS, machine, to_markdown
from _llm_server import MODEL, URL, journal_done, kill_check, log_offset, serve, server_record

RUNS = ROOT / "runs" / "llm_real"
N_PER_TARGET = 80  # B: 15 codes, O: 9, T: 3, U: 1 -> 34 requests of up to 20 lines
LINES_PER_REQUEST = 20
TEMPERATURE = 0.9  # the CLI's default

#: The seed tutorial's plain prompt, as the issue describes it (our words): the class's Includes text pasted,
#: N lines asked, one bakery example; the answer split on newlines. Kept here as the baseline.
PLAIN_PROMPT = """You are an expert in the NACE classification of economic activities.

Class {code}: {title}
{includes_text}

Write {n_lines} different short descriptions of business activities that belong to this class, as business owners \
write them when they register their business. One description per line, in capital letters.
Example for a bakery: BAKING AND SALE OF BREAD AND PASTRIES"""


# --- generation subprocesses ----------------------------------------------------------------------------------------

def cli_args(out: Path, *extra: str, targets: list[str] = TARGETS, n_per_target: int = N_PER_TARGET) -> list[str]:
    return [sys.executable, "-m", "statcodgen", "generate", "--fetch-notes", "nace_rev2", "--targets", *targets,
            "--n-per-target", str(n_per_target), "--backend", "openai", "--base-url", URL, "--model", MODEL,
            "--concurrency", "1", "--lines-per-request", str(LINES_PER_REQUEST), "--out", str(out / "lines.parquet"),
            *extra]


def worker_args(spec: dict) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(spec)]


def plain_requests(notes: pd.DataFrame, plan: pd.DataFrame, cfg) -> list:
    """The plain prompt's requests for ``plan``: ceil(n / 20) requests of up to 20 lines per code, like the default."""
    from statcodgen.llm.config import make_request

    by_code = notes.set_index("code")
    out = []
    for row in plan.itertuples(index=False):
        note, left = by_code.loc[row.code], int(row.n_samples)
        for i in range(math.ceil(left / LINES_PER_REQUEST)):
            n = min(LINES_PER_REQUEST, left)
            left -= n
            text = PLAIN_PROMPT.format(code=row.code, title=note["title"], n_lines=n,
                                       includes_text=str(note["includes_text"] or note["title"]).strip())
            out.append(make_request([{"role": "user", "content": text}], config=cfg, seed=0, sample_index=i,
                                    metadata={"code": row.code, "label": row.target, "n_lines": n, "prompt_id": "plain",
                                              "persona_id": ""}))
    return out


def split_lines(content: str, request) -> object:
    """The seed's parsing: the answer split on newlines, blank lines dropped."""
    from statcodgen.llm.parsing import ParseResult

    return ParseResult(lines=[ln.strip() for ln in content.split("\n") if ln.strip()])


def worker(spec: dict) -> None:
    """One generation run in this subprocess (never a fastText one): ``spec`` names the variant."""
    from statcodgen.classification import Hierarchy
    from statcodgen.generation import LLMGenerator, generate, generation_plan, write_generated
    from statcodgen.generation.generators import lines_from_journal
    from statcodgen.llm import Journal, LLMConfig
    from statcodgen.llm.client import run_requests
    from statcodgen.sources import fetch_notes, load_notes

    out = Path(spec["out"])
    out.mkdir(parents=True, exist_ok=True)
    notes = load_notes(fetch_notes("nace_rev2"))
    h = Hierarchy.from_notes(notes)
    cfg = LLMConfig(base_url=URL, model=MODEL, concurrency=1, temperature=TEMPERATURE)
    plan = generation_plan(notes, targets=spec.get("targets", TARGETS), n_per_target=spec.get("n_per_target", N_PER_TARGET),
                           min_per_code=5, weight="richness")
    if spec["kind"] == "plain":
        reqs = plain_requests(notes, plan, cfg)
        with Journal(out / "lines.journal.sqlite") as j:
            run_requests(reqs, config=cfg, journal=j, parser=split_lines)
            lines, rejected = lines_from_journal(reqs, j, model=MODEL, temperature=TEMPERATURE, seed=0)
            lines["prompt_id"] = "plain"
    elif spec["kind"] == "json_object":
        from statcodgen.generation.generators import _parser, build_requests
        from statcodgen.generation.plan import cap_requests

        cfg = cfg.model_copy(update={"json_output": True})
        reqs = build_requests(notes, cap_requests(plan, lines_per_request=LINES_PER_REQUEST), llm=cfg, language="en",
                              lines_per_request=LINES_PER_REQUEST, real=None, n_examples=0, hierarchy=h)
        for r in reqs:  # without n_lines the engine asks for {"type": "json_object"} instead of the N-line schema
            r.metadata["n_asked"] = r.metadata.pop("n_lines")
        with Journal(out / "lines.journal.sqlite") as j:
            run_requests(reqs, config=cfg, journal=j, parser=_parser(True, True, "keep"))
            lines, rejected = lines_from_journal(reqs, j, model=MODEL, temperature=TEMPERATURE, seed=0, json_output=True)
    else:
        real = None
        if spec.get("n_examples", 0):
            from _common import ons_measure_data

            real = ons_measure_data()["train"]
        gen = LLMGenerator(cfg, journal_path=out / "lines.journal.sqlite", lines_per_request=LINES_PER_REQUEST,
                           real=real, n_examples=spec.get("n_examples", 0), **spec.get("generator", {}))
        res = generate(notes, plan, generator=gen, language="en", seed=0, hierarchy=h)
        lines, rejected = res.lines, res.rejected
    write_generated(lines, out / "lines.parquet")
    write_generated(rejected.assign(label=""), out / "lines.rejected.parquet")
    print(f"{len(lines)} lines written to {out}")


V2_COMMIT = "5c5ed11"  # the last commit with the template version 2 (the prompt)


def v2_templates() -> str:
    """The English templates of version 2 (the prompt the issue measured), from git, in a folder of runs/."""
    folder = RUNS / "templates_v2"
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("prompt_system.en.j2", "prompt_user.en.j2"):
        text = subprocess.run(["git", "show", f"{V2_COMMIT}:statcodgen/generation/templates/{name}"], cwd=ROOT,
                              capture_output=True, text=True, check=True).stdout
        (folder / name).write_text(text, encoding="utf-8")
    return str(folder)


#: the issue's configuration: prompt version 2, every request on the whole note, no cap, note items rejected as echoes
V2 = {"max_requests": None, "angles": False, "contrast": False, "echo_items": "reject"}
DRIFT_N = 160  # 8 requests of 20 lines on the two-item note of 99.00, uncapped

#: name -> how it is run: ("cli", extra CLI args) or ("worker", spec); in the order they run
VARIANTS: dict[str, tuple[str, object]] = {
    "plain": ("worker", {"kind": "plain"}),
    "default": ("cli", []),
    "drift_v2": ("worker", {"kind": "llm", "targets": ["U"], "n_per_target": DRIFT_N, "generator": V2, "v2": True}),
    "drift_repeat": ("worker", {"kind": "llm", "targets": ["U"], "n_per_target": DRIFT_N,
                                "generator": {"max_requests": None, "angles": False}}),
    "drift_angles": ("worker", {"kind": "llm", "targets": ["U"], "n_per_target": DRIFT_N, "generator": {"max_requests": None}}),
    "json": ("cli", ["--json"]),
    "examples": ("worker", {"kind": "llm", "n_examples": 3}),
    "personas": ("cli", ["--personas", "400", "--persona-strategy", "matched"]),
    "v2": ("worker", {"kind": "llm", "generator": V2, "v2": True}),
    # the default without angles: its journal starts as a copy of the default's, so only the requests whose
    # prompt differs (a code's second request and later) are sent
    "no_angles": ("worker", {"kind": "llm", "generator": {"angles": False}, "seed_journal": "default"}),
    # llama-cpp-python's server answers a json_schema response_format with HTTP 500 (the `json` run): JSON mode
    # (`{"type": "json_object"}`, which it constrains with a JSON grammar) with the same prompts instead
    "json_object": ("worker", {"kind": "json_object"}),
    # the default with one round of top-up requests (`--refill 1`, the CLI's default since): its journal starts as a
    # copy of the default's (run before the top-ups existed, with --refill 0 in effect), so only the top-ups are sent
    "default_refill": ("cli", {"args": ["--refill", "1"], "seed_journal": "default"}),
}


def run_variant(name: str, *, kill: bool = False, seed: int = 12) -> dict:
    """Run one variant in a subprocess (killed with SIGKILL at a random point and resumed when ``kill``);
    return what the server logged meanwhile and the wall time."""
    out = RUNS / name
    if (out / "run.json").exists():
        return json.loads((out / "run.json").read_text())
    out.mkdir(parents=True, exist_ok=True)
    how, what = VARIANTS[name]
    seed_journal = what.get("seed_journal") if isinstance(what, dict) else None
    if seed_journal and not (out / "lines.journal.sqlite").exists():
        import sqlite3

        src = sqlite3.connect(RUNS / seed_journal / "lines.journal.sqlite")
        src.execute(f"VACUUM INTO '{out / 'lines.journal.sqlite'}'")  # a consistent copy of a WAL database
        src.close()
    if how == "cli":
        cmd = cli_args(out, *(what["args"] if isinstance(what, dict) else what))
    else:
        spec = {k: v for k, v in what.items() if k != "seed_journal"} | {"out": str(out)}
        if spec.pop("v2", False):
            spec.setdefault("generator", {})["template_dir"] = v2_templates()
        cmd = worker_args(spec)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start, t0 = log_offset(), time.time()
    info: dict = {"variant": name, "command": " ".join(Path(c).name if c == sys.executable else c for c in cmd[1:])}
    with open(out / "stdout.txt", "w") as log:
        if kill:
            rng = random.Random(seed)
            after = rng.randint(3, 20)  # completed requests before the kill, then a random point inside the next one
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
            while journal_done(out / "lines.journal.sqlite") < after and proc.poll() is None:
                time.sleep(0.5)
            time.sleep(rng.uniform(1.0, 10.0))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            info["kill"] = {"after_s": round(time.time() - t0, 1), "done_at_kill": journal_done(out / "lines.journal.sqlite"),
                            "log_at_kill": log_offset(), "server_at_kill": server_record(start)}
        rc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT).returncode
    info.update({"rc": rc, "wall_s": time.time() - t0, "log_start": start, "log_end": log_offset()})
    info["t0"] = t0
    info["server"] = server_record(start, info["log_end"])
    (out / "run.json").write_text(json.dumps(info, indent=1))
    return info


# --- the fastText side: parse, clean, verify, measure (this process never loads a model) -------------------------

LLM_SETS = ["plain", "default", "default_refill", "no_angles", "json", "json_object", "examples", "personas", "v2"]
DRIFT = ["drift_v2", "drift_repeat", "drift_angles"]


def journal_frame(name: str) -> pd.DataFrame:
    """The variant's journal: one row per request with its metadata, status, raw answer, usage and times."""
    from statcodgen.llm import Journal

    with Journal(RUNS / name / "lines.journal.sqlite") as j:
        rec = j.records()
    meta = pd.json_normalize(rec["metadata"].tolist()).drop(columns=["note_items"], errors="ignore")
    return pd.concat([rec.drop(columns=["metadata", "body"]), meta], axis=1)


def reference_classifier(d: dict, params) -> object:
    """fastText on every real training row (the measure's full training part, never its test rows) and every
    note item and title of the NACE Rev. 2 notes: the judge of whether a line is on its section."""
    from statcodgen.modelling import FastTextClassifier

    notes, h = d["notes"], d["hierarchy"]
    leaves = notes[notes["level"] == "class"]
    texts, labels = d["train_full"]["text"].astype(str).tolist(), d["train_full"]["label"].astype(str).tolist()
    for row in leaves.itertuples(index=False):
        label = h.aggregate([row.code], "section", errors="coerce").iloc[0]
        for t in [row.title, *row.includes, *row.also_includes]:
            texts.append(str(t))
            labels.append(str(label))
    return FastTextClassifier(params, language="en").fit(texts, labels)


def reasons(frame: pd.DataFrame, col: str = "reason") -> str:
    if frame is None or not len(frame):
        return "-"
    return "; ".join(f"{k} {v}" for k, v in frame[col].astype(str).value_counts().items())


def evaluate() -> None:
    from _common import PROTOCOL_PARAMS, dev_measure, ons_measure_data

    from statcodgen.cleaning import clean
    from statcodgen.generation import generate, generation_plan
    from statcodgen.modelling import FastTextParams
    from statcodgen.verification import verify

    params = FastTextParams(**PROTOCOL_PARAMS)
    d = ons_measure_data()
    notes, h = d["notes"], d["hierarchy"]
    plan = generation_plan(notes, targets=TARGETS, n_per_target=N_PER_TARGET, min_per_code=5, weight="richness")

    def cleaned(lines: pd.DataFrame):
        return clean(lines, real_train=d["train"], real_test=d["test"], notes=notes, language="en", progress=False)

    def verified(kept: pd.DataFrame):
        return verify(kept, real_train=d["train"], notes=notes, hierarchy=h, targets=TARGETS, target_level="section",
                      language="en", params=params, progress=False)

    raw: dict[str, pd.DataFrame] = {}
    for name in LLM_SETS + DRIFT:
        if (RUNS / name / "lines.parquet").exists():
            raw[name] = pd.read_parquet(RUNS / name / "lines.parquet")
    if "default" in raw:  # the same answers, note items rejected as echoes (the rule before issue 12)
        raw["default, note items rejected as echoes"] = reparsed("default", "reject")
    base = {g: generate(notes, plan, generator=g, language="en", seed=0, hierarchy=h, progress=False).lines
            for g in ("offline", "titles", "naive_bullets")}
    big = generation_plan(notes, targets=TARGETS, n_per_target=800, min_per_code=5, weight="richness")
    base["offline, 800 per target"] = generate(notes, big, generator="offline", language="en", seed=0, hierarchy=h,
                                               progress=False).lines

    ref = reference_classifier(d, params)
    rows, sets = [], {}
    for name, lines in {**raw, **base}.items():
        c = cleaned(lines)
        requested = None
        if name in VARIANTS:
            jf = journal_frame(name)
            rej = pd.read_parquet(RUNS / name / "lines.rejected.parquet")
            jf = jf[jf["key"].isin(set(lines["request_key"]) | set(rej["request_key"]))]  # this variant's requests
            requested = int(jf["n_lines" if "n_lines" in jf else "n_asked"].sum())
            run = json.loads((RUNS / name / "run.json").read_text())
        on = ref.predict(lines["text"].astype(str).tolist())["label"].astype(str).to_numpy() == lines["label"].astype(str).to_numpy()
        row = {"set": name, "requested": requested, "parsed": len(lines), "cleaned": len(c.kept), "on_section": on.mean(),
               **(speed(run, jf) if name in VARIANTS else {})}
        v = verified(c.kept.reset_index(drop=True))
        if name in DRIFT:  # per request: share of its lines on section U, share of its 20 lines kept by clean + verify
            idx = jf.set_index("key")["request_index"]
            ri, kept = lines["request_key"].map(idx).to_numpy(), v.verified["request_key"].map(idx).value_counts()
            for k in sorted(set(idx)):
                row[f"on_req{int(k) + 1}"] = on[ri == k].mean() if (ri == k).any() else 0.0
                row[f"kept_req{int(k) + 1}"] = kept.get(k, 0) / LINES_PER_REQUEST
            row["verified"] = len(v.verified)
            rows.append(row)
            continue
        row.update({"verified": len(v.verified), "relabelled": len(v.relabelled),
                    "kept_share": len(v.verified) / requested if requested else None,
                    "kept_of_plan": len(v.verified) / int(plan["n_samples"].sum()) if requested else None,
                    "parse_rejects": reasons(pd.read_parquet(RUNS / name / "lines.rejected.parquet")) if requested else "-",
                    "clean_drops": reasons(c.dropped), "verify_drops": reasons(v.dropped)})
        rows.append(row)
        sets[name] = c.kept
        sets[f"{name} + verify"] = v.verified.drop(columns=["old_code", "old_label"], errors="ignore")
    if "default + verify" in sets:
        sets["offline + default, verified"] = pd.concat([sets["offline + verify"], sets["default + verify"]], ignore_index=True)
    keep = [k for k in sets if not k.startswith(("titles +", "naive_bullets +", "offline, 800 per target +"))]
    measure = dev_measure(d, {k: sets[k] for k in keep})
    write_results(pd.DataFrame(rows), measure)


REPLICATE = ["plain", "default", "v2", "examples", "json_object"]


def replicate() -> None:
    """The main sets on 6 other development splits (inner seeds 7-12), appended to the results: how much of a
    difference between two variants the splits alone make (T and U have 12 and 18 development rows)."""
    from _common import PROTOCOL_PARAMS, dev_measure, ons_measure_data

    from statcodgen.cleaning import clean
    from statcodgen.modelling import FastTextParams
    from statcodgen.verification import verify

    d, params, sets = ons_measure_data(), FastTextParams(**PROTOCOL_PARAMS), {}
    for n in REPLICATE:
        c = clean(pd.read_parquet(RUNS / n / "lines.parquet"), real_train=d["train"], real_test=d["test"], notes=d["notes"],
                  language="en", progress=False)
        v = verify(c.kept.reset_index(drop=True), real_train=d["train"], notes=d["notes"], hierarchy=d["hierarchy"],
                   targets=TARGETS, target_level="section", language="en", params=params, progress=False)
        sets[n], sets[f"{n} + verify"] = c.kept, v.verified.drop(columns=["old_code", "old_label"], errors="ignore")
    m = dev_measure(d, sets, inner_seeds=[7, 8, 9, 10, 11, 12])
    m.to_csv(RUNS / "measure_replicate.csv", index=False)
    m["variant"] = m["variant"].str.replace("real+", "real + ", regex=False)
    text = ("\n## Replication: the same lines on 6 other development splits (inner seeds 7-12)\n\n"
            + to_markdown(m.drop(columns=[c for c in m.columns if c.startswith("n_")]), ".3f") + "\n")
    with open(RESULTS / "llm_real.md", "a", encoding="utf-8") as f:
        f.write(text)
    print(text)


def reparsed(name: str, echo_items: str) -> pd.DataFrame:
    """A variant's journalled answers parsed again with another echo rule (nothing sent)."""
    from statcodgen.generation.generators import _parser
    from statcodgen.llm import Journal
    from statcodgen.llm.config import Request

    rows = []
    with Journal(RUNS / name / "lines.journal.sqlite") as j:
        for r in j.records().itertuples(index=False):
            if r.status != "done":
                continue
            content = json.loads(r.raw)["choices"][0]["message"]["content"]
            req = Request(r.key, list((r.body or {}).get("messages") or []), {}, dict(r.metadata or {}))
            for line in _parser(True, False, echo_items)(content, req).lines:
                rows.append({"text": line, "code": r.metadata["code"], "label": r.metadata["label"], "request_key": r.key})
    return pd.DataFrame(rows)


def speed(run: dict, jf: pd.DataFrame) -> dict:
    """Seconds per request and tokens/s, the server's own (its log) against the client's (wall time, journal)."""
    srv = run["server"]
    jf = jf[jf["key"].isin(sent_keys(run, jf))]
    n = int((jf["status"] == "done").sum())
    return {"requests": len(jf), "server_answered": srv["completions"], "server_computed": srv["computed"],
            "computed_twice": srv["computed"] - n,
            "server_s_per_req": srv["server_s"] / max(1, srv["computed"]), "wall_s_per_req": run["wall_s"] / max(1, n),
            "server_share_of_wall": srv["server_s"] / run["wall_s"], "server_tok_s": srv["tokens_per_s"],
            "client_tok_s": float(jf["completion_tokens"].sum()) / run["wall_s"]}


def sent_keys(run: dict, jf: pd.DataFrame) -> list[str]:
    """The requests a run completed: every row of its journal answered after the run started (a journal copied
    from another variant keeps that variant's answers, which were not sent again)."""
    if "t0" not in run:
        return jf["key"].tolist()
    return jf.loc[jf["updated_at"] >= run["t0"], "key"].tolist()


def write_results(table: pd.DataFrame, measure: pd.DataFrame) -> None:
    """The Markdown report: runs and speed, lines kept and rejects, F1 on the development measure, drift."""
    runs = {n: json.loads((RUNS / n / "run.json").read_text()) for n in VARIANTS if (RUNS / n / "run.json").exists()}
    t = table.set_index("set")
    speed_cols = ["requests", "server_answered", "server_computed", "computed_twice", "server_s_per_req", "wall_s_per_req",
                  "server_share_of_wall", "server_tok_s", "client_tok_s"]
    line_cols = ["requested", "parsed", "cleaned", "verified", "relabelled", "kept_share", "on_section"]
    llm = [n for n in t.index if n in VARIANTS]
    out = [f"# The LLM path against a real weak model (issue 12)\n\n{machine()}; server {MODEL} "
           f"(Qwen2.5-Coder-1.5B-Instruct Q4_K_M, llama-cpp-python, 2 threads, one request at a time) at {URL}; "
           f"{N_PER_TARGET} lines per target for B, O, T, U ({LINES_PER_REQUEST} lines per request), temperature "
           f"{TEMPERATURE}, concurrency 1; generated {time.strftime('%Y-%m-%d')}. Commands:\n"]
    out += [f"- `{n}`: `{runs[n]['command']}`" for n in runs]
    server_total = sum(r["server"]["server_s"] for r in runs.values())
    wall_total = sum(r["wall_s"] for r in runs.values())
    out.append(f"\nServer time over every run: {server_total / 60:.1f} min (wall {wall_total / 60:.1f} min).\n")
    for n, r in runs.items():
        if r["rc"]:
            srv = r["server"]
            out.append(f"`{n}` failed (exit code {r['rc']}): the server received {srv['posts']} requests and answered "
                       f"{srv['completions']} with 200 in {r['wall_s']:.0f} s; see `runs/llm_real/{n}/stdout.txt`.\n")
    out += ["## Speed: the server's own time against the run's wall time\n",
            to_markdown(t.loc[llm, speed_cols].reset_index(), ".2f"), ""]
    out.append("`server_answered`: `POST /v1/chat/completions` answered 200 in the server's log; `server_computed`: "
               "its `llama_perf_context_print` records (one per computed completion, abandoned ones included); "
               "`server_share_of_wall`: the sum of the server's per-request times over the run's wall time "
               "(process start to end, concurrency 1).\n")
    if "kill" in runs.get("default", {}):
        k = runs["default"]["kill"]
        out.append(f"Kill and resume (`default`): {kill_check(runs['default'], int(t.loc['default', 'requests']))} "
                   f"(SIGKILL after {k['after_s']} s with {k['done_at_kill']} requests done, then the same command again).\n")
    lines = t.loc[[n for n in t.index if n not in DRIFT], line_cols].reset_index()
    for c in ("requested", "parsed", "cleaned", "verified", "relabelled"):
        lines[c] = lines[c].map(lambda v: "" if pd.isna(v) else int(v))
    out += ["## Lines: requested, after parsing, cleaning and verification\n",
            to_markdown(lines.fillna(""), ".3f"), "",
            "Rejects by reason:\n",
            to_markdown(t.loc[[n for n in t.index if n not in DRIFT], ["parse_rejects", "clean_drops", "verify_drops"]]
                        .reset_index().fillna(""), ".3f"), ""]
    drift = [n for n in DRIFT if n in t.index]
    if drift:
        for what, head in (("on_req", "share of each request's lines the reference classifier puts in U"),
                           ("kept_req", "share of each request's 20 lines kept by cleaning and verification")):
            cols = sorted([c for c in t.columns if c.startswith(what)], key=lambda c: int(c[len(what):]))
            out += [f"## Many requests on one short note (99.00, 8 uncapped requests): {head}\n",
                    to_markdown(t.loc[drift, ["parsed", "cleaned", "verified", *cols]].reset_index(), ".2f"), ""]
    m = measure.copy()
    m["variant"] = m["variant"].str.replace("real+", "real + ", regex=False)
    out += ["## F1 on the development measure (6 inner splits x 2 fastText seeds, never the test rows)\n",
            to_markdown(m.drop(columns=[c for c in m.columns if c.startswith("n_")]), ".3f"), ""]
    text = "\n".join(out) + "\n"
    (RESULTS / "llm_real.md").write_text(text, encoding="utf-8")
    table.to_csv(RUNS / "table.csv", index=False)
    measure.to_csv(RUNS / "measure.csv", index=False)
    print(text)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--serve", action="store_true", help="(re)start the local server with the AMX buffers off")
    p.add_argument("--phase", choices=["generate", "evaluate", "replicate", "all"], default="all")
    p.add_argument("--only", nargs="*", help="variants to generate (default: all)")
    args = p.parse_args()
    if args.worker:
        worker(json.loads(args.worker))
        return 0
    if args.serve:
        return serve()
    if args.phase in ("generate", "all"):
        for name in args.only or VARIANTS:
            info = run_variant(name, kill=name == "default")
            print(name, json.dumps({k: info[k] for k in ("rc", "wall_s", "server")}))
            if "kill" in info:
                print(kill_check(info, journal_done(RUNS / name / "lines.journal.sqlite", status=None)))
    if args.phase in ("evaluate", "all"):
        evaluate()
    if args.phase in ("replicate", "all"):
        replicate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
