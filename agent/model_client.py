"""Which Claude, where, and how: the one model rule, the provider and its client, and each use's thinking and room.

    call = claude(services, team, ANSWERS)   # the client, the model (the team's, else SITREP_MODEL), the use
    result = await run_loop(call, system=…, messages=…, toolbox=…)

The model rule (`model_for`): the team's `agents.model` (Agent settings), else SITREP_MODEL. Every Claude call
(answers, report summaries, alert investigations, pull-request reviews) takes its model from `claude()`.

Providers (SITREP_MODEL_PROVIDER), each through the Anthropic SDK's own client, built once at first use and kept
in Services (`ModelClient`) until it closes:
- `anthropic` (default): `AsyncAnthropic` with ANTHROPIC_API_KEY. With ANTHROPIC_BASE_URL it talks to any
  Anthropic-compatible server instead (Ollama, vLLM, llama.cpp's server, a LiteLLM proxy), whose model names are
  free-form; set the key to whatever the server accepts.
- `bedrock`: `AsyncAnthropicBedrock` (pip install "anthropic[bedrock]"), AWS_REGION, credentials from the AWS chain
  (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY[/AWS_SESSION_TOKEN], AWS_PROFILE, an instance or task role) or a
  Bedrock API key (AWS_BEARER_TOKEN_BEDROCK); Bedrock model ids (anthropic.claude-…, us.anthropic.claude-…).
- `vertex`: `AsyncAnthropicVertex` (pip install "anthropic[vertex]"), CLOUD_ML_REGION, ANTHROPIC_VERTEX_PROJECT_ID,
  credentials from Google's chain (GOOGLE_APPLICATION_CREDENTIALS, gcloud's application-default login, the
  metadata server); Vertex AI model ids (claude-sonnet-5-5, claude-…@date).

Uses (`Use`): each asks with its own effort and a max_tokens that holds thinking and text
(https://platform.claude.com/docs/en/build-with-claude/effort). Claude models of the adaptive-thinking
generation (4.6 and later) get `thinking: adaptive` and the use's effort; older Claude models and other models get
neither. Claude models (any id naming one) get prompt caching; other models' servers get plain requests.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from agent.pricing import PriceTable
from settings import Settings

if TYPE_CHECKING:
    from anthropic import AsyncAnthropic

    from storage.teams import Team

MODEL_TIMEOUT_S = 120.0
MODEL_RETRIES = 2
ANTHROPIC_API = "api.anthropic.com"
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
# The short list the Agent settings modal offers (besides the default and a typed id), by provider.
CHOICES = ("claude-opus-5-5", "claude-sonnet-5-5", "claude-haiku-5-5")
_CLAUDE = re.compile(r"claude-(?P<family>opus|sonnet|haiku|fable|mythos)-(?P<major>\d+)(?:-(?P<minor>\d)(?!\d))?")


class ModelError(Exception):
    """Claude could not be asked: one line saying what failed and what to do."""


@dataclass(frozen=True)
class Use:
    """One use of Claude: its name in metrics and the usage record, its effort, and its room (thinking + text)."""

    feature: str  # answers | summaries | alerts | reviews
    effort: str  # low | medium | high | xhigh | max
    max_tokens: int


ANSWERS = Use("answers", "medium", 16_000)  # a tool loop of a few turns, then a short Slack answer
ALERTS = Use("alerts", "low", 8_000)  # the findings are gathered already: a first look, fast
SUMMARIES = Use("summaries", "low", 4_000)  # one paragraph from numbers given
REVIEWS = Use("reviews", "high", 32_000)  # a diff read with care, a longer text
MAX_ROOM = 64_000  # the most a continued or re-asked reply is given
FEATURE_OF_SOURCE = {"summary": "summaries", "report": "summaries", "alert": "alerts", "review": "reviews"}


def feature_of(source: str) -> str:
    """The feature an answers-table source belongs to (mentions, DMs, commands, the shell: answers)."""
    return FEATURE_OF_SOURCE.get(source, "answers")


@dataclass(frozen=True)
class Traits:
    """What a model id tells about the requests it takes."""

    claude: bool  # a Claude model on any platform: prompt caching
    adaptive: bool  # adaptive thinking and output_config.effort (Claude 4.6 and later)

    @classmethod
    def of(cls, model: str) -> Traits:
        found = _CLAUDE.search(model)
        if found is None:
            return cls("claude" in model.lower(), False)
        version = (int(found["major"]), int(found["minor"] or 0))
        adaptive = found["family"] in ("fable", "mythos") or version >= (4, 6)
        return cls(True, adaptive and not (found["family"] == "haiku" and version < (5, 0)))


@dataclass(frozen=True)
class ModelCall:
    """Everything one use of Claude is asked with."""

    client: Any  # AsyncAnthropic | AsyncAnthropicBedrock | AsyncAnthropicVertex: `.messages.create`
    model: str
    use: Use
    prices: PriceTable

    @property
    def traits(self) -> Traits:
        return Traits.of(self.model)


def model_for(settings: Settings, team: Team) -> str:
    """The model rule: the team's choice (agents.model), else SITREP_MODEL (or the built-in default)."""
    return team.config.agents.model or settings.model


def model_ready(settings: Settings) -> bool:
    """Whether Claude can be asked at all: a key for Anthropic's API (or a compatible server), else the platform's
    region (checked at start-up; its credentials come from its own chain, checked at the first call)."""
    if settings.model_provider == "anthropic":
        return settings.anthropic_api_key is not None
    return True


