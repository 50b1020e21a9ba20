"""Vercel drains with `compression: gzip` (Content-Encoding: gzip), through the server and relay to the fake Loki,
and bodies sent in small pieces.

Vercel's docs say x-vercel-signature is the HMAC-SHA1 of the request body, without saying whether a compressed
delivery is signed before or after compression, so a signature over either is accepted: over the bytes as sent,
or over the body they inflate to. A gzip bomb (1 GB of zeros in about 1 MB) is refused with 413 having inflated
no more than the limit, and the drain keeps taking other deliveries.
"""

from __future__ import annotations

import functools
import json
import tracemalloc
import zlib
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from agent.services import Services
from bot import drain as drain_route
from bot.background import start_relay
from bot.bodies import BodyRefused, inflate
from settings import Settings
from tests.fakes.loki import FakeLoki
from tests.support.drain_support import DRAIN_VERIFY, entry, ndjson, sign
from tests.support.drain_world import FAST, Drain, drain_env, ids, serve
from tests.support.http_pieces import send_in_pieces

GIB = 1 << 30


def gzipped(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


@functools.cache
def gzip_bomb() -> bytes:
    """1 GiB of zeros as gzip: 16 members of 64 MiB each (RFC 1952: a gzip file is a series of members)."""
    return gzipped(bytes(64 << 20)) * 16


@pytest.fixture
async def drain(services: Services, env: dict[str, str]) -> AsyncIterator[Drain]:
    async with FakeLoki() as loki:
        services = replace(services, settings=Settings.from_env({**env, **drain_env(loki), "SITREP_HTTP_PORT": "0"}))
        relay = await start_relay(services, FAST)
        async for d in serve(services, relay, loki):
            yield d


def port_of(drain: Drain) -> int:
    port = drain.http.base_url.port
    assert port is not None
    return port


async def test_gzip_signed_over_the_bytes_sent_reaches_loki(drain: Drain) -> None:
    body = gzipped(ndjson([entry(i) for i in range(300)]))
    headers = {"Content-Encoding": "gzip", "Content-Type": "application/x-ndjson", **sign(body)}
    answer = await send_in_pieces(port_of(drain), "/drains/vercel", body, headers, piece=512)
    assert answer.status == 200, answer.body
    assert answer.json() == {"ok": True, "accepted": 300, "malformed": 0}
    await drain.loki.wait_lines(300)
    assert ids(drain.loki) == Counter(f"log-{i}" for i in range(300))


async def test_gzip_signed_over_the_inflated_body_reaches_loki(drain: Drain) -> None:
    plain = json.dumps([entry(i) for i in range(5)]).encode()
    headers = {"Content-Encoding": "gzip", "Content-Type": "application/json", **sign(plain)}
    response = await drain.post(gzipped(plain), headers)
    assert response.status_code == 200 and response.json()["accepted"] == 5
    await drain.loki.wait_lines(5)
    assert ids(drain.loki) == Counter(f"log-{i}" for i in range(5))


async def test_gzip_with_a_wrong_signature_or_none_changes_nothing(drain: Drain) -> None:
    plain = ndjson([entry(1)])
    body = gzipped(plain)
    for headers in (sign(body, "not-the-secret"), sign(plain, "not-the-secret"), {}):
        response = await drain.post(body, {"Content-Encoding": "gzip", **headers})
        assert response.status_code == 403, headers
    assert drain.relay.status.accepted_lines == 0 and drain.relay.status.bad_signatures == 3


async def test_a_compressed_verification_request_is_answered(drain: Drain) -> None:
    response = await drain.post(gzipped(b"{}"), {"Content-Encoding": "gzip"})
    assert response.status_code == 200 and response.headers["x-vercel-verify"] == DRAIN_VERIFY
    assert drain.relay.queue.qsize() == 0


async def test_a_gzip_bomb_is_413_and_other_deliveries_still_arrive(drain: Drain) -> None:
    bomb = gzip_bomb()
    assert len(bomb) < drain_route.MAX_DRAIN_BODY  # small enough to be read: refused only once inflated
    signed = await drain.post(bomb, {"Content-Encoding": "gzip", **sign(bomb)})
    assert signed.status_code == 413 and "inflates" in signed.json()["error"]
    unsigned = await drain.post(bomb, {"Content-Encoding": "gzip"})  # too long for a verification: never read
    assert unsigned.status_code == 403 and "signature" in unsigned.json()["error"]
    assert drain.relay.status.accepted_lines == 0 and drain.relay.queue.qsize() == 0
    good = gzipped(ndjson([entry(7), entry(8)]))
    after = await drain.post(good, {"Content-Encoding": "gzip", **sign(good)})
    assert after.status_code == 200
    await drain.loki.wait_lines(2)
    assert ids(drain.loki) == Counter(["log-7", "log-8"])


def test_a_gzip_bomb_never_inflates_past_the_limit_in_memory() -> None:
    bomb = gzip_bomb()
    limit = drain_route.MAX_DRAIN_BODY
    tracemalloc.start()
    try:
        with pytest.raises(BodyRefused) as refused:
            inflate(bomb, limit)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert refused.value.status == 413
    assert peak < limit + (1 << 20), peak  # the limit plus a piece and zlib's state: not the bomb's 1 GiB


async def test_a_large_plain_body_in_1_kb_pieces_is_read_whole(drain: Drain) -> None:
    body = ndjson([entry(i, message="m" * 300) for i in range(600)])  # ~400 KB
    answer = await send_in_pieces(port_of(drain), "/drains/vercel", body, sign(body))
    assert answer.status == 200 and answer.json()["accepted"] == 600 and answer.pieces > 300
    await drain.loki.wait_lines(600)


async def test_a_body_over_the_limit_in_pieces_without_a_length_is_413(
    drain: Drain, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(drain_route, "MAX_DRAIN_BODY", 10_000)
    body = ndjson([entry(i) for i in range(100)])
    answer = await send_in_pieces(port_of(drain), "/drains/vercel", body, sign(body), chunked=True)
    assert answer.status == 413 and drain.relay.status.accepted_lines == 0
