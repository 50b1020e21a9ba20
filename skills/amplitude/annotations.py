"""Chart annotations (releases, deploy markers): v3 (`/api/3/annotations`) and v2 (`/api/2/annotations`) rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from skills.base import SkillError

DETAILS_MAX = 500


@dataclass(frozen=True)
class Annotation:
    start: str  # ISO 8601 date or date-time
    label: str
    end: str | None = None
    details: str = ""
    category: str | None = None
    id: str | None = None

    def within(self, first: date, last: date) -> bool:
        day = self.start[:10]
        end_day = (self.end or self.start)[:10]
        return not day or (day <= last.isoformat() and end_day >= first.isoformat())

    def to_dict(self) -> dict[str, Any]:
        details = self.details if len(self.details) <= DETAILS_MAX else self.details[: DETAILS_MAX - 1] + "…"
        return {
            "start": self.start,
            "end": self.end,
            "label": self.label,
            "details": details,
            "category": self.category,
        }


def _rows(body: Any, what: str) -> list[dict[str, Any]]:
    data = body.get("data") if isinstance(body, dict) else body
    if not isinstance(data, list):
        raise SkillError("Amplitude", f"the {what} answer has no 'data' list")
    return [d for d in data if isinstance(d, dict)]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def parse_v3(body: Any) -> list[Annotation]:
    out = []
    for row in _rows(body, "annotations (v3)"):
        category = row.get("category")
        if isinstance(category, dict):
            category = category.get("name")
        out.append(
            Annotation(
                start=_text(row.get("start") or row.get("date")),
                end=_text(row.get("end")) or None,
                label=_text(row.get("label")),
                details=_text(row.get("details")),
                category=_text(category) or None,
                id=_text(row.get("id")) or None,
            )
        )
    return out


def parse_v2(body: Any) -> list[Annotation]:
    return [
        Annotation(
            start=_text(row.get("date") or row.get("start")),
            label=_text(row.get("label")),
            details=_text(row.get("details")),
            id=_text(row.get("id")) or None,
        )
        for row in _rows(body, "annotations (v2)")
    ]
