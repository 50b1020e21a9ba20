"""GitHub's readiness row: App credentials valid, an installation linked, at least one routed repo; and the mode.

While GitHub's rate limit is in force the row says until when and how many reviews wait for it, without asking
GitHub anything (GitHub: send nothing before then).

Mode: webhooks when SITREP_PUBLIC_URL and GITHUB_WEBHOOK_SECRET are set (GitHub pushes events), else polling
every SITREP_GITHUB_POLL_SECONDS (no public URL: GitHub cannot reach this host).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from skills.base import Readiness, ReadinessStatus, SkillError
from skills.github.limits import clock_time

if TYPE_CHECKING:
    from skills.github.api import GitHubApp

INTEGRATION = "GitHub"
READINESS_TIMEOUT = 8.0
LINK_ACTION = "link_github"


def mode_line(skill: GitHubApp) -> str:
    s = skill.settings
    if skill.webhook_mode:
        return f"webhook mode: GitHub sends events to {s.public_url}/github/webhook"
    if s.public_url and not s.github_webhook_secret:
        return (
            f"polling every {s.github_poll_seconds} s: SITREP_PUBLIC_URL is set but GITHUB_WEBHOOK_SECRET is not, "
            "so webhooks cannot be verified"
        )
    if s.public_url:
        return f"polling every {s.github_poll_seconds} s: SITREP_PUBLIC_URL ({s.public_url}) is a loopback address"
    return f"polling every {s.github_poll_seconds} s: no SITREP_PUBLIC_URL, so GitHub cannot send webhooks here"


def _row(status: ReadinessStatus, missing: str, next_step: str, detail: str, *, tools_usable: bool = True) -> Readiness:
    return Readiness(INTEGRATION, status, missing, next_step, detail, actions=(LINK_ACTION,), tools_usable=tools_usable)


async def _deferred(skill: GitHubApp) -> int:
    if skill.store is None or skill.link is None:
        return 0
    return len(await skill.store.deferred_reviews(team_id=skill.link.team_id))


async def _rate_limited(skill: GitHubApp, mode: str) -> Readiness | None:
    """The row while a rate-limit wait is in force; None when there is none."""
    block = skill.client.rate_limit(skill.link.installation_id if skill.link else None)
    if block is None:
        return None
    waiting = await _deferred(skill)
    reviews = f"{waiting} review{'s' if waiting != 1 else ''} deferred" if waiting else "reviews deferred"
    return _row(
        ReadinessStatus.BLOCKED,
        f"GitHub's {block.kind}: rate-limited until {clock_time(block.until)}; {reviews}",
        "nothing to do: sitrep sends GitHub nothing before then, and runs the deferred reviews after it",
        mode,
    )


async def check(skill: GitHubApp, timeout: float = READINESS_TIMEOUT) -> Readiness:
    """The row, within `timeout` seconds; never raises."""
    mode = mode_line(skill)
    if not skill.configured:
        unset = " and ".join(skill.missing_variables())
        return _row(
            ReadinessStatus.NOT_CONFIGURED,
            f"no GitHub App: {unset} not set",
            f"create a GitHub App (docs/github.md: permissions and events), then set {unset} and restart",
            mode,
        )
    try:
        if limited := await _rate_limited(skill, mode):
            return limited
        async with asyncio.timeout(timeout):
            app = await skill.client.app()
            if skill.link is None:
                return _row(
                    ReadinessStatus.BLOCKED,
                    "no installation linked to this team",
                    "press Link GitHub on the Home tab: install the App on the repo, then pick the installation",
                    f"App {app.get('slug') or skill.settings.github_app_id} credentials valid; {mode}",
                    tools_usable=False,
                )
            inst = await skill.client.installation(skill.link.installation_id)
    except TimeoutError:
        return _row(
            ReadinessStatus.BLOCKED,
            f"GitHub did not answer within {timeout:g} s",
            f"check that {skill.settings.github_api_url} is reachable from this host, then refresh",
            mode,
        )
    except SkillError as exc:
        if exc.status == 404 and skill.link is not None:
            return _row(
                ReadinessStatus.BLOCKED,
                f"installation {skill.link.installation_id} no longer exists",
                "install the App again and re-link it with Link GitHub on the Home tab",
                mode,
                tools_usable=False,
            )
        return _row(ReadinessStatus.BLOCKED, exc.message, exc.hint or "refresh in a minute", mode)
    account = (inst.get("account") or {}).get("login") or skill.link.account
    if not skill.repos:
        return _row(
            ReadinessStatus.BLOCKED,
            "no repository routed to this team",
            "press Link GitHub on the Home tab and pick the repositories to review",
            f"installed on {account}; {mode}",
        )
    waiting = await _deferred(skill)
    pending = f"; {waiting} review{'s' if waiting != 1 else ''} deferred by a rate limit, due now" if waiting else ""
    return _row(
        ReadinessStatus.READY,
        "",
        "open a pull request on a routed repo: sitrep reviews it with production context",
        f"installed on {account}; reviewing {', '.join(skill.repos)}{pending}; {mode}",
    )
