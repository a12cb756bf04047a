"""Issue 12, parts 3-4 and the echo rule: the requests of one code capped by how rich its note is (and the plan
saying so), their distinct angles (the whole note, then one item each), the sibling titles as "not this class",
and what becomes of an answer line that copies a note item -- asserted on what a real HTTP server received
(:class:`statcodgen.testing.OpenAIStubServer`) and on the lines that came back."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from statcodgen.classification import Hierarchy
from statcodgen.errors import ConfigError
from statcodgen.generation import LLMGenerator, generate, generation_plan
from statcodgen.generation.plan import CAP_COLUMNS, PLAN_COLUMNS, cap_requests, request_cap
from statcodgen.generation.prompts import build_messages, note_angles, request_angle, sibling_titles
from statcodgen.llm import LLMConfig
from statcodgen.llm.parsing import format_output
from statcodgen.sources import load_notes
from statcodgen.testing import OpenAIStubServer

NOTES = Path(__file__).resolve().parents[1] / "notes" / "sample_notes_en.csv"


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-prompts-0123456789")


@pytest.fixture(scope="module")
def notes() -> pd.DataFrame:
    return load_notes(NOTES)


def _user(body: dict) -> str:
    return next(m["content"] for m in body["messages"] if m["role"] == "user")


def _focus(body: dict) -> str:
    m = re.search(r"Write only about this part of the class: (.+)", _user(body))
    return m.group(1).strip() if m else ""


def _cfg(server: OpenAIStubServer, **kw) -> LLMConfig:
    return LLMConfig(base_url=server.base_url, model="stub-model", concurrency=1, max_retries=0, temperature=0.5, **kw)


# --- the plan in requests ---------------------------------------------------------------------------------------


def test_plan_caps_a_short_note_and_says_why(notes: pd.DataFrame) -> None:
    plan = generation_plan(notes, targets=["U", "T"], n_per_target=300, lines_per_request=20)
    assert list(plan.columns) == PLAN_COLUMNS + CAP_COLUMNS
    u = plan.set_index("code").loc["99.00"]  # 2 items: 1 request on the whole note + 1 per item + 1 more = 4
    assert request_cap(2) == 4 and u["max_requests"] == 4 and u["n_samples"] == 80 and u["n_requests"] == 4
    assert "2 item(s)" in u["capped_reason"] and "the target gets 80 of 300 lines" in u["capped_reason"]
    t = plan.set_index("code").loc["97.00"]  # 6 items: 8 requests = 160 lines of the 300 asked
    assert (t["max_requests"], t["n_samples"], t["n_requests"]) == (8, 160, 8)
    # the default plan (lines only, what the offline generator wants) is unchanged and uncapped
    lines_only = generation_plan(notes, targets=["U", "T"], n_per_target=300)
    assert list(lines_only.columns) == PLAN_COLUMNS and lines_only["n_samples"].tolist() == [300, 300]


def test_a_capped_code_gives_its_lines_to_the_other_codes_of_its_target(notes: pd.DataFrame) -> None:
    plan = generation_plan(notes, targets=["O"], n_per_target=200, min_per_code=1)  # 84.11: 5 items, 84.25: 2
    assert plan["n_samples"].tolist() == [100, 100]
    capped = cap_requests(plan, lines_per_request=20)
    by = capped.set_index("code")
    assert by.loc["84.25", "n_samples"] == 80 and by.loc["84.11", "n_samples"] == 120  # 20 moved, 84.11 has room for 140
    assert "moved to the other codes of the target" in by.loc["84.25", "capped_reason"] and by.loc["84.11", "capped_reason"] == ""
    assert capped["n_samples"].sum() == 200
    again = cap_requests(capped, lines_per_request=20)
    assert again["n_samples"].tolist() == capped["n_samples"].tolist()  # idempotent
    assert cap_requests(plan, lines_per_request=20, max_requests=None)["n_samples"].tolist() == [100, 100]
    assert cap_requests(plan, lines_per_request=10, max_requests=3)["n_samples"].tolist() == [30, 30]
    with pytest.raises(ConfigError, match="'max_requests' parameter of cap_requests"):
        cap_requests(plan, max_requests=0)
    with pytest.raises(ConfigError, match="give the notes"):
        cap_requests(plan.drop(columns="n_items"))
    assert cap_requests(plan.drop(columns="n_items"), notes=notes)["max_requests"].tolist() == [7, 4]


# --- the prompts --------------------------------------------------------------------------------------------------


def test_angles_siblings_and_focus_in_the_prompt(notes: pd.DataFrame) -> None:
    h = Hierarchy.from_notes(notes)
    row = notes.set_index("code", drop=False).loc["08.12"]
    angles = note_angles(row)
    assert len(angles) == len(set(angles)) == 6
    assert [request_angle(angles, i) for i in (0, 1, 6, 7, 8)] == ["", angles[0], angles[5], "", angles[0]]
    assert sibling_titles("08.12", h) == ["Quarrying of stone for building and ornaments, chalk, gypsum and slate"]
    assert sibling_titles("84.11", h) == ["Fire service activities"]  # no sibling in its group: its division's
    assert sibling_titles("99.00", h) == [] and sibling_titles("08.12", None) == []
    user = build_messages(row, language="en", hierarchy=h, focus=angles[2])[1]["content"]
    assert user.startswith("Class 08.12: Sand and gravel pits")
    assert "Not this class: Quarrying of stone for building" in user
    assert f"Write only about this part of the class: {angles[2]}" in user
    plain = build_messages(row, language="en", hierarchy=h, contrast=False)[1]["content"]
    assert "Not this class" not in plain and "Write only about" not in plain
    for lang, marker in (("fr", "Écris seulement sur cette partie"), ("es", "Escribe solo sobre esta parte")):
        assert marker in build_messages(row, language=lang, focus="x")[1]["content"]


# --- on the wire --------------------------------------------------------------------------------------------------


def test_requests_of_one_code_are_capped_and_take_distinct_angles(tmp_path: Path, notes: pd.DataFrame) -> None:
    h = Hierarchy.from_notes(notes)
    plan = generation_plan(notes, targets=["U", "B"], n_per_target=200, min_per_code=1)
    answers = itertools.count()  # every answer new lines: a repeated line would be asked for again in a top-up

    with OpenAIStubServer(responder=lambda body: "\n".join(f"LINE {next(answers)}" for i in range(20))) as srv:
        gen = LLMGenerator(_cfg(srv), journal_path=tmp_path / "j.sqlite", lines_per_request=20, mode="write")
        res = generate(notes, plan, generator=gen, hierarchy=h, progress=False)
        bodies = [r.body for r in srv.requests]
        uncapped = LLMGenerator(_cfg(srv), journal_path=tmp_path / "j2.sqlite", max_requests=None, angles=False, mode="write")
        srv.clear()
        generate(notes, plan[plan["target"] == "U"], generator=uncapped, hierarchy=h, progress=False)
        repeated = [r.body for r in srv.requests]
    u = [b for b in bodies if "Class 99.00" in _user(b)]
    angles = note_angles(notes.set_index("code", drop=False).loc["99.00"])
    assert len(u) == 4  # 200 lines asked = 10 requests; the two-item note takes 4
    assert sorted(_focus(b) for b in u) == sorted(["", angles[0], angles[1], ""])
    b = [b for b in bodies if "Class 08.1" in _user(b)]
    assert len(b) == 10  # 08.11 (5 items) and 08.12 (6 items) take their 100 lines: 5 requests each, uncapped
    assert {_focus(x) for x in b if "Class 08.11" in _user(x)} == {"", *note_angles(notes.set_index("code", drop=False).loc["08.11"])[:4]}
    assert all("Not this class:" in _user(x) for x in b) and not any("Not this class" in _user(x) for x in u)
    assert res.stats["capped"] == [{"code": "99.00", "reason": res.stats["capped"][0]["reason"]}]
    short = res.shortfall.set_index("code")
    assert short.loc["99.00", "planned"] == 200 and short.loc["99.00", "produced"] == 80
    assert short.loc["99.00", "reason"].startswith("capped: the note has 2 item(s): at most 4 requests")
    assert len(repeated) == 10 and {_user(x) for x in repeated} == {_user(u[0])}  # the same prompt 10 times


def test_a_copy_of_a_note_item_is_kept_and_a_copy_of_the_instructions_is_not(tmp_path: Path, notes: pd.DataFrame) -> None:
    row = notes.set_index("code", drop=False).loc["99.00"]
    item = note_angles(row)[0]

    def answer(body: dict) -> str:  # what a weak model does: copy a note item, the example, the instructions
        return "\n".join([item.upper(), "BAKING AND SALE OF BREAD AND PASTRIES", "Every description must belong to this class.",
                          "OFFICE OF AN INTERNATIONAL TREATY BODY", row["title"]])

    plan = generation_plan(notes, targets=["U"], n_per_target=20)
    out = {}
    for rule in ("keep", "reject"):
        with OpenAIStubServer(responder=answer) as srv:
            gen = LLMGenerator(_cfg(srv), journal_path=tmp_path / f"{rule}.sqlite", echo_items=rule, refill=0, mode="write")
            out[rule] = generate(notes, plan, generator=gen, progress=False)
            assert len(srv.requests) == 1
    keep, reject = out["keep"], out["reject"]
    assert keep.lines["text"].tolist() == [item.upper(), "OFFICE OF AN INTERNATIONAL TREATY BODY", row["title"].upper()]
    assert sorted(keep.rejected["reason"]) == ["echo_prompt", "echo_prompt"]
    assert reject.lines["text"].tolist() == ["OFFICE OF AN INTERNATIONAL TREATY BODY"]
    assert set(reject.rejected["text"]) >= {item.upper(), row["title"]}
    with pytest.raises(ValueError, match="'echo_items' parameter of format_output"):
        format_output("x", echo_items="tag")
    with pytest.raises(ConfigError, match="'echo_items' parameter of LLMGenerator"):
        LLMGenerator(LLMConfig(model="m"), journal_path=tmp_path / "x.sqlite", echo_items="tag")


def test_json_mode_asks_for_the_lines_of_each_angle(tmp_path: Path, notes: pd.DataFrame) -> None:
    plan = generation_plan(notes, targets=["U"], n_per_target=50)

    def answer(body: dict) -> str:
        n = body["response_format"]["json_schema"]["schema"]["properties"]["lines"]["minItems"]
        return json.dumps({"lines": [f"treaty body office {next(answers)}" for i in range(n)]})

    answers = itertools.count()

    with OpenAIStubServer(responder=answer) as srv:
        res = generate(notes, plan, generator=LLMGenerator(_cfg(srv, json_output=True), journal_path=tmp_path / "j.sqlite", mode="write"),
                       progress=False)
        bodies = [r.body for r in srv.requests]
    assert len(bodies) == 3 and sorted(len(res.lines[res.lines["request_key"] == k]) for k in res.lines["request_key"].unique()) == [10, 20, 20]
    assert all('{"lines": [' in _user(b) for b in bodies) and len({_focus(b) for b in bodies}) == 3


# --- top-up requests for the lines a weak model did not write ----------------------------------------------------


def _asked(body: dict) -> int:
    return int(re.search(r"Write (\d+) different", _user(body)).group(1))


def test_refill_asks_for_exactly_the_missing_lines_on_the_next_angle_and_resumes(tmp_path: Path, notes: pd.DataFrame) -> None:
    h = Hierarchy.from_notes(notes)
    plan = generation_plan(notes, targets=["B", "T"], n_per_target=20, min_per_code=1)

    def three(body: dict) -> object:  # a weak model: 3 lines whatever it is asked; T's requests fail
        from statcodgen.testing import Fault

        if "Class 97.00" in _user(body):
            return Fault.server_error(500)
        return "\n".join(f"{_user(body)[6:11]} LINE {i} {_asked(body)} {_focus(body)[:12]}" for i in range(3))

    with OpenAIStubServer(responder=three) as srv:
        gen = LLMGenerator(_cfg(srv), journal_path=tmp_path / "j.sqlite", lines_per_request=5, mode="write")
        res = generate(notes, plan, generator=gen, hierarchy=h, progress=False)
        bodies = [r.body for r in srv.requests if r.status == 200]
        srv.clear()
        again = generate(notes, plan, generator=gen, hierarchy=h, progress=False)
        # resumed: the top-ups are journalled like the first requests; only the failed ones are tried again
        assert srv.requests and all("Class 97.00" in _user(r.body) for r in srv.requests)
        off = LLMGenerator(_cfg(srv), journal_path=tmp_path / "off.sqlite", lines_per_request=5, refill=0, mode="write")
        plain = generate(notes, plan[plan["target"] == "B"], generator=off, hierarchy=h, progress=False)
    b_plan = plan[plan["target"] == "B"].set_index("code")["n_samples"]
    first = {c: -(-int(n) // 5) for c, n in b_plan.items()}
    by_code: dict[str, list[dict]] = {}
    for body in bodies:
        by_code.setdefault(_user(body)[6:11], []).append(body)
    for code, n in b_plan.items():
        reqs = by_code[code]
        missing = int(n) - sum(min(3, _asked(b)) for b in reqs[: first[code]])
        top = reqs[first[code]:]
        assert missing <= 0 or len(top) == -(-missing // 5), code
        assert sum(_asked(b) for b in top) == max(0, missing), code  # exactly the missing lines
        angles = note_angles(notes.set_index("code", drop=False).loc[code])
        assert [_focus(b) for b in top] == [request_angle(angles, first[code] + i) for i in range(len(top))]
    assert not any("Class 97.00" in _user(b) for b in bodies)  # a code whose request failed is not topped up
    r = res.stats["refill"]
    assert r["rounds"] == 1 and r["requests"] == len(bodies) - sum(first.values()) > 0
    assert r["lines"] == len(res.lines) - len(plain.lines) and r["lines"] > 0
    assert res.stats["succeeded"] == len(bodies) and again.lines.equals(res.lines)
    assert plain.stats["refill"]["requests"] == 0 and len(plain.lines) == 3 * sum(first.values())
    with pytest.raises(ConfigError, match="refill"):
        LLMGenerator(_cfg(srv), journal_path=tmp_path / "x.sqlite", refill=9)
