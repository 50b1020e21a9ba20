"""The evaluation table's alert part (issue 21, item 4): alert notifications as Grafana and Alertmanager send them
(tests/support/alert_payloads.py), investigated by the rule-based path (alerts/investigate.py, alerts/render.py) against
the doubles with faults injected, each reply graded on three things:

- signal: the firing signal found (the alert's name and its rule: the expression or the Explore link);
- change: the right change named (the nearest push before the alert started, never one after it), or "no push"
  when none was recorded in the window;
- numbers: no unrelated numbers: every number in the reply is one the doubles answered or the notification
  carried (or a minute count sitrep derived from two of those times), and the case's unrelated values are absent.

Used by tests/alerts/test_eval_alerts.py (make test) and bench/eval_table.py (make bench).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from agent.toolbox import Toolbox
from alerts.investigate import Findings, first_round, second_round
from alerts.model import Notification
from alerts.parse import parse_slack_message, parse_webhook
from alerts.render import render
from storage.changes import ChangeStore, pushed_commit
from supervisor import Scope
from tests.fakes.amplitude import FakeAmplitude
from tests.fakes.grafana import LOKI_UID, FakeGrafana
from tests.skills.grafana.test_grafana_alerts import DATA, rule
from tests.support.alert_payloads import LABELS, alertmanager_slack_event, alertmanager_webhook, grafana_slack_event
from tests.support.alert_payloads import grafana_webhook as grafana_payload
from tests.support.github_world import REPO, World, github_world

GRADES = ("signal", "change", "numbers")
_LINK = re.compile(r"<([^|>]+)\|([^>]*)>")
_SHA = re.compile(r"\b[0-9a-f]{7,40}\b")
_CLOCK = re.compile(r"\b\d{2}:\d{2} UTC\b")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.])")
TEMPLATE_NUMBERS = {"1", "3", "6"}  # "the last 3 h", "the 6 h before", "Last 6 h", "notified 1 time"


def iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class AlertCase:
    name: str
    kind: str  # grafana | alertmanager | grafana-slack | alertmanager-slack
    changes: tuple[tuple[str, str, int], ...] = ()  # (sha letter, message, minutes relative to the alert's start)
    faults: tuple[str, ...] = ()  # loki_500 | amplitude_moving
    signal: tuple[str, ...] = ()  # what the reply must show of the firing signal
    change: str | None = None  # the sha letter of the change to name; None: "no push" must be said
    forbid: tuple[str, ...] = ()  # unrelated values that must not appear
    claims: tuple[str, ...] = ()  # anything else the reply must say


CAUSE = ("c", "Lower the agent timeout", -14)
OLDER = ("b", "Bump deps", -90)
AFTER = ("d", "Tidy the README", 5)
GRAFANA_SIGNAL = ("High error rate", "/explore?", "count_over_time")
AM_EXPR = "http_requests_total"

CASES: list[AlertCase] = [
    AlertCase("grafana webhook: changes before and after", "grafana", (CAUSE, OLDER, AFTER), (), GRAFANA_SIGNAL, "c",
              forbid=("ddddddd",), claims=("landed 14 min before", "error lines")),
    AlertCase("grafana webhook: Loki answers 500", "grafana", (CAUSE,), ("loki_500",), GRAFANA_SIGNAL, "c",
              forbid=("error lines",), claims=("Not checked: Grafana",)),
    AlertCase("grafana webhook: no change recorded", "grafana", (), (), GRAFANA_SIGNAL, None,
              forbid=("Nearest change",)),
    AlertCase("grafana webhook: only the earlier of two changes", "grafana", (("e", "Raise pool size", -40), AFTER),
              (), GRAFANA_SIGNAL, "e", forbid=("ddddddd", "Tidy the README"), claims=("landed 40 min before",)),
    AlertCase("grafana webhook: an Amplitude event moves, another does not", "grafana", (CAUSE,),
              ("amplitude_moving",), GRAFANA_SIGNAL, "c", forbid=("Agent Started",), claims=("Agent Failed",)),
    AlertCase("alertmanager webhook: expression from generatorURL", "alertmanager", (CAUSE, AFTER), (),
              ("HighErrorRate", AM_EXPR, "/explore?"), "c", forbid=("ddddddd", "&amp;gt;"), claims=("&gt; 1`",)),
    AlertCase("grafana slack message", "grafana-slack", (CAUSE, OLDER), (), GRAFANA_SIGNAL, "c"),
    AlertCase("alertmanager slack message: title only", "alertmanager-slack", (CAUSE,), (),
              ("HighErrorRate",), "c", claims=("a Prometheus alerting rule (Alertmanager sent it)",),
              forbid=("not found among Grafana's alert rules", "none of the alert's labels is a Loki label")),
]  # fmt: skip


def notification(case: AlertCase, starts: datetime) -> tuple[Notification, Any]:
    ts = f"{starts.timestamp():.6f}"
    payload: Any
    if case.kind == "grafana":
        payload = grafana_payload(startsAt=iso(starts))
        parsed = parse_webhook(payload, "grafana")
    elif case.kind == "alertmanager":
        payload = alertmanager_webhook()
        payload["alerts"][0]["startsAt"] = iso(starts)
        parsed = parse_webhook(payload, "alertmanager")
    elif case.kind == "grafana-slack":
        payload = grafana_slack_event(ts=ts)
        parsed = parse_slack_message(payload)
    else:
        payload = alertmanager_slack_event(ts=ts)
        parsed = parse_slack_message(payload)
    assert isinstance(parsed, Notification), parsed
    return parsed, payload


def seed_grafana(g: FakeGrafana, starts: datetime) -> None:
    instances = [{"labels": LABELS, "state": "Alerting", "activeAt": iso(starts)}]
    g.alert_groups = [{"name": "vercel", "file": "MochaCare", "rules": [rule("High error rate", "firing", data=DATA,
                                                                              instances=instances)]}]  # fmt: skip
    now = datetime.now(UTC).timestamp()
    samples = [(now - 60 * i, float(120 * (360 - i))) for i in range(360, -1, -1)]  # 2 errors a second
    g.add_series({"__name__": "http_requests_total", "code": "500", "job": "api"}, list(samples))


def seed_amplitude(amp: FakeAmplitude, now: datetime) -> None:
    """Agent Failed: 2 an hour before, 20 an hour in the last 3 complete hours; Agent Started: 50 an hour throughout."""
    end = now.replace(minute=0, second=0, microsecond=0)
    for back in range(1, 7):
        hour = end - timedelta(hours=back)
        day: date = hour.date()
        amp.add_events("Agent Failed", day, 20 if back <= 3 else 2, hour=hour.hour)
        amp.add_events("Agent Started", day, 50, hour=hour.hour)


async def record(w: World, starts: datetime, changes: tuple[tuple[str, str, int], ...]) -> None:
    rows = [
        pushed_commit(REPO, letter * 40, "main", "dev", msg, iso(starts + timedelta(minutes=at)),
               f"https://github.com/{REPO}/commit/{letter * 40}", "webhook")
        for letter, msg, at in changes
    ]  # fmt: skip
    if rows:
        await ChangeStore(w.services.storage.db).record(rows)


def _sources(box: Toolbox, payload: Any, found: Findings) -> str:
    data = [o.data if o.ok else o.error for o in box.outcomes]  # an error's status (500) is the double's too
    derived = [found.minutes_before, len(found.changes) - 1]
    return json.dumps([data, payload, derived], default=str)


def unsourced_numbers(text: str, sources: str) -> list[str]:
    """Numbers in the reply that no double answered and the notification did not carry."""
    visible = _LINK.sub(lambda m: m.group(2), text)
    visible = _CLOCK.sub(" ", _SHA.sub(" ", visible))
    found = [n for n in _NUMBER.findall(visible) if n not in TEMPLATE_NUMBERS]
    return [n for n in found if n not in sources and n.removesuffix(".0") not in sources]


def grade(case: AlertCase, text: str, sources: str) -> dict[str, list[str]]:
    """grade -> what it missed (empty: passed)."""
    signal = [f"lacks {s!r}" for s in case.signal if s not in text]
    if case.change is not None:
        change = [] if case.change * 7 in text else [f"does not name {case.change * 7}"]
    else:
        change = [] if "no deploy, push or annotation recorded" in text else ["does not say there was no change"]
    change += [f"has {f!r}" for f in case.forbid if _SHA.fullmatch(f) and f in text]
    numbers = [f"has {f!r}" for f in case.forbid if not _SHA.fullmatch(f) and f in text]
    numbers += [f"unsourced number {n}" for n in unsourced_numbers(text, sources)]
    numbers += [f"lacks {c!r}" for c in case.claims if c not in text]
    return {"signal": signal, "change": change, "numbers": numbers}


async def run_case(tmp: Path, case: AlertCase) -> tuple[str, dict[str, list[str]]]:
    amp = FakeAmplitude()
    await amp.start()
    try:
        async with github_world(tmp, amplitude=amp) as w:
            now = datetime.now(UTC).replace(microsecond=0)
            starts = now - timedelta(minutes=30)
            seed_grafana(w.grafana, starts)
            if "amplitude_moving" in case.faults:
                seed_amplitude(amp, now)
            if "loki_500" in case.faults:
                w.grafana.fail_next(500, 20, path_prefix=f"/api/datasources/proxy/uid/{LOKI_UID}/loki/")
            await record(w, starts, case.changes)
            n, payload = notification(case, starts)
            alert = n.alerts[0]
            alert = alert if alert.starts_at else replace(alert, starts_at=starts)
            box = await Toolbox.for_team(w.services, await w.team())
            async with Scope() as scope:
                found, late = await first_round(scope, box, alert, now)
            assert not late
            await second_round(box, found)
            text = render(found)
            return text, grade(case, text, _sources(box, payload, found))
    finally:
        await amp.close()


@dataclass
class AlertTable:
    replies: dict[str, str] = field(default_factory=dict)
    misses: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def rates(self) -> dict[str, tuple[int, int]]:
        """grade -> (passed, total), plus "all" (cases passing every grade)."""
        out = {g: (sum(not m[g] for m in self.misses.values()), len(self.misses)) for g in GRADES}
        out["all"] = (sum(not any(m.values()) for m in self.misses.values()), len(self.misses))
        return out

    def failed(self) -> dict[str, dict[str, list[str]]]:
        return {name: {g: v for g, v in m.items() if v} for name, m in self.misses.items() if any(m.values())}


async def run_alert_table(tmp: Path, cases: list[AlertCase] | None = None) -> AlertTable:
    table = AlertTable()
    for i, case in enumerate(cases or CASES):
        text, misses = await run_case(tmp / f"alert-{i}", case)
        table.replies[case.name], table.misses[case.name] = text, misses
    return table
