"""bot/poster.py against a Slack that rate-limits as Slack documents (tests/fakes/slack_limits.py), on both
database backends: posts paced per channel, a 429 sent again after its Retry-After, a reply after its parent, a
refused parent failing its replies, grouped posts, coalesced edits, and rows a dead sender left finished."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bot.poster import SlackPoster
from bot.slack_client import web_client
from storage.outbox import OutboxStore
from storage.poster import PRIORITY_ALERT, PRIORITY_ANSWER, PostFailed, PostRef
from storage.services import Storage
from supervisor import Supervisor
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_limits import SlackLimits
from tests.support.environment import BACKENDS


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@asynccontextmanager
async def posting(
    storage: Storage, slack: FakeSlack, *, owner: str = "test-host:1:a", lease_s: float = 60.0
) -> AsyncIterator[SlackPoster]:
    supervisor = Supervisor()
    poster = SlackPoster(
        storage.outbox, web_client(slack.bot_token, slack.api_url), supervisor, owner=owner, lease_s=lease_s
    )
    try:
        yield poster
    finally:
        await supervisor.stop()


def texts(slack: FakeSlack, channel: str) -> list[str]:
    return [m["text"] for m in slack.messages.get(channel, [])]


async def test_a_burst_in_one_channel_is_paced_and_429s_are_sent_again_after_retry_after(storage: Storage) -> None:
    limits = SlackLimits(post_burst=1)  # stricter than the poster's own burst of 2: it meets a 429
    async with FakeSlack(rate_limits=limits) as slack, posting(storage, slack) as poster:
        refs = [await poster.post("C1", f"alert {i}") for i in range(4)]
        other = await poster.post("C2", "elsewhere")
        assert await poster.settle(20)
        assert texts(slack, "C1") == [f"alert {i}" for i in range(4)]  # every one, in order
        assert [await poster.sent(r) for r in refs] == [m["ts"] for m in slack.messages["C1"]]
        assert await poster.sent(other)
        assert limits.count() >= 1 and poster.rate_limited == limits.count()
        posts = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == "C1"]
        for refused, again in itertools.pairwise(posts):
            if refused.error == "ratelimited":
                assert again.at - refused.at >= 0.95  # not before its Retry-After (1 s)
        ok = [c.at for c in posts if c.error is None]
        assert ok[-1] - ok[0] >= 2.5  # about one a second after the first


async def test_a_reply_waits_for_its_parent_and_a_refused_parent_fails_its_replies(storage: Storage) -> None:
    async with FakeSlack(channels={"C0GONE": {"is_archived": True}}) as slack, posting(storage, slack) as poster:
        slack.fail_next("chat.postMessage", retry_after=1)  # the parent meets a 429 first
        parent = await poster.post("C1", "the alert")
        reply = await poster.post("C1", "its investigation", reply_to=parent)
        assert await poster.sent(reply, timeout=10)
        first, second = slack.messages["C1"]
        assert (first["text"], second["text"], second["thread_ts"]) == ("the alert", "its investigation", first["ts"])

        lost = await poster.post("C0GONE", "the alert")
        orphan = await poster.post("C0GONE", "its investigation", reply_to=lost)
        with pytest.raises(PostFailed) as refused:
            await poster.sent(lost, timeout=10)
        assert refused.value.error == "is_archived"
        with pytest.raises(PostFailed) as waited:
            await poster.sent(orphan, timeout=10)
        assert waited.value.error == "parent_failed"


async def test_posts_of_one_group_waiting_together_go_out_as_one_message(storage: Storage) -> None:
    async with FakeSlack(rate_limits=SlackLimits()) as slack, posting(storage, slack) as poster:
        store: OutboxStore = storage.outbox
        ids = []
        for i, severity in enumerate([1, 3, 2, 3, 0]):  # written while no sender ran (another replica, a restart)
            payload = {"text": f"alert {i} alone", "group_head": ":rotating_light: {n} alerts"}
            ids.append(
                await store.enqueue(
                    "chat.postMessage", "C1", payload, group_key="alerts:C1", line=f"line {i}", priority=100 + severity
                )
            )
        reply_to_third = await store.enqueue("chat.postMessage", "C1", {"text": "about alert 2"}, parent_id=ids[2])
        poster.kick()
        assert await poster.settle(10)
        group, reply = slack.messages["C1"]
        assert group["text"].splitlines() == [
            ":rotating_light: 5 alerts",
            "line 1",
            "line 3",
            "line 2",
            "line 0",
            "line 4",
        ]  # most severe first
        assert reply["thread_ts"] == group["ts"]
        row = await store.get(reply_to_third)
        assert row is not None and row.status == "sent"

        await poster.edit(PostRef(ids[2], "C1"), "alert 2 resolved alone", line="line 2 resolved")
        assert await poster.settle(10)
        assert "line 2 resolved" in slack.messages["C1"][0]["text"].splitlines()
        assert len(slack.messages["C1"][0]["text"].splitlines()) == 6


async def test_a_flood_of_edits_is_a_few_chat_updates_the_last_one_winning(storage: Storage) -> None:
    async with FakeSlack(rate_limits=SlackLimits()) as slack, posting(storage, slack) as poster:
        ref = await poster.post("C1", "notified once")
        await poster.sent(ref)
        for i in range(2, 60):
            await poster.edit(ref, f"notified {i} times")
        assert await poster.settle(10)
        updates = slack.calls_to("chat.update")
        assert 1 <= len(updates) <= 4, len(updates)
        assert slack.messages["C1"][0]["text"] == "notified 59 times"
        before = await poster.post("C2", "first text")
        await poster.edit(before, "changed before it was posted")  # folded into the post, or an edit after it
        await poster.sent(before)
        assert await poster.settle(10)
        assert texts(slack, "C2") == ["changed before it was posted"]


async def test_rows_left_by_a_dead_sender_are_finished_by_another(storage: Storage) -> None:
    async with FakeSlack() as slack:
        store: OutboxStore = storage.outbox
        waiting = await store.enqueue("chat.postMessage", "C1", {"text": "left pending"})
        claimed = await store.enqueue("chat.postMessage", "C1", {"text": "claimed, then its replica died"})
        await storage.db.execute(
            "UPDATE slack_outbox SET claimed_by = 'other-host:42:dead', claimed_at = ? WHERE id = ?",
            (time.time() - 5, claimed),
        )
        async with posting(storage, slack, lease_s=3.0) as poster:
            poster.start()  # as at start-up: what the store holds is sent
            assert await poster.sent(await _ref(store, waiting), timeout=10)
            assert await poster.sent(await _ref(store, claimed), timeout=10)
        assert texts(slack, "C1") == ["left pending", "claimed, then its replica died"]


async def test_an_answer_that_is_not_json_is_retried_and_a_key_posts_once(storage: Storage) -> None:
    async with FakeSlack() as slack, posting(storage, slack) as poster:
        slack.fail_next("chat.postMessage", status=502, body="<html>502 Bad Gateway</html>")
        first = await poster.post("C1", "the report", key="report:1:slot")
        again = await poster.post("C1", "the report", key="report:1:slot")
        assert first == again
        ts = await poster.sent(first, timeout=10)
        assert texts(slack, "C1") == ["the report"] and Decimal(ts) > 0
        assert [c.error for c in slack.calls_to("chat.postMessage")] == ["HTTP 502", None]


async def _ref(store: OutboxStore, row_id: int) -> PostRef:
    row = await store.get(row_id)
    assert row is not None
    return PostRef(row.id, row.channel)


async def test_settle_waits_on_the_sender_not_a_clock(storage: Storage) -> None:
    async with FakeSlack() as slack, posting(storage, slack) as poster:
        assert await poster.settle(0.1)  # nothing to send
        await asyncio.gather(*(poster.post(f"C{i}", "x") for i in range(5)))
        assert await poster.settle(10)
        assert sum(len(v) for v in slack.messages.values()) == 5


async def test_a_person_waiting_is_not_held_to_the_pace_but_waits_out_a_429(storage: Storage) -> None:
    async with FakeSlack() as slack, posting(storage, slack) as poster:
        answers = [await poster.post("C1", f"answer {i}", priority=PRIORITY_ANSWER) for i in range(6)]
        for ref in answers:
            await poster.sent(ref, timeout=10)
        at = [c.at for c in slack.calls_to("chat.postMessage")]
        assert at[-1] - at[0] < 1.0  # a burst of answers goes at once; Slack tolerates short bursts
        alert = await poster.post("C1", "an alert", priority=PRIORITY_ALERT)
        await poster.sent(alert, timeout=10)
        assert slack.calls_to("chat.postMessage")[-1].at - at[-1] >= 2.5  # background posts pay for the burst

        slack.fail_next("chat.postMessage", retry_after=1)
        held = await poster.post("C2", "refused once")
        await slack.wait_for_call("chat.postMessage", lambda c: c.error == "ratelimited")
        answer = await poster.post("C2", "an answer behind the 429", priority=PRIORITY_ANSWER)
        await poster.sent(answer, timeout=10)
        refused, *rest = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == "C2"]
        assert refused.error == "ratelimited" and all(c.at - refused.at >= 0.95 for c in rest)
        assert await poster.sent(held, timeout=10)


async def test_old_rows_are_pruned_but_not_an_open_alerts_posts_and_an_edit_of_a_gone_post_fails(
    storage: Storage,
) -> None:
    async with FakeSlack() as slack, posting(storage, slack) as poster:
        old, kept = await poster.post("C1", "a month ago"), await poster.post("C1", "an alert still firing")
        await poster.sent(old), await poster.sent(kept)
        await storage.db.execute("UPDATE slack_outbox SET created_at = '2020-01-01T00:00:00.000Z'")
        inv, _ = await storage.alerts.claim(
            "default", "fp", datetime(2020, 1, 1, tzinfo=UTC), alert_name="x", source="grafana", channel="C1",
            thread_ts="",
        )  # fmt: skip
        await storage.alerts.set_reply(inv.id, kept.id, "its investigation")
        assert await storage.outbox.prune(time.time()) == 1
        assert await storage.outbox.get(old.id) is None and await storage.outbox.get(kept.id) is not None
        await poster.edit(old, "too late")  # its post was forgotten: nothing to edit, and nothing waits forever
        assert await poster.settle(10)
        assert not slack.calls_to("chat.update")
