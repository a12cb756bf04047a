"""Issue 12: the LLM generator's rewrite mode -- each request gives the model lines of the offline generator
(the seeds) and asks for them in a declarant's words. Asserted on what a real HTTP server received
(:class:`statcodgen.testing.OpenAIStubServer`) and on the lines, rejects, shortfall and stats that came back."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from statcodgen.classification import Hierarchy
from statcodgen.cleaning import clean
from statcodgen.errors import ConfigError
from statcodgen.generation import LLMGenerator, build_messages, generate, generation_plan, seed_pool
from statcodgen.llm import LLMConfig
from statcodgen.sources import load_notes
from statcodgen.testing import OpenAIStubServer

ROOT = Path(__file__).resolve().parents[1]
NOTES = ROOT / "notes" / "sample_notes_en.csv"
_SEED = re.compile(r"^(\d+)\. (.+)$", re.M)


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-rewrite-0123456789")


@pytest.fixture(scope="module")
def notes() -> pd.DataFrame:
    return load_notes(NOTES)


def _user(body: dict) -> str:
    return next(m["content"] for m in body["messages"] if m["role"] == "user")


def _seeds(body: dict) -> list[str]:
    found = _SEED.findall(_user(body))
    assert [int(i) for i, _ in found] == list(range(1, len(found) + 1))
    return [s for _, s in found]


def _cfg(server: OpenAIStubServer, **kw) -> LLMConfig:
    return LLMConfig(base_url=server.base_url, model="stub-model", concurrency=1, max_retries=0, temperature=0.5, **kw)


def paraphrase(body: dict) -> str:
    """A weak model: the first seed copied as it is, the others reworded, the last one left out."""
    seeds = _seeds(body)
    return "\n".join([seeds[0], *(f"{s} (OWN BUSINESS)" for s in seeds[1:-1])])


def test_rewrite_requests_give_the_offline_lines_and_top_ups_take_the_next_seeds(tmp_path: Path, notes: pd.DataFrame) -> None:
    h = Hierarchy.from_notes(notes)
    plan = generation_plan(notes, targets=["T", "U"], n_per_target=12, min_per_code=1)
    pool = seed_pool(notes, plan, language="en", hierarchy=h)
    offline = generate(notes, plan, generator="offline", language="en", hierarchy=h, progress=False).lines
    for code, n in zip(plan["code"], plan["n_samples"]):  # the pool starts with the offline lines the cleaning keeps
        mine = [t for t in offline.loc[offline["code"] == code, "text"] if t in set(pool[code])]
        assert pool[code][: len(mine)] == mine and len(mine) >= int(n) - 2, code
    pooled = pd.DataFrame([{"code": c, "label": t, "text": x} for c, t in zip(plan["code"], plan["target"]) for x in pool[c]])
    assert len(clean(pooled, notes=notes, language="en", progress=False).kept) == len(pooled)  # no seed it would drop
    with OpenAIStubServer(responder=paraphrase) as srv:
        gen = LLMGenerator(_cfg(srv), journal_path=tmp_path / "j.sqlite", lines_per_request=5, mode="rewrite")
        res = generate(notes, plan, generator=gen, language="en", hierarchy=h, progress=False)
        bodies = [r.body for r in srv.requests]
        srv.clear()
        again = generate(notes, plan, generator=gen, language="en", hierarchy=h, progress=False)
        assert not srv.requests  # resumed: nothing is sent twice, top-ups included
    by_code: dict[str, list[str]] = {}
    for b in bodies:
        code = re.match(r"Class (\S+):", _user(b)).group(1)
        assert f"Here are {len(_seeds(b))} descriptions" in _user(b) and "Write only about" not in _user(b)
        by_code.setdefault(code, []).extend(_seeds(b))
    for code, n in zip(plan["code"], plan["n_samples"]):
        given = by_code[code]
        assert given == pool[code][: len(given)] and len(set(given)) == len(given), code  # each seed given once, in order
        assert len(given) > int(n) or len(pool[code]) <= int(n), code  # a top-up round took the pool's next seeds
    assert res.stats["mode"] == "rewrite" and res.stats["refill"]["requests"] > 0
    assert res.stats["echo_seed"] == len(bodies)  # the first seed of every request came back as it was: kept
    texts = set(res.lines["text"])
    assert all(s in texts for b in bodies for s in _seeds(b)[:1])
    assert all(f"{s} (OWN BUSINESS)" in texts for b in bodies for s in _seeds(b)[1:-1])
    assert again.lines.equals(res.lines)
    with OpenAIStubServer(responder=paraphrase) as srv:  # the copies rejected instead, with their text
        gen = LLMGenerator(_cfg(srv), journal_path=tmp_path / "r.sqlite", lines_per_request=5, mode="rewrite",
                           echo_items="reject", refill=0)
        rej = generate(notes, plan, generator=gen, language="en", hierarchy=h, progress=False)
        first = [_seeds(r.body)[0] for r in srv.requests]
    copies = rej.rejected[rej.rejected["reason"].isin(["echo_seed", "echo_prompt"])]  # a seed that is a note item: echo_prompt
    assert sorted(copies["text"]) == sorted(first) and not set(first) & set(rej.lines["text"])
    assert (rej.rejected["reason"] == "echo_seed").sum() > 0


def test_json_rewrite_asks_for_as_many_lines_as_it_gives_and_short_pools_say_why(tmp_path: Path, notes: pd.DataFrame) -> None:
    h = Hierarchy.from_notes(notes)
    plan = generation_plan(notes, targets=["U"], n_per_target=400, min_per_code=1)
    pool = seed_pool(notes, plan, language="en", hierarchy=h)
    assert len(pool["99.00"]) < 400  # a two-item note cannot give 400 distinct lines

    def answer(body: dict) -> str:
        n = body["response_format"]["json_schema"]["schema"]["properties"]["lines"]["minItems"]
        assert n == len(_seeds(body))
        return json.dumps({"lines": [f"{s} office" for s in _seeds(body)]})

    with OpenAIStubServer(responder=answer) as srv:
        gen = LLMGenerator(_cfg(srv, json_output=True), journal_path=tmp_path / "j.sqlite", mode="rewrite")
        res = generate(notes, plan, generator=gen, language="en", hierarchy=h, progress=False)
        n_requests = len(srv.requests)
    assert len(res.lines) == len(pool["99.00"]) and n_requests == -(-len(pool["99.00"]) // 20)
    assert res.stats["capped"] == [] and res.stats["echo_seed"] == 0
    why = res.shortfall.set_index("code").loc["99.00", "reason"]
    assert f"rewrite: the offline generator gives {len(pool['99.00'])} seed lines" in why


def test_rewrite_prompts_in_every_language_and_bad_options(tmp_path: Path, notes: pd.DataFrame) -> None:
    row = notes.set_index("code", drop=False).loc["97.00"]
    for lang, word in (("en", "Rewrite each"), ("fr", "Réécris chaque"), ("es", "Reescribe cada")):
        user = build_messages(row, language=lang, n_lines=2, seeds=["ALPHA LINE", "BETA LINE"])[1]["content"]
        assert word in user and "1. ALPHA LINE\n2. BETA LINE" in user
    with pytest.raises(ConfigError, match="'seeds' parameter of build_messages must hold n_lines=3"):
        build_messages(row, language="en", n_lines=3, seeds=["ALPHA LINE", "BETA LINE"])
    (tmp_path / "prompt_system.de.j2").write_text("System")
    (tmp_path / "prompt_user.de.j2").write_text("User {{ n_lines }}")
    with pytest.raises(ConfigError, match="'rewrite_user.de.j2' is not in the package or template_dir"):
        build_messages(row, language="de", n_lines=1, seeds=["X"], template_dir=tmp_path)
    with pytest.raises(ConfigError, match="'mode' parameter of LLMGenerator"):
        LLMGenerator(LLMConfig(model="m"), journal_path=tmp_path / "x.sqlite", mode="paraphrase")
    cli = subprocess.run([sys.executable, "-m", "statcodgen", "generate", "--notes", str(NOTES), "--targets", "U",
                          "--out", str(tmp_path / "o.parquet"), "--mode", "rewrite"], capture_output=True, text=True, cwd=ROOT)
    assert cli.returncode != 0 and "--mode are options of LLM requests" in cli.stderr


def test_french_rewrite_with_personas_records_who_rewrote_each_line(tmp_path: Path) -> None:
    from statcodgen.personas.persona import personas_from_frame, sample_personas

    notes = load_notes(ROOT / "tests" / "fixtures" / "notes_naf_like.csv")
    plan = generation_plan(notes, targets=["B", "T"], n_per_target=6, min_per_code=1)
    personas = personas_from_frame(sample_personas(5, locale="fr_FR", seed=0))
    pool = seed_pool(notes, plan, language="fr")
    with OpenAIStubServer(responder=lambda body: "\n".join(f"{s} SARL" for s in _seeds(body))) as srv:
        gen = LLMGenerator(_cfg(srv), journal_path=tmp_path / "fr.sqlite", refill=0)  # the default mode: rewrite
        res = generate(notes, plan, generator=gen, language="fr", personas=personas, progress=False)
        bodies = [r.body for r in srv.requests]
    users = [_user(b) for b in bodies]
    assert all(u.startswith("Sous-classe ") and "Réécris chaque description" in u for u in users)
    assert sorted(s for b in bodies for s in _seeds(b)) == sorted(s for c in plan["code"] for s in pool[c][:6])
    by_id = {p.id: p.to_prompt("fr") for p in personas}
    persona_of = dict(zip(res.lines["text"], res.lines["persona_id"]))
    for b in bodies:  # each line records the persona whose paragraph its request's system prompt held
        system = next(m["content"] for m in b["messages"] if m["role"] == "system")
        ids = {persona_of[f"{s} SARL".upper()] for s in _seeds(b)}
        assert len(ids) == 1 and by_id[ids.pop()] in system
    assert res.lines["persona_id"].nunique() > 1 and res.lines["text"].str.endswith(" SARL").all()
    assert res.stats["echo_seed"] == 0 and len(res.lines) == sum(len(_seeds(b)) for b in bodies)


def test_a_line_repeated_for_a_code_is_set_aside_and_asked_for_again(tmp_path: Path, notes: pd.DataFrame) -> None:
    """A weak model rewrites two near-identical seeds into the same line: the repeat is ``repeated_line`` (with its
    text), the code counts it as missing, and the top-up round asks for one more seed per repeat."""
    h = Hierarchy.from_notes(notes)
    plan = generation_plan(notes, targets=["T", "U"], n_per_target=12, min_per_code=1)

    def collapse(body: dict) -> str:  # every seed's rewrite is the code's first seed + "LTD"; the others are new
        seeds = _seeds(body)
        first = "SAME LINE LTD" if "Class 99.00" in _user(body) else f"{seeds[0]} LTD"
        return "\n".join([first, first, *(f"{s} REWORDED" for s in seeds[2:])])

    with OpenAIStubServer(responder=collapse) as srv:
        gen = LLMGenerator(_cfg(srv), journal_path=tmp_path / "j.sqlite", lines_per_request=6, mode="rewrite")
        res = generate(notes, plan, generator=gen, language="en", hierarchy=h, progress=False)
        bodies = [r.body for r in srv.requests]
    rep = res.rejected[res.rejected["reason"] == "repeated_line"]
    u_bodies = [b for b in bodies if "Class 99.00" in _user(b)]
    assert len(u_bodies) >= 3  # 12 lines = 2 requests, then top-ups for the repeats
    assert (res.lines["text"] == "SAME LINE LTD").sum() == 1 and not res.lines.duplicated(["code", "text"]).any()
    assert (rep.loc[rep["code"] == "99.00", "text"] == "SAME LINE LTD").sum() == 2 * len(u_bodies) - 1
    assert set(rep["raw"]) == set(rep["text"]) and res.stats["refill"]["requests"] > 0
    u_short = res.shortfall.set_index("code").loc["99.00"]  # the top-up's repeats too: still short, and why
    assert f"line(s) removed by parsing (repeated_line {(rep['code'] == '99.00').sum()})" in u_short["reason"]
    u_asked = sum(len(_seeds(b)) for b in u_bodies)
    assert u_asked > 12 and len(res.lines[res.lines["code"] == "99.00"]) == u_asked - len(rep[rep["code"] == "99.00"])
