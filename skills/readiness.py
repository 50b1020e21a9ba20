"""What every skill's readiness row shares: the status labels, and a check bounded by a timeout."""

from __future__ import annotations

import asyncio
import logging
import sqlite3

from skills.base import Readiness, ReadinessStatus, Skill
from storage.db import DatabaseUnavailable

log = logging.getLogger(__name__)

SKILL_TIMEOUT_S = 10.0

STATUS_LABEL = {
    ReadinessStatus.READY: "Ready",
    ReadinessStatus.BLOCKED: "Blocked",
    ReadinessStatus.NOT_CONFIGURED: "Not configured",
}


async def skill_readiness(skill: Skill, limit_s: float = SKILL_TIMEOUT_S) -> Readiness:
    """A skill's row, recorded on the skill (its tools are held back while it says Blocked); a skill that hangs or
    fails still yields a row that says so, but is not recorded: a slow upstream is not a rejected token, and its
    tools say so themselves when called."""
    try:
        row = await asyncio.wait_for(skill.readiness(), limit_s)
    except TimeoutError:
        return Readiness(
            skill.title,
            ReadinessStatus.BLOCKED,
            f"{skill.title} did not answer within {limit_s:.0f} s",
            f"Check that {skill.title} is reachable from this host, then refresh.",
        )
    except (DatabaseUnavailable, sqlite3.Error) as exc:  # sitrep's own store was busy: not the integration's fault
        log.warning("readiness of %s not checked: the database did not answer (%s)", skill.name, exc)
        return Readiness(
            skill.title,
            ReadinessStatus.BLOCKED,
            f"sitrep's database did not answer ({exc})",
            "Refresh in a moment.",
        )
    except Exception as exc:  # a readiness check must never break the Home tab
        log.exception("readiness of %s failed", skill.name)
        return Readiness(
            skill.title,
            ReadinessStatus.BLOCKED,
            f"the readiness check failed: {exc}",
            "Refresh; if it persists, check sitrep's log.",
        )
    skill.record_readiness(row)
    return row
