"""A config change made from the command line is followed by the sitrep already running: `python app.py config
patch` moves the report schedule in the store, and the running `python app.py` posts the report at the new time
(before, only a change made through the running process itself resynced its scheduler)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fakes.slack import FakeSlack
from tests.support.app_process import AppProcess, app_env
from tests.support.environment import ROOT, subprocess_env

pytestmark = pytest.mark.e2e  # starts processes: `pytest -m "not e2e"` skips it

CHANNEL = "C0FOLLOW1"


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(channels={CHANNEL: {"is_member": False}}) as fake:
        yield fake


async def config_patch(env: dict[str, str], patch: dict) -> tuple[int, str]:
    """`python app.py config patch <json>`, a separate process beside the running app."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "app.py"),
        "config",
        "patch",
        json.dumps(patch),
        env=subprocess_env(env),
        cwd=Path(env["SITREP_DB"]).parent,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


def next_whole_minute(margin_s: float = 25) -> datetime:
    """The next HH:MM at least `margin_s` away (time for the running app to follow the change first)."""
    now = datetime.now(UTC)
    at = (now + timedelta(minutes=1)).replace(second=0, microsecond=0)
    return at if (at - now).total_seconds() >= margin_s else at + timedelta(minutes=1)


async def test_a_schedule_moved_from_the_command_line_is_followed_by_the_running_app(
    tmp_path: Path, slack: FakeSlack
) -> None:
    env = app_env(tmp_path, slack)
    app = await AppProcess("sitrep", env).start()
    try:
        await app.wait_line(r"report scheduler started")
        at = next_whole_minute()
        job = {"name": "Deploy check", "time": at.strftime("%H:%M"), "timezone": "UTC"}
        status, out = await config_patch(env, {"reports": {"channel": CHANNEL, "jobs": [job]}})
        assert status == 0, out

        await app.wait_line(r"the report schedule changed in the store; following it")
        wait = (at - datetime.now(UTC)).total_seconds() + 60
        posted = await slack.wait_for_call(
            "chat.postMessage", lambda c: c.args.get("channel") == CHANNEL, timeout=max(wait, 60)
        )
        assert "Deploy check" in json.dumps(posted.args)
        assert slack.calls_to("conversations.join"), "the public report channel is joined before the post"
    finally:
        assert await app.stop() == 0
