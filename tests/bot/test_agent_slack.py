"""The agent end to end: a mention through the local Slack, Claude at the fake Messages API, tools at the fake
Grafana and Amplitude; and the same question without a key, answered by the rule-based planner."""

from __future__ import annotations

from pathlib import Path

from storage.conversations import ConversationStore
from tests.fakes.anthropic import ModelRequest, Reply, careless, text, tool_calls
from tests.fakes.grafana import FakeGrafana
from tests.support.agent_world import (
    ALL_LINES,
    ERROR_LINES,
    ERROR_RATE,
    HOSTILE_LINE,
    World,
    mention,
    seed,
    text_of,
    world,
)

LOKI_RANGE = "/loki/api/v1/query_range"
RULES_PATH = "/api/prometheus/grafana/api/v1/rules"


def loki_queries(w: World) -> list[str]:
    return [r.param("query") or "" for r in w.grafana.requests if r.path.endswith(LOKI_RANGE)]


async def test_mention_is_answered_from_a_real_tool_round_trip(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        query = 'sum(count_over_time({source=~".+"} |= "timeout" [1h]))'
        w.model.script(
            tool_calls(("grafana_query_loki", {"query": query, "since": "1h"})),
            text("Requests time out on the database: 10 timeouts in the last hour."),
        )
        event, post = await mention(w, "why are requests timing out?")
        assert query in loki_queries(w)  # the fake Grafana saw the model's query
        first, second = w.model.answered
        assert "grafana_query_loki" in first.tool_names and "amplitude_query_events" in first.tool_names
        assert "grafana_create_dashboard" not in first.tool_names  # a write tool only when asked to create
        assert first.said(-1) == "why are requests timing out?"  # the mention, without <@bot>
        system = first.system
        assert "time zone UTC" in system and "- Grafana: ready" in system and "- Amplitude: ready" in system
        (result,) = second.tool_results()
        assert result["content"].startswith('<data source="grafana_query_loki">\nSummary: ')  # a result is data
        assert "explore_url" in result["content"] and result["content"].endswith("\n</data>")
        assert post.args["channel"] == "C123" and post.args["thread_ts"] == event["ts"]
        body = text_of(post.args)
        assert body.startswith("Requests time out on the database: 10 timeouts in the last hour.")
        assert "Sources: <http://127.0.0.1:" in body and "/explore?schemaVersion=1" in body
        assert any(b["type"] == "actions" for b in post.args["blocks"])  # 👍/👎
        assert w.settings.model in body  # footer: the model, tool calls and tokens


async def test_several_tool_uses_in_one_turn_run_concurrently(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        probe = '{source="lambda"} |= "probe"'

        def both_at_once(req: ModelRequest) -> Reply:
            # armed now, after the readiness checks: holds both calls until both have reached Grafana
            w.grafana.gate = lambda r: r.path == RULES_PATH or "probe" in (r.query.get("query") or "")
            return tool_calls(("grafana_query_loki", {"query": probe, "since": "1h"}), ("grafana_get_alerts", {}))

        w.model.script(both_at_once, text("One alert is firing."))
        _, post = await mention(w, "anything odd?")
        assert w.grafana.arrived == 2 and not w.grafana.gate_timed_out  # both started before either finished
        results = w.model.answered[1].tool_results()
        assert [r["tool_use_id"] for r in results] == [
            b["id"] for b in w.model.answered[1].messages[-2]["content"] if b["type"] == "tool_use"
        ]
        assert all(not r.get("is_error") for r in results)
        assert "One alert is firing." in text_of(post.args)


async def test_an_exact_repeat_is_answered_from_the_first_result(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        call = ("grafana_query_loki", {"since": "1h", "query": '{source="edge"}'})
        same = ("grafana_query_loki", {"query": '{source="edge"}', "since": "1h"})  # same call, keys reordered
        w.model.script(tool_calls(call), tool_calls(same), text("Edge is fine."))
        await mention(w, "show edge logs")
        assert loki_queries(w).count('{source="edge"}') == 1
        first, again = w.model.answered[1].tool_results(), w.model.answered[2].tool_results()
        assert again[0]["content"].startswith('<data source="grafana_query_loki">\nRepeat of an earlier call')
        assert first[0]["content"].removeprefix('<data source="grafana_query_loki">') in again[0]["content"]


async def test_the_loop_stops_after_eight_model_turns(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        turn = iter(range(1, 100))

        def keep_digging(req: ModelRequest) -> Reply:
            if (req.body.get("tool_choice") or {}).get("type") == "none":
                return text("Partial: only labels were listed.")
            return tool_calls(("grafana_list_loki_labels", {"since": f"{next(turn)}h"}))

        w.model.default = keep_digging
        _, post = await mention(w, "dig forever")
        asked = w.model.answered
        assert len(asked) == 8
        assert all("tool_choice" not in r.body for r in asked[:7]) and asked[7].body["tool_choice"] == {"type": "none"}
        assert "Partial: only labels were listed." in text_of(post.args)
        row = await w.services.storage.db.fetchone("SELECT model_turns, tool_calls FROM answers")
        assert (row["model_turns"], row["tool_calls"]) == (8, 7)


async def test_a_follow_up_in_the_thread_sees_the_earlier_turn(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.model.script(text(f"The error rate is {ERROR_RATE}."), text("Since yesterday it is the same."))
        first, _ = await mention(w, "what's the error rate?")
        await mention(w, "and since yesterday?", thread_ts=first["ts"])
        follow_up = w.model.answered[1]
        roles = [m["role"] for m in follow_up.messages]
        assert roles == ["user", "assistant", "user"]
        assert "what's the error rate?" in follow_up.said(0)
        assert f"The error rate is {ERROR_RATE}." in follow_up.said(1)
        assert follow_up.said(2) == "and since yesterday?"
        other_thread = w.model.answered[0]
        assert len(other_thread.messages) == 1


async def test_a_tool_failure_goes_back_as_an_error_result(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.grafana.fail_next(500, times=5, path_prefix="/api/prometheus")
        w.model.script(tool_calls(("grafana_get_alerts", {})), text("Alerts could not be checked."))
        await mention(w, "any alerts?")
        (result,) = w.model.answered[1].tool_results()
        assert result["is_error"] is True and result["content"].startswith(
            '<data source="grafana_get_alerts">\nError: Grafana:'
        )


async def test_without_a_key_the_same_question_gets_real_numbers(tmp_path: Path) -> None:
    async with world(tmp_path, key=False) as w:
        _, post = await mention(w, "what's the error rate?")
        body = text_of(post.args)
        assert f"*{ERROR_RATE}*" in body and f"{ERROR_LINES} error lines of {ALL_LINES}" in body
        assert "|15> error lines of <" in body and "/explore?schemaVersion=1" in body  # numbers carry links
        assert "lambda 10.0% (10/100)" in body and "edge 20.0% (5/25)" in body
        assert any("count_over_time" in q for q in loki_queries(w))
        assert "built-in planner" in body
        assert w.model.requests == []  # no model involved


async def test_progress_status_then_answer(tmp_path: Path) -> None:
    async with world(tmp_path, key=False) as w:
        event, post = await mention(w, "any alerts?")
        (status,) = w.slack.calls_to("assistant.threads.setStatus")
        assert status.args["status"] == "is investigating…" and status.args["thread_ts"] == event["ts"]
        assert status.at < post.at
        assert "1 alert firing" in text_of(post.args)


async def test_progress_falls_back_to_eyes_removed_after_the_answer(tmp_path: Path) -> None:
    async with world(tmp_path, key=False) as w:
        w.slack.fail_next("assistant.threads.setStatus", error="not_allowed_token_type", status=200)
        event, post = await mention(w, "any alerts?")
        added = await w.slack.wait_for_call("reactions.add")
        removed = await w.slack.wait_for_call("reactions.remove")
        assert added.args["name"] == "eyes" and added.args["timestamp"] == event["ts"]
        assert added.at < post.at < removed.at
        assert w.slack.reactions[("C123", event["ts"])] == set()


async def test_feedback_buttons_are_stored_with_the_answer(tmp_path: Path) -> None:
    async with world(tmp_path, key=False) as w:
        _, post = await mention(w, "any alerts?")
        (actions,) = [b for b in post.args["blocks"] if b["type"] == "actions"]
        down = next(e for e in actions["elements"] if e["action_id"] == "answer_feedback_down")
        message = w.slack.messages["C123"][-1]
        start = len(w.slack.calls)
        await w.slack.send_interactive(
            {
                "type": "block_actions",
                "actions": [{**down, "block_id": actions["block_id"], "type": "button"}],
                "message": message,
                "channel": {"id": "C123", "name": "ops"},
                "container": {"type": "message", "message_ts": message["ts"], "channel_id": "C123"},
            }
        )
        thanks = await w.slack.wait_for_call("response_url", since=start)
        assert thanks.args["response_type"] == "ephemeral" and "Thanks" in thanks.args["text"]
        store = ConversationStore(w.services.storage.db)
        answer_id = int(down["value"])
        assert await store.feedback(answer_id) == {"up": 0, "down": 1}
        assert (await store.answer(answer_id))["question"] == "any alerts?"


async def test_message_shortcut_investigates_in_the_message_thread(tmp_path: Path) -> None:
    async with world(tmp_path, key=False) as w:
        message = {
            "type": "message",
            "user": "U9",
            "text": "Error rate spiking on checkout?",
            "ts": "1700000000.000200",
        }
        await w.slack.send_interactive(
            {
                "type": "message_action",
                "callback_id": "sitrep_investigate",
                "message": message,
                "channel": {"id": "C777", "name": "ops"},
                "message_ts": message["ts"],
            }
        )
        post = await w.slack.wait_for_call("chat.postMessage", timeout=20)
        assert post.args["channel"] == "C777" and post.args["thread_ts"] == message["ts"]
        assert f"*{ERROR_RATE}*" in text_of(post.args)


async def test_direct_messages_work_like_mentions(tmp_path: Path) -> None:
    async with world(tmp_path, key=False) as w:
        dm = w.slack.message_event("what did user u-42 do?", channel="D123", mention=False)
        await w.slack.wait_ack(await w.slack.send_event(dm))
        post = await w.slack.wait_for_call("chat.postMessage", timeout=20)
        assert post.args["channel"] == "D123" and post.args["thread_ts"] == dm["ts"]
        assert "2 recent events" in text_of(post.args)


async def test_a_rejected_key_says_so_in_one_line_and_the_rules_answer(tmp_path: Path) -> None:
    async with world(tmp_path, env={"ANTHROPIC_API_KEY": "sk-ant-wrong-key-123456"}) as w:
        _, post = await mention(w, "any alerts?")
        body = text_of(post.args)
        first_line = body.splitlines()[0]
        assert first_line.startswith(":warning: Claude did not answer: Claude rejected ANTHROPIC_API_KEY (401)")
        assert "1 alert firing" in body and "Traceback" not in body


async def test_an_internal_failure_posts_one_short_line(tmp_path: Path, monkeypatch) -> None:
    import bot.slack.replies as replies

    async def broken(*_: object) -> None:
        raise RuntimeError("boom at /srv/sitrep/agent.py line 12")

    monkeypatch.setattr(replies, "answer", broken)
    async with world(tmp_path, key=False) as w:
        _, post = await mention(w, "any alerts?")
        assert post.args["text"].startswith(":warning: I could not answer that: an internal error (RuntimeError).")
        assert "boom" not in text_of(post.args) and "\n" not in post.args["text"]
        assert w.slack.calls_to("reactions.add") == []  # the status was used, and posting clears it


async def test_slash_command_question_goes_to_the_agent(tmp_path: Path) -> None:
    async with world(tmp_path, key=False) as w:
        await w.slack.wait_ack(await w.slack.send_slash_command("/sitrep", "what's the error rate?"))
        reply = await w.slack.wait_for_call("response_url", lambda c: ERROR_RATE in text_of(c.args), timeout=20)
        assert reply.args["response_type"] == "ephemeral"


async def test_a_careless_model_repeating_a_hostile_log_line_pings_no_one_and_disguises_no_link(tmp_path: Path) -> None:
    def seeder(g: FakeGrafana, amp: object) -> None:
        seed(g, amp)  # type: ignore[arg-type]
        g.add_logs({"source": "lambda", "host": "mochacare.vercel.app"}, [HOSTILE_LINE, "asked by <@U123>"], gap_s=5)

    async with world(tmp_path, seeder=seeder) as w:
        query = '{source="lambda"} |~ "log in again|asked by"'
        w.model.script(tool_calls(("grafana_query_loki", {"query": query, "since": "1h"})), careless)
        _, post = await mention(w, "what do the lambda logs say?")
        results = w.model.answered[1].tool_results()
        assert "<!channel>" in results[0]["content"] and results[0]["content"].startswith("<data ")  # read as data
        assert "ignore previous instructions" not in w.model.answered[0].system
        said = text_of(post.args)
        assert "What the data says:" in said
        for live in ("<!channel>", "<!here>", "<!everyone>", "<!subteam^SADMINS", "<@UADMIN>", "|Grafana Explore>"):
            assert live not in said, live
        assert "&lt;!channel&gt;" in said and "&lt;@UADMIN&gt;" in said  # shown as text
        assert "<https://evil.example/login>" in said  # the plain URL: what it says is where it goes
        assert "<@U123>" in said  # the person who asked is in the conversation
