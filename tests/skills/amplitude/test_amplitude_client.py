"""AmplitudeClient against the fake Amplitude: auth, `e` encoding, label variants, 429/400/401, concurrency."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta

import httpx
import pytest

from skills.amplitude.client import REGION_BASES, AmplitudeClient, base_url_for
from skills.amplitude.segmentation import Filter, GroupBy
from skills.base import SkillError
from skills.http import RetryPolicy
from tests.fakes.amplitude import FakeAmplitude

TODAY = date(2026, 2, 17)
FAST = RetryPolicy(attempts=3, backoff=0.0, max_wait=0.0)


@pytest.fixture
async def amp() -> AsyncIterator[FakeAmplitude]:
    async with FakeAmplitude(today=TODAY) as fake:
        yield fake


def client_for(amp: FakeAmplitude, *, secret: str | None = None, **kw) -> AmplitudeClient:
    return AmplitudeClient(amp.api_key, secret or amp.secret_key, base_url=amp.url, retry=FAST, **kw)


async def test_basic_auth_is_sent(amp: FakeAmplitude) -> None:
    amp.add_events("Agent Started", TODAY, 4)
    async with client_for(amp) as client:
        events = await client.events_list()
    assert [(e.name, e.totals) for e in events] == [("Agent Started", 4)]
    assert amp.requests and all(r.authorized for r in amp.requests)


async def test_rejected_key_names_the_variables(amp: FakeAmplitude) -> None:
    async with client_for(amp, secret="wrong-secret-value") as client:
        with pytest.raises(SkillError) as caught:
            await client.events_list()
    err = caught.value
    assert err.status == 401
    assert "credentials were rejected" in err.message
    assert "AMPLITUDE_API_KEY" in err.hint and "AMPLITUDE_SECRET_KEY" in err.hint
    assert "wrong-secret-value" not in err.one_line()
    assert len(amp.requests) == 1  # 401 is not retried


async def test_segmentation_encodes_filters_group_by_and_dates(amp: FakeAmplitude) -> None:
    async with client_for(amp) as client:
        await client.segmentation(
            "Agent Failed",
            date(2026, 2, 11),
            TODAY,
            interval="hour",
            metric="uniques",
            filters=[
                Filter("error_type", ("TimeoutError", "ValueError")),
                Filter("user.country", ("US",), "is not"),
                Filter("user.plan", ("pro",)),
            ],
            group_by=["agent_id", GroupBy("user", "platform")],
            limit=50,
        )
    (req,) = amp.requests_to("/api/2/events/segmentation")
    assert req.e == {
        "event_type": "Agent Failed",
        "filters": [
            {
                "subprop_type": "event",
                "subprop_key": "error_type",
                "subprop_op": "is",
                "subprop_value": ["TimeoutError", "ValueError"],
            },
            {"subprop_type": "user", "subprop_key": "country", "subprop_op": "is not", "subprop_value": ["US"]},
            {"subprop_type": "user", "subprop_key": "gp:plan", "subprop_op": "is", "subprop_value": ["pro"]},
        ],
        "group_by": [{"type": "event", "value": "agent_id"}, {"type": "user", "value": "platform"}],
    }
    assert (req.query["start"], req.query["end"]) == ("20260211", "20260217")
    assert (req.query["i"], req.query["m"], req.query["limit"]) == ("-3600000", "uniques", "50")


async def test_filters_and_group_by_select_the_right_events(amp: FakeAmplitude) -> None:
    amp.add_events("Agent Failed", TODAY, 5, error_type="TimeoutError", agent_id="a1")
    amp.add_events("Agent Failed", TODAY, 3, error_type="ValueError", agent_id="a1")
    amp.add_events("Agent Failed", TODAY, 2, error_type="TimeoutError", agent_id="a2")
    amp.add_events("Agent Started", TODAY, 50, agent_id="a1")
    async with client_for(amp) as client:
        series = await client.segmentation(
            "Agent Failed", TODAY, TODAY, filters=[Filter("error_type", ("TimeoutError",))], group_by=["agent_id"]
        )
    assert {r.label: r.total for r in series.rows} == {"a1": 5, "a2": 2}
    assert series.total == 7


@pytest.mark.parametrize("mode", ["list", "string", "int"])
async def test_label_variants_become_the_same_labels(mode: str) -> None:
    async with FakeAmplitude(today=TODAY, label_mode=mode) as amp:
        amp.add_events("API Error", TODAY, 4, status_code=500)
        amp.add_events("API Error", TODAY - timedelta(days=1), 1, status_code=502)
        async with client_for(amp) as client:
            series = await client.segmentation("API Error", TODAY - timedelta(days=1), TODAY, group_by=["status_code"])
            plain = await client.segmentation("API Error", TODAY - timedelta(days=1), TODAY)
    assert [(r.label, r.values) for r in series.rows] == [("500", [0, 4]), ("502", [1, 0])]
    assert series.x_values == ["2026-02-16", "2026-02-17"]
    assert [(r.label, r.total, r.collapsed) for r in plain.rows] == [("all", 5, 5)]


async def test_two_group_bys_in_list_labels(amp: FakeAmplitude) -> None:
    amp.add_events("Agent Failed", TODAY, 2, error_type="TimeoutError", agent_id="a1")
    async with client_for(amp) as client:
        series = await client.segmentation("Agent Failed", TODAY, TODAY, group_by=["agent_id", "error_type"])
    assert [r.label for r in series.rows] == ["a1; TimeoutError"]


async def test_split_gives_previous_and_current_windows_from_one_call(amp: FakeAmplitude) -> None:
    for days_ago in range(14):
        amp.add_events("Agent Completed", TODAY - timedelta(days=days_ago), 3 if days_ago < 7 else 1)
    async with client_for(amp) as client:
        series = await client.segmentation("Agent Completed", TODAY - timedelta(days=13), TODAY)
        both = await client.segmentation_vs_previous("Agent Completed", TODAY - timedelta(days=6), TODAY)
    previous, current = series.split(TODAY - timedelta(days=6))
    assert (previous.total, current.total) == (7, 21)
    assert (both[0].total, both[1].total, both[2]) == (7, 21, (date(2026, 2, 4), date(2026, 2, 10)))
    assert previous.x_values[-1] == "2026-02-10" and current.x_values[0] == "2026-02-11"
    assert [r.query["start"] for r in amp.requests_to("/api/2/events/segmentation")] == ["20260204", "20260204"]


async def test_429_is_retried_then_succeeds(amp: FakeAmplitude) -> None:
    amp.add_events("Agent Started", TODAY, 1)
    amp.inject_429("Exceeded concurrent limit.", times=2, retry_after="0")
    async with client_for(amp) as client:
        events = await client.events_list()
    assert events[0].totals == 1
    assert len(amp.requests) == 3


@pytest.mark.parametrize(
    ("body", "limit"),
    [
        ("Exceeded concurrent limit.", "concurrent request limit"),
        ('{"error": "Exceeded rate limit with query of cost 720"}', "108,000 cost per hour"),
        ("Exceeded concurrent cost limit", "concurrent cost limit (1,000"),
        ("User search rate limit exceeded", "user search/activity limit"),
    ],
)
async def test_429_exhausted_names_the_limit(amp: FakeAmplitude, body: str, limit: str) -> None:
    amp.inject_429(body, times=10, retry_after="1")
    async with client_for(amp) as client:
        with pytest.raises(SkillError) as caught:
            await client.user_search("u-1")
    err = caught.value
    assert err.status == 429
    assert limit in err.message
    assert "Exceeded" in err.message or "exceeded" in err.message  # Amplitude's own words are kept
    assert len(amp.requests) == FAST.attempts


async def test_400_carries_amplitudes_message(amp: FakeAmplitude) -> None:
    async with client_for(amp) as client:
        with pytest.raises(SkillError) as caught:
            await client.segmentation("", TODAY, TODAY)
    assert caught.value.status == 400
    assert "event_type is required" in caught.value.message
    assert len(amp.requests) == 1  # 400 is not retried


async def test_fake_rejects_invalid_json_e(amp: FakeAmplitude) -> None:
    async with httpx.AsyncClient(auth=(amp.api_key, amp.secret_key)) as http:
        r = await http.get(
            f"{amp.url}/api/2/events/segmentation", params={"e": "{not json", "start": "20260201", "end": "20260202"}
        )
    assert r.status_code == 400 and "not valid JSON" in r.text


async def test_at_most_five_requests_in_flight() -> None:
    async with FakeAmplitude(today=TODAY, delay=0.05) as amp:
        amp.add_events("Agent Started", TODAY, 1)
        async with client_for(amp) as client:
            results = await asyncio.gather(*(client.user_search(f"nobody-{i}") for i in range(20)))
    assert results == [[]] * 20 and len(amp.requests) == 20
    assert amp.max_in_flight == 5  # concurrent (so the bound is what holds it), and never more


async def test_the_event_list_is_kept_and_shared() -> None:
    async with FakeAmplitude(today=TODAY, delay=0.05) as amp:
        amp.add_events("Agent Started", TODAY, 1)
        async with client_for(amp) as client:
            results = await asyncio.gather(*(client.events_list() for _ in range(5)))
            assert all(r[0].totals == 1 for r in results)
            assert len(amp.requests_to("/api/2/events/list")) == 1  # concurrent callers share one request
            amp.add_events("Agent Failed", TODAY, 2)
            assert [e.name for e in await client.events_list()] == ["Agent Started"]  # kept
            assert {e.name for e in await client.events_list(fresh=True)} == {"Agent Started", "Agent Failed"}
            assert len(amp.requests_to("/api/2/events/list")) == 2


async def test_user_search_without_match_is_empty(amp: FakeAmplitude) -> None:
    async with client_for(amp) as client:
        assert await client.user_search("nobody") == []


async def test_user_activity_is_newest_first_and_limited(amp: FakeAmplitude) -> None:
    events = [
        {"event_type": f"E{i}", "event_time": f"2026-02-1{i} 08:00:00.000000", "event_properties": {"i": i}}
        for i in range(6)
    ]
    amp.add_user("u-1", 42, events=events, platform="Web")
    async with client_for(amp) as client:
        (match,) = await client.user_search("u-1")
        activity = await client.user_activity(match.amplitude_id, limit=3)
    assert match.amplitude_id == 42
    assert [e.event_type for e in activity.events] == ["E5", "E4", "E3"]
    assert activity.user["platform"] == "Web"
    req = amp.requests_to("/api/2/useractivity")[0]
    assert (req.query["user"], req.query["limit"], req.query["direction"]) == ("42", "3", "latest")


async def test_annotations_v3(amp: FakeAmplitude) -> None:
    amp.add_annotation("2026-02-10T09:00:00Z", "v1.1", "first", category="Release")
    amp.add_annotation("2026-02-15T09:00:00Z", "v1.2", "second", end="2026-02-15T10:00:00Z")
    amp.add_annotation("2025-12-01T09:00:00Z", "old", "outside")
    async with client_for(amp) as client:
        rows, source = await client.annotations(date(2026, 2, 1), TODAY)
    assert source == "v3"
    assert [(r.label, r.category, r.end) for r in rows] == [
        ("v1.2", None, "2026-02-15T10:00:00Z"),
        ("v1.1", "Release", None),
    ]
    req = amp.requests_to("/api/3/annotations")[0]
    assert (req.query["start"], req.query["end"]) == ("2026-02-01T00:00:00Z", "2026-02-17T23:59:59Z")


async def test_annotations_fall_back_to_v2_when_v3_is_missing(amp: FakeAmplitude) -> None:
    amp.v3_enabled = False
    amp.add_annotation("2026-02-10T09:00:00Z", "v1.1", "first")
    amp.add_annotation("2026-02-15T09:00:00Z", "v1.2", "second")
    amp.add_annotation("2025-12-01T09:00:00Z", "old", "outside")
    async with client_for(amp) as client:
        rows, source = await client.annotations(date(2026, 2, 1), TODAY)
    assert source == "v2"
    assert [(r.start, r.label) for r in rows] == [("2026-02-15", "v1.2"), ("2026-02-10", "v1.1")]
    assert [r.path for r in amp.requests] == ["/api/3/annotations", "/api/2/annotations"]


async def test_annotations_do_not_fall_back_on_rejected_credentials(amp: FakeAmplitude) -> None:
    async with client_for(amp, secret="nope-nope-nope") as client:
        with pytest.raises(SkillError) as caught:
            await client.annotations(TODAY, TODAY)
    assert caught.value.status == 401
    assert [r.path for r in amp.requests] == ["/api/3/annotations"]


async def test_unreachable_server_is_a_skill_error() -> None:
    async with FakeAmplitude() as amp:
        url = amp.url
    client = AmplitudeClient("k" * 8, "s" * 8, base_url=url, retry=RetryPolicy(attempts=1))
    with pytest.raises(SkillError) as caught:
        await client.events_list()
    await client.aclose()
    assert "cannot reach" in caught.value.message


def test_region_base_urls() -> None:
    assert base_url_for("us") == REGION_BASES["us"] == "https://amplitude.com"
    assert base_url_for("EU") == "https://analytics.eu.amplitude.com"
    assert base_url_for("eu", "http://127.0.0.1:9/") == "http://127.0.0.1:9"
    with pytest.raises(SkillError):
        base_url_for("apac")


async def test_the_fake_refuses_hourly_ranges_over_7_days_as_amplitude_does(amp: FakeAmplitude) -> None:
    params = {"e": '{"event_type":"Agent Failed"}', "i": "-3600000", "start": "20260210", "end": "20260217"}
    async with httpx.AsyncClient(base_url=amp.url, auth=(amp.api_key, amp.secret_key)) as http:
        eight = await http.get("/api/2/events/segmentation", params=params)
        seven = await http.get("/api/2/events/segmentation", params={**params, "start": "20260211"})
    assert eight.status_code == 400 and eight.text == "Time range exceeds maximum of 604800000 ms"
    assert seven.status_code == 200


async def test_hourly_over_7_days_is_refused_before_asking(amp: FakeAmplitude) -> None:
    async with client_for(amp) as client:
        with pytest.raises(SkillError) as caught:
            await client.segmentation("Agent Failed", date(2026, 2, 10), TODAY, interval="hour")
    assert "7 days" in caught.value.message and amp.requests == []


def test_the_interval_is_chosen_from_the_whole_range() -> None:
    from skills.amplitude.client import interval_for

    assert interval_for("hour", date(2026, 2, 11), TODAY) == "hour"  # 7 days
    assert interval_for("hour", date(2026, 2, 10), TODAY) == "day"  # 8 days
    assert interval_for("day", date(2026, 2, 16), TODAY) == "day"


async def test_two_events_in_one_call(amp: FakeAmplitude) -> None:
    amp.add_events("Agent Started", TODAY, 7)
    amp.add_events("Agent Completed", TODAY - timedelta(days=1), 5)
    async with client_for(amp) as client:
        started, completed = await client.segmentation_pair(
            "Agent Started", "Agent Completed", TODAY - timedelta(days=1), TODAY
        )
    assert (started.event_type, started.total, started.rows[0].values) == ("Agent Started", 7, [0, 7])
    assert (completed.event_type, completed.total, completed.rows[0].values) == ("Agent Completed", 5, [5, 0])
    (req,) = amp.requests_to("/api/2/events/segmentation")
    assert req.e == {"event_type": "Agent Started"} and req.query["e2"] == '{"event_type":"Agent Completed"}'
