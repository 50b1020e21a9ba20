"""Vercel deployments become changes as the drain sees them: the first entry of a new deploymentId records one,
its build line gives the deployment's URL, and the earliest entry its time (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from skills.changes import collect
from storage.changes import VERCEL, ChangeStore
from tests.support.drain_support import entry, ndjson, sign
from tests.support.drain_world import Drain


def pieces(body: bytes, size: int = 7) -> AsyncIterator[bytes]:
    async def gen() -> AsyncIterator[bytes]:
        for i in range(0, len(body), size):
            yield body[i : i + size]

    return gen()


async def test_a_new_deployment_is_recorded_once_with_its_build_url_and_first_time(drain: Drain) -> None:
    now_ms = int(time.time() * 1000)
    runtime = entry(1, deploymentId="dpl_New", ts_ms=now_ms - 60_000, host="mochacare.example")
    build = entry(2, source="build", deploymentId="dpl_New", ts_ms=now_ms - 300_000, host="mochacare-x1.vercel.app")
    for items in ([runtime], [build], [runtime, entry(3, deploymentId="dpl_New")]):
        body = ndjson(items)
        response = await drain.http.post("/drains/vercel", content=pieces(body), headers=sign(body))
        assert response.status_code == 200, response.text
    end = datetime.now(UTC)
    [change] = await ChangeStore(drain.services.storage.db).between(end - timedelta(hours=1), end)
    assert (change.source, change.subject, change.ref, change.kind) == (VERCEL, "mochacare", "dpl_New", "deploy")
    assert change.url == "https://mochacare-x1.vercel.app"  # the build line's host: the deployment's own URL
    assert change.at == datetime.fromtimestamp((now_ms - 300_000) / 1000, UTC)  # its earliest entry
    assert change.environment == "production"


async def test_preview_deployments_are_left_out_of_recent_changes_unless_asked(drain: Drain) -> None:
    body = json.dumps([entry(1, deploymentId="dpl_Prev", environment="preview"), entry(2, deploymentId="dpl_Prod")])
    response = await drain.post(body.encode())
    assert response.status_code == 200
    team = await drain.services.team_for(None)
    end = datetime.now(UTC) + timedelta(minutes=1)
    shown = await collect(drain.services, team, end - timedelta(hours=1), end)
    assert [c.ref for c in shown.changes] == ["dpl_Prod"]
    everything = await collect(drain.services, team, end - timedelta(hours=1), end, previews=True)
    assert {c.ref for c in everything.changes} == {"dpl_Prev", "dpl_Prod"}


async def test_entries_without_a_deployment_id_record_nothing(drain: Drain) -> None:
    item = entry(1)
    del item["deploymentId"]
    response = await drain.post(ndjson([item]))
    assert response.status_code == 200
    end = datetime.now(UTC) + timedelta(minutes=1)
    assert await ChangeStore(drain.services.storage.db).between(end - timedelta(hours=1), end) == []
