"""The schema of a team's config document; a patched document is validated against it before it is stored.

Pydantic, unknown keys rejected: `reports.jobs` (name, HH:MM time, days, time zone, channel, sections, window
hours, on/off; unset: the seeded two), `agents.model`, `agents.daily_token_budget`, `routing`, `grafana`,
`amplitude`. The admin API's `{"config": …}` envelope is unwrapped by `unwrap_patch`, for both `app.py config patch` and
`PATCH /api/v1/config/me`.
"""

from __future__ import annotations

import re
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

_TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
# A model id as Anthropic, Bedrock (anthropic.claude-…, inference-profile ARNs), Vertex AI (claude-…@date) or an
# Anthropic-compatible server (qwen3-coder:30b, org/model) spell it: printable, no spaces.
_MODEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}$")
SectionKey = Literal["grafana", "amplitude"]
Days = Literal["daily", "weekdays", "mon", "tue", "wed", "thu", "fri", "sat", "sun"]
REPORT_SECTIONS: tuple[SectionKey, ...] = ("grafana", "amplitude")
# How often a report runs, as a crontab day-of-week field.
REPORT_DAYS: dict[str, str] = {
    "daily": "*",
    "weekdays": "mon-fri",
    **{day: day for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
}
MAX_REPORT_JOBS = 50
PLANNER_PROMPT_MAX = 20_000
_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_CHANNEL = re.compile(r"^[CGD][A-Z0-9]{2,20}$")
_HEADER = re.compile(r"^[A-Za-z0-9-]{1,64}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Routing(_Strict):
    github_repos: list[str] = Field(default_factory=list)
    channels: list[str] = Field(default_factory=list)

    @field_validator("github_repos")
    @classmethod
    def _repos(cls, repos: list[str]) -> list[str]:
        for repo in repos:
            if not _REPO.match(repo):
                raise ValueError(f"{repo!r} is not owner/name")
        return repos

    @field_validator("channels")
    @classmethod
    def _channels(cls, channels: list[str]) -> list[str]:
        for channel in channels:
            if not _CHANNEL.match(channel):
                raise ValueError(f"{channel[:40]!r} is not a Slack channel id (like C0ADZHLL76V)")
        return channels


def check_zone(tz: str | None) -> str | None:
    if tz is not None:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{tz!r} is not an IANA time zone (like America/Los_Angeles)") from exc
    return tz


def check_channel(channel: str | None) -> str | None:
    if channel is not None and not _CHANNEL.match(channel):
        raise ValueError(f"{channel[:40]!r} is not a Slack channel id (like C0ADZHLL76V)")
    return channel


class PlannerPrompt(_Strict):
    system: str = Field(default="", max_length=PLANNER_PROMPT_MAX)


class Planner(_Strict):
    prompt: PlannerPrompt = Field(default_factory=PlannerPrompt)


class Coding(_Strict):
    enabled: bool = False
    # suggest: GitHub suggestion blocks in the review; commit: one commit pushed to the PR's head branch
    mode: Literal["suggest", "commit"] = "suggest"


class Agents(_Strict):
    planner: Planner = Field(default_factory=Planner)
    coding: Coding = Field(default_factory=Coding)
    model: str | None = None  # the model id; None: SITREP_MODEL, else the built-in default
    # Claude tokens (in and out, every kind) the team may spend a day (its time zone's day); past it the built-in
    # planner answers and says why. None: no budget.
    daily_token_budget: int | None = Field(default=None, ge=1)

    @field_validator("model")
    @classmethod
    def _model(cls, model: str | None) -> str | None:
        if model is not None and not _MODEL.match(model):
            raise ValueError(
                f"{model!r} is not a model id (letters, digits and . _ : / @ + -, no spaces; like claude-sonnet-5-5, "
                "anthropic.claude-sonnet-5-5 or qwen3-coder:30b)"
            )
        return model


class ReportJob(_Strict):
    """One scheduled report: when (time and days in a time zone), where, what, over how long."""

    name: str = Field(min_length=1, max_length=60)
    time: str  # "HH:MM", 24-hour clock
    days: Days = "daily"
    timezone: str | None = None  # None: reports.timezone
    channel: str | None = None  # None: reports.channel
    sections: list[SectionKey] = Field(default_factory=lambda: list(REPORT_SECTIONS))
    window_hours: int = Field(default=12, ge=1, le=24 * 31)
    enabled: bool = True
    thread_per_day: bool = False  # the day's later reports of this job reply in the thread of its first one

    @field_validator("time")
    @classmethod
    def _time(cls, time: str) -> str:
        if not _TIME.match(time):
            raise ValueError(f"{time!r} is not a time of day like 08:00 or 18:30")
        return time

    @field_validator("sections")
    @classmethod
    def _sections(cls, sections: list[SectionKey]) -> list[SectionKey]:
        if not sections:
            raise ValueError("a report needs at least one section")
        return list(dict.fromkeys(sections))

    @field_validator("timezone")
    @classmethod
    def _tz(cls, tz: str | None) -> str | None:
        return check_zone(tz)

    @field_validator("channel")
    @classmethod
    def _channel(cls, channel: str | None) -> str | None:
        return check_channel(channel)

    @property
    def cron(self) -> str:
        hour, minute = self.time.split(":")
        return f"{int(minute)} {int(hour)} * * {REPORT_DAYS[self.days]}"


class Reports(_Strict):
    channel: str | None = None
    timezone: str | None = None
    # The scheduled reports. None: the seeded Morning (08:00) and Evening (20:00) reports.
    jobs: list[ReportJob] | None = Field(default=None, max_length=MAX_REPORT_JOBS)

    @field_validator("channel")
    @classmethod
    def _channel(cls, channel: str | None) -> str | None:
        return check_channel(channel)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, tz: str | None) -> str | None:
        return check_zone(tz)

    @field_validator("jobs")
    @classmethod
    def _unique(cls, jobs: list[ReportJob] | None) -> list[ReportJob] | None:
        names = [job.name.casefold() for job in jobs or []]
        if len(names) != len(set(names)):
            raise ValueError("two reports have the same name")
        return jobs


class GrafanaDatasources(_Strict):
    loki: str | None = None
    prometheus: str | None = None


class GrafanaConfig(_Strict):
    datasources: GrafanaDatasources = Field(default_factory=GrafanaDatasources)


class AmplitudeConfig(_Strict):
    region: Literal["us", "eu"] | None = None


class AlertsConfig(_Strict):
    """Alert notifications investigated where they land (alerts/)."""

    enabled: bool = True
    channels: list[str] | None = None  # None: every channel sitrep is in; else only these
    channel: str | None = None  # where the webhooks' alerts are posted without ?channel=
    unknown_format_reply: bool = True  # one short reply to an alert-like message sitrep cannot read
    # Grafana's webhook HMAC (hmac_config): the signature header it is told to use (None: Grafana's default,
    # spelled X-Grafana-Alerting-Signature or X-Grafana-Alert-Signature across versions), and its timestamp
    # header, when one is set there (then the signature covers "<timestamp>:<body>" and stale ones are refused)
    signature_header: str | None = None
    timestamp_header: str | None = None

    @field_validator("signature_header", "timestamp_header")
    @classmethod
    def _header(cls, name: str | None) -> str | None:
        if name is not None and not _HEADER.match(name):
            raise ValueError(f"{name[:80]!r} is not an HTTP header name (letters, digits and dashes)")
        return name

    @field_validator("channels")
    @classmethod
    def _channels(cls, channels: list[str] | None) -> list[str] | None:
        for channel in channels or []:
            check_channel(channel)
        return list(dict.fromkeys(channels)) if channels is not None else None

    @field_validator("channel")
    @classmethod
    def _channel(cls, channel: str | None) -> str | None:
        return check_channel(channel)

    def watches(self, channel: str) -> bool:
        return self.enabled and (self.channels is None or channel in self.channels)


class TeamConfig(_Strict):
    routing: Routing = Field(default_factory=Routing)
    agents: Agents = Field(default_factory=Agents)
    reports: Reports = Field(default_factory=Reports)
    grafana: GrafanaConfig = Field(default_factory=GrafanaConfig)
    amplitude: AmplitudeConfig = Field(default_factory=AmplitudeConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)


class ConfigInvalid(ValueError):
    """A config document that does not fit the schema; the message lists each problem by its path."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def validate_config(document: object) -> TeamConfig:
    if not isinstance(document, dict):
        raise ConfigInvalid(["the config must be a JSON object"])
    try:
        return TeamConfig.model_validate(document)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            path = ".".join(_printable(str(p)) for p in err["loc"]) or "(root)"
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "is not a known setting"
            problems.append(f"{path}: {msg}")
        raise ConfigInvalid(problems) from None


def _printable(key: str) -> str:
    """A key as it can be shown in one line of an error: control characters escaped, as Python would."""
    return key if key.isprintable() else repr(key)[1:-1]


def unwrap_patch(body: object) -> object:
    """The merge patch inside the admin API's envelope ({"config": {...}}, as GET returns it), or `body` itself."""
    if isinstance(body, dict) and set(body) == {"config"}:
        return body["config"]
    return body
