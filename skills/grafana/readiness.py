"""Grafana's readiness row: no credentials, token rejected, no Loki, no log lines (then the Vercel drain relay's
step: not configured, no public URL, not receiving, Loki rejecting), logs flowing."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from skills.base import Readiness, ReadinessStatus, SkillError
from skills.grafana import datasources, loki
from skills.grafana.timeutil import TimeRange, from_ns, human_age, now
from skills.vercel_drain.config import DrainConfig
from skills.vercel_drain.readiness import NOT_CONFIGURED, DrainState, assess
from skills.vercel_drain.status import RelayStatus

if TYPE_CHECKING:
    from skills.base import Credential
    from skills.grafana.client import GrafanaClient

# The drain relay's state, given Grafana's Loki data source (its URL and user hint the push settings).
DrainProbe = Callable[[dict[str, Any]], Awaitable[DrainState]]

NAME = "Grafana"
TIMEOUT_S = 8.0
TOKEN_STEP = (
    "In Grafana, Administration → Users and access → Service accounts: create a service account token with "
    "the Editor role, then update {source}."
)


def not_configured(url: Credential, token: Credential) -> Readiness:
    missing = [c.source for c in (url, token) if not c.value]
    names = " and ".join(missing)
    return Readiness(
        NAME,
        ReadinessStatus.NOT_CONFIGURED,
        f"{names} {'is' if len(missing) == 1 else 'are'} not set",
        "Create a service account with the Editor role in Grafana (Administration → Service accounts), "
        f"add a token, then set {names} (or enter them on the Home tab).",
    )


async def check(client: GrafanaClient, timeout: float = TIMEOUT_S, drain: DrainProbe | None = None) -> Readiness:
    """The diagnosis, bounded by `timeout` so the Home tab never hangs."""
    try:
        async with asyncio.timeout(timeout):
            return await _diagnose(client, drain or _no_relay)
    except TimeoutError:
        return Readiness(
            NAME,
            ReadinessStatus.BLOCKED,
            f"Grafana did not answer within {timeout:g} s",
            f"Check that {client.public_url} is reachable from this host ({client.url_source}), then refresh.",
        )


async def _diagnose(client: GrafanaClient, drain: DrainProbe) -> Readiness:
    try:
        health, user = await asyncio.gather(client.health(), client.identity())
        raw = await client.datasources_raw(fresh=True)
    except SkillError as exc:
        return _from_error(client, exc)
    version = health.get("version") or "?"
    where = f"Grafana {version} at {client.public_url} as {_who(user)}"
    loki_uid = client.loki_override or datasources.pick(raw, "loki")
    loki_ds = datasources.find(raw, loki_uid) if loki_uid else None
    if loki_ds is None:
        what = (
            f"the configured Loki data source {loki_uid!r} does not exist"
            if loki_uid
            else "connected but no Loki data source"
        )
        return Readiness(
            NAME,
            ReadinessStatus.BLOCKED,
            what,
            "Add the Loki data source in Grafana (Connections → Data sources; a Grafana Cloud stack has one "
            "named grafanacloud-<stack>-logs), or set grafana.datasources.loki in the team config.",
            detail=where,
        )
    try:
        age = await _last_line_age(client, str(loki_uid))
    except SkillError as exc:
        return _from_error(client, exc, detail=where)
    relay = await drain(loki_ds)
    if age is None:
        if relay.flowing:
            missing = f"the drain relay is {relay.summary}, but {loki_ds.get('name')} shows no line in the last hour"
            step = f"Check that the push URL is the Loki of this stack ({loki_ds.get('url')}), then refresh."
        else:
            missing, step = f"no log lines in the last hour: {relay.summary}", relay.step
        return Readiness(
            NAME,
            ReadinessStatus.BLOCKED,
            missing,
            step,
            detail=f"{where}; Loki data source {loki_ds.get('name')} ({loki_uid})",
        )
    relayed = f"; Vercel drain: {relay.summary}" if relay.state != NOT_CONFIGURED else ""
    return Readiness(
        NAME,
        ReadinessStatus.READY,
        "nothing",
        "Ask @sitrep about errors, or create the dashboard: "
        'python -m skills.grafana create-dashboard --title "<Team> Overview" --template vercel-overview.json',
        detail=f"logs flowing, last line {_ago(age)}; {where}{relayed}",
    )


async def _last_line_age(client: GrafanaClient, uid: str) -> float | None:
    """Seconds since the newest log line of the last hour, None when there is none."""
    selector = await loki.default_selector(client, uid, "1h")
    if selector is None:
        return None
    window = TimeRange.resolve("1h")
    data = await loki.fetch(client, uid, selector, window, limit=1)
    lines = loki.entries(data)
    if not lines:
        return None
    newest = max(ns for ns, _, _ in lines)
    return max(0.0, (now() - from_ns(newest)).total_seconds())


def _who(identity: dict[str, Any]) -> str:
    """The token's identity as far as Grafana tells it (Grafana 9-10 do not name a service account)."""
    name = identity.get("login") or identity.get("name")
    kind = identity.get("kind")
    if kind and name:
        return f"{kind} {name}"
    if kind == "service account":
        return "a service account (this Grafana does not say which)"
    return str(name or "the token")


def _ago(seconds: float) -> str:
    text = human_age(seconds)
    return "just now" if text == "under a minute" else f"{text} ago"


def drain_step(loki_ds: dict[str, Any]) -> str:
    """How Vercel's logs get to Loki (Loki takes only its push format, so through sitrep's relay)."""
    base = str(loki_ds.get("url") or "").rstrip("/")
    url = f"{base}/loki/api/v1/push" if base.startswith("http") else "<your Loki URL>/loki/api/v1/push"
    user = loki_ds.get("basicAuthUser") or "the Loki instance id"
    return (
        "Vercel logs reach Loki through sitrep's drain relay: in Home tab → Configure Grafana set the Loki push URL "
        f"({url}), user ({user}) and a logs:write token, then add a Vercel drain to "
        "$SITREP_PUBLIC_URL/drains/vercel. The Home tab's Grafana row shows the next step."
    )


async def _no_relay(loki_ds: dict[str, Any]) -> DrainState:
    """Without the relay's settings at hand: its first step, with the push URL and user Grafana knows."""
    return assess(DrainConfig(), RelayStatus(), loki=loki_ds)


def _from_error(client: GrafanaClient, exc: SkillError, detail: str = "") -> Readiness:
    if exc.status == 401 or "rejected" in exc.message:
        return Readiness(
            NAME,
            ReadinessStatus.BLOCKED,
            f"token rejected ({exc.status})",
            TOKEN_STEP.format(source=_token_where(client.token_source)),
            detail=detail or client.public_url,
            tools_usable=False,
        )
    return Readiness(NAME, ReadinessStatus.BLOCKED, exc.message, exc.hint or "Refresh later.", detail=detail)


def _token_where(source: str) -> str:
    return f"{source} (or set it on the Home tab)" if source == "GRAFANA_TOKEN" else source
