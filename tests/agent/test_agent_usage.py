"""Tokens in/out and the model recorded per answer; `python app.py status` shows the last 24 h; summarize()."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import anthropic
import pytest

from agent import model_client, respond, summarize
from agent.question import Question
from settings import Settings
from storage.conversations import AnswerRecord, ConversationStore, Usage
from tests.fakes.anthropic import Reply, text, tool_calls
from tests.support.agent_world import MODEL, mention, world
from tests.support.environment import ROOT, subprocess_env


@pytest.mark.e2e  # runs `python app.py status` in a process
async def test_tokens_are_summed_over_turns_and_shown_by_status(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.model.script(
            Reply(
                tool_calls(("grafana_get_alerts", {})).content, "tool_use", {"input_tokens": 1200, "output_tokens": 40}
            ),
            Reply(text("1 alert firing.").content, "end_turn", {"input_tokens": 1500, "output_tokens": 60}),
        )
        await mention(w, "any alerts?")
        row = await w.services.storage.db.fetchone("SELECT * FROM answers")
        assert (row["planner"], row["model"], row["tokens_in"], row["tokens_out"]) == ("claude", MODEL, 2700, 100)
        assert (row["model_turns"], row["tool_calls"], row["source"]) == (2, 1, "mention")
        env = {"SITREP_DB": str(w.settings.db_path), "SITREP_SECRET_KEY": Settings.reveal(w.settings.secret_key) or ""}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "app.py"),
        "status",
        env=subprocess_env(env),
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    stdout = out.decode()
    assert proc.returncode == 0, err.decode()
    assert "Agent, last 24 h: 1 answer, 2,700 model tokens in, 100 out" in stdout
    assert f"{MODEL}: 1 answer, 2,700 tokens in, 100 out" in stdout


async def test_usage_covers_only_the_last_24_hours(services) -> None:
    store = ConversationStore(services.storage.db)
    team = await services.team_for(None)
    old = await store.record(AnswerRecord(team.id, "mention", "q", "a", "claude", Usage("m", 100, 10)))
    await store.record(AnswerRecord(team.id, "mention", "q", "a", "claude", Usage("m", 7, 3)))
    await store.record(AnswerRecord(team.id, "dm", "q", "a", "rules"))
    async with services.storage.db.transaction() as conn:
        await conn.execute(
            "UPDATE answers SET created_at = strftime('%Y-%m-%dT%H:%M:%fZ','now','-25 hours') WHERE id = ?", (old,)
        )
    rows = {(r.planner, r.model): r for r in await store.usage(24)}
    assert (rows[("claude", "m")].answers, rows[("claude", "m")].tokens_in, rows[("claude", "m")].tokens_out) == (
        1,
        7,
        3,
    )
    assert rows[("rules", None)].answers == 1


async def test_summarize_writes_a_paragraph_and_records_its_tokens(tmp_path: Path) -> None:
    async with world(tmp_path, serve_slack=False) as w:
        team = await w.services.team_for(None)
        w.model.script(text("Healthy: error rate **12.0%**, 1 alert firing."))
        facts = "Error rate 12.0% (15 of 125 lines). Alerts: 1 firing (High error rate)."
        paragraph = await summarize(w.services, team, facts, window="the last 12 hours")
        assert paragraph == "Healthy: error rate *12.0%*, 1 alert firing."
        (req,) = w.model.answered
        assert "tools" not in req.body and len(req.messages) == 1  # the facts go as data: never instructions
        assert req.said(0) == f'<data source="summary">\n{facts}\n</data>'
        assert "status report" in req.system and "covering the last 12 hours" in req.system
        row = await w.services.storage.db.fetchone("SELECT source, planner, tokens_in FROM answers")
        assert row["source"] == "summary" and row["planner"] == "claude" and row["tokens_in"] > 0
        assert await w.services.storage.db.fetchall("SELECT * FROM thread_turns") == []


async def test_summarize_is_none_without_a_key_or_when_claude_fails(tmp_path: Path) -> None:
    async with world(tmp_path, key=False, serve_slack=False) as w:
        assert await summarize(w.services, await w.services.team_for(None), "facts") is None
    async with world(tmp_path / "b", serve_slack=False, env={"ANTHROPIC_API_KEY": "sk-ant-wrong-000000"}) as w:
        assert await summarize(w.services, await w.services.team_for(None), "facts") is None
        assert w.model.requests and w.model.answered == []


async def test_one_anthropic_client_serves_every_question_and_closes_with_services(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[anthropic.AsyncAnthropic] = []

    class Counted(anthropic.AsyncAnthropic):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            built.append(self)

    monkeypatch.setattr(anthropic, "AsyncAnthropic", Counted)
    async with world(tmp_path, serve_slack=False) as w:
        w.model.script(text("Nothing is firing."), text("Still nothing."))
        team = await w.services.team_for(None)
        first = await respond(w.services, Question("any alerts?", team, "shell"))
        client = model_client.client(w.services)
        second = await respond(w.services, Question("and now?", team, "shell"))
        assert (first.planner, second.planner) == ("claude", "claude") and len(w.model.requests) == 2
        assert built == [client] and not client.is_closed()
    assert client.is_closed()


async def test_the_team_model_from_agent_settings_is_the_one_asked(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        await w.services.storage.config.patch("default", {"agents": {"model": "claude-haiku-5-5"}}, "UADMIN")
        w.model.script(Reply(text("All quiet.").content, "end_turn", {"input_tokens": 10, "output_tokens": 5}))
        await mention(w, "anything wrong?")
        assert [r.body["model"] for r in w.model.requests] == ["claude-haiku-5-5"]
        row = await w.services.storage.db.fetchone("SELECT model FROM answers")
        assert row["model"] == "claude-haiku-5-5" != MODEL
