"""What every skill shares: Tool, Skill, Readiness, SkillError, and one retrying httpx client per integration.

`Tool`: name, model-facing description, a pydantic parameter model whose JSON schema is the `input_schema`, an async
handler returning plain data, a read-only flag; `qualified_name` is `<skill>_<name>`. `ToolSpec` is how a skill's
tools module declares one (a module-level handler taking the skill). `Skill`: readiness row + tools + its one httpx
client. `Readiness`: ready / blocked / not configured, what is missing, the next step, Home tab actions.
`SkillError`: integration, what failed, what to do. `SkillContext`: the team, its credentials (`credential()`: the
stored value, else the bootstrap variable, with its source so an error names what to fix), the Storage and the
Supervisor its caches refresh through. `make_client` and `send`: retries with backoff on 429/5xx and connection
errors for idempotent requests only, honouring Retry-After. `bounded`: a result's rows cut to the ~8 KB budget, with
"truncated", "shown" and a hint. `redact`: secrets out of any text.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

import metrics

if TYPE_CHECKING:
    from settings import Settings
    from storage.services import Storage
    from storage.teams import Team
    from supervisor import Supervisor

log = logging.getLogger(__name__)

USER_AGENT = "sitrep/0.1 (+https://github.com/sitrep)"
DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=5.0)
# The one cap on a tool result, in UTF-8 bytes (what a model's tokens are counted from, whatever the script):
# agent/toolbox.py cuts what the model reads of a result (summary line + JSON) at RESULT_MAX_BYTES, ~4k tokens;
# a tool fits its rows into RESULT_BUDGET_BYTES (`bounded`), leaving the rest for its envelope and the summary.
RESULT_MAX_BYTES = 16_000
RESULT_BUDGET_BYTES = RESULT_MAX_BYTES // 2


class SkillError(Exception):
    """An integration failed: names the integration, what failed, and what to do about it."""

    def __init__(self, integration: str, message: str, hint: str = "", *, status: int | None = None) -> None:
        self.integration = integration
        self.message = message
        self.hint = hint
        self.status = status
        super().__init__(self.one_line())

    def one_line(self) -> str:
        text = f"{self.integration}: {self.message}"
        return f"{text}. {self.hint}" if self.hint else text

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.message, "integration": self.integration, "hint": self.hint}


class ToolInputError(ValueError):
    """The model (or a user) called a tool with arguments that do not fit its schema."""


class ReadinessStatus(StrEnum):
    READY = "ready"
    BLOCKED = "blocked"
    NOT_CONFIGURED = "not configured"


@dataclass(frozen=True)
class Readiness:
    """One row of the integration readiness table."""

    integration: str
    status: ReadinessStatus
    missing: str
    next_step: str
    detail: str = ""
    actions: tuple[str, ...] = ()  # Home tab buttons this row offers, by action id (e.g. "amplitude_snippet")
    # False when the block keeps the tools from working at all (a rejected token, no installation): then the
    # agent holds them back. A block about data (no events yet, no logs in the last hour) leaves them usable.
    tools_usable: bool = True

    @property
    def ready(self) -> bool:
        return self.status is ReadinessStatus.READY


@dataclass(frozen=True)
class Tool:
    """A tool for the model: a name, a description written for the model, typed parameters, an async handler.

    The handler takes the validated parameter model and returns plain data (dicts, lists, numbers, strings).
    """

    name: str
    description: str
    params: type[BaseModel]
    handler: Callable[[Any], Awaitable[Any]]
    skill: str = ""
    read_only: bool = True

    @property
    def qualified_name(self) -> str:
        return f"{self.skill}_{self.name}" if self.skill else self.name

    def input_schema(self) -> dict[str, Any]:
        schema = self.params.model_json_schema()
        schema.pop("title", None)
        schema.setdefault("properties", {})
        return schema

    def parse(self, arguments: dict[str, Any] | None) -> BaseModel:
        try:
            return self.params.model_validate(arguments or {})
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in exc.errors()
            )
            raise ToolInputError(f"{self.qualified_name}: {problems}") from None

    async def call(self, arguments: dict[str, Any] | None = None) -> Any:
        return await self.handler(self.parse(arguments))


@dataclass(frozen=True)
class Credential:
    """A credential value and where it came from, so an error can name what to fix."""

    value: str | None = field(repr=False)
    source: str

    def __bool__(self) -> bool:
        return bool(self.value)

    def __repr__(self) -> str:
        return f"Credential(source={self.source!r}, {'set' if self.value else 'not set'})"


class CredentialSource(Protocol):
    """Where a skill's stored credentials come from: CredentialStore, or the Configure modal's overlay of the
    values being checked on top of the stored ones."""

    async def get_all(self, team_id: str, integration: str) -> dict[str, str]: ...


Host = TypeVar("Host")


@dataclass(frozen=True)
class ToolSpec(Generic[Host]):
    """A tool as a skill's tools module declares it: a module-level handler taking the skill (`Host`) and the
    validated parameter model, beside its parameter model and read-only hint. `bind` makes it the skill's Tool."""

    name: str
    description: str
    params: type[BaseModel]
    handler: Callable[[Host, Any], Awaitable[Any]]
    read_only: bool = True

    def bind(self, skill: str, host: Host) -> Tool:
        handler = self.handler

        async def run(params: Any) -> Any:
            return await handler(host, params)

        return Tool(self.name, self.description, self.params, run, skill=skill, read_only=self.read_only)


