"""AlertDesk: a notification in, one investigation per alert and firing period, its reply posted once and edited.

`handle()` claims each alert of a notification (storage/alerts.py). The claim's creator investigates (the first
round of calls, all at once; the reply in the alert's thread once they answered or `first_wait` passed; then what
answered late and the sparkline, edited in) and, with a key, lets Claude
rewrite it (falling back to the rules on any error). Every other notification of that alert and period, and its
resolve, only mark the reply for an edit: one updater per investigation edits it at most once per
`min_interval` with the row as it stands (body + "notified N times" + "resolved at …, lasted …"), so a flood of
200 notifications is a handful of chat.update calls, not 200.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from slack_sdk.web.async_client import AsyncWebClient

from agent.model_client import model_ready
from agent.toolbox import Toolbox
from alerts.claude import model_investigation
from alerts.investigate import Findings, first_round, second_round
from alerts.model import Alert, Notification
from alerts.render import headline, notified_line, render, resolved_line
from skills.services import Services
from storage.alerts import Investigation
from storage.teams import Team

log = logging.getLogger(__name__)

MAX_ALERTS = 10  # of one notification (a group can hold hundreds; the rest are counted)
MIN_INTERVAL_S = 1.0
FIRST_REPLY_WAIT_S = 2.0  # the first reply waits this long for the first round; later answers are edited in
REPLY_WAIT_S = 60.0  # how long an investigator may take to its first reply before another one takes over
REPLY_POLL_S = 0.5  # how often an edit looks for a first reply posted by another replica


def compose(body: str, inv: Investigation) -> str:
    lines = [body or f"Investigating *{inv.alert_name}*…", notified_line(inv.notifications)]
    if inv.resolved_at is not None:
        lines.append(resolved_line(inv.resolved_at, inv.starts_at))
    return "\n".join(line for line in lines if line)


def slack_time(ts: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(ts), UTC)
    except (TypeError, ValueError):
        return None


class AlertDesk:
    def __init__(
        self,
        services: Services,
        slack: AsyncWebClient,
        *,
        min_interval: float = MIN_INTERVAL_S,
        first_wait: float = FIRST_REPLY_WAIT_S,
    ) -> None:
        self.services = services
        self.slack = slack
        self.first_wait = first_wait
        self.store = services.storage.alerts
        self.min_interval = min_interval
        self._dirty: dict[int, asyncio.Event] = {}
        self._updaters: dict[int, asyncio.Task[None]] = {}
        self._running: dict[int, asyncio.Event] = {}  # investigations under way here; set at the first reply
        self._retry: dict[int, tuple[Team, Alert]] = {}  # what to investigate if the first reply never comes
        self.first_reply: asyncio.Event = asyncio.Event()  # set at each first reply (tests, the bench)

    async def handle(self, team: Team, n: Notification, *, channel: str, thread_ts: str = "") -> None:
        """`thread_ts`: the alert's own message (a Slack notification); empty: post the alert there first."""
        await asyncio.gather(*(self._one(team, n, a, channel, thread_ts) for a in n.alerts[:MAX_ALERTS]))

    async def _one(self, team: Team, n: Notification, alert: Alert, channel: str, thread_ts: str) -> None:
        if alert.status == "resolved":
            await self._resolve(team, alert, thread_ts)
            return
        starts = alert.starts_at
        if starts is None:
            open_one = await self.store.open_for(team.id, alert.key)
            starts = open_one.starts_at if open_one else (slack_time(thread_ts) or datetime.now(UTC))
        inv, created = await self.store.claim(
            team.id, alert.key, starts, alert_name=alert.name, source=n.source, channel=channel, thread_ts=thread_ts
        )
        alert = alert if alert.starts_at else _with_start(alert, starts)
        if created:
            await self._investigate_once(team, inv, alert)
        elif not inv.reply_ts and await self._may_take_over(inv.id):
            log.info("alert investigation %s had no first reply: investigating it again", inv.id)
            await self._investigate_once(team, inv, alert)
        else:
            if not inv.reply_ts:
                self._retry[inv.id] = (team, alert)
            self.poke(inv.id)

    async def _may_take_over(self, investigation_id: int) -> bool:
        """Not under way here, and its investigator failed (released) or started more than REPLY_WAIT_S ago."""
        if investigation_id in self._running:
            return False
        return await self.store.take_over(investigation_id, datetime.now(UTC) - timedelta(seconds=REPLY_WAIT_S))

    async def _investigate_once(self, team: Team, inv: Investigation, alert: Alert) -> None:
        replied = self._running[inv.id] = asyncio.Event()
        try:
            await self._investigate(team, inv, alert, replied)
        except Exception:
            if not replied.is_set():  # no first reply: the next notification (or a waiting edit) takes it over
                await self.store.release(inv.id)
            raise
        finally:
            replied.set()
            self._running.pop(inv.id, None)

    async def _resolve(self, team: Team, alert: Alert, thread_ts: str) -> None:
        inv = await self.store.open_for(team.id, alert.key)
        if inv is None:
            return  # resolved before sitrep saw it fire (or already resolved): nothing to edit
        await self.store.resolve(inv.id, alert.ends_at or slack_time(thread_ts) or datetime.now(UTC))
        self.poke(inv.id)

    async def _investigate(self, team: Team, inv: Investigation, alert: Alert, replied: asyncio.Event) -> None:
        channel, thread = inv.channel, inv.thread_ts
        toolbox = await Toolbox.for_team(self.services, team)
        looked = first_round(toolbox, alert, datetime.now(UTC), wait=self.first_wait)
        if not thread:
            posted, (found, late) = await asyncio.gather(
                self.slack.chat_postMessage(
                    channel=channel, text=headline(alert, datetime.now(UTC)), unfurl_links=False
                ),
                looked,
            )
            thread = str(posted["ts"])
        else:
            found, late = await looked
        body = toolbox.redact(render(found))
        current = await self.store.get(inv.id) or inv
        reply = await self.slack.chat_postMessage(
            channel=channel, thread_ts=thread, text=compose(body, current), unfurl_links=False
        )
        await self.store.save_reply(inv.id, channel=channel, reply_ts=str(reply["ts"]), text=body)
        replied.set()
        self._retry.pop(inv.id, None)
        self.first_reply.set()
        if await self.store.get(inv.id) != _replace_reply(current, str(reply["ts"]), body):
            self.poke(inv.id)  # notified again or resolved while the reply was on its way
        better = await self._complete(team, toolbox, found, late)
        if better and better != body:
            await self.store.save_text(inv.id, toolbox.redact(better))
            self.poke(inv.id)

    async def _complete(
        self, team: Team, toolbox: Toolbox, found: Findings, late: list[asyncio.Task[None]]
    ) -> str | None:
        """The first round's late calls, the second round (the sparkline), then Claude's text with a key; None
        when nothing changed."""
        for failed in await asyncio.gather(*late, return_exceptions=True):
            if isinstance(failed, BaseException):
                log.error("a late part of the alert's investigation failed", exc_info=failed)
        try:
            added = await second_round(toolbox, found) or bool(late)
        except Exception:  # a second look is a bonus: the first reply stands
            log.exception("the alert's signal could not be charted")
            added = bool(late)
        text = render(found) if added else None
        if not model_ready(self.services.settings):
            return text
        try:
            return await model_investigation(self.services, team, toolbox, found)
        except Exception as exc:  # any model failure: the rule-based text
            log.warning("Claude's alert investigation failed (%s); the rule-based one stands", exc)
            return text

    def poke(self, investigation_id: int) -> None:
        """Mark the reply for an edit; one updater per investigation coalesces the pokes."""
        event = self._dirty.setdefault(investigation_id, asyncio.Event())
        event.set()
        task = self._updaters.get(investigation_id)
        if task is None or task.done():
            self._updaters[investigation_id] = asyncio.create_task(self._updater(investigation_id, event))

    async def _updater(self, investigation_id: int, dirty: asyncio.Event) -> None:
        try:
            while dirty.is_set():
                dirty.clear()
                inv = await self._posted(investigation_id)
                if inv is None:
                    return
                await self.slack.chat_update(channel=inv.channel, ts=inv.reply_ts, text=compose(inv.reply_text, inv))
                await asyncio.sleep(self.min_interval)
        except Exception:
            log.exception("editing the reply of alert investigation %s failed", investigation_id)
        finally:
            self._updaters.pop(investigation_id, None)
            if dirty.is_set():
                self.poke(investigation_id)

    async def _posted(self, investigation_id: int) -> Investigation | None:
        """The row once its first reply is posted, or None when there is nothing to edit (yet).

        Under way here: wait for its first reply (or its failure). Elsewhere (another replica): look again every
        REPLY_POLL_S for up to REPLY_WAIT_S. A row still without a reply is then investigated here, when this
        process holds the alert of a notification and wins the take-over; else the next notification does."""
        running = self._running.get(investigation_id)
        if running is not None:
            await running.wait()
        deadline = asyncio.get_running_loop().time() + REPLY_WAIT_S
        while True:
            inv = await self.store.get(investigation_id)
            if inv is None or inv.reply_ts:
                return inv
            if investigation_id not in self._running and await self._may_take_over(investigation_id):
                break  # released after a failure, or its investigator is gone
            if asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(REPLY_POLL_S)
        retry = self._retry.pop(investigation_id, None)
        if retry is None:  # left for the next notification of the alert to take over
            await self.store.release(investigation_id)
            log.warning("alert investigation %s has no first reply and no alert here to retry it", investigation_id)
            return None
        team, alert = retry
        await self.store.take_over(investigation_id, datetime.now(UTC))  # ours now, whoever held it
        await self._investigate_once(team, inv, alert)
        return None  # the reply just posted shows the row as it stands

    async def settle(self) -> None:
        """Wait for the pending edits (tests, shutdown)."""
        while self._updaters:
            await asyncio.gather(*list(self._updaters.values()), return_exceptions=True)


def _with_start(alert: Alert, starts: datetime) -> Alert:
    return replace(alert, starts_at=starts)


def _replace_reply(inv: Investigation, reply_ts: str, text: str) -> Investigation:
    return replace(inv, reply_ts=reply_ts, reply_text=text)
