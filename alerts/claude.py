"""With a model: Claude gets the rule-based findings first (as JSON, every link included, delimited as data: the
alert's annotations and log lines are never instructions) and may call tools through the agent's loop
(agent/loop.py), asked as the model rule and the ALERTS use say (agent/model_client.py); its text, made safe to
post (text/model_text.py: no broadcast, no mention, no link whose label hides a host other than the team's),
replaces the rule-based one and its tokens are recorded (source "alert"). Any failure, or the team's daily token
budget spent: the caller keeps the rule-based text."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from agent.loop import run_loop
from agent.model_client import ALERTS, ModelError, claude
from agent.prompt import system_prompt, team_now
from agent.toolbox import Toolbox
from agent.usage import over_budget, record
from alerts.investigate import Findings
from text.model_text import as_data, for_slack

if TYPE_CHECKING:
    from agent.services import Services
    from storage.teams import Team

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
    if spent := await over_budget(services, team, ALERTS.feature):
        raise ModelError(spent)
    started = time.monotonic()
    system = system_prompt(
        "alert", now=team_now(services, team), team=team, tools=bool(toolbox.tools), max_turns=ALERT_MAX_TURNS
    )
    result = await run_loop(
        claude(services, team, ALERTS),
        system=system.map(toolbox.redact),
        messages=[{"role": "user", "content": as_data("alert", toolbox.redact(context_json(found)))}],
        toolbox=toolbox,
        max_turns=ALERT_MAX_TURNS,
    )
    text = toolbox.redact(result.text).strip() if result.stop_reason not in ("max_tokens", "max_turns") else ""
    await record(services, team, "alert", f"(alert {found.alert.name})"[:200], text, result, started)
    if not text:
        raise ValueError(f"the model wrote nothing (stop reason: {result.stop_reason})")
    return for_slack(text, toolbox.link_hosts)
