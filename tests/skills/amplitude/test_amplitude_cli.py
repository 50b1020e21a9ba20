"""`python -m skills.amplitude` as a user runs it: a subprocess pointed at the fake Amplitude."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fakes.amplitude import FakeAmplitude
from tests.support.environment import subprocess_env

pytestmark = pytest.mark.e2e  # starts processes: `pytest -m "not e2e"` skips it

TODAY = datetime.now(UTC).date()  # the CLI uses the real clock


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
async def amp() -> AsyncIterator[FakeAmplitude]:
    async with FakeAmplitude(today=TODAY) as fake:
        yield fake


@pytest.fixture
def amp_env(env: dict[str, str], amp: FakeAmplitude) -> dict[str, str]:
    return {
        **env,
        "AMPLITUDE_API_URL": amp.url,
        "AMPLITUDE_API_KEY": amp.api_key,
        "AMPLITUDE_SECRET_KEY": amp.secret_key,
    }


async def cli(env: dict[str, str], *args: str) -> Run:
    """Run the CLI without blocking the loop, so the fake keeps answering."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "skills.amplitude",
        *args,
        env=subprocess_env(env),
        cwd=Path(env["SITREP_DB"]).parent,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    return Run(proc.returncode or 0, out.decode(), err.decode())


def assert_one_line_error(run: Run) -> None:
    assert run.code == 1
    assert run.err.count("\n") == 1, run.err
    assert "Traceback" not in run.err


async def test_check_ready(amp: FakeAmplitude, amp_env: dict[str, str]) -> None:
    amp.add_events("Agent Started", TODAY, 12)
    run = await cli(amp_env, "check")
    assert run.code == 0, run.err
    assert "Amplitude: ready" in run.out and "events flowing: 1 event type, 12 events this week" in run.out


async def test_check_no_events_points_at_the_snippet(amp_env: dict[str, str]) -> None:
    run = await cli(amp_env, "check", "--json")
    assert run.code == 1
    row = json.loads(run.out)
    assert row["status"] == "blocked" and row["missing"] == "the app sends no events yet"
    assert "python -m skills.amplitude snippet" in row["next_step"]


async def test_check_not_configured(env: dict[str, str]) -> None:
    run = await cli(env, "check")
    assert run.code == 1
    assert "not configured" in run.out and "AMPLITUDE_API_KEY and AMPLITUDE_SECRET_KEY" in run.out


async def test_rejected_key_exits_1_naming_the_variables(amp: FakeAmplitude, amp_env: dict[str, str]) -> None:
    amp_env["AMPLITUDE_SECRET_KEY"] = "wrong-secret-123"
    run = await cli(amp_env, "list-events")
    assert_one_line_error(run)
    assert "credentials were rejected" in run.err
    assert "AMPLITUDE_API_KEY" in run.err and "AMPLITUDE_SECRET_KEY" in run.err
    assert "wrong-secret-123" not in run.err + run.out and amp.api_key not in run.err + run.out


async def test_missing_keys_exit_1(env: dict[str, str]) -> None:
    run = await cli(env, "list-events")
    assert_one_line_error(run)
    assert "not configured" in run.err and "AMPLITUDE_API_KEY" in run.err


async def test_list_events_table_and_json(amp: FakeAmplitude, amp_env: dict[str, str]) -> None:
    amp.add_events("Agent Started", TODAY, 30)
    amp.add_events("Agent Failed", TODAY, 4)
    amp.define_event("Gone", deleted=True)
    run = await cli(amp_env, "list-events")
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0] == "2 event types, 34 events this week"
    assert lines[1].split() == ["NAME", "TOTALS"]
    assert lines[2].split() == ["Agent", "Started", "30"] and lines[3].split() == ["Agent", "Failed", "4"]
    assert "Gone" not in run.out and "https://app.amplitude.com/analytics/" in run.out
    data = json.loads((await cli(amp_env, "list-events", "--json")).out)
    assert data["event_types"][0] == {"name": "Agent Started", "totals": 30}
    assert json.loads((await cli(amp_env, "--json", "list-events")).out) == data


