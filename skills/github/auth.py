"""GitHub App authentication: the App's private key, the App JWT (RS256, PyJWT), and cached installation tokens.

The App JWT authenticates as the App (list installations, mint installation tokens); an installation token
(valid one hour) authenticates as one installation (read pulls, post reviews). Tokens are cached per installation
until REFRESH_EARLY before they expire, and one mint runs at a time per installation.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

JWT_BACKDATE_S = 60  # GitHub's advice: iat 60 s in the past, against clock drift
JWT_LIFETIME_S = 9 * 60  # GitHub refuses exp more than 10 minutes after iat
JWT_REUSE_S = 60  # a JWT is reused until this close to its expiry
REFRESH_EARLY_S = 5 * 60  # an installation token is renewed this long before it expires


class PrivateKeyError(ValueError):
    """GITHUB_APP_PRIVATE_KEY is neither a PEM RSA private key nor a readable file holding one."""


def load_private_key(text_or_path: str) -> RSAPrivateKey:
    """The App's RSA private key from PEM text (literal newlines or \\n escapes) or from a file path."""
    value = text_or_path.strip()
    if "-----BEGIN" not in value:
        path = Path(value).expanduser()
        try:
            value = path.read_text()
        except OSError as exc:
            raise PrivateKeyError(
                f"GITHUB_APP_PRIVATE_KEY is not PEM text and not a readable file ({exc.strerror or exc})"
            ) from None
    value = value.replace("\\n", "\n").strip() + "\n"
    try:
        key = serialization.load_pem_private_key(value.encode(), password=None)
    except (ValueError, TypeError):
        raise PrivateKeyError("GITHUB_APP_PRIVATE_KEY is not a valid PEM private key (download a new .pem)") from None
    if not isinstance(key, RSAPrivateKey):
        raise PrivateKeyError("GITHUB_APP_PRIVATE_KEY is not an RSA key (GitHub Apps sign with RS256)")
    return key


class AppJwt:
    """Signs App JWTs (iss = App ID, iat = now - 60 s, exp = iat + 9 min) and reuses one until shortly before exp."""

    def __init__(self, app_id: str, key: RSAPrivateKey, clock: Callable[[], float] = time.time) -> None:
        self.app_id = str(app_id)
        self._key = key
        self._clock = clock
        self._token = ""
        self._exp = 0.0

    def token(self) -> str:
        now = self._clock()
        if self._token and now < self._exp - JWT_REUSE_S:
            return self._token
        iat = int(now) - JWT_BACKDATE_S
        exp = iat + JWT_LIFETIME_S
        self._token = jwt.encode({"iat": iat, "exp": exp, "iss": self.app_id}, self._key, algorithm="RS256")
        self._exp = exp
        return self._token


@dataclass(frozen=True)
class InstallationToken:
    token: str
    expires_at: float  # epoch seconds


def parse_expiry(value: str | None, now: float) -> float:
    """GitHub's `expires_at` (ISO 8601, Z) as epoch seconds; an hour from now when missing or unreadable."""
    if value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    return now + 3600


class TokenCache:
    """Installation tokens by installation id, minted through `mint` and reused until REFRESH_EARLY_S before expiry."""

    def __init__(
        self,
        mint: Callable[[int], Awaitable[InstallationToken]],
        clock: Callable[[], float] = time.time,
        refresh_early: float = REFRESH_EARLY_S,
    ) -> None:
        self._mint = mint
        self._clock = clock
        self._early = refresh_early
        self._tokens: dict[int, InstallationToken] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self.minted = 0

    async def get(self, installation_id: int) -> str:
        lock = self._locks.setdefault(installation_id, asyncio.Lock())
        async with lock:
            cached = self._tokens.get(installation_id)
            if cached is not None and self._clock() < cached.expires_at - self._early:
                return cached.token
            fresh = await self._mint(installation_id)
            self.minted += 1
            self._tokens[installation_id] = fresh
            return fresh.token

    def forget(self, installation_id: int) -> None:
        self._tokens.pop(installation_id, None)

    def values(self) -> list[str]:
        return [t.token for t in self._tokens.values()]
