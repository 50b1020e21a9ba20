"""The log-drain steps of Grafana's readiness row, in order: relay not configured, no public URL, drain not
receiving (no request in the last hour), receiving but Loki rejecting (with the status), flowing (lines/min).
A Loki 400 in the last hour is told in either: what Loki took and refused of the batch, and its reason."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from skills.base import SkillContext
from skills.vercel_drain.config import DrainConfig, drain_url, load_config
from skills.vercel_drain.status import RelayStatus, lines_per_minute
from storage.drain import DrainStore

RECEIVING_WINDOW_S = 3600
PUSH = "/loki/api/v1/push"

NOT_CONFIGURED = "not configured"
NO_PUBLIC_URL = "no public URL"
NOT_RECEIVING = "not receiving"
LOKI_REJECTING = "Loki rejecting"
FLOWING = "flowing"

CONFIGURE_STEP = (
    "Home tab → Configure Grafana (or the environment): set the Loki push URL ({url}), the push user ({user}, "
    "the Loki instance id) and a Grafana Cloud access-policy token with logs:write (LOKI_PUSH_URL, "
    "LOKI_PUSH_USER, LOKI_PUSH_TOKEN)."
)
PUBLIC_URL_STEP = (
    "Set SITREP_PUBLIC_URL to the https address where Vercel can reach this sitrep's web server (port "
    "SITREP_HTTP_PORT, behind your load balancer or tunnel) and restart sitrep: the drain URL is "
    "$SITREP_PUBLIC_URL/drains/vercel."
)
VERCEL_STEP = (
    "In Vercel → Team Settings → Drains → Add Drain: Logs, Custom endpoint {url}, format NDJSON (or JSON). "
    "Copy the signature secret and the verification value Vercel shows into Home tab → Configure Grafana "
    "(VERCEL_DRAIN_SECRET, VERCEL_DRAIN_VERIFY), then Verify and create the drain. Lines reach Loki within "
    "seconds; then refresh."
)


@dataclass(frozen=True)
class DrainState:
    state: str
    summary: str  # one line: what the drain is doing
    step: str  # the next step ("" when flowing)

    @property
    def flowing(self) -> bool:
        return self.state == FLOWING


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M UTC")


def assess(
    config: DrainConfig, status: RelayStatus, *, loki: dict[str, Any] | None = None, now: float | None = None
) -> DrainState:
    """Where the drain stands. `loki` is Grafana's Loki data source, whose URL and user hint the push settings."""
    now = time.time() if now is None else now
    if not config.can_push or not config.secret.value:
        base = str((loki or {}).get("url") or "").rstrip("/")
        url = f"{base}/loki/api/v1/push" if base.startswith("http") else "https://logs-prod-NNN.grafana.net" + PUSH
        user = str((loki or {}).get("basicAuthUser") or "the Loki instance id")
        step = CONFIGURE_STEP.format(url=url, user=user)
        if not config.secret.value and config.can_push:
            step = VERCEL_STEP.format(url=drain_url(config.public_url) or "$SITREP_PUBLIC_URL/drains/vercel")
        missing = ", ".join(config.missing())
        return DrainState(NOT_CONFIGURED, f"the Vercel drain relay is not configured ({missing} not set)", step)
    public = drain_url(config.public_url)
    if public is None:
        return DrainState(NO_PUBLIC_URL, "no public URL: Vercel has no address to send the drain to", PUBLIC_URL_STEP)
    last = status.last_request_at
    if last is None or now - last > RECEIVING_WINDOW_S:
        summary = f"the drain at {public} received no request in the last hour"
        bad = status.last_bad_signature_at
        if bad is not None and now - bad <= RECEIVING_WINDOW_S:
            summary = (
                f"requests reach {public} but their signature does not match (last at {_when(bad)}): "
                "the drain secret differs from Vercel's"
            )
        return DrainState(NOT_RECEIVING, summary, VERCEL_STEP.format(url=public))
    failing = status.last_error_at is not None and (
        status.last_push_ok_at is None or status.last_error_at > status.last_push_ok_at
    )
    if failing:
        what = f"Loki answered {status.last_error_status}" if status.last_error_status else "Loki unreachable"
        detail = status.last_refusal if status.last_error_status == 400 else status.last_error
        summary = f"receiving, but {what} at {_when(status.last_error_at or now)}" + (f": {detail}" if detail else "")
        summary += _refusal_totals(status)
        if status.backlog_lines:
            summary += f"; {status.backlog_lines} lines wait in the spill table"
        return DrainState(LOKI_REJECTING, summary, _loki_step(status.last_error_status, config))
    rate = lines_per_minute(status, now)
    summary = f"flowing: {rate:,.0f} lines/min relayed to Loki (last 5 min)"
    if status.dropped_lines:
        summary += f"; {status.dropped_lines} lines dropped while Loki was away"
    refused_at = status.last_refusal_at
    if status.last_refusal and refused_at is not None and now - refused_at <= RECEIVING_WINDOW_S:
        summary += f"; Loki answered 400 at {_when(refused_at)}: {status.last_refusal}{_refusal_totals(status)}"
    return DrainState(FLOWING, summary, "")


def _refusal_totals(status: RelayStatus) -> str:
    if not status.rejected_lines and not status.unknown_lines:
        return ""
    unknown = f", {status.unknown_lines} of unknown fate" if status.unknown_lines else ""
    return f" ({status.rejected_lines} lines refused in all{unknown})"


def _loki_step(status: int | None, config: DrainConfig) -> str:
    where = config.endpoint
    if status in (401, 403):
        return (
            f"Check the push user ({config.push_user.source}: the Loki instance id) and token "
            f"({config.push_token.source}: an access policy with logs:write) in Home tab → Configure Grafana."
        )
    if status == 404:
        return f"Check the push URL ({config.push_url.source}): {where} was not found; use the stack's Loki host."
    if status == 400:
        return (
            "Loki refused these lines and kept the batch's others (a 400 is not retried): check the lines' "
            "timestamps and sizes against the Loki limits (reject_old_samples_max_age, max_line_size)."
        )
    if status == 429:
        return "Loki is rate-limiting the push: the relay retries and keeps the lines in the spill table meanwhile."
    return f"Check that {where} is reachable from sitrep; lines wait in the spill table and are sent when it is."


async def load_status(store: DrainStore | None) -> RelayStatus:
    """The relay's last saved status (it may run in another process than the one asking)."""
    if store is None:
        return RelayStatus()
    return RelayStatus.from_document(await store.load_status())


def probe_for(ctx: SkillContext) -> Callable[[dict[str, Any]], Awaitable[DrainState]]:
    """The drain's state for Grafana's readiness row, read when the row is checked."""

    async def probe(loki: dict[str, Any]) -> DrainState:
        config = await load_config(ctx)
        status = await load_status(ctx.storage.drain if ctx.storage is not None else None)
        return assess(config, status, loki=loki)

    return probe
