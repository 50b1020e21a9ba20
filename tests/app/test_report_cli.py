"""`python app.py report --print | --post` as a user runs it: a real process against the fakes."""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reports.post import NO_CHANNEL, NO_TOKEN
from reports.render import num
from tests.fakes.amplitude import FakeAmplitude
from tests.fakes.grafana import FakeGrafana
from tests.fakes.slack import FakeSlack
from tests.support import report_data as rd
from tests.support.environment import ROOT, subprocess_env

pytestmark = pytest.mark.e2e  # starts processes: `pytest -m "not e2e"` skips it


async def run_app(args: list[str], env: dict[str, str], timeout: float = 60) -> tuple[int, str, str]:
    """The app in a child process; this test's loop keeps serving the fakes meanwhile."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "app.py"),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=subprocess_env(env),
        cwd=Path(env["SITREP_DB"]).parent,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


@pytest.fixture
async def fakes() -> AsyncIterator[tuple[FakeGrafana, FakeAmplitude]]:
    async with FakeGrafana() as grafana, FakeAmplitude() as amp:
        yield grafana, amp


async def test_print_renders_the_report_with_real_figures(env: dict[str, str], fakes) -> None:
    grafana, amp = fakes
    logs, _, agents = rd.seed_all(grafana, amp, datetime.now(UTC))
    code, out, err = await run_app(["report", "--print"], {**env, **rd.fake_env(grafana, amp)})
    assert code == 0, err
    assert out.startswith("sitrep · Status report\nGenerated ")
    assert f"*5xx responses*: *{logs.current(logs.timeouts)}*" in out
    assert f"*Agent Started*: *{num(agents.current(agents.started))}*" in out
    note = re.search(r"\*5xx responses\*: .* Explore \[(\d+)\]", out)
    assert note and f"\n[{note.group(1)}] {grafana.url}/explore?" in out and "Traceback" not in err
    assert grafana.token not in out + err and amp.secret_key not in out + err


async def test_print_exits_zero_with_failing_sections(env: dict[str, str], fakes) -> None:
    grafana, _ = fakes
    grafana.fail_next(500, times=1000, headers={"Retry-After": "0"})
    code, out, err = await run_app(["report"], {**env, **rd.fake_env(grafana, None)})
    assert code == 0, err
    lines = [line for line in out.splitlines() if line.startswith(("🔴", "🟡"))]
    assert len(lines) == 2
    assert lines[0].startswith("🔴 *Grafana* failed:") and "(500)" in lines[0]
    assert (
        lines[1].startswith("🟡 *Amplitude* no data: Amplitude is not configured") and "AMPLITUDE_API_KEY" in lines[1]
    )


async def test_post_without_a_channel_or_a_token_is_one_line_and_exit_1(env: dict[str, str]) -> None:
    code, out, err = await run_app(["report", "--post"], env)
    assert (code, out, err) == (1, "", f"sitrep: {NO_CHANNEL}\n")
    code, out, err = await run_app(["report", "--post"], {**env, "SITREP_REPORT_CHANNEL": "C0REPORT"})
    assert (code, out, err) == (1, "", f"sitrep: {NO_TOKEN}\n")


async def test_post_sends_it_to_the_report_channel(env: dict[str, str], fakes) -> None:
    grafana, amp = fakes
    rd.seed_all(grafana, amp, datetime.now(UTC))
    async with FakeSlack() as slack:
        extra = {
            "SITREP_REPORT_CHANNEL": "C0REPORT",
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_API_URL": slack.api_url,
        }
        code, out, err = await run_app(["report", "--post"], {**env, **rd.fake_env(grafana, amp), **extra})
        assert code == 0, err
        message = slack.messages["C0REPORT"][-1]
        assert out == f"posted Status report to C0REPORT (ts {message['ts']}; Grafana ok, Amplitude ok)\n"
        assert message["blocks"][0]["type"] == "header" and "*5xx responses*" in str(message["blocks"])


async def test_post_joins_a_public_channel_and_names_a_private_one_it_cannot(env: dict[str, str]) -> None:
    channels = {"C0PUBLIC": {"is_member": False}, "G0SECRET": {"is_member": False, "is_private": True}}
    async with FakeSlack(channels=channels) as slack:
        extra = {"SLACK_BOT_TOKEN": slack.bot_token, "SLACK_API_URL": slack.api_url}
        code, out, err = await run_app(["report", "--post"], {**env, **extra, "SITREP_REPORT_CHANNEL": "C0PUBLIC"})
        assert code == 0, err
        assert [c.args.get("channel") for c in slack.calls_to("conversations.join")] == ["C0PUBLIC"]
        assert slack.messages["C0PUBLIC"]

        code, out, err = await run_app(["report", "--post"], {**env, **extra, "SITREP_REPORT_CHANNEL": "G0SECRET"})
        assert code == 1 and out == "" and "Traceback" not in err
        assert err.startswith("sitrep: ") and "/invite" in err, err
        assert "G0SECRET" not in slack.messages
