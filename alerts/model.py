"""One model for every alert notification sitrep reads: Grafana's and Alertmanager's webhooks, and the Slack
messages their Slack contact points post."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any, Literal

Source = Literal["grafana", "alertmanager", "slack"]
Status = Literal["firing", "resolved"]

_FNV_OFFSET = 14695981039346656037
_FNV_PRIME = 1099511628211
_SEPARATOR = 0xFF

# The label values teams use for how bad an alert is, ranked (higher first): the `severity` label (Prometheus'
# and Grafana's convention), else `priority`.
SEVERITY_RANK = {
    "critical": 4, "page": 4, "emergency": 4, "fatal": 4, "p1": 4, "sev1": 4,
    "high": 3, "error": 3, "major": 3, "p2": 3, "sev2": 3,
    "warning": 2, "warn": 2, "medium": 2, "minor": 2, "p3": 2, "sev3": 2,
    "info": 1, "low": 1, "notice": 1, "p4": 1, "sev4": 1,
}  # fmt: skip


def fingerprint(labels: dict[str, str]) -> str:
    """Prometheus' label-set fingerprint (FNV-1a 64 over the sorted name, 0xff, value, 0xff), as Alertmanager and
    Grafana put in `fingerprint`: so a Slack message (which carries only the labels) and a webhook of the same
    alert meet on one investigation."""
    h = _FNV_OFFSET
    for name in sorted(labels):
        for part in (name.encode(), bytes([_SEPARATOR]), str(labels[name]).encode(), bytes([_SEPARATOR])):
            for byte in part:
                h ^= byte
                h = (h * _FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


@dataclass(frozen=True)
class Alert:
    status: Status
    labels: dict[str, str]
    annotations: dict[str, str] = field(default_factory=dict)
    starts_at: datetime | None = None  # None: the notification did not say (a Slack message)
    ends_at: datetime | None = None  # set when resolved
    values: dict[str, float] = field(default_factory=dict)
    value_text: str = ""  # Grafana's valueString, or the "Value:" line of a Slack message
    generator_url: str = ""
    fingerprint: str = ""
    silence_url: str = ""
    dashboard_url: str = ""
    panel_url: str = ""
    # Alertmanager's default Slack message carries no labels, only the title's values ("[FIRING:1] APIHighLatency
    # (app-107 api-server warning)"): the values after the name, their label names unknown.
    title_values: tuple[str, ...] = ()
    group_count: int = 0  # the n of such a message's "[FIRING:n]": how many alerts it stands for
    sent_by: str = ""  # "alertmanager" when Alertmanager sent it (its rule lives in Prometheus or another ruler)

    @property
    def title_only(self) -> bool:
        """Read from a message that carried no labels, only its title (Alertmanager's default Slack message)."""
        return set(self.labels) <= {"alertname"} and (bool(self.title_values) or self.group_count > 0)

    @property
    def severity(self) -> int:
        """0 (unknown) to 4 (critical), from the `severity` (or `priority`) label, or a title value."""
        for key in ("severity", "priority"):
            rank = SEVERITY_RANK.get(self.labels.get(key, "").strip().lower())
            if rank:
                return rank
        return max((SEVERITY_RANK.get(v.lower(), 0) for v in self.title_values), default=0)

    @property
    def name(self) -> str:
        return self.labels.get("alertname") or "an alert"

    @property
    def key(self) -> str:
        return self.fingerprint or fingerprint(self.labels)

    @property
    def summary(self) -> str:
        return self.annotations.get("summary") or self.annotations.get("description") or ""


def alert_json(alert: Alert) -> str:
    """The alert as the store keeps it, so any replica can investigate it (`alert_from_json`)."""
    data: dict[str, Any] = asdict(alert)
    for key in ("starts_at", "ends_at"):
        data[key] = data[key].isoformat() if data[key] else None
    return json.dumps(data, sort_keys=True)


def alert_from_json(text: str) -> Alert | None:
    """The alert `alert_json` wrote; None for anything else."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("labels"), dict):
        return None
    known = {f.name for f in fields(Alert)}
    data = {k: v for k, v in data.items() if k in known}
    for key in ("starts_at", "ends_at"):
        data[key] = datetime.fromisoformat(data[key]) if data.get(key) else None
    data["title_values"] = tuple(data.get("title_values") or ())
    return Alert(**data)


@dataclass(frozen=True)
class Notification:
    source: Source
    status: Status
    alerts: list[Alert]
    title: str = ""
    external_url: str = ""
    receiver: str = ""
    group_key: str = ""
    truncated: int = 0


@dataclass(frozen=True)
class Unreadable:
    """Looks like an alert notification but not one sitrep can read: what it could read, for a short reply."""

    what: str
