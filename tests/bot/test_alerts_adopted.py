"""An alert posted into a channel by Grafana's Slack contact point is kept in the event ledger until the desk has
recorded it: a replica that acked the event and died before that leaves it to be adopted, and the adopter
investigates it (not answers it as a question)."""

from __future__ import annotations

from pathlib import Path

from bot.background import answer_adopted
from bot.runtime import Runtime
from bot.slack.dedupe import gets_an_answer
from storage.events import EventLedger
from tests.fakes.slack import FakeSlack
from tests.support.alert_payloads import grafana_slack_event
from tests.support.github_world import github_world

CHANNEL = "C0ALERTS"


async def test_an_alert_event_a_dead_replica_acked_is_investigated_by_the_adopter(tmp_path: Path) -> None:
    async with (
        FakeSlack() as slack,
        github_world(tmp_path, SLACK_BOT_TOKEN=slack.bot_token, SLACK_API_URL=slack.api_url) as w,
    ):
        event = grafana_slack_event(ts=slack.issue_ts(), channel=CHANNEL)
        body = {"type": "event_callback", "event_id": "Ev0ALERT", "team_id": "T123", "event": event}
        identity = {"user_id": slack.bot_user_id, "bot_id": slack.bot_id}
        assert gets_an_answer(body, identity)  # kept until handled, like a mention
        dead = EventLedger(w.services.storage.db, "dead-replica")
        assert await dead.record("Ev0ALERT", body, answer=True)
        await w.services.storage.db.execute(  # acked a minute ago by a replica that never wrote a heartbeat
            "UPDATE slack_events SET received_at = '2020-01-01T00:00:00.000Z' WHERE event_id = 'Ev0ALERT'"
        )
        [adopted] = await w.services.storage.events.adopt(0)
        runtime = Runtime(w.services, slack_identity=identity)
        try:
            await answer_adopted(runtime, adopted)
            desk, poster = runtime.alert_desk(), runtime.poster()
            assert desk is not None and poster is not None
            assert await desk.settle(30) and await poster.settle(30)
        finally:
            await runtime.close()
        (reply,) = slack.calls_to("chat.postMessage")
        assert reply.args["thread_ts"] == event["ts"] and "High error rate" in reply.args["text"]
        assert await w.services.storage.events.adopt(0) == []  # finished: nothing left to adopt
