"""AlertDesk: a notification in, one investigation per alert and firing period, posted and edited through the poster.

    await desk.accept(team, notification, channel=channel)   # durable: before a webhook's 202 (bot/alerts_web.py)
    desk.start()                                             # at start-up: investigate what is waiting, and keep
                                                             # looking every POLL_S for work a dead replica left

`accept` claims each alert of a notification (storage/alerts.py keeps the alert as read with its row) and, for a
webhook, hands sitrep's post of the alert to the poster; a resolve records when it ended and edits the reply and
that post; a re-notification counts itself and edits the reply. It returns once all of that is in the store.

The investigations are then taken from the store, most severe first, by at most INVESTIGATORS tasks of the
supervisor at a time: the first round of calls (all at once), the reply posted in the alert's thread once they
answered or `first_wait` passed, then what answered late and the sparkline, and, with a key and no storm waiting,
Claude's text, each edited in. A reply waits in the outbox for the alert's post (its thread parent); when many
alerts land in one channel at once, the poster sends their posts as one grouped message (a line each, linked)
and their investigations in its thread, several to a message, most severe first (bot/pacing.py).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from agent.model_client import model_ready
from agent.toolbox import Toolbox
from alerts.claude import model_investigation
from alerts.instances import firing_instances
from alerts.investigate import Findings, first_round, second_round
from alerts.model import Alert, Notification, alert_from_json, alert_json
from alerts.render import (
    GROUP_HEAD,
    INVESTIGATIONS_HEAD,
    alert_line,
    headline,
    instances_text,
    notified_line,
    render,
    resolved_headline,
    resolved_line,
)
from storage.alerts import Investigation
from storage.poster import PRIORITY_ALERT, Grouping, Poster, PostRef
from storage.teams import Team
from supervisor import Scope, Worker

if TYPE_CHECKING:
    from agent.services import Services
    from supervisor import Supervisor

log = logging.getLogger(__name__)

MAX_ALERTS = 500  # of one notification (Alertmanager's max_alerts truncates a group; the rest are counted)
FIRST_REPLY_WAIT_S = 2.0  # the first reply waits this long for the first round; later answers are edited in
INVESTIGATION_S = 120.0  # an investigation taken longer ago than this is its dead replica's: taken again
INVESTIGATORS = 4  # investigations at once (each makes its first round of calls at once)
STORM = 8  # with more investigations than this waiting, Claude is left out: the rules' text, at once
POLL_S = 10.0  # how often a started desk looks for investigations a dead replica left


def compose(body: str, inv: Investigation) -> str:
    lines = [body or f"Investigating *{inv.alert_name}*…", notified_line(inv.notifications)]
    if inv.resolved_at is not None:
        lines.append(resolved_line(inv.resolved_at, inv.starts_at, seen=inv.start_seen))
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
        poster: Poster,
        supervisor: Supervisor,
        *,
        first_wait: float = FIRST_REPLY_WAIT_S,
        investigators: int = INVESTIGATORS,
        poll_s: float = POLL_S,
    ) -> None:
        self.services = services
        self.poster = poster
        self.supervisor = supervisor
        self.store = services.storage.alerts
        self.first_wait = first_wait
        self.investigators = investigators
        self.poll_s = poll_s
        self._investigating: set[asyncio.Task[None]] = set()
        self._taker = Worker(supervisor, self._round, "taking alert investigations", group="alert-desk", poll_s=poll_s)

    # -- notifications in ------------------------------------------------------------------------------------

    async def accept(self, team: Team, n: Notification, *, channel: str, thread_ts: str = "") -> int:
        """Record every alert of `n` (and what to post and edit) in the store; the investigations follow in the
        background. `thread_ts`: the alert's own message (a Slack notification); empty: sitrep posts the alert."""
        alerts = n.alerts[:MAX_ALERTS]
        if len(n.alerts) > MAX_ALERTS or n.truncated:
            log.warning("a notification of %d alerts: %d accepted", len(n.alerts) + n.truncated, len(alerts))
        for alert in alerts:
            if alert.status == "resolved":
                await self._resolve(team, alert, thread_ts)
            else:
                await self._fire(team, n, alert, channel, thread_ts)
        self.kick()
        return len(alerts)

    async def _fire(self, team: Team, n: Notification, alert: Alert, channel: str, thread_ts: str) -> None:
        starts, seen = alert.starts_at, False
        if starts is None:  # a Slack message carries no start: the open investigation's, else sitrep's first sighting
            open_one = await self.store.open_for(team.id, alert.key)
            starts = open_one.starts_at if open_one else (slack_time(thread_ts) or datetime.now(UTC))
            seen = open_one.start_seen if open_one else True
            alert = replace(alert, starts_at=starts)
        inv, created = await self.store.claim(
            team.id,
            alert.key,
            starts,
            alert_name=alert.name,
            source=n.source,
            channel=channel,
            thread_ts=thread_ts,
            alert=alert_json(alert),
            severity=alert.severity,
            start_seen=seen,
        )
        if created and not thread_ts:
            await self._post_alert(inv, alert)
        elif not created:
            await self._refresh(inv)

    async def _resolve(self, team: Team, alert: Alert, thread_ts: str) -> None:
        inv = await self.store.open_for(team.id, alert.key)
        if inv is None:
            return  # resolved before sitrep saw it fire (or already resolved): nothing to edit
        at = alert.ends_at or slack_time(thread_ts) or datetime.now(UTC)
        await self.store.resolve(inv.id, at)
        await self._refresh(await self.store.get(inv.id) or inv)
        if alert.title_only:  # the alerts that message stood for, each investigated in its thread, resolve with it
            for other in await self.store.open_in_thread(team.id, inv.channel, inv.thread_ts):
                await self.store.resolve(other.id, at)
                await self._refresh(await self.store.get(other.id) or other)

    async def _post_alert(self, inv: Investigation, alert: Alert) -> None:
        """sitrep's post of a webhook's alert (the investigation's thread parent); idempotent per investigation."""
        ref = await self.poster.post(
            inv.channel,
            headline(alert, datetime.now(UTC), seen=inv.start_seen),
            key=f"alert-post:{inv.id}",
            priority=PRIORITY_ALERT + alert.severity,
            group=Grouping(f"alerts:{inv.channel}", alert_line(alert, seen=inv.start_seen), GROUP_HEAD),
        )
        await self.store.set_post(inv.id, ref.id)

    async def _refresh(self, inv: Investigation) -> None:
        """The reply (and, once resolved, sitrep's post of the alert) edited to the row as it stands; a reply not
        yet handed over is written from the row when it is."""
        text = compose(inv.reply_text, inv)
        if inv.reply_id is not None:
            await self.poster.edit(PostRef(inv.reply_id, inv.channel), text, line=text)
        elif inv.reply_ts:  # posted before the outbox existed
            await self.poster.edit(None, text, channel=inv.channel, ts=inv.reply_ts)
        if inv.resolved_at is not None and inv.post_id is not None:
            alert = alert_from_json(inv.alert)
            if alert is not None:
                await self.poster.edit(
                    PostRef(inv.post_id, inv.channel),
                    resolved_headline(alert, inv.resolved_at, seen=inv.start_seen),
                    line=alert_line(alert, seen=inv.start_seen, resolved_at=inv.resolved_at),
                )

    # -- investigations --------------------------------------------------------------------------------------

    def start(self) -> None:
        """Investigate what is waiting (a previous run's, a dead replica's), and keep looking every `poll_s`."""
        self._taker.start()

    def kick(self) -> None:
        self._taker.kick()

    async def settle(self, timeout: float | None = None) -> bool:
        """Wait until no investigation is waiting or under way here (tests, benchmarks)."""
        return await self._taker.settle(timeout)

    async def _round(self) -> float | None:
        """Take what this process has room for, most severe first, each investigated on its own task; None when
        nothing is waiting or under way here."""
        running = self._investigating
        taken: list[Investigation] = []
        storm = False
        if len(running) < self.investigators:
            try:
                stale = datetime.now(UTC) - timedelta(seconds=INVESTIGATION_S)
                taken = await self.store.take(self.investigators - len(running), stale)
                storm = bool(taken) and await self.store.waiting() > STORM
            except Exception:
                log.exception("the alert investigations could not be read")
            for inv in taken:
                task = self.supervisor.spawn(self._investigate(inv, storm), "investigating an alert", group="alerts")
                running.add(task)
                task.add_done_callback(self._finished)
        return None if not running and not taken else self.poll_s

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._investigating.discard(task)
        self._taker.kick()  # room for the next one

    async def _investigate(self, inv: Investigation, storm: bool) -> None:
        alert = alert_from_json(inv.alert)
        if alert is None:
            log.error("alert investigation %s keeps no readable alert; left as it is", inv.id)
            return
        try:
            team = await self.services.storage.teams.get(inv.team_id)
            if not inv.thread_ts and inv.post_id is None:  # its replica died between the claim and the post
                await self._post_alert(inv, alert)
                inv = await self.store.get(inv.id) or inv
            await self._first_reply(team, inv, alert, storm)
        except Exception:
            current = await self.store.get(inv.id)
            if current is not None and current.reply_id is None:
                await self.store.release(inv.id)  # another taker (or the next look) does it again
            log.exception("investigating alert %s (%s) failed", inv.id, inv.alert_name)

    async def _first_reply(self, team: Team, inv: Investigation, alert: Alert, storm: bool) -> None:
        toolbox = await Toolbox.for_team(self.services, team)
        seen, note = inv.start_seen, ""
        if alert.title_only:  # only a title: the alerts behind it, from Prometheus
            instances = await firing_instances(toolbox, alert)
            if len(instances) > 1:
                await self._expand(team, inv, alert, instances, toolbox)
                return
            if instances:
                alert, seen = replace(instances[0], sent_by=alert.sent_by), instances[0].starts_at is None and seen
            elif alert.group_count > 1:
                note = (
                    f"the message stands for {alert.group_count} alerts but names only what they share, and"
                    " Prometheus' ALERTS series did not tell them apart: investigated together"
                )
        async with Scope() as scope:  # the first round's late calls are awaited by _complete, or end here
            found, late = await first_round(scope, toolbox, alert, datetime.now(UTC), wait=self.first_wait, seen=seen)
            if note:
                found.notes.insert(0, note)
            body = toolbox.redact(render(found))
            await self._reply(inv, alert, body)
            better = await self._complete(team, toolbox, found, late, storm)
        if better and better != body:
            await self.store.save_text(inv.id, toolbox.redact(better))
            latest = await self.store.get(inv.id)
            if latest is not None:
                await self._refresh(latest)

    async def _expand(
        self, team: Team, inv: Investigation, alert: Alert, instances: list[Alert], toolbox: Toolbox
    ) -> None:
        """A message that stood for several alerts: each claimed as its own investigation (its own labels and
        start, replies in the same thread), the message's reply listing them."""
        for one in instances:
            starts = one.starts_at or inv.starts_at
            await self.store.claim(
                team.id,
                one.key,
                starts,
                alert_name=one.name,
                source=inv.source,
                channel=inv.channel,
                thread_ts=inv.thread_ts,
                alert=alert_json(replace(one, starts_at=starts)),
                severity=one.severity,
                start_seen=one.starts_at is None and inv.start_seen,
            )
        await self._reply(inv, alert, toolbox.redact(instances_text(alert, instances)))
        self.kick()

    async def _reply(self, inv: Investigation, alert: Alert, body: str) -> None:
        """The reply handed to the poster (once per investigation: keyed), then edited if the row moved meanwhile."""
        current = await self.store.get(inv.id) or inv
        text = compose(body, current)
        ref = await self.poster.post(
            current.channel,
            text,
            thread_ts=current.thread_ts or None,
            reply_to=PostRef(current.post_id, current.channel) if current.post_id is not None else None,
            key=f"alert-reply:{inv.id}",
            priority=alert.severity,
            group=Grouping(f"investigations:{current.channel}", text, INVESTIGATIONS_HEAD, style="sections"),
        )
        await self.store.set_reply(inv.id, ref.id, body)
        now = await self.store.get(inv.id)
        if now is not None and (now.notifications, now.resolved_at) != (current.notifications, current.resolved_at):
            await self._refresh(now)  # notified again or resolved while the reply was being written

    async def _complete(
        self, team: Team, toolbox: Toolbox, found: Findings, late: list[asyncio.Task[None]], storm: bool
    ) -> str | None:
        """The first round's late calls, the second round (the sparkline), then Claude's text with a key (not in a
        storm); None when nothing changed."""
        for failed in await asyncio.gather(*late, return_exceptions=True):
            if isinstance(failed, BaseException):
                log.error("a late part of the alert's investigation failed", exc_info=failed)
        try:
            added = await second_round(toolbox, found) or bool(late)
        except Exception:  # a second look is a bonus: the first reply stands
            log.exception("the alert's signal could not be charted")
            added = bool(late)
        text = render(found) if added else None
        if not model_ready(self.services.settings) or storm:
            return text
        try:
            return await model_investigation(self.services, team, toolbox, found)
        except Exception as exc:  # any model failure: the rule-based text
            log.warning("Claude's alert investigation failed (%s); the rule-based one stands", exc)
            return text
