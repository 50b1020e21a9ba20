"""The probes an orchestrator asks (docs/deploy.md, Probes):

- `GET /healthz`, liveness: 200 while the process serves HTTP. It touches nothing else, so a database or Slack
  that is away never gets a healthy replica restarted.
- `GET /readyz`, readiness: 200 only when this replica can take work: Slack's Socket Mode websocket is connected,
  the database answers, and every migration of this build is applied (here or by another replica). Else 503 with
  each reason in JSON, so the load balancer sends the webhooks and the drain to another replica meanwhile.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import web

from bot.runtime import Runtime

DATABASE_TIMEOUT_S = 2.0  # under a probe's usual timeoutSeconds: a hung database is a reason, not a hung probe


async def healthz(request: web.Request) -> web.Response:
    """The process is alive and its event loop answers."""
    return web.json_response({"ok": True})


async def readiness(runtime: Runtime) -> tuple[bool, dict[str, Any]]:
    """(ready, the JSON body): each check with its state, and `reasons`, one line per failing check."""
    reasons: list[str] = []
    slack = {"connected": await runtime.slack_connected()}
    if not slack["connected"]:
        reasons.append("Slack: the Socket Mode connection is not open (connecting, or reconnecting)")
    db = runtime.services.storage.db
    database: dict[str, Any] = {"backend": db.backend}
    start = time.perf_counter()
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT_S):
            pending = await db.pending_migrations()
    except TimeoutError:
        database["ok"] = False
        reasons.append(f"database: no answer within {DATABASE_TIMEOUT_S:g} s")
    except Exception as exc:  # any failure to reach it is the answer, not a 500
        database["ok"] = False
        reasons.append(_redacted(f"database: {type(exc).__name__}: {exc}", runtime.services.settings.secret_values()))
    else:
        database.update(ok=not pending, ms=round((time.perf_counter() - start) * 1000, 2), pending_migrations=pending)
        if pending:
            reasons.append(f"database: {len(pending)} migration(s) not applied yet ({', '.join(pending)})")
    ready = not reasons
    return ready, {"ready": ready, "reasons": reasons, "slack": slack, "database": database}


def _redacted(text: str, secrets: list[str]) -> str:
    """An error's text, which may quote the connection string, without any secret of the environment (the probes
    answer without authentication); cut to 300 characters."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text[:300]
