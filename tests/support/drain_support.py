"""Shared by the drain tests and the benchmark: Vercel-shaped log entries, signed drain requests."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

DRAIN_SECRET = "vdrain-secret-LEAKCHECK-5e6f7a8b9c0d"
DRAIN_VERIFY = "vverify-LEAKCHECK-1a2b3c4d5e6f7a8b"


def entry(i: int, *, level: str = "info", source: str = "lambda", ts_ms: int | None = None, **extra: Any) -> dict:
    """One Vercel log object (the fields of https://vercel.com/docs/drains/reference/logs)."""
    return {
        "id": f"log-{i}",
        "message": extra.pop("message", f"GET /api/agents/{i} 200"),
        "timestamp": ts_ms if ts_ms is not None else int(time.time() * 1000) - 1000 + i,
        "type": "stdout",
        "source": source,
        "level": level,
        "projectId": "prj_mocha",
        "projectName": "mochacare",
        "deploymentId": "dpl_1",
        "host": "mochacare-abc.vercel.app",
        "path": f"/api/agents/{i}",
        "statusCode": 200,
        "requestId": f"req-{i}",
        "environment": "production",
        **extra,
    }


def ndjson(entries: list[dict]) -> bytes:
    return "\n".join(json.dumps(e) for e in entries).encode() + b"\n"


def sign(body: bytes, secret: str = DRAIN_SECRET) -> dict[str, str]:
    return {"x-vercel-signature": hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()}
