"""The rule-based planner (no ANTHROPIC_API_KEY): a question's intents, subject and time window, as plain data.

`plan()` is pure: keywords become intents (triage, error rate, logs, status codes, latency, metrics, alerts,
dashboards, agent events, a user's activity, releases, readiness), agent/rules/timeparse.py reads the window and
agent/rules/subject.py the names, codes, paths and terms that scope it. agent/rules/plays*.py turn each intent into
tool calls, run concurrently, and a Section of the answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from agent.rules.subject import STOP, Subject, subject_of
from agent.rules.timeparse import Window, parse_time, relative

__all__ = ["INTENTS", "Plan", "Window", "asks_to_create", "intents_of", "normalize", "plan", "user_of"]

INTENTS = (
    "status",
    "triage",
    "errors",
    "logs",
    "codes",
    "latency",
    "metrics",
    "alerts",
    "dashboards",
    "agents",
    "user",
    "releases",
    "inventory",
)
GRAFANA_INTENTS = ("triage", "errors", "logs", "codes", "latency", "metrics", "alerts", "inventory")
INVENTORY = re.compile(
    r"\b(?:list|show|which|what|name|enumerate)\b(?:\s+[\w']+){0,3}?\s+"
    r"(namespaces|pods|services|apps|applications|jobs|containers|sources)\b"
)
METRIC_WORDS = (
    "cpu",
    "memory",
    "mem",
    "ram",
    "disk",
    "network",
    "lag",
    "queue",
    "connections",
    "connection",
    "restarts",
    "restart",
    "restarted",
    "restarting",
    "throughput",
    "goroutines",
    "threads",
    "gc",
    "uptime",
    "requests",
)
_K8S = re.compile(
    r"\bkubernetes\b|\bk8s\b|\bpods?\b|\bnamespaces?\b|\breplicas?\b|\bkubectl\b|\bdeployment\s+[a-z0-9][\w-]*"
)
_PATTERNS: dict[str, re.Pattern[str]] = {
    "errors": re.compile(r"\berror|\bexception|\b5xx\b|\b4xx\b|\b[45]\d\ds?\b|\bfail|\bbroken|\bcrash"),
    "logs": re.compile(r"\blogs?\b|\blog lines?\b|\bgrep\b|\bfind\b.*[\"'“]"),
    "codes": re.compile(r"\bstatus codes?\b|\bhttp (?:status|codes?)\b|\bresponse codes?\b|\bcodes? (?:for|on|of)\b"),
    "latency": re.compile(r"\blatenc|\bslow|\bp9[059]\b|\bp50\b|\bresponse times?\b|\bduration"),
    "metrics": re.compile(
        r"\bmetrics?\b|\busage\b|\butili[sz]ation\b|\bsaturation\b|\b(?:" + "|".join(METRIC_WORDS) + r")\b"
    ),
    "alerts": re.compile(
        r"\balert|\bfiring\b|\bpag(?:ed|ing)\b|\bpage (?:me|us|someone|on-?call)\b|\bincidents?\b|\bon[- ]call"
    ),
    "dashboards": re.compile(r"\bdashboards?\b"),
    "agents": re.compile(r"\bagents?\b"),
    "releases": re.compile(
        r"\breleas|\bdeploy(?:s|ed|ing)?\b|\bshipped\b|\bannotations?\b|\bwhat changed\b"
        r"|\b(?:last|latest|recent|new|any|previous)\s+deployments?\b|\bdeployments? (?:today|yesterday|this week)"
    ),
    "status": re.compile(
        r"^(?:what'?s |what is |show |check )?(?:the |your )?(?:sitrep )?status[?!. ]*$|\bsitrep status\b"
        r"|\breadiness\b|\bintegrations?\b|\bset ?up\b.*\b(?:grafana|amplitude)\b"
        r"|\b(?:is|are) (?:grafana|amplitude|slack|github|it|you|everything) (?:ready|configured|connected|set up)"
    ),
    "triage": re.compile(
        r"\bissues?\b|\bproblems?\b|\btroubles?\b|\bwhat (?:happened|went wrong|broke)\b"
        r"|\bwhat'?s (?:wrong|going on|happening|up with)\b|\b(?:stop(?:ped)?|not|isn'?t|wasn'?t) working\b"
        r"|\bwent down\b|\b(?:is|was|are|were) down\b|\bdown\?|\btroubleshoot|\binvestigat|\bdebug"
        r"|\bhealthy\b|\bhealth of\b|\broot cause|\boutage|\bmisbehav|\bwhy did\b.*\b(?:stop|fail|break|crash|go down)"
        r"|\bhad (?:a )?(?:bad|rough)\b|\b(?:anything|something) (?:wrong|off|broken|unusual|weird)\b"
    ),
}
_WHY_BROKEN = re.compile(
    r"\bwhy (?:is|are|was|were|does|do|did)\b.*\b(?:down|fail\w*|crash\w*|broken|erroring|restarting|flapping|"
    r"timing out|unhealthy|stuck|oom\w*)"
)
_LIST_METRICS = re.compile(
    r"\b(?:what|which)\s+(?:\w+\s+){0,2}metrics\b|\bmetrics (?:do we|are there|exist)"
    r"|\blist (?:the |all )?(?:\w+ )?metrics|\bdo we (?:collect|have|scrape)\b"
)
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
_FOLLOW_NAME = re.compile(
    r"^(?:and|what about|how about|same for|now for|and for)\s+(?:for\s+)?(?:the\s+)?([a-z0-9][\w.-]*)\??$"
)
_MAILTO = re.compile(r"<mailto:[^|>]+\|([^>]+)>")
_SLACK_LINK = re.compile(r"<(https?://[^|>]+)(?:\|([^>]+))?>")


@dataclass(frozen=True)
class Plan:
    intents: tuple[str, ...]
    window: Window
    user_id: str | None = None
    dashboard_query: str = ""
    create_dashboard: str | None = None  # the title, when the question asks to create one
    error_logs: bool = False  # logs intent: only error lines
    inherited: bool = False  # intents taken from the thread's earlier question
    subject: Subject = field(default_factory=Subject)
    unreadable_time: str | None = None  # a time phrase that could not be read (the default window was used)
    metric_keyword: str | None = None  # "cpu", "memory": what to look for among the metric names
    list_metrics: bool = False  # "what CPU metrics do we collect": the names, not a graph
    window_asked: bool = False  # the window comes from the question (or the thread), not the default
    inventory: str | None = None  # "namespaces", "pods": what "list the …" asks for

    @property
    def empty(self) -> bool:
        return not self.intents

    @property
    def grafana(self) -> bool:
        return any(i in GRAFANA_INTENTS for i in self.intents)


def normalize(text: str) -> str:
    """Slack markup out (mailto links, URLs), lower case, single spaces."""
    text = _MAILTO.sub(r"\1", text)
    text = _SLACK_LINK.sub(lambda m: m.group(2) or m.group(1), text)
    return " ".join(text.replace("’", "'").split()).lower()


_OVERVIEW = re.compile(
    r"\boverview\b|\bhow(?:'s| is| are) (?:prod|production|things|everything|it going)|\bon fire\b|\bsitrep\b"
    r"|\bsummar(?:y|ise|ize)\b|\brecap\b"
)


def intents_of(text: str) -> list[str]:
    """Intents in a normalized question; quoted text (a title, a search) does not count."""
    bare = _QUOTED.sub(" ", text)
    found = [name for name in INTENTS if name not in ("user", "inventory") and _PATTERNS[name].search(bare)]
    if "`" in text and re.search(r"`[^`]*[_({][^`]*`", text):
        found.append("metrics")  # a metric name or PromQL in backticks
    if not found and INVENTORY.search(bare):
        found = ["inventory"]  # "list the namespaces", "what services do we have?"
    if not found and _OVERVIEW.search(bare):
        found = ["errors", "alerts"]  # "how is prod?": the error rate and what is firing
    if user_of(bare):
        found.append("user")
    if "codes" in found:
        found = [i for i in found if i not in ("errors", "status")]  # "status code" is HTTP
    if "releases" in found and _K8S.search(bare) and not re.search(r"\breleas|\bannotation", bare):
        found.remove("releases")  # a Kubernetes deployment is not a release
    if "triage" in found:
        found = [i for i in found if i not in ("errors", "alerts", "latency")]  # the triage answer has them
    if (
        "metrics" in found
        and any(i in found for i in ("triage", "latency", "codes"))
        and not re.search(r"\bmetrics?\b|\busage\b|`", bare)
    ):
        found.remove("metrics")  # "pods keep restarting, what happened?": the triage answer
    if (
        "metrics" in found
        and "errors" in found
        and re.fullmatch(r".*\b(?:error|requests?) (?:metrics?|rate)\b.*", bare)
    ):
        found.remove("metrics")
    if "logs" in found and "errors" in found and not re.search(r"\berror rate\b|\bhow many\b", bare):
        found.remove("errors")  # "show error logs": the lines, not the rate
    if "agents" in found and "status" in found and not re.search(r"\bintegration|\breadiness\b", bare):
        found.remove("status")  # "agent status" is about agents
    return [i for i in INTENTS if i in found]


def user_of(text: str) -> str | None:
    for pattern in _USER:
        m = pattern.search(text)
        if m and m.group(1).strip(".,?!:") not in _NOT_USERS:
            return m.group(1).strip(".,?!:")
    return None


def default_window(intents: Sequence[str], now: datetime | None = None) -> Window:
    if any(i in intents for i in ("agents", "releases", "user")) and not any(
        i in intents for i in ("errors", "logs", "latency", "triage", "metrics")
    ):
        return relative(24, "the last 24h", now)
    return relative(1, "the last hour", now)


def metric_keyword(text: str) -> str | None:
    m = re.search(r"\b(" + "|".join(METRIC_WORDS) + r")\b", text)
    return m.group(1) if m else None


def plan(text: str, now: datetime, history: Sequence[str] = ()) -> Plan:
    """A question (and the thread's earlier questions, oldest first) -> intents, subject, window and parameters."""
    norm = normalize(text)
    intents = intents_of(norm)
    reading = parse_time(_QUOTED.sub(" ", norm), now)  # "[5m]" in backticked PromQL is not a window
    window = reading.window
    subject = subject_of(_MAILTO.sub(r"\1", text))
    follow = _FOLLOW_NAME.match(norm)
    if follow and not subject.names and follow.group(1) not in STOP and not intents:
        subject = replace(subject, names=(follow.group(1),))
    inherited = False
    follow_up = bool(history) and (_FOLLOW_UP.search(norm) is not None or (not intents and window is not None))
    if follow_up and (not intents or subject.empty):
        for earlier in reversed(history):  # "and over the last 6 hours?", "what about checkout?", "and the logs?"
            earlier_norm = normalize(earlier)
            earlier_intents = intents_of(earlier_norm)
            if not earlier_intents:
                continue
            if not intents:
                intents, inherited = earlier_intents, True
                norm = earlier_norm + " " + norm
            window = window or parse_time(earlier_norm, now).window
            if subject.empty:  # the earlier topic only when this one names none of its own
                subject = subject_of(_MAILTO.sub(r"\1", earlier))
            break
    if not intents and subject.names and not subject.external:
        intents = ["triage"]  # "how is the api-server doing?", "status of checkout": its health
    elif subject.names and _WHY_BROKEN.search(norm) and "triage" not in intents:
        intents = ["triage"] + [i for i in intents if i not in ("errors", "alerts", "latency")]
    window_asked = window is not None
    window = window or default_window(intents, now)
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
        subject=subject,
        unreadable_time=reading.unreadable if reading.window is None else None,
        metric_keyword=metric_keyword(_QUOTED.sub(" ", norm)),
        list_metrics="metrics" in intents and bool(_LIST_METRICS.search(norm)),
        window_asked=window_asked,
        inventory=m.group(1) if "inventory" in intents and (m := INVENTORY.search(norm)) else None,
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
