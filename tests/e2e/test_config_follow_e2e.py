"""A config change made from outside a running sitrep is followed by it: a report job added with
`python app.py config patch` (another process, the same database) is scheduled by the running app and posted at
its time. (Two replicas following a change made through one of them: tests/e2e/test_replicas_e2e.py.)"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from settings import Settings
from storage.jobs import slot_key
from storage.services import open_storage
from tests.fakes.slack import FakeSlack
from tests.support.app_process import AppProcess, app_env
from tests.support.environment import ROOT, subprocess_env

pytestmark = pytest.mark.e2e  # starts `python app.py`

REPORTS = "C0REPORTS"
LEAD = timedelta(seconds=20)  # time for the patch to be made and followed before the slot


def next_slot(lead: timedelta) -> datetime:
    """The first whole minute at least `lead` from now (UTC)."""
    return (datetime.now(UTC) + lead + timedelta(minutes=1)).replace(second=0, microsecond=0)


async def config_patch(env: dict[str, str], patch: dict) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "app.py"),
        "config",
        "patch",
        json.dumps(patch),
        env=subprocess_env(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    return proc.returncode or 0, (out + err).decode()


async def test_a_job_added_with_config_patch_while_sitrep_runs_is_posted_at_its_time(tmp_path: Path) -> None:
    async with FakeSlack() as slack:
        env = app_env(tmp_path, slack, SITREP_REPORT_CHANNEL=REPORTS)
        app = await AppProcess("app", env).start()
        try:
            await app.wait_line("report scheduler started")
            slot = next_slot(LEAD)
            job = {"name": "Deploy check", "time": f"{slot:%H:%M}", "timezone": "UTC", "sections": ["grafana"]}
            code, output = await config_patch(env, {"reports": {"jobs": [job]}})
            assert code == 0, output
            wait = (slot - datetime.now(UTC)).total_seconds() + 30
            await slack.wait_for_call("chat.postMessage", lambda c: c.args.get("channel") == REPORTS, timeout=wait)
        finally:
            assert await app.stop() == 0, app.log
    storage = await open_storage(Settings.from_env(env))
    try:
        runs = await storage.db.fetchall(
            "SELECT j.name, r.scheduled_for, r.status FROM job_runs r JOIN scheduled_jobs j ON j.id = r.job_id"
            " WHERE r.status <> 'missed'"
        )
    finally:
        await storage.close()
    assert [(r["name"], r["scheduled_for"], r["status"]) for r in runs] == [("Deploy check", slot_key(slot), "posted")]
    assert "Traceback" not in app.log, app.log
