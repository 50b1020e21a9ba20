"""The rule-based planner's evaluation: a table of questions -> intents and window, and questions -> the tool calls
it makes against the fake Grafana and Amplitude (with the arguments that matter), and what the answer says."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent.rules.planner import plan
from agent.rules.rulebook import answer_with_rules
from agent.toolbox import Toolbox
from bot.readiness import readiness_table
from tests.support.agent_world import ERROR_RATE, world

NOW = datetime(2026, 2, 17, 10, 30, tzinfo=ZoneInfo("America/Los_Angeles"))

INTENTS = [
    ("what's the error rate?", ("errors",), "1h"),
    ("show errors in the last hour", ("errors",), "1h"),
    ("any 5xx in the past 30 minutes?", ("errors",), "30m"),
    ("why are agents failing since this morning?", ("errors", "agents"), "5h"),
    ("show me the logs", ("logs",), "1h"),
    ("show error logs from the last 15 minutes", ("logs",), "15m"),
    ("is latency up? p95 over 6 hours", ("latency",), "6h"),
    ("the app feels slow today", ("latency",), "11h"),
    ("any alerts firing?", ("alerts",), "1h"),
    ("who is paging?", ("alerts",), "1h"),
    ("list dashboards", ("dashboards",), "1h"),
    ('create a dashboard "Prod overview"', ("dashboards",), "1h"),
    ("agent events this week", ("agents",), "168h"),
    ("what did user u-42 do?", ("user",), "24h"),
    ("activity for alice@example.com", ("user",), "24h"),
    ("any releases yesterday?", ("releases",), "35h"),
    ("did we deploy in the last 2 days", ("releases",), "48h"),
    ("is amplitude configured?", ("status",), "1h"),
    ("readiness", ("status",), "1h"),
    ("how is prod?", ("errors", "alerts"), "1h"),
    ("tell me a joke", (), "1h"),
    ("what's the weather", (), "1h"),
]


@pytest.mark.parametrize(("question", "intents", "since"), INTENTS)
def test_questions_map_to_intents_and_windows(question: str, intents: tuple[str, ...], since: str) -> None:
    p = plan(question, NOW)
    assert p.intents == intents
    assert p.window.since == since


def test_parameters_come_from_the_question() -> None:
    assert plan("what did user U-42x do?", NOW).user_id == "U-42x"  # case kept
    assert plan("activity for <mailto:alice@example.com|alice@example.com>", NOW).user_id == "alice@example.com"
    assert plan('create a dashboard "Prod overview"', NOW).create_dashboard == "Prod overview"
    assert plan("make me a dashboard", NOW).create_dashboard == "Vercel overview"
    assert plan("dashboards for checkout", NOW).dashboard_query == "checkout"
    assert plan("show error logs", NOW).error_logs and not plan("show logs", NOW).error_logs
    assert plan("agent failures this week", NOW).window.days == 7
    assert plan("agent failures since this morning", NOW).window.interval == "hour"


def test_a_follow_up_inherits_the_earlier_intent_with_its_own_window() -> None:
    p = plan("and over the last 6 hours?", NOW, ["what's the error rate?"])
    assert p.intents == ("errors",) and p.window.since == "6h" and p.inherited
    assert plan("tell me a joke", NOW, ["what's the error rate?"]).intents == ()


# question -> tool calls made (Counter of names), and (name, argument, value) that must appear among them
CALLS = [
    (
        "what's the error rate?",
        {
            "grafana_loki_error_patterns": 1,
            "grafana_list_loki_labels": 1,
            "grafana_query_loki": 3,  # the error series too, to find a jump and the change before it
            "recent_changes": 1,
        },
        [("grafana_loki_error_patterns", "since", "1h"), ("grafana_list_loki_labels", "since", "1h")],
        [f"*{ERROR_RATE}*", "15 error lines of 125", "Error: timeout calling db after &lt;*&gt;"],
    ),
    (
        "why are agents failing since this morning?",
        {
            "grafana_loki_error_patterns": 1,
            "grafana_list_loki_labels": 1,
            "grafana_query_loki": 3,  # the error series too, to find a jump and the change before it
            "recent_changes": 1,
            "amplitude_list_events": 1,
            "amplitude_query_events": 1,
        },
        [
            ("amplitude_query_events", "event_type", "Agent Failed"),
            ("amplitude_query_events", "group_by", ["error_type"]),
        ],
        ["*20* `Agent Failed`", "TimeoutError 17", "RateLimitError 3"],  # the last 5 complete hours
    ),
    (
        "show error logs from the last 15 minutes",
        {"grafana_list_loki_labels": 1, "grafana_query_loki": 1},
        [("grafana_query_loki", "since", "15m"), ("grafana_query_loki", "limit", 20)],
        ["error log lines in the last 15m", "`Error: 502 upstream`"],
    ),
    (
        "is latency up? p95",
        {"grafana_list_metric_names": 2, "grafana_query_prometheus": 1},
        [("grafana_query_prometheus", "expr", "http_request_duration_seconds")],
        ["P95 latency", "ms* now"],
    ),
    ("any alerts firing?", {"grafana_get_alerts": 1}, [], ["*1 alert firing*", "High error rate"]),
    (
        "how is prod?",
        {
            "grafana_loki_error_patterns": 1,
            "grafana_list_loki_labels": 1,
            "grafana_query_loki": 3,  # the error series too, to find a jump and the change before it
            "recent_changes": 1,
            "grafana_get_alerts": 1,
        },
        [],
        [f"*{ERROR_RATE}*", "*1 alert firing*"],
    ),
    ("list dashboards", {"grafana_search_dashboards": 1}, [("grafana_search_dashboards", "query", "")], []),
    (
        'create a dashboard "Prod overview"',
        {"grafana_create_dashboard": 1},
        [("grafana_create_dashboard", "title", "Prod overview")],
        ["Prod overview", "created"],
    ),
    (
        "what did user u-42 do?",
        {"amplitude_get_user_activity": 1},
        [("amplitude_get_user_activity", "user_id", "u-42")],
        ["2 recent events", "Agent Failed"],
    ),
    ("any releases this week?", {"amplitude_get_chart_annotations": 1}, [], ["v2.4.0"]),
    ("is grafana ready?", {}, [], ["*Grafana*: Ready", "*Amplitude*: Ready"]),
    ("tell me a joke", {}, [], ["Without an Anthropic API key"]),
]


async def test_questions_make_the_expected_tool_calls(tmp_path: Path) -> None:
    async with world(tmp_path, key=False, serve_slack=False) as w:
        team = await w.services.team_for(None)
        failures = []
        for question, expected, args, phrases in CALLS:
            box = await Toolbox.for_team(w.services, team, include_unconfigured=True, allow_write=True)
            answer = await answer_with_rules(
                box, plan(question, NOW), services=w.services, team=team, readiness=partial(readiness_table, w.runtime)
            )
            made = Counter(o.call.name for o in box.outcomes if not o.repeated)
            if made != Counter(expected):
                failures.append(f"{question!r}: called {dict(made)}, expected {expected}")
            for name, key, value in args:
                if not any(o.call.name == name and o.call.args.get(key) == value for o in box.outcomes):
                    failures.append(f"{question!r}: no {name} call with {key}={value!r}")
            errors = [o.error for o in box.outcomes if not o.ok]
            if errors:
                failures.append(f"{question!r}: tool errors {errors}")
            failures += [f"{question!r}: answer lacks {p!r}" for p in phrases if p not in answer]
        assert failures == []


async def test_an_unconfigured_integration_says_what_to_do(tmp_path: Path) -> None:
    async with world(tmp_path, key=False, serve_slack=False, env={"AMPLITUDE_API_KEY": ""}) as w:
        team = await w.services.team_for(None)
        box = await Toolbox.for_team(w.services, team, include_unconfigured=True)
        answer = await answer_with_rules(
            box,
            plan("agent events today", NOW),
            services=w.services,
            team=team,
            readiness=partial(readiness_table, w.runtime),
        )
        assert "*Could not check*" in answer and "AMPLITUDE_API_KEY" in answer
        assert w.amplitude.requests == []


async def test_agent_events_compare_two_windows_of_the_same_length(tmp_path: Path) -> None:
    async with world(tmp_path, key=False, serve_slack=False) as w:
        team = await w.services.team_for(None)
        box = await Toolbox.for_team(w.services, team, include_unconfigured=True)
        answer = await answer_with_rules(
            box,
            plan("why are agents failing?", NOW),
            services=w.services,
            team=team,
            readiness=partial(readiness_table, w.runtime),
        )
        calls = [o.call.args for o in box.outcomes if o.call.name == "amplitude_query_events"]
        assert calls and all(c.get("hours") == 1 and "days" not in c for c in calls), calls
        assert "(+200% vs the hour before: 5)" in answer and "day before" not in answer, answer
        assert "*15* `Agent Failed` (+200%)" in answer and "In Amplitude in the last hour" in answer
