"""The four Amplitude tools against the fake: schemas, previous-period change, bounded results, answers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest

from skills.amplitude import AmplitudeSkill
from skills.base import Credential, SkillError, Tool, ToolInputError
from skills.http import RetryPolicy
from skills.results import RESULT_BUDGET_BYTES, serialized_size
from tests.fakes.amplitude import FakeAmplitude

TODAY = date(2026, 2, 17)
TOOL_NAMES = ["query_events", "get_user_activity", "get_chart_annotations", "list_events"]


def make_skill(amp: FakeAmplitude, **kw) -> AmplitudeSkill:
    return AmplitudeSkill(
        Credential(amp.api_key, "AMPLITUDE_API_KEY"),
        Credential(amp.secret_key, "AMPLITUDE_SECRET_KEY"),
        base_url=amp.url,
        retry=RetryPolicy(attempts=2, backoff=0.0, max_wait=0.0),
        today=lambda: TODAY,
        **kw,
    )


@pytest.fixture
async def amp() -> AsyncIterator[FakeAmplitude]:
    async with FakeAmplitude(today=TODAY) as fake:
        yield fake


@pytest.fixture
async def tools(amp: FakeAmplitude) -> AsyncIterator[dict[str, Tool]]:
    skill = make_skill(amp)
    yield {t.name: t for t in skill.tools()}
    await skill.aclose()


def test_tools_are_declared_with_json_schemas() -> None:
    skill = AmplitudeSkill(Credential(None, "AMPLITUDE_API_KEY"), Credential(None, "AMPLITUDE_SECRET_KEY"))
    tools = skill.tools()
    assert [t.name for t in tools] == TOOL_NAMES
    for tool in tools:
        schema = tool.input_schema()
        assert tool.skill == "amplitude" and tool.read_only
        assert tool.qualified_name == f"amplitude_{tool.name}"
        assert schema["type"] == "object" and isinstance(schema["properties"], dict)
        assert len(tool.description) > 40
        json.dumps(schema)
        for name in schema.get("required", []):
            assert name in schema["properties"]
    query = tools[0].input_schema()
    assert query["required"] == ["event_type"]
    assert query["properties"]["interval"]["enum"] == ["day", "hour", "week"]
    assert set(query["properties"]) >= {"days", "start", "end", "metric", "filters", "group_by"}


async def test_query_events_compares_with_the_previous_window(amp: FakeAmplitude, tools: dict[str, Tool]) -> None:
    for days_ago in range(14):
        amp.add_events("Agent Failed", TODAY - timedelta(days=days_ago), 3 if days_ago < 7 else 2)
    result = await tools["query_events"].call({"event_type": "Agent Failed", "days": 7})
    assert result["window"] == {"start": "2026-02-11", "end": "2026-02-17", "days": 7}
    assert result["previous_window"] == {"start": "2026-02-04", "end": "2026-02-10", "days": 7}
    assert (result["total"], result["previous_total"], result["change_pct"]) == (21, 14, 50.0)
    assert result["series"] == [
        {"label": "all", "total": 21, "previous_total": 14, "change_pct": 50.0, "values": [3] * 7}
    ]
    assert result["x_values"][0] == "2026-02-11" and len(result["x_values"]) == 7
    assert result["link"].startswith("https://app.amplitude.com/analytics")
    (req,) = amp.requests_to("/api/2/events/segmentation")  # one call covers both windows
    assert (req.query["start"], req.query["end"], req.query["m"]) == ("20260204", "20260217", "totals")


async def test_change_is_null_when_the_previous_window_is_empty(amp: FakeAmplitude, tools: dict[str, Tool]) -> None:
    amp.add_events("Agent Timeout", TODAY, 4)
    result = await tools["query_events"].call({"event_type": "Agent Timeout", "days": 3})
    assert (result["total"], result["previous_total"], result["change_pct"]) == (4, 0, None)


async def test_query_events_filters_and_group_by(amp: FakeAmplitude, tools: dict[str, Tool]) -> None:
    amp.add_events("Agent Failed", TODAY, 5, error_type="TimeoutError", agent_type="chat")
    amp.add_events("Agent Failed", TODAY - timedelta(days=8), 5, error_type="TimeoutError", agent_type="chat")
    amp.add_events("Agent Failed", TODAY, 2, error_type="ValueError", agent_type="chat")
    amp.add_events("Agent Failed", TODAY, 9, error_type="ValueError", agent_type="batch")
    result = await tools["query_events"].call(
        {
            "event_type": "Agent Failed",
            "filters": [{"prop": "agent_type", "values": ["chat"]}],
            "group_by": "error_type",
        }
    )
    assert [(s["label"], s["total"], s["previous_total"], s["change_pct"]) for s in result["series"]] == [
        ("TimeoutError", 5, 5, 0.0),
        ("ValueError", 2, 0, None),
    ]
    assert result["group_by"] == ["error_type"]
    e = amp.requests_to("/api/2/events/segmentation")[0].e
    assert e["filters"][0]["subprop_key"] == "agent_type" and e["group_by"] == [
        {"type": "event", "value": "error_type"}
    ]


DOCUMENTED_OPS = [
    "is",
    "is not",
    "contains",
    "does not contain",
    "less",
    "less or equal",
    "greater",
    "greater or equal",
    "set is",
    "set is not",
]


def test_the_model_is_offered_only_the_documented_filter_operators() -> None:
    skill = AmplitudeSkill(Credential(None, "AMPLITUDE_API_KEY"), Credential(None, "AMPLITUDE_SECRET_KEY"))
    schema = skill.tools()[0].input_schema()
    ops = next(d for d in schema["$defs"].values() if "op" in d.get("properties", {}))["properties"]["op"]["enum"]
    assert ops == DOCUMENTED_OPS


async def test_custom_user_properties_are_asked_for_with_gp(amp: FakeAmplitude, tools: dict[str, Tool]) -> None:
    amp.add_events("Agent Failed", TODAY, 4, user_properties={"plan": "pro", "country": "US", "seats": 40})
    amp.add_events("Agent Failed", TODAY, 6, user_properties={"plan": "free", "country": "DE", "seats": 1})
    pro = await tools["query_events"].call(
        {"event_type": "Agent Failed", "days": 1, "filters": [{"prop": "user.plan", "values": ["pro"]}]}
    )
    assert pro["total"] == 4
    big = await tools["query_events"].call(
        {"event_type": "Agent Failed", "days": 1, "filters": [{"prop": "user.seats", "op": "greater", "values": [10]}]}
    )
    assert big["total"] == 4
    split = await tools["query_events"].call(
        {"event_type": "Agent Failed", "days": 1, "group_by": ["user.plan", "user.country"]}
    )
    assert [(s["label"], s["total"]) for s in split["series"]] == [("free; DE", 6), ("pro; US", 4)]
    first, _, last = (r.e for r in amp.requests_to("/api/2/events/segmentation"))
    assert first["filters"][0]["subprop_key"] == "gp:plan"
    assert last["group_by"] == [{"type": "user", "value": "gp:plan"}, {"type": "user", "value": "country"}]


async def test_query_events_explicit_dates_hourly_uniques(amp: FakeAmplitude, tools: dict[str, Tool]) -> None:
    amp.add_events("Agent Started", date(2026, 2, 10), 3, hour=5, user_id="u1")
    amp.add_events("Agent Started", date(2026, 2, 10), 3, hour=5, user_id="u2")
    amp.add_events("Agent Started", date(2026, 2, 9), 1, hour=1, user_id="u1")
    result = await tools["query_events"].call(
        {
            "event_type": "Agent Started",
            "start": "2026-02-09",
            "end": "2026-02-10",
            "interval": "hour",
            "metric": "uniques",
        }
    )
    assert result["window"]["days"] == 2 and result["previous_window"]["start"] == "2026-02-07"
    assert (result["x_first"], result["x_last"], result["points"]) == ("2026-02-09T00:00:00", "2026-02-10T23:00:00", 48)
    assert result["total"] == 3 and "note" in result
    assert result["series"][0]["values"][24 + 5] == 2


async def test_query_events_without_events_hints_at_the_name(tools: dict[str, Tool]) -> None:
    result = await tools["query_events"].call({"event_type": "agent failed"})
    assert result["total"] == 0 and "list_events" in result["hint"]


async def test_query_events_result_is_bounded(amp: FakeAmplitude, tools: dict[str, Tool]) -> None:
    for n in range(80):
        for days_ago in range(60):
            amp.add_events("API Error", TODAY - timedelta(days=days_ago), n + 1, endpoint=f"/api/route/{n:03d}")
    result = await tools["query_events"].call(
        {"event_type": "API Error", "days": 30, "group_by": ["endpoint"], "top": 50}
    )
    assert serialized_size(result) <= RESULT_BUDGET_BYTES
    assert result["truncated"] is True and "narrow" in result["hint"]
    assert result["series"][0]["label"] == "/api/route/079"  # busiest first
    assert len(result["series"]) == 50  # the top 50 labels, the first with values, the rest as totals
    assert "values" in result["series"][0] and "values" not in result["series"][-1]
    assert "showing 50 of 80" in result["hint"]


@pytest.mark.parametrize(
    "arguments",
    [
        {"event_type": "E", "start": "2026-02-01"},
        {"event_type": "E", "start": "2026-02-10", "end": "2026-02-01"},
        {"event_type": "E", "interval": "hour", "days": 30},
        {"event_type": "E", "group_by": ["a", "b", "c"]},
        {"event_type": "E", "interval": "minute"},
        {"event_type": "E", "filters": [{"prop": "x", "op": "like", "values": ["y"]}]},
        {"event_type": ""},
    ],
)
async def test_query_events_rejects_bad_arguments(tools: dict[str, Tool], arguments: dict) -> None:
    with pytest.raises(ToolInputError):
        await tools["query_events"].call(arguments)


async def test_user_activity_found(amp: FakeAmplitude, tools: dict[str, Tool]) -> None:
    events = [
        {
            "event_type": "Agent Started",
            "event_time": f"2026-02-{d:02d} 09:00:00.000000",
            "event_properties": {"agent_id": f"a{d}"},
        }
        for d in range(1, 11)
    ]
    amp.add_user("user-7", 700, events=events, country="US", platform="Web")
    result = await tools["get_user_activity"].call({"user_id": "user-7", "limit": 4})
    assert result["found"] is True and result["amplitude_id"] == 700
    assert [e["time"][:10] for e in result["events"]] == ["2026-02-10", "2026-02-09", "2026-02-08", "2026-02-07"]
    assert result["events"][0]["properties"] == {"agent_id": "a10"}
    assert result["user"]["country"] == "US"


async def test_user_activity_no_such_user_is_an_answer(amp: FakeAmplitude, tools: dict[str, Tool]) -> None:
    result = await tools["get_user_activity"].call({"user_id": "ghost"})
    assert result["found"] is False and result["user_id"] == "ghost" and result["hint"]
    assert amp.requests_to("/api/2/useractivity") == []


async def test_user_activity_is_bounded(amp: FakeAmplitude, tools: dict[str, Tool]) -> None:
    events = [
        {
            "event_type": "API Error",
            "event_time": f"2026-02-17 10:{m:02d}:00.000000",
            "event_properties": {f"k{i}": "v" * 300 for i in range(20)},
        }
        for m in range(60)
    ]
    amp.add_user("heavy", 1, events=events)
    result = await tools["get_user_activity"].call({"user_id": "heavy", "limit": 100})
    assert serialized_size(result) <= RESULT_BUDGET_BYTES
    assert result["truncated"] is True and 0 < len(result["events"]) < 60
    assert len(result["events"][0]["properties"]) <= 13


async def test_chart_annotations_v3_and_v2(amp: FakeAmplitude, tools: dict[str, Tool]) -> None:
    amp.add_annotation("2026-02-12T18:00:00Z", "Release 2.3", "new agent runtime", category="Releases")
    result = await tools["get_chart_annotations"].call({"days": 30})
    assert result["source"] == "/api/3/annotations"
    assert result["annotations"] == [
        {
            "start": "2026-02-12T18:00:00Z",
            "end": None,
            "label": "Release 2.3",
            "details": "new agent runtime",
            "category": "Releases",
        }
    ]
    amp.v3_enabled = False
    result = await tools["get_chart_annotations"].call({"start": "2026-02-01", "end": "2026-02-13"})
    assert result["source"] == "/api/2/annotations" and result["annotations"][0]["start"] == "2026-02-12"


async def test_list_events_sorted_and_without_deleted_or_hidden(amp: FakeAmplitude, tools: dict[str, Tool]) -> None:
    amp.add_events("Agent Started", TODAY, 40)
    amp.add_events("Agent Failed", TODAY, 3)
    amp.add_events("API Error", TODAY - timedelta(days=1), 12)
    amp.add_events("Old Event", TODAY, 99)
    amp.define_event("Old Event", deleted=True)
    amp.define_event("Debug Event", hidden=True)
    amp.define_event("Agent Timeout")
    result = await tools["list_events"].call({})
    assert [(e["name"], e["totals"]) for e in result["event_types"]] == [
        ("Agent Started", 40),
        ("API Error", 12),
        ("Agent Failed", 3),
        ("Agent Timeout", 0),
    ]
    assert (result["count"], result["events_this_week"], result["hidden_or_deleted"]) == (4, 55, 2)
    narrowed = await tools["list_events"].call({"name_contains": "agent", "limit": 1})
    assert narrowed["event_types"] == [{"name": "Agent Started", "totals": 40}] and narrowed["truncated"] is True


async def test_tools_of_an_unconfigured_skill_raise_a_clear_error() -> None:
    skill = AmplitudeSkill(Credential(None, "AMPLITUDE_API_KEY"), Credential("s", "AMPLITUDE_SECRET_KEY"))
    tool = skill.tools()[3]
    with pytest.raises(SkillError) as caught:
        await tool.call({})
    assert "not configured" in caught.value.message and "AMPLITUDE_API_KEY" in caught.value.hint
    assert "AMPLITUDE_SECRET_KEY" not in caught.value.hint


async def test_hourly_that_would_exceed_7_days_with_the_previous_window_is_daily(
    amp: FakeAmplitude, tools: dict[str, Tool]
) -> None:
    amp.add_events("Agent Failed", TODAY, 3, hour=4)
    result = await tools["query_events"].call({"event_type": "Agent Failed", "days": 7, "interval": "hour"})
    assert result["interval"] == "day" and "7 days" in result["note"]
    assert result["total"] == 3
    (req,) = amp.requests_to("/api/2/events/segmentation")
    assert req.query["i"] == "1"
    hourly = await tools["query_events"].call({"event_type": "Agent Failed", "days": 3, "interval": "hour"})
    assert hourly["interval"] == "hour" and hourly["points"] == 72


async def test_the_last_hours_compare_with_as_many_hours_before(amp: FakeAmplitude) -> None:
    now = datetime(2026, 2, 17, 1, 17, tzinfo=UTC)
    amp.add_events("Agent Failed", TODAY, 7, hour=1)  # the current hour: not complete, left out
    amp.add_events("Agent Failed", TODAY, 5, hour=0)
    amp.add_events("Agent Failed", TODAY - timedelta(days=1), 2, hour=23)
    amp.add_events("Agent Failed", TODAY - timedelta(days=1), 3, hour=22)
    amp.add_events("Agent Failed", TODAY - timedelta(days=1), 100, hour=21)  # before both windows
    skill = make_skill(amp, now=lambda: now)
    try:
        (tool,) = [t for t in skill.tools() if t.name == "query_events"]
        one = await tool.call({"event_type": "Agent Failed", "hours": 1})
        two = await tool.call({"event_type": "Agent Failed", "hours": 2, "group_by": "error_type"})
    finally:
        await skill.aclose()
    assert one["window"] == {"start": "2026-02-17T00:00", "end": "2026-02-17T01:00", "hours": 1}
    assert one["previous_window"] == {"start": "2026-02-16T23:00", "end": "2026-02-17T00:00", "hours": 1}
    assert (one["total"], one["previous_total"], one["interval"]) == (5, 2, "hour")
    assert two["previous_window"]["hours"] == 2 and (two["total"], two["previous_total"]) == (7, 103)
    assert "hour" in one["note"] and "UTC" in one["note"]
