"""User search (`/api/2/usersearch`) and user activity (`/api/2/useractivity`) parsed into small rows."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from skills.base import SkillError

PROPERTY_KEYS_MAX = 12
PROPERTY_VALUE_MAX = 200
USER_FIELDS = (
    "user_id",
    "device_ids",
    "first_used",
    "last_used",
    "num_events",
    "num_sessions",
    "country",
    "city",
    "platform",
    "os",
    "device",
    "version",
)


@dataclass(frozen=True)
class UserMatch:
    amplitude_id: int | str
    user_id: str | None = None
    last_seen: str | None = None
    platform: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class UserEvent:
    time: str
    event_type: str
    properties: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"time": self.time, "event_type": self.event_type, "properties": self.properties}


@dataclass
class UserActivity:
    user: dict[str, Any]
    events: list[UserEvent] = field(default_factory=list)


def parse_matches(body: Any) -> list[UserMatch]:
    if not isinstance(body, dict):
        raise SkillError("Amplitude", "the user search answer is not a JSON object")
    matches = body.get("matches") or []
    out = []
    for m in matches if isinstance(matches, list) else []:
        if not isinstance(m, dict) or m.get("amplitude_id") is None:
            continue
        out.append(
            UserMatch(
                amplitude_id=m["amplitude_id"],
                user_id=_opt(m.get("user_id")),
                last_seen=_opt(m.get("last_seen")),
                platform=_opt(m.get("platform")),
                country=_opt(m.get("country")),
            )
        )
    return out


def best_match(matches: list[UserMatch], user: str) -> UserMatch | None:
    """The match whose user id is exactly `user`, else the first."""
    exact = [m for m in matches if m.user_id == user]
    found = exact or matches
    return found[0] if found else None


def parse_activity(body: Any) -> UserActivity:
    if not isinstance(body, dict):
        raise SkillError("Amplitude", "the user activity answer is not a JSON object")
    raw_user = body.get("userData")
    user_data: dict[str, Any] = raw_user if isinstance(raw_user, dict) else {}
    user = {k: user_data[k] for k in USER_FIELDS if user_data.get(k) not in (None, "", [])}
    if isinstance(user.get("device_ids"), list):
        user["device_ids"] = user["device_ids"][:3]
    events = []
    for e in body.get("events") or []:
        if not isinstance(e, dict):
            continue
        events.append(
            UserEvent(
                time=_opt(e.get("event_time")) or _opt(e.get("client_event_time")) or "",
                event_type=_opt(e.get("event_type")) or "(unknown)",
                properties=trim_properties(e.get("event_properties")),
            )
        )
    return UserActivity(user=user, events=events)


def trim_properties(props: Any) -> dict[str, Any]:
    """At most a dozen properties, long values cut, nested values as short JSON."""
    if not isinstance(props, dict):
        return {}
    out: dict[str, Any] = {}
    for key in list(props)[:PROPERTY_KEYS_MAX]:
        value = props[key]
        if isinstance(value, (dict, list)):
            value = json.dumps(value, default=str)
        if isinstance(value, str) and len(value) > PROPERTY_VALUE_MAX:
            value = value[: PROPERTY_VALUE_MAX - 1] + "…"
        out[str(key)] = value
    if len(props) > PROPERTY_KEYS_MAX:
        out["…"] = f"{len(props) - PROPERTY_KEYS_MAX} more properties"
    return out


def _opt(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)
