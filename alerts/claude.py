"""With a key: Claude gets the rule-based findings first (as JSON, every link included) and may call tools through
the agent's loop (bot/agent/loop.py); its text replaces the rule-based one. Any failure: the caller keeps the
rule-based text."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from agent.loop import run_loop
from agent.prompt import system_prompt, team_now
from agent.toolbox import Toolbox
from alerts.investigate import Findings

if TYPE_CHECKING:
    from skills.services import Services
    from storage.teams import Team

ALERT_MAX_TOKENS = 1500
ALERT_MAX_TURNS = 4


def context_json(found: Findings) -> str:
    a = found.alert
    data: dict[str, Any] = {
        "alert": {
            "name": a.name,
            "status": a.status,
            "labels": a.labels,
            "annotations": a.annotations,
            "starts_at": a.starts_at.isoformat() if a.starts_at else None,
            "values": a.values or a.value_text,
            "source_url": a.generator_url,
        },
        "rule_explore_url": found.rule_link,
        "signal": asdict(found.signal) if found.signal else None,
        "loki": {"selector": found.selector, "error_lines": found.error_lines, "patterns": found.patterns}
        | {"explore_url": found.patterns_link},
        "changes_before": [c.to_dict() for c in found.changes],
        "nearest_change": found.nearest and dict(found.nearest.to_dict(), minutes_before=found.minutes_before),
        "amplitude_moved": found.events,
        "not_checked": found.notes,
    }
    return json.dumps(data, ensure_ascii=False, default=str)


async def model_investigation(services: Services, team: Team, toolbox: Toolbox, found: Findings) -> str:
    """Claude's text; raises agent.loop.ModelError (or anything else) for the caller to fall back."""
    system = system_prompt(
        "alert", now=team_now(services, team), team=team, tools=bool(toolbox.tools), max_turns=ALERT_MAX_TURNS
    )
    result = await run_loop(
        services.anthropic(),
        model=services.settings.model,
        system=toolbox.redact(system),
        messages=[{"role": "user", "content": toolbox.redact(context_json(found))}],
        toolbox=toolbox,
        max_turns=ALERT_MAX_TURNS,
        max_tokens=ALERT_MAX_TOKENS,
    )
    text = toolbox.redact(result.text).strip()
    if not text:
        raise ValueError("the model wrote nothing")
    return text
