"""SlackPoster: every chat.postMessage and chat.update sitrep makes, through one durable, paced outbox.

    poster = SlackPoster(storage.outbox, client, supervisor)   # one per process (bot/runtime.py)
    poster.start()                                            # the sender, and a look every POLL_S for rows
                                                              # another replica or a previous run left
    ref = await poster.post(channel, text)                    # storage/poster.py's Poster Protocol
    ts = await poster.sent(ref)

`post` and `edit` write a row (storage/outbox.py) and wake the sender; they return once the row is committed. The
sender, a task of the supervisor, claims what each channel's allowance lets go now (bot/pacing.py), sends it
(channels at once, each channel's messages in order) and records the ts. A 429 puts the row back with its
Retry-After, which also holds the channel back for every replica; a 5xx, a body that is not JSON or a connection
error is retried with backoff up to MAX_ATTEMPTS; any other Slack error fails the row (and the replies waiting
for it) and is what `sent()` raises.

What may be repeated: a message Slack took just before this process died, before its row said so, is posted again
by whoever claims the row after the lease (LEASE_S). Nothing handed to `post` is lost by a crash or a restart.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import pacing
from bot.channels import ensure_member
from bot.slack_client import error_of, retry_after, sender_client, status_of
from metrics import SLACK_RATE_LIMITED, SLACK_SENT
from storage.outbox import OutboxRow, OutboxStore
from storage.poster import PRIORITY_ANSWER, Grouping, PostFailed, PostRef
from storage.run_lease import OWNER
from supervisor import Supervisor, Worker

log = logging.getLogger(__name__)

LEASE_S = 60.0  # a claim older than this is its dead sender's; the client gives up on a call after 30 s
POLL_S = 5.0  # how often an idle sender looks for rows left by another replica or an earlier run
SENT_POLL_S = 0.5  # how often `sent()` looks at the row (another replica may have sent it)
MAX_ATTEMPTS = 8
BACKOFF_S = (1, 2, 4, 8, 15, 30, 60)
RETRYABLE = frozenset({"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"})


class SlackPoster:
    def __init__(
        self,
        store: OutboxStore,
        client: AsyncWebClient,
        supervisor: Supervisor,
        *,
        owner: str = OWNER,
        lease_s: float = LEASE_S,
        poll_s: float = POLL_S,
    ) -> None:
        self.store = store
        self.client = sender_client(client)
        self._web = client  # the Web API client with its retry handlers: the channel checks before a post
        self.supervisor = supervisor
        self.owner = owner
        self.lease_s = lease_s
        self.poll_s = poll_s
        self.rate_limited = 0  # 429s met by this process (the bench prints them)
        self._sender = Worker(supervisor, self._round, "sending Slack posts", group="poster", poll_s=poll_s)
        self._waiters: dict[int, list[asyncio.Future[None]]] = defaultdict(list)

    # -- the Poster Protocol (storage/poster.py) -------------------------------------------------------------

    async def post(
        self,
        channel: str,
        text: str,
        *,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        reply_to: PostRef | None = None,
        key: str | None = None,
        priority: int = 0,
        group: Grouping | None = None,
    ) -> PostRef:
        payload: dict[str, Any] = {"text": text, "unfurl_links": False, "unfurl_media": False}
        if blocks:
            payload["blocks"] = blocks
        if thread_ts:
            payload["thread_ts"] = thread_ts
        if group is not None:
            payload["group_head"] = group.head
            payload["group_style"] = group.style
        row_id = await self.store.enqueue(
            "chat.postMessage",
            channel,
            payload,
            key=key,
            parent_id=reply_to.id if reply_to else None,
            group_key=group.key if group else "",
            line=group.line if group else "",
            priority=priority,
        )
        self.kick()
        return PostRef(row_id, channel)

    async def edit(
        self,
        message: PostRef | None,
        text: str,
        *,
        channel: str = "",
        ts: str = "",
        blocks: list[dict[str, Any]] | None = None,
        line: str | None = None,
    ) -> None:
        if message is None and not (channel and ts):
            raise ValueError("edit() needs the post, or its channel and ts")
        changes: dict[str, Any] = {"text": text}
        if blocks is not None:
            changes["blocks"] = blocks
        await self.store.edit(
            message.channel if message else channel,
            changes,
            parent_id=message.id if message else None,
            target_ts="" if message else ts,
            line=line,
        )
        self.kick()

    async def join(self, channel: str) -> None:
        """The channel check before a post is built: a public channel is joined; bot/channels.py's CannotPost
        (its str is the line to show) when a person must invite sitrep."""
        await ensure_member(self._web, channel)

    async def sent(self, ref: PostRef, timeout: float | None = None) -> str:
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            row = await self.store.get(ref.id)
            if row is None:
                raise PostFailed("not_found", f"no outbox row {ref.id}")
            if row.status == "sent":
                return row.ts
            if row.status == "failed":
                raise PostFailed(row.error or "unknown_error")
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                raise PostFailed("timeout", f"not posted within {timeout:g} s")
            waiter = loop.create_future()
            self._waiters[ref.id].append(waiter)
            try:
                await asyncio.wait_for(asyncio.shield(waiter), min(SENT_POLL_S, left) if left else SENT_POLL_S)
            except TimeoutError:
                pass
            finally:
                if waiter in self._waiters.get(ref.id, []):
                    self._waiters[ref.id].remove(waiter)
                if not self._waiters.get(ref.id):
                    self._waiters.pop(ref.id, None)

    # -- running ----------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Send what is waiting (rows a previous run or a dead replica left), and keep looking every `poll_s`."""
        self._sender.start()

    def kick(self) -> None:
        """Something new may be sendable: wake the sender (started when none runs)."""
        self._sender.kick()

    async def settle(self, timeout: float | None = None) -> bool:
        """Wait until nothing this process could send now or soon is left (tests, benchmarks, shutdown)."""
        return await self._sender.settle(timeout)

    async def _round(self) -> float | None:
        """Claim and send what may go now; the pause before the next look (None: nothing is pending anywhere)."""
        now = time.time()
        try:
            claimed, wake_at = await self.store.claim(self.owner, now, self.lease_s, pacing.choose)
            if claimed:
                await self._send_all(claimed)
                return 0
            due = await self.store.next_due()
        except Exception:
            log.exception("the Slack outbox could not be read; trying again in %.0f s", self.poll_s)
            return self.poll_s
        if due is None:
            return None
        # held back by the pace or a backoff, or waiting on a parent or another replica's claim
        soon = [t - now for t in (wake_at, due) if t is not None and t > now]
        return min([self.poll_s, *soon])

    async def _send_all(self, rows: list[OutboxRow]) -> None:
        """Channels at once, each channel's posts in order; answers to people each at once (their threads differ,
        and they were not held to the pace)."""
        by_channel: dict[str, list[OutboxRow]] = defaultdict(list)
        for row in rows:
            by_channel[f"{row.channel}:{row.id}" if row.priority >= PRIORITY_ANSWER else row.channel].append(row)

        async def channel(queue: list[OutboxRow]) -> None:
            for i, row in enumerate(queue):
                if await self._send(row) == "held":  # a 429: what else this round took for the channel waits too
                    await self.store.release([r.id for r in queue[i + 1 :]])
                    return

        await asyncio.gather(*(channel(q) for q in by_channel.values()))

    async def _send(self, row: OutboxRow) -> str:
        """Send one claimed row: "sent", "held" (a 429: sent again after its Retry-After), "retry" or "failed"."""
        try:
            if row.method == "chat.update":
                ts, ids = await self._update(row)
            else:
                ts, ids = await self._post(row)
        except SlackApiError as exc:
            return await self._refused(row, exc)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return await self._retry(row, f"connection: {type(exc).__name__}")
        except Exception as exc:  # a bug must not stop the sender: the row fails with what happened
            log.exception("sending outbox row %s failed", row.id)
            return await self._fail(row, f"sitrep_error: {type(exc).__name__}")
        await self.store.sent(ids, ts)
        SLACK_SENT.labels(row.method, "sent").inc()
        self._resolve(ids)
        return "sent"

    async def _post(self, row: OutboxRow) -> tuple[str, list[int]]:
        payload = {k: v for k, v in row.payload.items() if not k.startswith("group_")}
        if row.parent_id is not None:
            payload["thread_ts"] = row.parent_ts
        rows = await self.store.group(row.id) if row.group_key else [row]
        if len(rows) > 1:
            payload.update(pacing.grouped(row.payload, [r.line for r in rows]))
        response = await self.client.chat_postMessage(channel=row.channel, **payload)
        return str(response.get("ts") or ""), [r.id for r in rows]

    async def _update(self, row: OutboxRow) -> tuple[str, list[int]]:
        """chat.update; an edit of a post that went out inside a grouped message changes its part and sends the
        whole message again, with every other edit of that message waiting (one call, not one each)."""
        ts = row.parent_ts or row.target_ts
        payload = dict(row.payload)
        ids = [row.id]
        if row.parent_grouped and row.parent_id is not None:
            parent = await self.store.get(row.parent_id)
            head_id = (parent.merged_into or parent.id) if parent is not None else row.parent_id
            ids += await self.store.absorb_edits(head_id, row)
            rows = await self.store.group(head_id)
            head = next((r for r in rows if r.id == head_id), None)
            if head is None or not any(r.line for r in rows):
                return ts, ids  # nothing of the grouped message changes
            payload = pacing.grouped(head.payload, [r.line for r in rows])
        await self.client.chat_update(channel=row.channel, ts=ts, **payload)
        return ts, ids

    async def _refused(self, row: OutboxRow, exc: SlackApiError) -> str:
        status, error = status_of(exc), error_of(exc)
        if status == 429 or error == "ratelimited":
            wait = retry_after(exc)
            self.rate_limited += 1
            SLACK_RATE_LIMITED.labels(row.method).inc()
            log.info("Slack rate-limited %s in %s: again in %.0f s", row.method, row.channel, wait)
            until = time.time() + wait
            await self.store.again(row.id, until, error=error, rate_limited=True, pace=pacing.held(row, until))
            self.kick()
            return "held"
        if (status is not None and status >= 500) or error in RETRYABLE or error.startswith("http_"):
            return await self._retry(row, error)
        return await self._fail(row, error)

    async def _retry(self, row: OutboxRow, error: str) -> str:
        if row.attempts + 1 >= MAX_ATTEMPTS:
            return await self._fail(row, error)
        wait = BACKOFF_S[min(row.attempts, len(BACKOFF_S) - 1)]
        log.warning("%s to %s failed (%s): again in %d s", row.method, row.channel, error, wait)
        await self.store.again(row.id, time.time() + wait, error=error, rate_limited=False, pace={})
        self.kick()
        return "retry"

    async def _fail(self, row: OutboxRow, error: str) -> str:
        log.error("Slack refused %s to %s: %s", row.method, row.channel, error)
        SLACK_SENT.labels(row.method, "failed").inc()
        await self.store.fail(row.id, error)
        members = [r.id for r in await self.store.group(row.id)] if row.group_key else [row.id]
        self._resolve(members)
        self.kick()  # replies waiting for it fail too
        return "failed"

    def _resolve(self, ids: list[int]) -> None:
        for row_id in ids:
            for waiter in self._waiters.pop(row_id, []):
                if not waiter.done():
                    waiter.set_result(None)
