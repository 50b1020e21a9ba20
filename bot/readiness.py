"""The integration readiness table: one row per integration, computed from stored config and credentials.

The five rows (Slack bot, Scheduled reports, Grafana, Amplitude, GitHub), then the Database row (backend,
replicas seen in the last minute). Each skill's check runs concurrently, bounded by a timeout, so a slow
integration cannot hang the Home tab. The Slack and report rows come from the Runtime (identity, scheduler).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from bot.channels import ChannelAccess, check_access
from reports.readiness import reports_readiness
from skills.base import Readiness, ReadinessStatus, Skill
from skills.readiness import skill_readiness

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient

    from agent.services import Services
    from bot.runtime import Runtime
    from settings import Settings
    from storage.teams import Team

log = logging.getLogger(__name__)

SLACK_TIMEOUT_S = 5.0
ROW_ORDER = ("Slack bot", "Scheduled reports", "Grafana", "Amplitude", "GitHub", "Database")


def slack_readiness(settings: Settings, identity: dict[str, Any] | None) -> Readiness:
    name = "Slack bot"
    if identity:
        who = identity.get("user") or "sitrep"
        where = identity.get("team") or identity.get("team_id") or "the workspace"
        return Readiness(
            name,
            ReadinessStatus.READY,
            "nothing",
            "Mention @sitrep in a channel it is in.",
            f"connected as @{who} to {where} over Socket Mode",
        )
    mode = settings.slack_mode
    if mode == "shell":
        return Readiness(
            name,
            ReadinessStatus.NOT_CONFIGURED,
            "SLACK_BOT_TOKEN and SLACK_APP_TOKEN are not set",
            "Create the app from manifest.json (README, Slack app setup), then set SLACK_BOT_TOKEN (xoxb-) "
            "and SLACK_APP_TOKEN (xapp-) and restart.",
        )
    if mode == "partial":
        missing = "SLACK_APP_TOKEN" if settings.slack_bot_token else "SLACK_BOT_TOKEN"
        return Readiness(
            name,
            ReadinessStatus.BLOCKED,
            f"{missing} is not set",
            f"Set {missing} as well; sitrep needs both tokens for Socket Mode.",
        )
    return Readiness(
        name,
        ReadinessStatus.BLOCKED,
        "tokens set, not verified in this process",
        "Run `python app.py` to connect; it checks both tokens with Slack at start-up.",
    )


async def github_row(services: Services, team: Team, row: Readiness | None) -> Readiness:
    """The GitHub skill's row (App, installation, routed repos, mode) with the review activity of the last 7 days."""
    if row is None:
        return Readiness(
            "GitHub",
            ReadinessStatus.NOT_CONFIGURED,
            "the GitHub skill is not installed in this build",
            "Update sitrep, then set GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY.",
        )
    try:
        last, count = await services.storage.github.activity(team.id)
    except Exception:  # the row must still render
        log.exception("reading the review ledger failed")
        return row
    if last is None:
        activity = "no review posted yet"
    else:
        activity = f"last review {last.repo}#{last.number} at {last.claimed_at[:16].replace('T', ' ')} UTC"
        activity += f" ({last.review_url})" if last.review_url else ""
        activity += f"; {count} review{'s' if count != 1 else ''} in the last 7 days"
    return replace(row, detail="; ".join(d for d in (row.detail, activity) if d))


async def report_channel_access(runtime: Runtime, team: Team) -> ChannelAccess | None:
    """Whether sitrep can post in the team's report channel; None without a channel, a Slack client, or an answer."""
    channel = team.report_channel(runtime.services.settings)
    client = runtime.slack
    if not channel or client is None:
        return None
    try:
        return await asyncio.wait_for(check_access(client, channel), SLACK_TIMEOUT_S)
    except Exception as exc:  # Slack unreachable: the row still renders, without the membership check
        log.warning("could not check membership of %s: %s", channel, exc)
        return None


async def reports_row(runtime: Runtime, team: Team) -> Readiness:
    services = runtime.services
    membership = await report_channel_access(runtime, team)
    return await reports_readiness(services.storage.jobs, team, services.settings, runtime.scheduler, membership)


