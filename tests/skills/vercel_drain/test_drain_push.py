"""The relay pushing what the drain accepted to the fake Loki: an outage (every accepted line arrives exactly once),
rate limits, Loki's refusals and what they count, wrong credentials, a restart, the bounded spill, and a replica
that died with acknowledged lines."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import replace
from functools import partial

from agent.services import Services
from bot.background import start_relay
from settings import Settings
from skills.base import SkillContext
from skills.vercel_drain import DrainConfig, Relay, load_config
from skills.vercel_drain.translate import to_lines
from storage.drain import DrainStore
from tests.fakes.loki import FakeLoki
from tests.support.drain_support import entry, ndjson
from tests.support.drain_world import FAST, Drain, drain_env, ids, readiness, serve, spilled_at_least


async def test_loki_down_then_back_every_accepted_line_arrives_exactly_once(drain: Drain) -> None:
    drain.loki.down(503)
    for start in (0, 10):
        response = await drain.post(ndjson([entry(i) for i in range(start, start + 10)]))
        assert response.status_code == 200
        await drain.relay.wait_until(partial(spilled_at_least, start + 10))
    assert drain.loki.lines() == [] and (await DrainStore(drain.services.storage.db).backlog())[1] == 20
    drain.loki.up()
    assert (await drain.post(ndjson([entry(i) for i in range(20, 25)]))).status_code == 200
    await drain.loki.wait_lines(25)
    await drain.relay.wait_until(lambda s: s.backlog_lines == 0)
    assert ids(drain.loki) == Counter(f"log-{i}" for i in range(25))  # each exactly once
    assert await DrainStore(drain.services.storage.db).backlog() == (0, 0, 0)


async def test_rate_limited_pushes_are_retried(drain: Drain) -> None:
    drain.loki.down(429)
    drain.loki.retry_after = "0"
    assert (await drain.post(ndjson([entry(1)]))).status_code == 200
    await drain.relay.wait_until(lambda s: s.last_error_status == 429)
    drain.loki.up()
    await drain.loki.wait_lines(1)
    assert ids(drain.loki) == Counter(["log-1"]) and drain.loki.pushes[0].status == 429


async def test_lines_loki_refuses_as_too_old_are_counted_not_spilled(drain: Drain) -> None:
    old = entry(1, ts_ms=1_000_000_000_000)  # 2001: beyond reject_old_samples_max_age
    assert (await drain.post(ndjson([old, entry(2)]))).status_code == 200
    await drain.relay.wait_until(lambda s: s.rejected_lines > 0)
    assert drain.relay.status.rejected_lines == 1 and "too old" in drain.relay.status.last_refusal
    assert ids(drain.loki) == Counter(["log-2"])  # Loki took the other line of the push
    assert (await DrainStore(drain.services.storage.db).backlog())[0] == 0


async def test_wrong_push_credentials_spill_until_they_are_fixed(drain: Drain) -> None:
    team = await drain.services.team_for(None)
    await drain.services.storage.credentials.set(team.id, "grafana", "loki_push_token", "glc_wrong-token-000", "test")
    drain.relay.invalidate()
    assert (await drain.post(ndjson([entry(1)]))).status_code == 200
    await drain.relay.wait_until(lambda s: s.last_error_status == 401 and s.backlog_lines == 1)
    assert drain.loki.pushes[0].authorized is False
    assert drain.loki.lines() == []
    await drain.services.storage.credentials.set(team.id, "grafana", "loki_push_token", drain.loki.token, "test")
    drain.relay.invalidate()
    await drain.loki.wait_lines(1)
    assert ids(drain.loki) == Counter(["log-1"])


async def test_stopping_leaves_what_is_queued_in_the_inbox_and_the_next_start_pushes_it(
    services: Services, loki: FakeLoki, env: dict[str, str]
) -> None:
    services = replace(services, settings=Settings.from_env({**env, **drain_env(loki)}))
    slow = replace(FAST, batch_wait=30.0)  # nothing would be pushed before the stop
    relay = await start_relay(services, slow)
    assert await relay.accept(to_lines([(entry(1), None)]), ndjson([entry(1)]))
    await relay.stop()
    assert loki.lines() == [] and await services.storage.drain.inbox() == (1, 1)
    again = await start_relay(services, FAST)
    try:
        await loki.wait_lines(1)
        await again.wait_settled()
        assert ids(loki) == Counter(["log-1"]) and again.status.adopted_lines == 1
        assert await services.storage.drain.inbox() == (0, 0)  # pushed: gone from the inbox
    finally:
        await again.stop()


async def test_the_spill_table_is_bounded_dropping_the_oldest_and_counting_them(
    services: Services, loki: FakeLoki, env: dict[str, str]
) -> None:
    services = replace(services, settings=Settings.from_env({**env, **drain_env(loki), "SITREP_HTTP_PORT": "0"}))
    relay = await start_relay(services, replace(FAST, spill_bytes=12_000))  # room for about two batches
    loki.down(503)
    async for d in serve(services, relay, loki):
        for n in range(6):
            body = ndjson([entry(10 * n + i, message="x" * 400) for i in range(10)])
            assert (await d.post(body)).status_code == 200
            await relay.wait_until(partial(spilled_at_least, 10 * (n + 1)))
        _, lines, size = await DrainStore(services.storage.db).backlog()
        assert size <= 12_000 and relay.status.dropped_lines == 60 - lines > 0
        loki.up()
        await relay.wait_until(lambda s: s.backlog_lines == 0)
        await loki.wait_lines(lines)
        assert set(ids(loki).values()) == {1}
        newest = sorted(ids(loki), key=lambda i: int(i.split("-")[1]))
        assert newest == [f"log-{i}" for i in range(60 - lines, 60)]  # the oldest were dropped, the rest kept


async def test_a_partly_refused_batch_counts_what_loki_refused_and_what_it_took(drain: Drain) -> None:
    # Loki's distributor drops the invalid entries, stores the rest and answers 400 with its grouped errors.
    drain.loki.max_line_size = 2000
    old = [entry(1, ts_ms=1_000_000_000_000), entry(2, ts_ms=1_000_000_000_500)]  # 2001, the same second
    batch = [*old, entry(3, message="x" * 3000), entry(4), entry(5), entry(6)]
    assert (await drain.post(ndjson(batch))).status_code == 200
    await drain.relay.wait_until(lambda s: s.rejected_lines > 0)
    answer = drain.loki.pushes[0].answer
    assert drain.loki.pushes[0].status == 400 and answer.startswith("2 errors like: entry for stream '{")
    assert "; 1 errors like: max entry size '2000' bytes exceeded" in answer
    assert ids(drain.loki) == Counter(["log-4", "log-5", "log-6"])
    assert drain.relay.status.rejected_lines == 3  # what Loki said it refused, not the whole batch
    assert drain.relay.status.pushed_lines == 3
    assert len(drain.loki.pushes) == 1  # a 400 is never pushed again: Loki has the valid lines already
    assert (await DrainStore(drain.services.storage.db).backlog())[0] == 0
    summary = readiness(drain)
    assert summary.startswith("flowing") and "Loki answered 400 at " in summary
    assert "took 3 of 6 lines" in summary and "refused 3" in summary
    assert "timestamp too old" in summary and len(summary) < 600


async def test_lines_too_far_behind_are_counted_from_the_ingesters_total_ignored(drain: Drain) -> None:
    now_ms = int(time.time() * 1000)
    assert (await drain.post(ndjson([entry(1, ts_ms=now_ms)]))).status_code == 200
    await drain.loki.wait_lines(1)
    behind = [entry(2, ts_ms=now_ms - 2 * 3600_000), entry(3, ts_ms=now_ms - 2 * 3600_000 + 1), entry(4)]
    assert (await drain.post(ndjson(behind))).status_code == 200
    await drain.relay.wait_until(lambda s: s.rejected_lines > 0)
    stream = '{environment="production", level="info", project="mochacare", service_name="vercel", source="lambda"}'
    assert drain.loki.pushes[1].answer == drain.loki.pushes[1].answer.rstrip() + "\n"
    assert (
        drain.loki.pushes[1].answer.rstrip().endswith(f"user '123456', total ignored: 2 out of 3 for stream: {stream}")
    )
    assert ids(drain.loki) == Counter(["log-1", "log-4"])
    assert (drain.relay.status.rejected_lines, drain.relay.status.pushed_lines) == (2, 2)
    assert len(drain.loki.pushes) == 2
    assert "took 1 of 3 lines" in readiness(drain) and "entry too far behind" in readiness(drain)


async def test_when_loki_names_one_stream_the_others_are_of_unknown_fate(drain: Drain) -> None:
    # The ingester's answer wins over the distributor's: a too-old line in another stream is not named.
    now_ms = int(time.time() * 1000)
    assert (await drain.post(ndjson([entry(1, level="error", ts_ms=now_ms)]))).status_code == 200
    await drain.loki.wait_lines(1)
    mixed = [
        entry(2, ts_ms=1_000_000_000_000),  # level=info: too old, dropped by validation
        entry(3),  # level=info: taken
        entry(4, level="error", ts_ms=now_ms - 2 * 3600_000),  # too far behind
        entry(5, level="error"),  # taken
    ]
    assert (await drain.post(ndjson(mixed))).status_code == 200
    await drain.relay.wait_until(lambda s: s.rejected_lines > 0)
    assert "too old" not in drain.relay.status.last_refusal  # Loki did not say
    assert ids(drain.loki) == Counter(["log-1", "log-3", "log-5"])
    status = drain.relay.status
    assert (status.rejected_lines, status.pushed_lines, status.unknown_lines) == (1, 2, 2)
    assert "2 of unknown fate" in readiness(drain)


async def test_a_400_whose_message_says_no_count_is_a_batch_of_unknown_fate(drain: Drain) -> None:
    drain.loki.down(400)
    drain.loki.refusal_text = "request refused by the gateway"
    assert (await drain.post(ndjson([entry(1), entry(2)]))).status_code == 200
    await drain.relay.wait_until(lambda s: s.last_error_status == 400)
    status = drain.relay.status
    assert (status.rejected_lines, status.pushed_lines, status.unknown_lines) == (0, 0, 2)
    assert len(drain.loki.pushes) == 1
    summary = readiness(drain)
    assert "count unknown" in summary and "request refused by the gateway" in summary


async def test_lines_a_dead_replica_acknowledged_are_pushed_by_another(
    services: Services, loki: FakeLoki, env: dict[str, str]
) -> None:
    services = replace(services, settings=Settings.from_env({**env, **drain_env(loki), "SITREP_HTTP_PORT": "0"}))
    team = await services.team_for(None)
    ctx = SkillContext(
        settings=services.settings, team=team, credentials=services.storage.credentials, storage=services.storage
    )

    async def loader() -> DrainConfig:
        return await load_config(ctx)

    db = services.storage.db
    dead = Relay(loader, DrainStore(db, "other-host:7:dead"), FAST, changes=services.storage.changes)
    body = ndjson([entry(i) for i in range(3)])  # answered 200 by a replica that died before pushing
    assert await dead.accept(to_lines([(e, None) for e in (entry(0), entry(1), entry(2))]), body)
    survivor = Relay(
        loader, DrainStore(db, "this-host:8:alive"), replace(FAST, inbox_beat=0.05), changes=services.storage.changes
    )
    await survivor.start()
    try:
        assert await survivor.store.inbox() == (1, 3)  # the dead one's lease is not over yet: still its row
        await db.execute("UPDATE drain_inbox SET beat_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-61 seconds')")
        await loki.wait_lines(3)
        await survivor.wait_settled()
    finally:
        await survivor.stop()
    assert ids(loki) == Counter(f"log-{i}" for i in range(3)) and survivor.status.adopted_lines == 3
    assert await survivor.store.inbox() == (0, 0)
