"""The events list (`/api/2/events/list`): event types and this week's volume."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from skills.amplitude.segmentation import number
from skills.base import SkillError


@dataclass(frozen=True)
class EventType:
    name: str
    totals: int | float
    display_name: str = ""
    non_active: bool = False
    deleted: bool = False
    hidden: bool = False

    @property
    def visible(self) -> bool:
        """Not deleted or hidden, and not one of Amplitude's own pseudo events ('_active', '_all', ...)."""
        return not (self.deleted or self.hidden or self.name.startswith("_"))

    def to_dict(self) -> dict[str, Any]:
        row: dict[str, Any] = {"name": self.name, "totals": self.totals}
        if self.display_name and self.display_name != self.name:
            row["display_name"] = self.display_name
        if self.non_active:
            row["non_active"] = True
        return row


def parse_events_list(body: Any) -> list[EventType]:
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise SkillError("Amplitude", "the events list answer has no 'data' list")
    events = []
    for item in data:
        if not isinstance(item, dict):
            continue
        name = item.get("value") or item.get("name")
        if not isinstance(name, str) or not name:
            continue
        display = item.get("display") or item.get("name") or ""
        events.append(
            EventType(
                name=name,
                totals=number(item.get("totals")),
                display_name=display if isinstance(display, str) else "",
                non_active=bool(item.get("non_active")),
                deleted=bool(item.get("deleted")),
                hidden=bool(item.get("hidden")),
            )
        )
    return events


def visible_by_volume(events: list[EventType]) -> list[EventType]:
    """Visible event types, busiest first (then by name)."""
    return sorted((e for e in events if e.visible), key=lambda e: (-e.totals, e.name.lower()))
