"""What every skill shares: Tool, Skill, Readiness, SkillError, SkillContext, redaction.

`Tool`: name, model-facing description, a pydantic parameter model whose JSON schema is the `input_schema`, an async
handler returning plain data, a read-only flag; `qualified_name` is `<skill>_<name>`. `ToolSpec` is how a skill's
tools module declares one (a module-level handler taking the skill). `Skill`: readiness row + tools + its one httpx
client. `Readiness`: ready / blocked / not configured, what is missing, the next step, Home tab actions.
`SkillError`: integration, what failed, what to do. `SkillContext`: the team, its credentials (`credential()`: the
stored value, else the bootstrap variable, with its source so an error names what to fix), the Storage and the
Supervisor its caches refresh through. `redact`: secrets out of any text. Beside it: `http.py` (the one client per
integration and its retries) and `results.py` (a result's rows cut to the budget).
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

if TYPE_CHECKING:
    from settings import Settings
    from storage.services import Storage
    from storage.teams import Team
    from supervisor import Supervisor

log = logging.getLogger(__name__)


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


def redact(text: str, secrets: Sequence[str]) -> str:
    """Replace every occurrence of a secret value (at least 6 characters long) in text."""
    for secret in sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    return text
