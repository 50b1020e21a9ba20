"""The web server attacked from loopback, with bounded floods: gzip members, big unauthenticated bodies, slow
connections, too many connections, clients that vanish mid-body. Each attack is answered without holding the
event loop, the memory or the connections, and leaves a line or two in the log, never a traceback.

The limits are shortened (LIMITS) so each attack takes a second or two; the defaults are in bot/http_guard.py
and the figures at full size in bench/hostile_web.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.bodies import read_body
from bot.http_guard import HttpLimits, Tally
from bot.inflate import MAX_MEMBERS, PIECE, Inflater
from skills.github.webhook import signature_for
from tests.support.attacks import (
    ALERTS_TOKEN,
    Exposed,
    empty_gzip_members,
    exposed,
    gzip_member,
    post_raw,
    request_head,
    trickle,
)
from tests.support.drain_support import sign
from tests.support.github_world import WEBHOOK_SECRET

LIMITS = HttpLimits(
    head_s=0.5,
    idle_s=2.0,
    body_s=1.5,
    body_idle_s=0.6,
    max_connections=30,
    unauthenticated_bytes=3 << 20,
)
WRONG_SHA256 = "sha256=" + hashlib.sha256(b"not the secret").hexdigest()
ANSWER_WITHIN = 5.0  # seconds: far more than any of these answers takes; only a server that waits for more misses it


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Exposed]:
    async with exposed(tmp_path, LIMITS) as server:
        yield server


def github_headers(**extra: str) -> dict[str, str]:
    return {"X-GitHub-Event": "push", "X-GitHub-Delivery": "d-hostile", "Content-Type": "application/json", **extra}


# -- 1: gzip members -----------------------------------------------------------------------------------------


async def test_github_refuses_a_compressed_delivery_before_reading_it(site: Exposed) -> None:
    headers = github_headers(**{"Content-Encoding": "gzip", "X-Hub-Signature-256": WRONG_SHA256})
    # 25 MB announced, not a byte sent: only a server that decides on the headers answers
    status = await asyncio.wait_for(post_raw(site.port, "/github/webhook", headers, None, length=25_000_000), 5)
    assert status == 415


async def test_a_signed_drain_body_of_many_gzip_members_is_refused(site: Exposed) -> None:
    body = empty_gzip_members(2_000)  # inflates to nothing: before, a verification request answered 200
    status = await post_raw(site.port, "/drains/vercel", {"Content-Encoding": "gzip", **sign(body)}, body)
    assert status == 400
    assert site.relay.status.accepted_lines == 0


def test_the_inflater_refuses_member_after_member_and_hands_back_bounded_pieces() -> None:
    inflater = Inflater(limit=64 << 20)
    pieces = list(inflater.feed(gzip_member(bytes(4 << 20))))  # 4 MiB of zeros in one ~4 KB member, fed at once
    assert b"".join(pieces) == bytes(4 << 20) and max(map(len, pieces)) <= PIECE and len(pieces) >= 64
    members = Inflater(limit=1 << 20)
    with pytest.raises(Exception, match=f"more than {MAX_MEMBERS} gzip members"):
        list(members.feed(empty_gzip_members(MAX_MEMBERS + 1)))
    assert members.members == MAX_MEMBERS + 1  # stopped at the first member too many, not at the end of the body


class _Content:
    def __init__(self, *pieces: bytes) -> None:
        self.pieces = list(pieces)

    async def readany(self) -> bytes:
        return self.pieces.pop(0) if self.pieces else b""  # the whole body already arrived: no wait, no turn


class _Request:
    """What read_body reads of an aiohttp request, with the body already in its buffer."""

    def __init__(self, body: bytes, headers: dict[str, str]) -> None:
        self.headers = headers
        self.content_length = len(body)
        self.content = _Content(body)
        self.app: dict[object, object] = {}
        self.path = "/drains/vercel"


async def test_inflating_a_body_gives_the_event_loop_a_turn_per_piece() -> None:
    body = gzip_member(bytes(8 << 20))  # 8 MiB of zeros in one ~8 KB member: arrives at once, 128 pieces out
    turns = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal turns
        while not done.is_set():
            await asyncio.sleep(0)
            turns += 1

    counting = asyncio.ensure_future(ticker())
    await asyncio.sleep(0)  # the ticker is waiting for its turn
    read = await read_body(_Request(body, {"Content-Encoding": "gzip"}), 8 << 20)  # type: ignore[arg-type]
    done.set()
    await counting
    assert len(read.data) == 8 << 20
    assert turns >= (8 << 20) // PIECE  # a turn of the loop for every piece inflated, not one for the whole body


# -- 2: unauthenticated bodies -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "headers", "expected"),
    [
        ("/github/webhook", github_headers(), 401),
        ("/github/webhook", github_headers(**{"X-Hub-Signature-256": "sha256=zz"}), 401),
        ("/alerts/grafana?channel=C0ALERTS", {"Content-Type": "application/json"}, 401),
        ("/alerts/grafana?channel=C0ALERTS", {"X-Grafana-Alerting-Signature": "not-hex"}, 401),
        ("/alerts/alertmanager?channel=C0ALERTS", {"Authorization": "Bearer wrong"}, 401),
        ("/drains/vercel", {"Content-Type": "application/x-ndjson"}, 403),
        ("/github/webhook", github_headers(**{"X-Hub-Signature-256": WRONG_SHA256}), 413),  # over 25 MB declared
    ],
)
async def test_bodies_without_credentials_are_refused_before_a_byte_is_read(
    site: Exposed, path: str, headers: dict[str, str], expected: int
) -> None:
    length = 27_000_000 if expected == 413 else 24 << 20
    status = await asyncio.wait_for(post_raw(site.port, path, headers, None, length=length), ANSWER_WITHIN)
    assert status == expected


async def test_wrongly_signed_bodies_are_read_a_few_at_a_time_and_a_real_delivery_still_lands(site: Exposed) -> None:
    big = bytes(1400 << 10)  # 1.4 MiB: two fit in the 3 MiB budget, a third waits
    headers = github_headers(**{"X-Hub-Signature-256": WRONG_SHA256})
    attack = [
        asyncio.ensure_future(post_raw(site.port, "/github/webhook", headers, big, piece=16 << 10)) for _ in range(6)
    ]
    push = json.dumps({"ref": "refs/heads/main", "repository": {"full_name": "mochacare/web"}, "commits": []})
    body = push.encode()
    real = await post_raw(
        site.port,
        "/github/webhook",
        github_headers(**{"X-Hub-Signature-256": signature_for(WEBHOOK_SECRET, body)}),
        body,
    )
    assert real in (202, 204)
    assert await asyncio.gather(*attack) == [401] * 6
    budget = site.guard.budget
    assert 0 < budget.peak <= budget.total and budget.free == budget.total  # read under the budget, all given back


# -- 3: slow and too many connections ------------------------------------------------------------------------


async def test_slow_heads_and_slow_bodies_are_closed_and_logged_once(
    site: Exposed, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.http_guard")
    head = request_head("GET", "/healthz", {}) + b"X-Padding: " + b"a" * 200
    signature = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), b"x", hashlib.sha256).hexdigest()
    body_head = request_head(
        "POST", "/github/webhook", {**github_headers(**{"X-Hub-Signature-256": signature}), "Content-Length": "5000"}
    )
    slow_heads = [trickle(site.port, head, 0.1, give_up=ANSWER_WITHIN) for _ in range(5)]
    slow_bodies = [trickle(site.port, b"{" * 4000, 0.1, give_up=ANSWER_WITHIN, head=body_head) for _ in range(5)]
    started = time.monotonic()
    # the heads' bytes are written fast enough to never look idle: only a clock on the whole head closes them
    lived = await asyncio.gather(*slow_heads, *slow_bodies)
    assert all(seconds is not None for seconds in lived), lived
    assert time.monotonic() - started < ANSWER_WITHIN
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.http_guard"]
    assert sum("request head" in line for line in lines) == 1, lines
    assert sum("too slowly" in line for line in lines) == 1, lines


async def test_connections_over_the_cap_are_answered_503_at_once(site: Exposed) -> None:
    opened = [await asyncio.open_connection("127.0.0.1", site.port) for _ in range(LIMITS.max_connections)]
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", site.port)
        answer = await asyncio.wait_for(reader.read(), ANSWER_WITHIN)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 503")
    finally:
        for _, w in opened:
            w.close()


# -- 5: a client gone mid-body -------------------------------------------------------------------------------


class _Waiter(logging.Handler):
    def __init__(self, needle: str) -> None:
        super().__init__(logging.INFO)
        self.needle = needle
        self.seen = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.needle in record.getMessage():
            self.seen.set()


async def test_a_client_gone_mid_body_is_one_info_line_without_a_traceback(
    site: Exposed, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    waiter = _Waiter("went away")
    logging.getLogger().addHandler(waiter)
    try:
        for path, headers in (
            ("/github/webhook", github_headers(**{"X-Hub-Signature-256": WRONG_SHA256})),
            ("/alerts/grafana?channel=C0ALERTS", {"Authorization": f"Bearer {ALERTS_TOKEN}"}),
        ):
            site.guard.tally = Tally(LIMITS.log_every_s)  # a fresh tally: each route's first one is logged
            _, writer = await asyncio.open_connection("127.0.0.1", site.port)
            writer.write(request_head("POST", path, {**headers, "Content-Length": "100000"}) + b"{" * 1000)
            await writer.drain()
            writer.close()
            await asyncio.wait_for(waiter.seen.wait(), ANSWER_WITHIN)
            waiter.seen.clear()
    finally:
        logging.getLogger().removeHandler(waiter)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info], caplog.text
    assert sum("went away" in r.getMessage() for r in caplog.records) == 2
