"""The tools the agent may call, in one place: which are offered, the result cap, the repeat guard, concurrency.

Both planners go through a Toolbox: Claude's tool_use blocks and the rule-based planner's calls alike. Every
result is redacted (no credential reaches the model or Slack), bounded (skills/base.py's RESULT_MAX_BYTES, ~4k
tokens, a summary first), and an
exact repeat of a call (same name, same canonical JSON arguments) is answered from the first result.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from skills.base import Skill, SkillContext, SkillError, Tool, ToolInputError, redact
from skills.changes.tools import build_tools as changes_tools
from skills.results import RESULT_MAX_BYTES
from skills.vercel_drain.config import load_config as load_drain_config

if TYPE_CHECKING:
    from agent.services import Services
    from storage.teams import Team

log = logging.getLogger(__name__)

SUMMARY_CHARS = 600
TOOL_TIMEOUT_S = 60.0
LINK_KEYS = ("explore_url", "link", "alerting_url", "url")
_SUMMARY_KEYS = (
    "found",
    "total",
    "previous_total",
    "change_pct",
    "count",
    "firing",
    "pending",
    "rules_total",
    "series_total",
    "kind",
    "lines_returned",
    "lines_scanned",
    "pattern_count",
    "matched",
    "events_this_week",
    "value",
    "empty",
    "truncated",
)


@dataclass(frozen=True)
class ToolCall:
    name: str
    args: dict[str, Any] = field(default_factory=dict)
    id: str = ""  # the model's tool_use id, when the model asked

    @property
    def key(self) -> str:
        """Name and canonical JSON arguments: what makes two calls "the same call"."""
        return self.name + " " + json.dumps(self.args, sort_keys=True, separators=(",", ":"), default=str)


@dataclass(frozen=True)
class ToolOutcome:
    call: ToolCall
    ok: bool
    data: Any = None  # the redacted result (plain data) when ok
    error: str | None = None  # one line, redacted, when not ok
    content: str = ""  # what the model reads: summary first, bounded
    repeated: bool = False
    started: float = 0.0  # time.monotonic()
    finished: float = 0.0

    @property
    def duration(self) -> float:
        return self.finished - self.started

    @property
    def links(self) -> list[str]:
        return result_links(self.data) if self.ok else []


class Toolbox:
    """Tools by qualified name, with the secrets to redact. `run` executes several calls concurrently."""

    def __init__(
        self,
        tools: Iterable[Tool],
        secrets: Sequence[str] = (),
        *,
        result_bytes: int = RESULT_MAX_BYTES,
        timeout: float = TOOL_TIMEOUT_S,
        not_ready: dict[str, str] | None = None,
    ) -> None:
        self.tools = {t.qualified_name: t for t in tools}
        self.secrets = list(secrets)
        self.result_bytes = result_bytes
        self.timeout = timeout
        self.not_ready = dict(not_ready or {})  # skill name -> why its tools are not offered
        self.blocked: dict[str, str] = {}  # skill name -> why its tools are held back (its readiness said Blocked)
        self.withheld: dict[str, str] = {}  # tool name -> the same reason, answered when one is called
        self.link_hosts: frozenset[str] = frozenset()  # where a model's labelled links may point (for_team)
        self.outcomes: list[ToolOutcome] = []  # every call answered, in the order they finished
        self._first: dict[str, asyncio.Future[ToolOutcome]] = {}  # call key -> the first call's outcome

    @classmethod
    async def for_team(
        cls, services: Services, team: Team, *, include_unconfigured: bool = False, allow_write: bool = False
    ) -> Toolbox:
        """The team's tools: those of configured skills (all skills with include_unconfigured), except a skill whose
        last readiness check said Blocked (a rejected token, a missing permission): its tools are held back, and
        `not_ready` says why, for the answer to name (calling one answers the same reason)."""
        skills = await services.skills_for(team)
        secrets = await services.secrets()
        tools: list[Tool] = []
        not_ready: dict[str, str] = {}
        blocked: dict[str, str] = {}
        withheld: dict[str, str] = {}
        for skill in skills:
            secrets += skill.secrets()
            offered = [t for t in skill.tools() if t.read_only or allow_write]
            if not (skill.configured or include_unconfigured):
                not_ready[skill.name] = f"{skill.title} is not configured"
                continue
            if skill.configured and (why := skill.held_back()):
                not_ready[skill.name] = why
                blocked[skill.name] = why
                withheld.update((t.qualified_name, why) for t in offered)
                continue
            tools += offered
        tools += changes_tools(services, team)  # the changes table is sitrep's own: offered whatever is configured
        box = cls(tools, secrets, not_ready=not_ready)
        box.blocked, box.withheld = blocked, withheld
        box.link_hosts = await link_hosts(services, team, skills)
        return box

    def has(self, name: str) -> bool:
        return name in self.tools

    def specs(self) -> list[dict[str, Any]]:
        """The tools as the Messages API wants them: name, description, input_schema."""
        return [
            {"name": name, "description": self.redact(tool.description), "input_schema": tool.input_schema()}
            for name, tool in self.tools.items()
        ]

    def redact(self, text: str) -> str:
        return redact(text, self.secrets)

    def redact_data(self, data: Any) -> Any:
        """Every string in a JSON-like structure (keys too) with secret values replaced."""
        if isinstance(data, str):
            return self.redact(data)
        if isinstance(data, dict):
            return {self.redact(str(k)): self.redact_data(v) for k, v in data.items()}
        if isinstance(data, (list, tuple)):
            return [self.redact_data(v) for v in data]
        return data

    @property
    def executed(self) -> int:
        """Calls that really ran (repeats answered from an earlier result are not counted)."""
        return len(self._first)

    async def run(self, calls: Sequence[ToolCall]) -> list[ToolOutcome]:
        """Run calls concurrently; outcomes in the order of `calls`."""
        return list(await asyncio.gather(*(self.call(c) for c in calls)))

    async def call(self, call: ToolCall) -> ToolOutcome:
        """Run one call; a repeat of a call already made (same name and arguments) is answered from the first one,
        waiting for it when it is still running, not sent upstream again."""
        call = replace(call, args=self.redact_data(call.args or {}))
        first = self._first.get(call.key)
        if first is None:
            first = self._first[call.key] = asyncio.get_running_loop().create_future()
            try:
                outcome = await self._execute(call)
            except BaseException:  # cancelled: a repeat waiting on it runs the call itself
                del self._first[call.key]
                first.cancel()
                raise
            first.set_result(outcome)
        else:
            try:
                earlier = await asyncio.shield(first)
            except asyncio.CancelledError:
                if not first.cancelled():
                    raise  # this call itself was cancelled
                return await self.call(call)
            note = "Repeat of an earlier call with the same arguments: answered from the first result.\n"
            outcome = replace(earlier, call=call, repeated=True, content=note + earlier.content)
        self.outcomes.append(outcome)
        return outcome

    async def _execute(self, call: ToolCall) -> ToolOutcome:
        started = time.monotonic()
        tool = self.tools.get(call.name)
        if tool is None and call.name in self.withheld:
            return self._failed(call, self.withheld[call.name], started)
        if tool is None:
            known = ", ".join(sorted(self.tools)) or "none"
            return self._failed(call, f"unknown tool {call.name!r}; the tools are: {known}", started)
        try:
            async with asyncio.timeout(self.timeout):
                data = await tool.call(call.args)
        except SkillError as exc:
            return self._failed(call, exc.one_line(), started)
        except ToolInputError as exc:
            return self._failed(call, f"{exc} (fix the arguments to match the input schema)", started)
        except TimeoutError:
            return self._failed(call, f"{call.name} did not finish within {self.timeout:.0f} s", started)
        except (ValueError, TypeError) as exc:
            return self._failed(call, f"{call.name}: {exc}", started)
        except Exception as exc:  # a tool must never break the answer
            log.exception("tool %s failed", call.name)
            return self._failed(call, f"{call.name} failed unexpectedly ({type(exc).__name__})", started)
        data = self.redact_data(_plain(data))
        content = bounded_content(data, self.result_bytes)
        return ToolOutcome(call, True, data=data, content=content, started=started, finished=time.monotonic())

    def _failed(self, call: ToolCall, error: str, started: float) -> ToolOutcome:
        error = self.redact(error)
        return ToolOutcome(
            call, False, error=error, content=f"Error: {error}", started=started, finished=time.monotonic()
        )


def _plain(data: Any) -> Any:
    """Dataclasses and other objects become JSON-able data."""
    return json.loads(json.dumps(data, default=_default))


def _default(obj: Any) -> Any:
    for attr in ("to_dict", "model_dump"):
        if hasattr(obj, attr):
            return getattr(obj, attr)()
    if hasattr(obj, "__dataclass_fields__"):
        return {k: getattr(obj, k) for k in obj.__dataclass_fields__}
    return str(obj)


def summarize(data: Any) -> str:
    """One line on top of a result: its telling numbers, the sizes of its lists, its hint and its link."""
    if not isinstance(data, dict):
        size = f"{len(data)} items" if isinstance(data, list) else json.dumps(data, default=str)[:200]
        return f"Summary: {size}"
    parts = [f"{k}={json.dumps(data[k], default=str)}" for k in _SUMMARY_KEYS if k in data]
    parts += [f"{k}: {len(v)} items" for k, v in data.items() if isinstance(v, list)]
    line = "Summary: " + ("; ".join(parts) or "see below")
    if isinstance(data.get("hint"), str):
        line += f". Hint: {data['hint']}"
    link = next((data[k] for k in LINK_KEYS if isinstance(data.get(k), str)), None)
    line = line[:SUMMARY_CHARS]
    if link:
        line += f"\nLink to cite: {link}"
    return line


def bounded_content(data: Any, limit: int = RESULT_MAX_BYTES) -> str:
    """The summary, then the JSON result; cut to `limit` UTF-8 bytes with a note on how to narrow the call."""
    summary = summarize(data)
    body = json.dumps(data, ensure_ascii=False, default=str, separators=(",", ":"))
    content = f"{summary}\n{body}"
    if len(content.encode()) <= limit:
        return content
    size = len(body.encode())
    note = (
        f"\n…[result cut: it was {size} bytes, over the {limit}-byte cap. Narrow the call: a "
        "shorter range, more label matchers or filters, a smaller limit, or an aggregation]"
    )
    room = max(0, limit - len(summary.encode()) - len(note.encode()) - 1)
    kept = body.encode()[:room].decode("utf-8", "ignore")  # never half a character
    return f"{summary}\n{kept}{note}"


def result_links(data: Any) -> list[str]:
    """The links a result carries at its top level (explore_url, link, alerting_url, url)."""
    if not isinstance(data, dict):
        return []
    return [data[k] for k in LINK_KEYS if isinstance(data.get(k), str) and data[k].startswith("http")]


async def link_hosts(services: Services, team: Team, skills: Sequence[Skill]) -> frozenset[str]:
    """The hosts of the team's configured Grafana, Amplitude and GitHub, and Vercel's when the drain is set up."""
    # a skill with links of its own (Grafana, Amplitude, GitHub) names their hosts in `link_hosts`
    hosts = {host for skill in skills if skill.configured for host in getattr(skill, "link_hosts", ())}
    ctx = SkillContext(
        settings=services.settings, team=team, credentials=services.storage.credentials, storage=services.storage
    )
    if (await load_drain_config(ctx)).secret.value:
        hosts.add("vercel.com")
    return frozenset(hosts)
