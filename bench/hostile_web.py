"""Hostile bodies against sitrep's web server, on loopback (tests/support/attacks.py), with /healthz asked the
whole time.

/healthz is asked every 20 ms without waiting for the previous answer, from an event loop of its own in another
thread (the attackers have theirs), so a stall of sitrep's event loop shows as every answer it held up, not as
one slow answer among many.

- gzip members: the drain gets 8.4 MB of 419,000 empty gzip members and GitHub's webhook 25 MB of 1.26 M, each
  with a well-formed wrong signature, both at once, ten rounds, while /healthz is asked. Printed: /healthz's
  p99 during the attack (target < 250 ms: Slack's 3 s ack window and a load balancer's health check both need
  an answer), and the answers.
- big unauthenticated bodies: 20 concurrent 24 MiB bodies to /github/webhook with a well-formed wrong signature
  (the worst case: without a signature header they are refused before a byte is read). Printed: the process's
  peak RSS growth (target < 150 MB) and how they were answered.
"""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
import threading
from collections import Counter
from pathlib import Path

from bench import Row
from tests.support.attacks import RssPeak, empty_gzip_members, exposed, healthz_latencies, in_thread, p99, post_raw

P99_TARGET_MS = 250.0
RSS_TARGET_MB = 150.0
BODIES, BODY_MIB = 20, 24
ROUNDS = 10
WRONG_SHA256 = "sha256=" + hashlib.sha256(b"not the secret").hexdigest()
WRONG_SHA1 = hashlib.sha1(b"not the secret").hexdigest()


async def gzip_member_rows(port: int, rounds: int = ROUNDS) -> list[Row]:
    drain_body = empty_gzip_members(419_000)  # 8.4 MB, under the drain's 8 MiB limit as sent
    github_body = empty_gzip_members(1_260_000)  # 25.2 MB, GitHub's largest delivery
    drain_headers = {"Content-Encoding": "gzip", "x-vercel-signature": WRONG_SHA1}
    github_headers = {
        "Content-Encoding": "gzip",
        "X-Hub-Signature-256": WRONG_SHA256,
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": "bench-gzip-members",
    }
    stop = threading.Event()
    pinger = asyncio.ensure_future(in_thread(lambda: healthz_latencies(port, stop)))

    async def attack() -> list[int]:
        statuses: list[int] = []
        for _ in range(rounds):
            statuses += await asyncio.gather(
                post_raw(port, "/drains/vercel", drain_headers, drain_body),
                post_raw(port, "/github/webhook", github_headers, github_body),
            )
        return statuses

    try:
        answered = await in_thread(attack)  # the attackers and the asking each on a loop of their own
    finally:
        stop.set()
    latencies = await pinger
    statuses = Counter(f"{'drain' if i % 2 == 0 else 'GitHub'} {status}" for i, status in enumerate(answered))
    worst = p99(latencies) * 1000
    answers = ", ".join(f"{what} ×{n}" for what, n in sorted(statuses.items()))
    note = f"{rounds} rounds, {len(latencies)} /healthz answers; {answers}"
    return [
        Row(
            "/healthz p99 under the gzip-member attack",
            f"{worst:.0f} ms",
            f"< {P99_TARGET_MS:.0f} ms",
            worst < P99_TARGET_MS,
            note,
        )
    ]


async def big_body_rows(port: int) -> list[Row]:
    body = bytes(BODY_MIB << 20)
    headers = {"X-Hub-Signature-256": WRONG_SHA256, "X-GitHub-Event": "push", "Content-Type": "application/json"}
    async with RssPeak() as peak:
        statuses = await asyncio.gather(
            *(
                post_raw(port, "/github/webhook", {**headers, "X-GitHub-Delivery": f"big-{i}"}, body)
                for i in range(BODIES)
            )
        )
    growth = peak.growth / 1e6
    answers = ", ".join(f"{n}× {status}" for status, n in sorted(Counter(statuses).items()))
    return [
        Row(
            f"peak RSS growth, {BODIES} concurrent {BODY_MIB} MiB wrongly signed webhooks",
            f"{growth:.0f} MB",
            f"< {RSS_TARGET_MB:.0f} MB",
            growth < RSS_TARGET_MB,
            f"answered {answers}",
        )
    ]


async def rows() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        async with exposed(Path(tmp)) as site:
            return [*(await gzip_member_rows(site.port)), *(await big_body_rows(site.port))]


if __name__ == "__main__":
    for row in asyncio.run(rows()):
        print(row)
