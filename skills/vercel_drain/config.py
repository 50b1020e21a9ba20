"""Where the relay's settings come from: the values stored from Configure Grafana win over the environment."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlparse

from skills.base import Credential, SkillContext

INTEGRATION = "grafana"  # the drain fields live in the Configure Grafana modal
PUSH_PATH = "/loki/api/v1/push"
ROUTE = "/drains/vercel"
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0", ""})

# (stored credential name, environment variable)
FIELDS = {
    "push_url": ("loki_push_url", "LOKI_PUSH_URL"),
    "push_user": ("loki_push_user", "LOKI_PUSH_USER"),
    "push_token": ("loki_push_token", "LOKI_PUSH_TOKEN"),
    "secret": ("drain_secret", "VERCEL_DRAIN_SECRET"),
    "verify": ("drain_verify", "VERCEL_DRAIN_VERIFY"),
}


def _unset(env: str) -> Credential:
    return Credential(None, env)


@dataclass(frozen=True)
class DrainConfig:
    push_url: Credential = field(default_factory=lambda: _unset("LOKI_PUSH_URL"))
    push_user: Credential = field(default_factory=lambda: _unset("LOKI_PUSH_USER"))
    push_token: Credential = field(default_factory=lambda: _unset("LOKI_PUSH_TOKEN"), repr=False)
    secret: Credential = field(default_factory=lambda: _unset("VERCEL_DRAIN_SECRET"), repr=False)
    verify: Credential = field(default_factory=lambda: _unset("VERCEL_DRAIN_VERIFY"), repr=False)
    public_url: str | None = None

    @property
    def endpoint(self) -> str | None:
        """The full push URL: LOKI_PUSH_URL as given, with /loki/api/v1/push added when it is only the host."""
        return push_endpoint(self.push_url.value) if self.push_url.value else None

    @property
    def can_push(self) -> bool:
        return bool(self.push_url.value and self.push_user.value and self.push_token.value)

    def missing(self) -> list[str]:
        """The source names (variable or stored field) of what the relay still needs."""
        return [c.source for c in (self.push_url, self.push_user, self.push_token, self.secret) if not c.value]

    def secrets(self) -> list[str]:
        return [v for v in (self.push_token.value, self.secret.value, self.verify.value) if v]


def push_endpoint(url: str) -> str:
    base = url.strip().rstrip("/")
    return base if base.endswith(PUSH_PATH) else base + PUSH_PATH


def public_base(url: str | None) -> str | None:
    """SITREP_PUBLIC_URL when Vercel could reach it: http(s) and not a loopback or unset host."""
    if not url:
        return None
    parsed = urlparse(url.strip())
    if parsed.scheme not in ("http", "https") or (parsed.hostname or "") in LOCAL_HOSTS:
        return None
    return url.strip().rstrip("/")


def drain_url(public_url: str | None) -> str | None:
    """The URL to paste into Vercel, or None without a public URL."""
    base = public_base(public_url)
    return base + ROUTE if base else None


async def load_config(ctx: SkillContext) -> DrainConfig:
    values = {attr: await ctx.credential(INTEGRATION, name, env) for attr, (name, env) in FIELDS.items()}
    return DrainConfig(**values, public_url=ctx.settings.public_url)
