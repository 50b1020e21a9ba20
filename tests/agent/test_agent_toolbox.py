"""The toolbox: concurrency, the exact-repeat guard, the result cap with a summary first, errors, redaction."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from pydantic import BaseModel, ConfigDict

from agent.toolbox import Toolbox, ToolCall, bounded_content, summarize
from skills.base import SkillError, Tool
from skills.results import RESULT_BUDGET_BYTES, RESULT_MAX_BYTES
from tests.fakes.grafana import FakeGrafana


class Args(BaseModel):
    model_config = ConfigDict(extra="forbid")
    q: str = ""
    n: int = 1


def tool(name: str, handler: Any, skill: str = "demo") -> Tool:
    return Tool(name, f"{name} for tests", Args, handler, skill=skill)


async def test_calls_of_one_batch_run_concurrently() -> None:
    started = {"a": asyncio.Event(), "b": asyncio.Event()}

    def waits_for(mine: str, other: str) -> Any:
        async def handler(_: Args) -> dict:
            started[mine].set()
            await asyncio.wait_for(started[other].wait(), 5)  # sequential execution would time out here
            return {"ok": mine}

        return handler

    box = Toolbox([tool("a", waits_for("a", "b")), tool("b", waits_for("b", "a"))])
    a, b = await box.run([ToolCall("demo_a", {}, "t1"), ToolCall("demo_b", {}, "t2")])
    assert (a.ok, b.ok) == (True, True), (a.error, b.error)
    assert a.call.id == "t1" and b.call.id == "t2"
    assert a.started < b.finished and b.started < a.finished


async def test_an_exact_repeat_runs_once_even_within_one_batch() -> None:
    runs: list[dict] = []

    async def handler(p: Args) -> dict:
        runs.append(p.model_dump())
        await asyncio.sleep(0)
        return {"total": 7}

    box = Toolbox([tool("count", handler)])
    first, twin = await box.run(
        [ToolCall("demo_count", {"q": "x", "n": 2}), ToolCall("demo_count", {"n": 2, "q": "x"})]
    )
    later = await box.call(ToolCall("demo_count", {"n": 2, "q": "x"}, "t9"))
    other = await box.call(ToolCall("demo_count", {"n": 3, "q": "x"}))
    assert runs == [{"q": "x", "n": 2}, {"q": "x", "n": 3}]
    assert box.executed == 2
    assert not first.repeated and twin.repeated and later.repeated and not other.repeated
    assert later.call.id == "t9" and later.data == first.data
    assert later.content.startswith("Repeat of an earlier call") and first.content in later.content


async def test_a_repeat_waiting_on_a_cancelled_first_call_runs_it_itself() -> None:
    started, release = asyncio.Event(), asyncio.Event()
    runs = 0

    async def handler(_: Args) -> dict:
        nonlocal runs
        runs += 1
        started.set()
        await release.wait()
        return {"total": runs}

    box = Toolbox([tool("count", handler)])
    first = asyncio.create_task(box.call(ToolCall("demo_count", {"q": "x"})))
    await started.wait()
    twin = asyncio.create_task(box.call(ToolCall("demo_count", {"q": "x"})))
    await asyncio.sleep(0)  # the twin is waiting on the first call's outcome
    first.cancel()
    started.clear()
    await started.wait()  # the twin runs the call itself
    release.set()
    outcome = await twin
    assert first.cancelled() and outcome.ok and not outcome.repeated and outcome.data == {"total": 2}
    assert box.executed == 1


async def test_results_are_capped_with_the_summary_first() -> None:
    async def big(_: Args) -> dict:
        return {"total": 5000, "explore_url": "https://g.example/explore?x", "lines": ["x" * 100] * 5000}

    box = Toolbox([tool("big", big)], result_bytes=4000)
    outcome = await box.call(ToolCall("demo_big"))
    assert len(outcome.content.encode()) <= 4000
    first_line, second_line = outcome.content.splitlines()[:2]
    assert first_line.startswith("Summary: total=5000") and "lines: 5000 items" in first_line
    assert second_line == "Link to cite: https://g.example/explore?x"
    assert "result cut" in outcome.content and "Narrow the call" in outcome.content
    assert outcome.links == ["https://g.example/explore?x"]


async def test_the_cap_has_one_home_and_one_unit_utf8_bytes() -> None:
    """skills/results.py holds the cap on what the model reads of a result and the share a tool's rows may fill, both
    in UTF-8 bytes (what the API counts tokens from), so text in any script is held to the same size."""

    async def accented(_: Args) -> dict:
        return {"lines": ["délai dépassé — réessayez plus tard"] * 2000}

    box = Toolbox([tool("accented", accented)])
    assert box.result_bytes == RESULT_MAX_BYTES and RESULT_BUDGET_BYTES < RESULT_MAX_BYTES
    outcome = await box.call(ToolCall("demo_accented"))
    assert RESULT_MAX_BYTES - 200 < len(outcome.content.encode()) <= RESULT_MAX_BYTES
    assert "result cut" in outcome.content and "\ufffd" not in outcome.content  # never a character cut in half


async def test_errors_become_error_outcomes_with_their_text() -> None:
    async def fails(_: Args) -> dict:
        raise SkillError("Grafana", "the token was rejected (401)", "Update GRAFANA_TOKEN")

    async def crashes(_: Args) -> dict:
        raise KeyError("internal detail")

    box = Toolbox([tool("fails", fails), tool("crashes", crashes)])
    skill, bad_args, unknown, crash = await box.run(
        [
            ToolCall("demo_fails"),
            ToolCall("demo_fails", {"nope": 1}),
            ToolCall("demo_missing"),
            ToolCall("demo_crashes"),
        ]
    )
    assert not skill.ok and skill.content == "Error: Grafana: the token was rejected (401). Update GRAFANA_TOKEN"
    assert not bad_args.ok and "nope" in (bad_args.error or "") and "input schema" in (bad_args.error or "")
    assert not unknown.ok and "unknown tool 'demo_missing'" in (unknown.error or "") and "demo_fails" in unknown.error
    assert not crash.ok and crash.error == "demo_crashes failed unexpectedly (KeyError)"


async def test_a_slow_tool_times_out() -> None:
    async def slow(_: Args) -> dict:
        await asyncio.Event().wait()
        return {}

    box = Toolbox([tool("slow", slow)], timeout=0.05)
    outcome = await box.call(ToolCall("demo_slow"))
    assert not outcome.ok and "did not finish within" in (outcome.error or "")


async def test_secrets_are_redacted_from_results_errors_args_and_specs() -> None:
    secret = "glsa_super_secret_token_42"

    async def leaky(p: Args) -> dict:
        return {secret: f"Authorization: Bearer {secret}", "nested": [{"q": p.q}]}

    async def leaky_error(_: Args) -> dict:
        raise SkillError("Grafana", f"bad token {secret}")

    box = Toolbox([tool("leaky", leaky), tool("err", leaky_error)], secrets=[secret])
    ok, err = await box.run([ToolCall("demo_leaky", {"q": secret}), ToolCall("demo_err")])
    assert secret not in repr(ok) and secret not in repr(err)
    assert ok.data == {"[redacted]": "Authorization: Bearer [redacted]", "nested": [{"q": "[redacted]"}]}
    assert secret not in str(box.specs())


def test_summary_names_the_telling_numbers_and_the_hint() -> None:
    line = summarize({"firing": 2, "pending": 0, "alerts": [1, 2], "hint": "open alerting_url", "x": "y"})
    assert line == "Summary: firing=2; pending=0; alerts: 2 items. Hint: open alerting_url"
    assert summarize([1, 2, 3]) == "Summary: 3 items"
    assert bounded_content({"a": 1}).endswith('{"a":1}')


async def test_for_team_offers_only_configured_skills(services) -> None:
    from skills import amplitude, grafana

    services = replace(services, skill_factories=[grafana.open_skill, amplitude.open_skill])
    team = await services.team_for(None)
    offered = await Toolbox.for_team(services, team)
    # only the changes tool, which reads sitrep's own table
    assert set(offered.tools) == {"recent_changes"} and set(offered.not_ready) == {"grafana", "amplitude"}
    every = await Toolbox.for_team(services, team, include_unconfigured=True)
    assert "grafana_query_loki" in every.tools and "amplitude_query_events" in every.tools
    assert "grafana_create_dashboard" not in every.tools
    writable = await Toolbox.for_team(services, team, include_unconfigured=True, allow_write=True)
    assert "grafana_create_dashboard" in writable.tools


async def test_a_blocked_skill_has_its_tools_held_back_and_the_answer_says_why(
    env: dict[str, str], grafana: FakeGrafana
) -> None:
    from agent import respond
    from agent.question import Question
    from agent.services import Services
    from settings import Settings
    from skills import grafana as grafana_skill
    from skills.readiness import skill_readiness
    from storage.services import open_storage

    settings = Settings.from_env({**env, "GRAFANA_URL": grafana.url, "GRAFANA_TOKEN": "glsa_revoked"})
    services = Services(settings, await open_storage(settings), skill_factories=[grafana_skill.open_skill])
    try:
        team = await services.team_for(None)
        [skill] = await services.skills_for(team)
        assert (await Toolbox.for_team(services, team)).has("grafana_query_loki")  # not checked yet: offered
        row = await skill_readiness(skill)
        assert row.status == "blocked"
        box = await Toolbox.for_team(services, team, include_unconfigured=True)
        assert not box.has("grafana_query_loki") and box.has("recent_changes")
        assert box.blocked["grafana"].startswith("Grafana is blocked: ")
        [outcome] = await box.run([ToolCall("grafana_query_loki", {"query": '{app="web"}'})])
        assert not outcome.ok and outcome.error == box.blocked["grafana"]
        reply = await respond(services, Question(text="any errors in the last hour?", team=team, source="shell"))
        assert reply.left_out == [box.blocked["grafana"]] and "left out: Grafana is blocked" in reply.footer
        # Blocked on data (no log line in the last hour), not on access: the tools are how to look, so they stay
        skill.record_readiness(replace(row, missing="no line in the last hour", tools_usable=True))
        assert (await Toolbox.for_team(services, team)).has("grafana_query_loki")
    finally:
        await services.close()
