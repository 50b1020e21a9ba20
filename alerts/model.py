"""One model for every alert notification sitrep reads: Grafana's and Alertmanager's webhooks, and the Slack
messages their Slack contact points post."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Source = Literal["grafana", "alertmanager", "slack"]
Status = Literal["firing", "resolved"]

_FNV_OFFSET = 14695981039346656037
_FNV_PRIME = 1099511628211
_SEPARATOR = 0xFF


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

    @property
    def name(self) -> str:
        return self.labels.get("alertname") or "an alert"

    @property
    def key(self) -> str:
        return self.fingerprint or fingerprint(self.labels)

    @property
    def summary(self) -> str:
        return self.annotations.get("summary") or self.annotations.get("description") or ""


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
