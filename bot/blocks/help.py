"""The help text: what sitrep can do and which integrations are ready."""

from __future__ import annotations

from collections.abc import Sequence

from bot.blocks.readiness import STATUS_LABEL, readiness_summary
from skills.base import Readiness

CAPABILITIES = (
    (
        "Ask",
        "`@sitrep what's the error rate?`, `@sitrep show errors in the last hour`, "
        "`@sitrep why are agents failing since this morning?`",
    ),
    (
        "Reports",
        "a status report every morning and evening (8 AM / 8 PM Pacific); `/sitrep report` or "
        "`@sitrep report` posts one now",
    ),
    ("Status", "`/sitrep status` or the Home tab: which integration is ready, blocked, and the next step"),
    (
        "Configure",
        "`/sitrep config` or the *Configure sitrep* shortcut (admins): report channel, schedule, new reports, "
        "agent settings, credentials",
    ),
)


def help_text(rows: Sequence[Readiness]) -> str:
    lines = [
        "*sitrep* is your SRE teammate: it reads Grafana (metrics, logs, alerts) and Amplitude "
        "(product events) and answers with numbers and links.",
        "",
    ]
    lines += [f"• *{name}*: {text}" for name, text in CAPABILITIES]
    lines += ["", f"*Integrations* ({readiness_summary(rows)}):"]
    for r in rows:
        lines.append(f"• {r.integration}: {STATUS_LABEL[r.status]}" + ("" if r.ready else f", next: {r.next_step}"))
    return "\n".join(lines)
