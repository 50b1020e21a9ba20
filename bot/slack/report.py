"""Reports on demand: the Home tab's "Run report now" button and `/sitrep report` (hooked in commands.py).

Anyone may press Run report now, but a report is built once per channel at a time, and a person who just ran
one waits COOLDOWN_S before the next (RunNowGate): repeated presses are told so in their DM, and cost nothing."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels import CannotPost
from bot.runtime import Runtime
from bot.slack.context import app_state, runtime_of
from bot.slack.replies import tell_user
from reports.post import (
    NO_CHANNEL,
    NO_TOKEN,
    ReportError,
    build_and_post,
    report_channel,
)
from storage.poster import Poster

log = logging.getLogger(__name__)

RUN_NOW_ACTION = "report_run_now"
WORKING = "Building the status report for this channel; it takes a few seconds…"
# A person is waiting: what is ready after this long is posted, and the message is completed in place.
FIRST_POST_S = 8.0
FAILED = ":warning: The report could not be posted: {what}"
COOLDOWN_S = 60.0
BUSY = "A status report is already being built for <#{channel}>; it will be posted there in a moment."
COOLING = "You ran a report {ago} s ago; you can run one again in {left} s."


class RunNowGate:
    """One report per channel at a time; one press per person every COOLDOWN_S (per process)."""

    def __init__(self, cooldown_s: float = COOLDOWN_S) -> None:
        self.cooldown_s = cooldown_s
        self.building: set[str] = set()
        self.pressed: dict[str, float] = {}

    def refusal(self, channel: str, user: str | None) -> str | None:
        """Why this press builds nothing (one line for the person), or None: go ahead."""
        if channel in self.building:
            return BUSY.format(channel=channel)
        ago = time.monotonic() - self.pressed.get(user or "", float("-inf"))
        if user and ago < self.cooldown_s:
            return COOLING.format(ago=int(ago), left=max(1, int(self.cooldown_s - ago)))
        return None

    @contextmanager
    def building_for(self, channel: str, user: str | None) -> Iterator[None]:
        self.building.add(channel)
        if user:
            self.pressed[user] = time.monotonic()
        try:
            yield
        finally:
            self.building.discard(channel)


def poster_of(runtime: Runtime) -> Poster:
    poster = runtime.poster()
    if poster is None:
        raise ReportError(NO_TOKEN)
    return poster


async def run_report_command(
    runtime: Runtime, ack: AsyncAck, command: dict, respond: AsyncRespond, client: AsyncWebClient
) -> str | None:
    """`/sitrep report`: ack at once, then build the report and post it to the channel the command came from."""
    services = runtime.services
    await ack(text=WORKING, response_type="ephemeral")
    channel = command.get("channel_id")
    team = await services.team_for(command.get("team_id"))
    if not channel:
        await tell(respond, runtime, command, FAILED.format(what="Slack did not say which channel"))
        return None
    try:
        ts, _ = await build_and_post(
            services,
            team,
            channel,
            poster=poster_of(runtime),
            first_post_after=FIRST_POST_S,
        )
    except CannotPost as exc:
        await tell(respond, runtime, command, f":warning: {exc}")
        return None
    except ReportError as exc:
        await tell(respond, runtime, command, FAILED.format(what=exc))
        return None
    except Exception as exc:
        log.exception("/sitrep report failed")
        await tell(respond, runtime, command, FAILED.format(what=type(exc).__name__))
        return None
    return ts


async def tell(respond: AsyncRespond, runtime: Runtime, command: dict, text: str) -> None:
    """Tell the person who typed the command, privately: on its response_url, or in their DM with sitrep when
    Slack does not take it there (a response_url expires after 30 minutes and 5 uses, and may be unreachable)."""
    try:
        answer = await respond(text=text, response_type="ephemeral")
        if answer.status_code == 200:
            return
        log.warning("the response_url refused the reply (%s %s)", answer.status_code, str(answer.body)[:80])
    except Exception as exc:
        log.warning("the response_url could not be reached (%s)", type(exc).__name__)
    if user := command.get("user_id"):
        await tell_user(runtime, user, text)


async def on_run_now(ack: AsyncAck, body: dict, client: AsyncWebClient, context: AsyncBoltContext) -> None:
    runtime = runtime_of(context)
    services = runtime.services
    gate = app_state(context, RunNowGate)
    await ack()
    user = (body.get("user") or {}).get("id")
    team = await services.team_for((body.get("team") or {}).get("id"))
    channel = report_channel(services.settings, team)
    if not channel:
        if user:
            await tell_user(runtime, user, FAILED.format(what=NO_CHANNEL))
        return
    if refused := gate.refusal(channel, user):
        if user:
            await tell_user(runtime, user, refused)
        return
    try:
        with gate.building_for(channel, user):
            await build_and_post(
                services,
                team,
                channel,
                poster=poster_of(runtime),
                first_post_after=FIRST_POST_S,
            )
    except CannotPost as exc:
        if user:
            await tell_user(runtime, user, f":warning: {exc}")
        return
    except Exception as exc:
        if not isinstance(exc, ReportError):
            log.exception("Run report now failed")
        if user:
            await tell_user(
                runtime, user, FAILED.format(what=exc if isinstance(exc, ReportError) else type(exc).__name__)
            )
        return
    if user:
        await tell_user(runtime, user, f"Posted the status report in <#{channel}>.")


def register(app: AsyncApp) -> None:
    app.action(RUN_NOW_ACTION)(on_run_now)
