"""Can sitrep post in a channel? One place for membership, joining public channels, and what to tell people.

Slack answers chat.postMessage with `not_in_channel` in a public channel the bot is not in, and with
`channel_not_found` in a private one it was never invited to. conversations.info (channels:read, groups:read)
says which; a public channel is joined with conversations.join (channels:join); a private one needs a person
to type `/invite @sitrep` in it. Every surface that posts (`/sitrep report`, the message shortcut, Run report
now, scheduled reports), the schedule modal's channel check and the Scheduled reports readiness row use this.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack_client import error_of

log = logging.getLogger(__name__)

INVITE = "type `/invite @sitrep` in <#{channel}>, then try again"
INFO_SCOPES = "channels:read and groups:read"


@dataclass(frozen=True)
class ChannelAccess:
    """What sitrep may do in a channel: post (a member), join then post (public), or nothing (with why)."""

    channel: str
    member: bool
    joinable: bool = False
    reason: str = ""  # why sitrep cannot post there; "" when it can
    archived: bool = False

    @property
    def can_post(self) -> bool:
        return self.member or self.joinable

    @property
    def next_step(self) -> str:
        if self.archived:
            return "pick a channel that is not archived"
        return INVITE.format(channel=self.channel)

    @property
    def message(self) -> str:
        """One line for a person: what is wrong and what to do."""
        return f"sitrep cannot post in <#{self.channel}>: {self.reason}. To fix it, {self.next_step}."


class CannotPost(Exception):
    """sitrep is not in the channel and cannot join it; str() is the line to show the person."""

    def __init__(self, access: ChannelAccess) -> None:
        self.access = access
        super().__init__(access.message)


def said(error: str) -> str:
    """An error for a person: Slack's code, or "HTTP 502 (not a Slack answer)" for a body that was not JSON."""
    if error.startswith("http_"):
        return f"HTTP {error[5:]} (not a Slack answer: a proxy or an outage; try again in a minute)"
    return error


def is_direct(channel: str) -> bool:
    """A DM (D…) or a user id (U…/W…, which chat.postMessage turns into the app's DM): always postable."""
    return channel[:1] in ("D", "U", "W")


async def check_access(client: AsyncWebClient, channel: str) -> ChannelAccess:
    """conversations.info: is sitrep a member, and if not, can it join? Never raises a SlackApiError."""
    if is_direct(channel):
        return ChannelAccess(channel, member=True)
    try:
        response = await client.conversations_info(channel=channel)
    except SlackApiError as exc:
        error = error_of(exc)
        if error == "channel_not_found":
            reason = "the channel is private and sitrep is not in it (or the id is wrong)"
        elif error == "missing_scope":
            reason = f"the app lacks the {INFO_SCOPES} scopes: reinstall it from manifest.json"
        else:  # Slack could not say (internal_error, ratelimited, a proxy's 502...): joining answers for itself
            return ChannelAccess(
                channel, member=False, joinable=True, reason=f"Slack answered conversations.info with {said(error)}"
            )
        return ChannelAccess(channel, member=False, reason=reason)
    info = response.get("channel") or {}
    if info.get("is_archived"):
        return ChannelAccess(channel, member=False, reason="the channel is archived", archived=True)
    if info.get("is_member") or info.get("is_im"):
        return ChannelAccess(channel, member=True)
    if info.get("is_private") or info.get("is_mpim"):
        return ChannelAccess(channel, member=False, reason="the channel is private and sitrep is not in it")
    return ChannelAccess(channel, member=False, joinable=True)


async def ensure_member(client: AsyncWebClient, channel: str) -> ChannelAccess:
    """Make sure sitrep can post in `channel`: join it when public; CannotPost when a person must invite it."""
    access = await check_access(client, channel)
    if access.member:
        return access
    if not access.joinable:
        raise CannotPost(access)
    try:
        await client.conversations_join(channel=channel)
    except SlackApiError as exc:
        error = said(error_of(exc))
        why = f"{access.reason}; joining it failed ({error})" if access.reason else f"joining it failed ({error})"
        raise CannotPost(replace(access, joinable=False, reason=why)) from None
    log.info("joined %s to post in it", channel)
    return replace(access, member=True, joinable=False)
