"""Two sitrep replicas on one database and one Slack: each event answered once, whichever connection gets it;
an event that cannot be recorded is left unacked so that Slack delivers it again."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator

import pytest

from agent.services import Services
from bot.runtime import Runtime
from bot.slack.run import serve
from settings import Settings
from storage.db import DatabaseUnavailable
from storage.services import open_storage
from tests.fakes.slack import FakeSlack
from tests.support.environment import BACKENDS


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Two replicas on a shared SQLite file, and on PostgreSQL."""
    return str(request.param)


@pytest.fixture
async def replicas(env: dict[str, str]) -> AsyncIterator[tuple[FakeSlack, list[Services]]]:
    async with FakeSlack() as slack:
        settings = Settings.from_env(
            {
                **env,
                "SLACK_BOT_TOKEN": slack.bot_token,
                "SLACK_APP_TOKEN": slack.app_token,
                "SLACK_API_URL": slack.api_url,
            }
        )
        services = [Services(settings=settings, storage=await open_storage(settings)) for _ in range(2)]
        stop = asyncio.Event()
        tasks = []
        for count, svc in enumerate(services, start=1):
            tasks.append(asyncio.create_task(serve(Runtime(svc), stop=stop)))
            await slack.wait_connected(count=count)  # connection 0 is replica 0, connection 1 replica 1
        try:
            yield slack, services
        finally:
            stop.set()
            await asyncio.wait_for(asyncio.gather(*tasks), 10)
            for svc in services:
                await svc.close()


def answers_in(slack: FakeSlack, thread_ts: str) -> int:
    return sum(1 for c in slack.calls_to("chat.postMessage") if c.args.get("thread_ts") == thread_ts)


async def test_an_event_and_its_retry_on_the_other_replica_get_one_answer(
    replicas: tuple[FakeSlack, list[Services]],
) -> None:
    slack, _ = replicas
    events = [slack.message_event(f"help {i}") for i in range(6)]
    envelopes = []
    for i, event in enumerate(events):
        body = slack.event_envelope(event, event_id=f"Ev{i}")
        envelopes.append(await slack.send_envelope("events_api", body, connection=i % 2))
        envelopes.append(
            await slack.send_envelope(
                "events_api", body, connection=(i + 1) % 2, retry_attempt=1, retry_reason="timeout"
            )
        )
    for envelope in envelopes:
        await slack.wait_ack(envelope)  # every delivery is acked, the retries too
    for event in events:
        await slack.wait_for_call("chat.postMessage", predicate=lambda c, ts=event["ts"]: c.args.get("thread_ts") == ts)
    probe = slack.message_event("help")  # answered after every retry was handled: nothing more is coming
    await slack.wait_ack(await slack.send_event(probe, connection=0))
    await slack.wait_for_call("chat.postMessage", predicate=lambda c: c.args.get("thread_ts") == probe["ts"])
    assert [answers_in(slack, e["ts"]) for e in events] == [1] * len(events)


@pytest.mark.parametrize(
    "error", [DatabaseUnavailable("connection refused"), sqlite3.OperationalError("database is locked")]
)
async def test_an_event_that_cannot_be_recorded_is_not_acked_and_its_redelivery_is_answered(
    replicas: tuple[FakeSlack, list[Services]], monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    slack, services = replicas
    ledger = services[0].storage.events
    record = ledger.record
    refused = asyncio.Event()

    async def unreachable(event_id: str, body: dict, *, answer: bool) -> bool:
        if event_id == "EvDown":
            refused.set()
            raise error
        return await record(event_id, body, answer=answer)

    monkeypatch.setattr(ledger, "record", unreachable)
    event = slack.message_event("help")
    body = slack.event_envelope(event, event_id="EvDown")
    first = await slack.send_envelope("events_api", body, connection=0)
    await refused.wait()
    later = slack.message_event("help")  # handled after the refused one on the same connection
    await slack.wait_ack(await slack.send_event(later, connection=0))
    await slack.wait_for_call("chat.postMessage", predicate=lambda c: c.args.get("thread_ts") == later["ts"])
    assert first not in slack.acks  # Slack will deliver it again
    retry = await slack.send_envelope("events_api", body, connection=1, retry_attempt=1, retry_reason="timeout")
    await slack.wait_ack(retry)
    await slack.wait_for_call("chat.postMessage", predicate=lambda c: c.args.get("thread_ts") == event["ts"])
    assert answers_in(slack, event["ts"]) == 1