async def test_query_events_with_group_by_and_where(amp: FakeAmplitude, amp_env: dict[str, str]) -> None:
    amp.add_events("Agent Failed", TODAY, 6, error_type="TimeoutError", agent_type="chat")
    amp.add_events("Agent Failed", TODAY - timedelta(days=9), 3, error_type="TimeoutError", agent_type="chat")
    amp.add_events("Agent Failed", TODAY, 50, error_type="ValueError", agent_type="batch")
    run = await cli(
        amp_env,
        "query-events",
        "Agent Failed",
        "--days",
        "7",
        "--group-by",
        "error_type",
        "--where",
        "agent_type=chat",
    )
    assert run.code == 0, run.err
    assert run.out.startswith("Agent Failed: 6 totals per day,")
    assert "(previous 7 days: 3, +100.0%)" in run.out
    assert "filter: agent_type is chat" in run.out
    row = next(line for line in run.out.splitlines() if line.startswith("TimeoutError"))
    assert row.split() == ["TimeoutError", "6", "3", "+100.0%"]
    assert "ValueError" not in run.out
    e = amp.requests_to("/api/2/events/segmentation")[0].e
    assert e["filters"] == [
        {"subprop_type": "event", "subprop_key": "agent_type", "subprop_op": "is", "subprop_value": ["chat"]}
    ]
    assert e["group_by"] == [{"type": "event", "value": "error_type"}]


async def test_query_events_single_series_per_day(amp: FakeAmplitude, amp_env: dict[str, str]) -> None:
    amp.add_events("Agent Started", TODAY, 7)
    run = await cli(amp_env, "query-events", "Agent Started", "--days", "3", "--metric", "uniques")
    assert run.code == 0, run.err
    assert "BUCKET" in run.out and "UNIQUES" in run.out
    assert run.out.splitlines()[-3].split() == [TODAY.isoformat(), "1"]  # one user on the last day
    bad = await cli(amp_env, "query-events", "Agent Started", "--where", "nonsense")
    assert_one_line_error(bad)
    assert "PROP=VALUE" in bad.err


async def test_query_events_429_is_retried_then_reported(amp: FakeAmplitude, amp_env: dict[str, str]) -> None:
    amp.inject_429("Exceeded concurrent limit.", times=100, retry_after="0")
    run = await cli(amp_env, "query-events", "Agent Failed")
    assert_one_line_error(run)
    assert "rate limit hit: the concurrent request limit" in run.err and "Exceeded concurrent limit" in run.err
    assert len(amp.requests) == 3  # the default policy tries three times


async def test_get_user_activity(amp: FakeAmplitude, amp_env: dict[str, str]) -> None:
    amp.add_user(
        "user-9",
        9009,
        events=[
            {
                "event_type": "Agent Started",
                "event_time": "2026-02-16 10:00:00.000000",
                "event_properties": {"agent_id": "a1"},
            },
            {
                "event_type": "Agent Failed",
                "event_time": "2026-02-16 10:00:05.000000",
                "event_properties": {"agent_id": "a1", "error_type": "TimeoutError"},
            },
        ],
        platform="Web",
    )
    run = await cli(amp_env, "get-user-activity", "user-9")
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0].startswith("user user-9 (Amplitude id 9009): 2 events shown")
    assert lines[1].split()[:3] == ["TIME", "EVENT_TYPE", "PROPERTIES"]
    assert "Agent Failed" in lines[2] and "error_type=TimeoutError" in lines[2]  # newest first
    missing = await cli(amp_env, "get-user-activity", "nobody")
    assert missing.code == 0 and "No Amplitude user matches 'nobody'" in missing.out


async def test_get_chart_annotations(amp: FakeAmplitude, amp_env: dict[str, str]) -> None:
    when = (TODAY - timedelta(days=3)).isoformat()
    amp.add_annotation(f"{when}T12:00:00Z", "Release 4.1", "runtime upgrade", category="Release")
    amp.v3_enabled = False
    run = await cli(amp_env, "get-chart-annotations", "--days", "30")
    assert run.code == 0, run.err
    assert "1 annotations" in run.out and "(from /api/2/annotations)" in run.out
    row = next(line for line in run.out.splitlines() if line.startswith(when))
    assert "Release 4.1" in row and "runtime upgrade" in row


async def test_snippet(env: dict[str, str]) -> None:
    run = await cli(env, "snippet")
    assert run.code == 0, run.err
    assert "npm install @amplitude/analytics-node" in run.out and "init('<amplitude-api-key>')" in run.out
    for name in ("Agent Started", "Agent Completed", "Agent Failed", "Agent Timeout", "API Error"):
        assert f"track('{name}'" in run.out
    eu = json.loads((await cli({**env, "AMPLITUDE_REGION": "eu"}, "snippet", "--json")).out)
    assert "serverZone: 'EU'" in eu["init"] and len(eu["events"]) == 5


async def test_keys_never_printed(amp: FakeAmplitude, amp_env: dict[str, str]) -> None:
    amp.add_events("Agent Started", TODAY, 1)
    for args in (["check", "--json"], ["list-events", "--json"], ["snippet"]):
        run = await cli(amp_env, *args)
        assert amp.api_key not in run.out + run.err and amp.secret_key not in run.out + run.err
