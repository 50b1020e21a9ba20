"""Bodies as the internet delivers them: GitHub's webhook takes a 1 MiB signed pull_request sent in 1 KiB pieces
over a real socket (each written and drained on its own), and a 1 GiB gzip bomb is refused having inflated no
more than the drain's limit.

sitrep's web server runs against the fake GitHub (tests/support/github_world.py) on this event loop. Printed: the answer
to the 1 MiB delivery (target 202) with its bytes, pieces and time, whether the review it asked for was posted,
and the time and peak memory of refusing the bomb.
"""

from __future__ import annotations

import json
import tempfile
import time
import tracemalloc
import zlib
from pathlib import Path

from bench import Row
from bot.bodies import BodyRefused, inflate
from bot.drain import MAX_DRAIN_BODY
from bot.github_web import running_tasks
from bot.runtime import Runtime
from bot.web import bound_port, start_web
from skills.github.webhook import signature_for
from tests.support.github_world import INSTALLATION, REPO, WEBHOOK_SECRET, github_world, route_pull_files
from tests.support.http_pieces import send_in_pieces

BODY_BYTES = 1 << 20
PIECE = 1024


def pull_request_body(number: int, head: str) -> bytes:
    payload = {
        "action": "opened",
        "number": number,
        "pull_request": {"number": number, "draft": False, "head": {"sha": head, "ref": "big"}, "body": ""},
        "repository": {"full_name": REPO, "default_branch": "main"},
        "installation": {"id": INSTALLATION},
    }
    pad = BODY_BYTES - len(json.dumps(payload).encode())
    payload["pull_request"]["body"] = "x" * pad  # type: ignore[index]
    body = json.dumps(payload).encode()
    assert len(body) == BODY_BYTES
    return body


async def webhook_rows() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        async with github_world(Path(tmp), SITREP_PUBLIC_URL="https://sitrep.example.com", SITREP_HTTP_PORT="0") as w:
            runner = await start_web(Runtime(w.services), w.notify)  # SITREP_HTTP_PORT=0: any free port
            try:
                port = bound_port(runner)
                assert port is not None
                pr = w.github.add_pull(REPO, 51, route_pull_files())
                body = pull_request_body(51, pr.head_sha)
                headers = {
                    "X-GitHub-Event": "pull_request",
                    "X-GitHub-Delivery": "bench-1mib",
                    "X-Hub-Signature-256": signature_for(WEBHOOK_SECRET, body),
                    "Content-Type": "application/json",
                }
                started = time.monotonic()
                answer = await send_in_pieces(port, "/github/webhook", body, headers, piece=PIECE)
                seconds = time.monotonic() - started
                await running_tasks(runner.app)
                reviews = len(w.github.repo(REPO).reviews)
            finally:
                await runner.cleanup()
    note = f"{len(body):,} bytes in {answer.pieces:,} pieces of {PIECE} B, {seconds:.2f} s"
    return [
        Row(
            "webhook: 1 MiB signed pull_request in 1 KiB pieces", str(answer.status), "202", answer.status == 202, note
        ),
        Row("webhook: reviews posted for it", str(reviews), "1", reviews == 1),
    ]


def bomb_rows() -> list[Row]:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    member = compressor.compress(bytes(64 << 20)) + compressor.flush()
    bomb = member * 16  # 1 GiB of zeros: 16 gzip members of 64 MiB
    tracemalloc.start()
    started = time.monotonic()
    try:
        inflate(bomb, MAX_DRAIN_BODY)
        status = 200
    except BodyRefused as exc:
        status = exc.status
    seconds = time.monotonic() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    ceiling = MAX_DRAIN_BODY + (1 << 20)
    note = f"{len(bomb):,} bytes sent, refused in {seconds:.2f} s"
    return [
        Row("drain: 1 GiB gzip bomb", str(status), "413", status == 413, note),
        Row(
            "drain: peak memory inflating it",
            f"{peak / 2**20:.1f} MiB",
            f"≤ {ceiling / 2**20:.0f} MiB",
            peak <= ceiling,
        ),
    ]


async def rows() -> list[Row]:
    return [*(await webhook_rows()), *bomb_rows()]