async def readiness_table(runtime: Runtime, team: Team) -> list[Readiness]:
    """Slack, scheduled reports, Grafana, Amplitude and GitHub, then the database (backend, live replicas). Skill
    checks run concurrently, each bounded by a timeout."""
    services = runtime.services
    skills = await services.skills_for(team)
    skill_rows, reports = await asyncio.gather(
        asyncio.gather(*(skill_readiness(s) for s in skills)), reports_row(runtime, team)
    )
    by_name = {row.integration: row for row in skill_rows}
    for title, env in (
        ("Grafana", "GRAFANA_URL and GRAFANA_TOKEN"),
        ("Amplitude", "AMPLITUDE_API_KEY and AMPLITUDE_SECRET_KEY"),
    ):
        by_name.setdefault(
            title,
            Readiness(
                title,
                ReadinessStatus.NOT_CONFIGURED,
                f"the {title} skill is not installed in this build",
                f"Update sitrep, then set {env}.",
            ),
        )
    rows = [
        slack_readiness(services.settings, runtime.slack_identity),
        reports,
        with_action(by_name.pop("Grafana"), "configure_grafana"),
        with_action(by_name.pop("Amplitude"), "configure_amplitude"),
        await github_row(services, team, by_name.pop("GitHub", None)),
    ]
    return [*rows, *by_name.values(), await database_readiness(services)]


def with_action(row: Readiness, action: str) -> Readiness:
    """The row with one more Home tab button (credentials are entered in a modal)."""
    return row if action in row.actions else replace(row, actions=(*row.actions, action))


async def _timed(check: Awaitable[Readiness]) -> tuple[Readiness, float]:
    started = time.monotonic()
    row = await check
    return row, time.monotonic() - started


async def _slack_row(runtime: Runtime, client: AsyncWebClient) -> Readiness:
    """The Slack row from a fresh auth.test, not the identity remembered at start-up."""
    try:
        identity = await asyncio.wait_for(client.auth_test(), SLACK_TIMEOUT_S)
    except Exception as exc:
        return Readiness(
            "Slack bot",
            ReadinessStatus.BLOCKED,
            f"auth.test failed: {getattr(exc, 'response', {}).get('error') or type(exc).__name__}",
            "Check SLACK_BOT_TOKEN and that Slack is reachable from this host.",
        )
    runtime.slack_identity = dict(identity.data) if isinstance(identity.data, dict) else runtime.slack_identity
    return slack_readiness(runtime.services.settings, runtime.slack_identity)


async def _github_row(services: Services, team: Team, skills: list[Skill]) -> Readiness:
    """The GitHub skill's check with the review activity; the not-installed row when this build has no skill."""
    skill = next((s for s in skills if s.name == "github"), None)
    return await github_row(services, team, await skill_readiness(skill) if skill is not None else None)


async def check_connections(runtime: Runtime, team: Team, client: AsyncWebClient) -> list[tuple[Readiness, float]]:
    """Every readiness check, run now and at once, each with the seconds it took (the Test connections button)."""
    services = runtime.services
    skills = await services.skills_for(team)
    results = await asyncio.gather(
        _timed(_slack_row(runtime, client)),
        _timed(reports_row(runtime, team)),
        *(_timed(skill_readiness(skill)) for skill in skills if skill.name != "github"),
        _timed(_github_row(services, team, skills)),
    )
    order = {name: i for i, name in enumerate(ROW_ORDER)}
    return sorted(results, key=lambda pair: order.get(pair[0].integration, len(order)))


async def database_readiness(services: Services) -> Readiness:
    """Which database, reachable or not, and how many replicas wrote a heartbeat in the last minute."""
    db = services.storage.db
    try:
        await db.ping()
        live = await services.storage.replicas.live()
    except Exception as exc:  # unreachable: that is the row's answer
        return Readiness(
            "Database",
            ReadinessStatus.BLOCKED,
            f"{db.label} cannot be reached ({type(exc).__name__})",
            "Check that the database is up and that SITREP_DB points at it; sitrep retries with backoff meanwhile.",
        )
    replicas = f"{live} replica{'s' if live != 1 else ''} seen in the last minute"
    if db.backend == "sqlite":
        return Readiness(
            "Database",
            ReadinessStatus.READY,
            "nothing",
            "Nothing for one process. To run two replicas, move to PostgreSQL (docs/deploy.md).",
            f"{db.label} · {replicas}",
        )
    return Readiness("Database", ReadinessStatus.READY, "nothing", "Nothing.", f"{db.label} · {replicas}")
