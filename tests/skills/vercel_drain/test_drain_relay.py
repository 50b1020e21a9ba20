"""POST /drains/vercel served for real: formats, signature, Vercel's verification request, limits, a full queue,
and a database that does not take a request (503, nothing acknowledged)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace

import pytest

from agent.services import Services
from bot import drain as drain_route
from settings import Settings
from skills.base import SkillContext
from skills.vercel_drain import DrainConfig, Relay, RelayLimits, load_config
from storage.db import DatabaseUnavailable
from tests.fakes.loki import FakeLoki
from tests.support.drain_support import DRAIN_SECRET, DRAIN_VERIFY, entry, ndjson, sign
from tests.support.drain_world import Drain, ids, serve


async def test_a_signed_json_array_reaches_loki_with_the_labels(drain: Drain) -> None:
    items = [entry(i, level="error" if i % 2 else "info") for i in range(4)]
    response = await drain.post(json.dumps(items).encode())
    assert response.status_code == 200 and response.json() == {"ok": True, "accepted": 4, "malformed": 0}
    assert response.headers["x-vercel-verify"] == DRAIN_VERIFY
    await drain.loki.wait_lines(4)
    assert ids(drain.loki) == Counter(f"log-{i}" for i in range(4))
    push = drain.loki.pushes[0]
    assert push.authorized and push.status == 204 and push.content_type.startswith("application/json")
    for labels, ns, line in drain.loki.lines():
        item = json.loads(line)
        assert labels == {
            "service_name": "vercel",
            "source": "lambda",
            "level": item["level"],
            "environment": "production",
            "project": "mochacare",
        }
        assert ns == item["timestamp"] * 1_000_000


async def test_ndjson_with_a_malformed_line_counts_it_and_relays_the_rest(drain: Drain) -> None:
    body = ndjson([entry(1)]) + b"{oops\n" + ndjson([entry(2)])
    response = await drain.post(body)
    assert response.status_code == 200 and response.json()["accepted"] == 2 and response.json()["malformed"] == 1
    await drain.loki.wait_lines(2)
    assert ids(drain.loki) == Counter(["log-1", "log-2"])
    assert drain.relay.status.malformed_lines == 1


async def test_a_bad_or_missing_signature_changes_nothing(drain: Drain) -> None:
    body = ndjson([entry(1)])
    wrong = await drain.post(body, sign(body, "not-the-secret"))
    missing = await drain.post(body, {})
    tampered = await drain.post(body + b"\n", sign(body))
    assert [r.status_code for r in (wrong, missing, tampered)] == [403, 403, 403]
    assert drain.relay.queue.qsize() == 0 and drain.relay.status.accepted_lines == 0
    assert drain.relay.status.bad_signatures == 3 and drain.relay.status.requests == 0
    ok = await drain.post(ndjson([entry(9)]))  # then a good one: only it arrives
    assert ok.status_code == 200
    await drain.loki.wait_lines(1)
    assert ids(drain.loki) == Counter(["log-9"])


async def test_vercels_verification_request(drain: Drain) -> None:
    # Vercel does not sign it: a POST with no entries, whose answer must be 200 with x-vercel-verify.
    for body in (b"{}", b"[]", b"", b"{}\n"):
        answer = await drain.http.post("/drains/vercel", content=body, headers={"Content-Type": "application/json"})
        assert answer.status_code == 200 and answer.headers["x-vercel-verify"] == DRAIN_VERIFY, body
    signed = await drain.post(b"{}")
    assert signed.status_code == 200 and signed.json()["accepted"] == 0
    got = await drain.http.get("/drains/vercel")
    assert got.status_code == 200 and got.headers["x-vercel-verify"] == DRAIN_VERIFY
    head = await drain.http.head("/drains/vercel")
    assert head.status_code == 200 and head.headers["x-vercel-verify"] == DRAIN_VERIFY
    assert drain.relay.status.accepted_lines == 0 and drain.relay.queue.qsize() == 0 and drain.loki.pushes == []
    unsigned = await drain.post(json.dumps([entry(1)]).encode(), {})  # entries without a signature: refused
    assert unsigned.status_code == 403 and drain.relay.status.accepted_lines == 0


async def test_a_body_over_the_limit_is_413(drain: Drain, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(drain_route, "MAX_DRAIN_BODY", 1000)
    body = ndjson([entry(i) for i in range(20)])
    response = await drain.post(body)
    assert response.status_code == 413 and drain.relay.status.accepted_lines == 0


async def test_a_full_queue_answers_503_and_queues_nothing_of_that_request(
    services: Services, loki: FakeLoki, env: dict[str, str]
) -> None:
    services = replace(
        services, settings=Settings.from_env({**env, "SITREP_HTTP_PORT": "0", "VERCEL_DRAIN_SECRET": DRAIN_SECRET})
    )
    team = await services.team_for(None)
    ctx = SkillContext(
        settings=services.settings, team=team, credentials=services.storage.credentials, storage=services.storage
    )

    async def loader() -> DrainConfig:
        return await load_config(ctx)

    relay = Relay(loader, services.storage.drain, RelayLimits(queue_lines=3), changes=services.storage.changes)
    async for d in serve(services, relay, loki):  # not started: nothing drains the queue
        first = await d.post(ndjson([entry(1), entry(2)]))
        second = await d.post(ndjson([entry(3), entry(4)]))
        assert (first.status_code, second.status_code) == (200, 503)
        assert second.headers["Retry-After"] == "1"
        assert relay.queue.qsize() == 2 and relay.status.refused_requests == 1
        never = await d.post(ndjson([entry(i) for i in range(4)]))  # more than the queue could ever hold
        assert never.status_code == 413 and relay.queue.qsize() == 2


async def test_a_request_the_database_does_not_take_is_answered_503_and_nothing_is_queued(
    drain: Drain, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unavailable(requests: object) -> list[int]:
        raise DatabaseUnavailable("PostgreSQL unreachable")

    monkeypatch.setattr(drain.relay.inbox.store, "journal", unavailable)
    response = await drain.post(ndjson([entry(1), entry(2)]))
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert "could not be stored" in response.json()["error"]
    assert drain.relay.queue.qsize() == 0 and drain.relay.status.accepted_lines == 0
    monkeypatch.undo()
    assert (await drain.post(ndjson([entry(3)]))).status_code == 200  # Vercel's retry, once the database is back
    await drain.loki.wait_lines(1)
    assert ids(drain.loki) == Counter(["log-3"])