@dataclass
class SkillContext:
    """What a skill needs for one team: settings, credentials (stored, or the Configure modal's overlay), storage."""

    settings: Settings
    team: Team
    credentials: CredentialSource | None = None
    storage: Storage | None = None  # None: a command line run without a database
    supervisor: Supervisor | None = None  # owns the skill's background refreshes (None: the skill owns its own)

    async def stored(self, integration: str) -> dict[str, str]:
        if self.credentials is None:
            return {}
        return await self.credentials.get_all(self.team.id, integration)

    async def credential(self, integration: str, name: str, env_name: str) -> Credential:
        """The team's stored credential when set (it wins), else the bootstrap environment variable."""
        stored = (await self.stored(integration)).get(name)
        if stored:
            return Credential(stored, f"the {integration} {name} stored in sitrep (Home tab)")
        return Credential(self.settings.env_value(env_name), env_name)


READINESS_HOLD_S = 300.0


class Skill(ABC):
    """An integration: its readiness row and its tools. Holds the integration's one httpx client."""

    name: str = ""
    title: str = ""

    @property
    @abstractmethod
    def configured(self) -> bool: ...

    @abstractmethod
    async def readiness(self) -> Readiness: ...

    @abstractmethod
    def tools(self) -> list[Tool]: ...

    def secrets(self) -> list[str]:
        """Secret values this skill holds, so outgoing text can be checked for them."""
        return []

    # The last readiness row checked (skills/readiness.py `skill_readiness` records it): a skill whose row said
    # Blocked in a way that leaves its tools unusable (a rejected token) within READINESS_HOLD_S has its tools held
    # back (`held_back`), as HolmesGPT keeps a toolset off until its check passes; then the next check decides.
    last_readiness: Readiness | None = None
    last_readiness_at: float = 0.0

    def record_readiness(self, row: Readiness) -> None:
        self.last_readiness, self.last_readiness_at = row, time.monotonic()

    def held_back(self) -> str | None:
        """Why this skill's tools are not offered now (its readiness said Blocked recently), or None."""
        row = self.last_readiness
        if row is None or row.status is not ReadinessStatus.BLOCKED or row.tools_usable:
            return None
        if time.monotonic() - self.last_readiness_at > READINESS_HOLD_S:
            return None
        return f"{self.title} is blocked: {row.missing}" + (f" (next step: {row.next_step})" if row.next_step else "")

    async def warm(self) -> None:  # noqa: B027 - optional hook
        """Fill the skill's discovery caches (data sources, label and event names) ahead of the first question."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        pass


SkillFactory = Callable[[SkillContext], Awaitable[Skill]]


# ---------------------------------------------------------------------------------------------------------
# HTTP: one client per integration, retries with backoff on 429/5xx for idempotent requests only.

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


def make_client(
    base_url: str,
    *,
    headers: dict[str, str] | None = None,
    auth: httpx.Auth | tuple[str, str] | None = None,
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
) -> httpx.AsyncClient:
    all_headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    all_headers.update(headers or {})
    return httpx.AsyncClient(
        base_url=base_url,
        headers=all_headers,
        auth=auth,
        timeout=timeout,
        follow_redirects=False,
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
    )


def retry_after_seconds(response: httpx.Response, default: float) -> float:
    value = response.headers.get("Retry-After")
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, when.timestamp() - time.time())


@dataclass
class RetryPolicy:
    attempts: int = 3
    backoff: float = 0.5
    max_wait: float = 20.0
    statuses: frozenset[int] = field(default=RETRY_STATUSES)

    def delay(self, attempt: int, response: httpx.Response | None) -> float:
        base = self.backoff * (2**attempt) * (0.75 + random.random() / 2)
        if response is not None:
            base = retry_after_seconds(response, base)
        return min(base, self.max_wait)


async def send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    policy: RetryPolicy | None = None,
    idempotent: bool | None = None,
    integration: str = "",
    **kwargs: Any,
) -> httpx.Response:
    """Send a request; retry 429/5xx and connection errors with backoff when the request is idempotent.

    Returns the last response (the caller maps statuses to SkillErrors); raises httpx.TransportError when
    every attempt failed to connect. Every attempt is counted in sitrep_upstream_requests under `integration`
    (default: the client's host).
    """
    integration = integration or client.base_url.host or "unknown"
    policy = policy or RetryPolicy()
    retryable = idempotent if idempotent is not None else method.upper() in IDEMPOTENT_METHODS
    attempts = policy.attempts if retryable else 1
    for attempt in range(attempts):
        try:
            response = await client.request(method, url, **kwargs)
        except (httpx.ConnectError, httpx.ReadTimeout, httpx.ConnectTimeout, httpx.RemoteProtocolError):
            metrics.count_upstream(integration, None)
            if attempt + 1 >= attempts:
                raise
            await asyncio.sleep(policy.delay(attempt, None))
            continue
        except httpx.HTTPError:
            metrics.count_upstream(integration, None)
            raise
        metrics.count_upstream(integration, response.status_code)
        if response.status_code in policy.statuses and attempt + 1 < attempts:
            wait = policy.delay(attempt, response)
            log.info("%s %s -> %s; retrying in %.1fs", method, url, response.status_code, wait)
            await response.aclose()
            await asyncio.sleep(wait)
            continue
        return response
    raise AssertionError("unreachable")


# ---------------------------------------------------------------------------------------------------------
# Bounded results.


def serialized_size(data: Any) -> int:
    return len(json.dumps(data, default=str, ensure_ascii=False).encode())


def fit_rows(rows: Sequence[Any], budget_bytes: int) -> tuple[list[Any], bool]:
    """The longest prefix of `rows` whose JSON fits in `budget_bytes`, and whether anything was cut."""
    kept: list[Any] = []
    used = 2
    for row in rows:
        size = serialized_size(row) + 1
        if used + size > budget_bytes:
            return kept, True
        kept.append(row)
        used += size
    return kept, False


def bounded(
    envelope: dict[str, Any],
    key: str,
    rows: Sequence[Any],
    *,
    hint: str,
    total: int | None = None,
    budget: int = RESULT_BUDGET_BYTES,
) -> dict[str, Any]:
    """`envelope` with `key` set to the longest prefix of `rows` that keeps the whole under `budget` bytes.

    Sets "truncated" (also true when the envelope already said so, or when `rows` are the first of `total`) and,
    when cut, "shown" and "hint" ("showing 50 of 80; <hint>").
    """
    result = dict(envelope)
    result[key] = []
    result.setdefault("truncated", False)
    total = len(rows) if total is None else total
    note = f"showing {total} of {total}; {hint}"
    overhead = serialized_size(result) + len(note.encode()) + 40
    kept, cut = fit_rows(rows, max(0, budget - overhead))
    result[key] = kept
    if cut or len(kept) < total:
        result["truncated"] = True
        result["shown"] = len(kept)
        result["hint"] = f"showing {len(kept)} of {total}; {hint}"
    return result


def redact(text: str, secrets: Sequence[str]) -> str:
    """Replace every occurrence of a secret value (at least 6 characters long) in text."""
    for secret in sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    return text
