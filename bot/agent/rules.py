"""The rule-based planner (no ANTHROPIC_API_KEY): a question's intents and time window, as plain data.

`plan()` is pure: keywords become intents (error rate, logs, latency, alerts, dashboards, agent events, a user's
activity, releases, status), phrases like "last 6 hours" or "since this morning" become a window. bot/agent/plays.py
turns each intent into tool calls, run concurrently, and a Section of the answer.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

INTENTS = ("status", "errors", "logs", "latency", "alerts", "dashboards", "agents", "user", "releases")

_PATTERNS: dict[str, re.Pattern[str]] = {
    "errors": re.compile(r"\berror|\bexception|\b5xx\b|\b5\d\d\b|\bfail|\bbroken|\bcrash|\bwhat'?s wrong"),
    "logs": re.compile(r"\blogs?\b|\blog lines?\b"),
    "latency": re.compile(r"\blatenc|\bslow|\bp9[059]\b|\bp50\b|\bresponse times?\b|\bduration"),
    "alerts": re.compile(r"\balert|\bfiring\b|\bpag(?:e|ed|ing)\b|\bincidents?\b|\bon[- ]call"),
    "dashboards": re.compile(r"\bdashboards?\b"),
    "agents": re.compile(r"\bagents?\b"),
    "releases": re.compile(r"\breleas|\bdeploy|\bshipped\b|\bannotations?\b|\brollout"),
    "status": re.compile(
        r"\bstatus\b|\breadiness\b|\bintegrations?\b|\bset ?up\b.*\b(?:grafana|amplitude)\b"
        r"|\b(?:is|are) (?:grafana|amplitude|slack|github|it|you|everything) (?:ready|configured|connected|set up)"
    ),
}
_USER = [
    re.compile(r"\buser(?:\s+id)?\s+[`'\"]?([\w@.+:-]*\d[\w@.+:-]*|[\w.+-]+@[\w-]+(?:\.[\w-]+)+)"),
    re.compile(r"\bactivity (?:of|for) [`'\"]?([\w@.+:-]+)"),
    re.compile(r"\bwhat did [`'\"]?([\w@.+:-]+)[`'\"]? do\b"),
]
_NOT_USERS = {"the", "a", "an", "this", "that", "user", "users", "me", "my", "our", "i", "we", "they", "he", "she"}
_CREATE = re.compile(r"\b(?:create|make|build|set up|add)\b.*\bdashboard")
_QUOTED = re.compile(r"[\"“`]([^\"”`]{2,80})[\"”`]|(?<![\w'])'([^']{2,80})'(?![\w'])")
_DASH_TERM = re.compile(r"\bdashboards?\s+(?:for|about|named|called|on|with)\s+([\w .:/-]{2,60})")
_FOLLOW_UP = re.compile(r"^(?:and|what about|how about|now|again|same|also|then|more|refresh|update|still)\b")
_MAILTO = re.compile(r"<mailto:[^|>]+\|([^>]+)>")
_SLACK_LINK = re.compile(r"<(https?://[^|>]+)(?:\|([^>]+))?>")

_AMOUNT = re.compile(
    r"\b(?:last|past|previous|over the last|in the last)?\s*(\d+(?:\.\d+)?)\s*"
    r"(minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|w)\b"
)
_UNIT_S = {"m": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclass(frozen=True)
class Window:
    """The time range a question is about: for Grafana (since, e.g. "6h") and Amplitude (whole days)."""

    hours: float
    label: str  # "the last 1h", "since 00:00 America/Los_Angeles"

    @property
    def since(self) -> str:
        """A Grafana duration: whole minutes under 2 h, else whole hours (at least 5 minutes)."""
        minutes = max(5, math.ceil(self.hours * 60))
        return f"{minutes}m" if minutes < 120 and minutes % 60 else f"{math.ceil(minutes / 60)}h"

    @property
    def phrase(self) -> str:
        """The window inside a sentence: "in the last hour", "since 06:00 America/Los_Angeles"."""
        return self.label if self.label.startswith("since") else f"in {self.label}"

    @property
    def days(self) -> int:
        """Amplitude days, today included: 1 within a day, else enough whole days to cover the range."""
        return max(1, min(90, math.ceil(self.hours / 24 - 1e-9)))

    @property
    def interval(self) -> str:
        return "hour" if self.days <= 2 else "day"


@dataclass(frozen=True)
class Plan:
    intents: tuple[str, ...]
    window: Window
    user_id: str | None = None
    dashboard_query: str = ""
    create_dashboard: str | None = None  # the title, when the question asks to create one
    error_logs: bool = False  # logs intent: only error lines
    inherited: bool = False  # intents taken from the thread's earlier question

    @property
    def empty(self) -> bool:
        return not self.intents


def normalize(text: str) -> str:
    """Slack markup out (mailto links, URLs), lower case, single spaces."""
    text = _MAILTO.sub(r"\1", text)
    text = _SLACK_LINK.sub(lambda m: m.group(2) or m.group(1), text)
    return " ".join(text.replace("’", "'").split()).lower()


_OVERVIEW = re.compile(
    r"\boverview\b|\bhow(?:'s| is| are) (?:prod|production|things|everything|it going)|\bon fire\b|\bsitrep\b"
)


def intents_of(text: str) -> list[str]:
    """Intents in a normalized question; quoted text (a title, a search) does not count."""
    text = _QUOTED.sub(" ", text)
    found = [name for name in INTENTS if name != "user" and _PATTERNS[name].search(text)]
    if not found and _OVERVIEW.search(text):
        found = ["errors", "alerts"]  # "how is prod?": the error rate and what is firing
    if user_of(text):
        found.append("user")
    if "logs" in found and "errors" in found and not re.search(r"\berror rate\b|\bhow many\b", text):
        found.remove("errors")  # "show error logs": the lines, not the rate
    if "agents" in found and "status" in found and not re.search(r"\bintegration|\breadiness\b", text):
        found.remove("status")  # "agent status" is about agents
    return [i for i in INTENTS if i in found]


def user_of(text: str) -> str | None:
    for pattern in _USER:
        m = pattern.search(text)
        if m and m.group(1).strip(".,?!:") not in _NOT_USERS:
            return m.group(1).strip(".,?!:")
    return None


def window_of(text: str, now: datetime) -> Window | None:
    """The window a question names, or None. `now` is aware, in the team's time zone."""
    m = _AMOUNT.search(text)
    if m:
        amount, unit = float(m.group(1)), m.group(2)[0]
        if amount > 0:
            hours = amount * _UNIT_S[unit] / 3600
            return Window(hours, f"the last {m.group(1)}{unit}")
    if re.search(r"\b(?:last|past|this|the) hour\b", text):
        return Window(1, "the last hour")
    if re.search(r"\b(?:last|past) (?:day|24 ?h)\b|\byesterday\b", text):
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
        hours = 24 if "yesterday" not in text else (now - midnight).total_seconds() / 3600
        return Window(hours, "the last 24h" if hours == 24 else f"since yesterday 00:00 {_tz(now)}")
    if re.search(r"\b(?:last|past|this) week\b", text):
        return Window(24 * 7, "the last 7 days")
    if re.search(r"\bthis morning\b|\btoday\b|\btonight\b|\bthis afternoon\b", text):
        start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        if "morning" in text and now.hour >= 6:
            start = start.replace(hour=6)
        hours = max(1.0, (now - start).total_seconds() / 3600)
        return Window(hours, f"since {start:%H:%M} {_tz(now)}")
    return None