def prices(settings: Settings) -> PriceTable:
    return PriceTable(settings.model_prices)


def compatible_server(settings: Settings) -> bool:
    """ANTHROPIC_BASE_URL points at a server other than Anthropic's (Ollama, vLLM, LiteLLM …)."""
    url = settings.anthropic_base_url or ""
    return settings.model_provider == "anthropic" and bool(url) and ANTHROPIC_API not in url


def model_choices(settings: Settings) -> tuple[str, ...]:
    """The ids the Agent settings modal lists: Claude's on Anthropic and Vertex AI, Bedrock's spelling on Bedrock,
    none for a compatible server (its names are its own: the modal takes a typed id)."""
    if compatible_server(settings):
        return ()
    if settings.model_provider == "bedrock":
        return tuple(f"anthropic.{m}" for m in CHOICES)
    return CHOICES


def build_client(settings: Settings) -> AsyncAnthropic:
    """The provider's client. Imports the SDK (seconds of start-up) only here, at the first call."""
    if settings.model_provider == "bedrock":
        return _bedrock(settings)
    if settings.model_provider == "vertex":
        return _vertex(settings)
    from anthropic import AsyncAnthropic  # lazy load

    return AsyncAnthropic(
        api_key=Settings.reveal(settings.anthropic_api_key),
        base_url=settings.anthropic_base_url or None,
        timeout=MODEL_TIMEOUT_S,
        max_retries=MODEL_RETRIES,
    )


def _bedrock(settings: Settings) -> Any:
    try:
        import boto3  # type: ignore[import-untyped]  # noqa: F401  (the AWS SDK the Bedrock client signs with)
        from anthropic import AsyncAnthropicBedrock
    except ImportError:
        raise ModelError('SITREP_MODEL_PROVIDER=bedrock needs the AWS SDK: pip install "anthropic[bedrock]"') from None
    bearer = Settings.reveal(settings.aws_bearer_token_bedrock)
    keys: dict[str, Any] = {}
    if bearer is None:
        keys = {
            "aws_access_key": settings.aws_access_key_id,
            "aws_secret_key": Settings.reveal(settings.aws_secret_access_key),
            "aws_session_token": Settings.reveal(settings.aws_session_token),
            "aws_profile": settings.aws_profile if not settings.aws_access_key_id else None,
        }
    return AsyncAnthropicBedrock(
        api_key=bearer,
        aws_region=settings.aws_region or settings.aws_default_region,
        base_url=settings.bedrock_base_url or None,
        timeout=MODEL_TIMEOUT_S,
        max_retries=MODEL_RETRIES,
        **keys,
    )


def _vertex(settings: Settings) -> Any:
    try:
        from anthropic import AsyncAnthropicVertex
    except ImportError:
        raise ModelError('SITREP_MODEL_PROVIDER=vertex needs Google auth: pip install "anthropic[vertex]"') from None
    credentials, project = _google_credentials(settings), settings.vertex_project
    project = project or getattr(credentials, "project_id", None)
    extra: dict[str, Any] = {"project_id": project} if project else {}
    return AsyncAnthropicVertex(
        region=str(settings.vertex_region),
        credentials=credentials,
        base_url=settings.vertex_base_url or None,
        timeout=MODEL_TIMEOUT_S,
        max_retries=MODEL_RETRIES,
        **extra,
    )


def _google_credentials(settings: Settings) -> Any:
    """The service-account or user key file GOOGLE_APPLICATION_CREDENTIALS names in Settings (so .env works too;
    Google's chain reads only the process environment); None: the chain finds them (gcloud's application-default
    login, the metadata server). A small local read, once, when the client is built."""
    path = settings.google_credentials
    if path is None:
        return None
    try:
        from google.oauth2 import credentials as user
        from google.oauth2 import service_account
    except ImportError:
        raise ModelError('SITREP_MODEL_PROVIDER=vertex needs Google auth: pip install "anthropic[vertex]"') from None
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ModelError(f"GOOGLE_APPLICATION_CREDENTIALS ({path}) is not a readable key file: {exc}") from None
    if info.get("type") == "service_account":
        return service_account.Credentials.from_service_account_info(info, scopes=[CLOUD_PLATFORM])
    if info.get("type") == "authorized_user":
        return user.Credentials.from_authorized_user_info(info, scopes=[CLOUD_PLATFORM])
    return None  # another kind (workload identity federation): Google's chain reads it from the environment


class ModelClient:
    """The one client of the configured provider: built at its first use (one connection pool for every call
    after; the SDK imported only then), closed by `aclose`. A failed build is tried again at the next use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: Any = None

    def get(self) -> AsyncAnthropic:
        if self._client is None:
            self._client = build_client(self.settings)
        built: AsyncAnthropic = self._client
        return built

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()


class WithModel(Protocol):
    """What a use of Claude is asked from: the settings and the one model client (agent/services.py Services)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def model(self) -> ModelClient: ...


def client(services: WithModel) -> AsyncAnthropic:
    """The one client of the configured provider (Services.model)."""
    return services.model.get()


def claude(services: WithModel, team: Team, use: Use) -> ModelCall:
    """What a use of Claude for `team` is asked with: the provider's client and the model rule's model."""
    return ModelCall(client(services), model_for(services.settings, team), use, prices(services.settings))