def _tz(now: datetime) -> str:
    return str(now.tzinfo) if now.tzinfo else "UTC"


def default_window(intents: Sequence[str]) -> Window:
    if any(i in intents for i in ("agents", "releases", "user")) and not any(
        i in intents for i in ("errors", "logs", "latency")
    ):
        return Window(24, "the last 24h")
    return Window(1, "the last hour")


def plan(text: str, now: datetime, history: Sequence[str] = ()) -> Plan:
    """A question (and the thread's earlier questions, oldest first) -> intents, window and parameters."""
    norm = normalize(text)
    intents = intents_of(norm)
    window = window_of(norm, now)
    inherited = False
    if not intents and history and (window or _FOLLOW_UP.search(norm)):
        for earlier in reversed(history):  # a follow-up like "and over the last 6 hours?"
            earlier_norm = normalize(earlier)
            intents = intents_of(earlier_norm)
            if intents:
                inherited = True
                window = window or window_of(earlier_norm, now)
                norm = earlier_norm + " " + norm
                break
    window = window or default_window(intents)
    create = None
    if "dashboards" in intents and _CREATE.search(norm):
        quoted = _QUOTED.search(text)
        create = (quoted.group(1) or quoted.group(2)).strip() if quoted else "Vercel overview"
    term = _DASH_TERM.search(norm)
    return Plan(
        intents=tuple(intents),
        window=window,
        user_id=_original_case(text, user_of(norm)),
        dashboard_query=term.group(1).strip() if term and not create else "",
        create_dashboard=create,
        error_logs="logs" in intents and bool(re.search(r"\berror|\bfail|\bexception|\b5xx\b", norm)),
        inherited=inherited,
    )


def _original_case(text: str, found: str | None) -> str | None:
    """User ids are case-sensitive: take the id as the user typed it."""
    if not found:
        return None
    m = re.search(re.escape(found), _MAILTO.sub(r"\1", text), re.IGNORECASE)
    return m.group(0) if m else found


def asks_to_create(text: str) -> bool:
    """Does the question ask to create a dashboard (the only tool that changes anything)?"""
    return bool(_CREATE.search(normalize(text)))
