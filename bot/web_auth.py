"""The web routes' cheap checks, made before a byte of a body is read: one home for the bearer token (the admin
API, the alert webhooks) and for the shape of a signature header (GitHub's, Vercel's, Grafana's).

A header that is missing or malformed is refused on sight; one that is well-formed still has to match the body,
which the route hashes as it streams in (bot/bodies.py).
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping

_HEX = {n: re.compile(rf"^[0-9a-fA-F]{{{n}}}$") for n in (40, 64)}


def bearer(headers: Mapping[str, str]) -> str | None:
    """The token of `Authorization: Bearer <token>` (scheme case-insensitive), or None."""
    scheme, _, given = str(headers.get("Authorization", "")).partition(" ")
    token = given.strip()
    return token if scheme.lower() == "bearer" and token else None


def bearer_ok(headers: Mapping[str, str], token: str) -> bool:
    """The request carries exactly `token` as its bearer token (constant-time comparison)."""
    given = bearer(headers)
    return bool(token) and given is not None and hmac.compare_digest(given.encode(), token.encode())


def hex_digest(value: str | None, length: int, prefix: str = "") -> str | None:
    """`value` as a lower-case hex digest of `length` characters after `prefix` (GitHub's "sha256="), else None."""
    text = (value or "").strip()
    if prefix:
        if not text.lower().startswith(prefix):
            return None
        text = text[len(prefix) :]
    return text.lower() if _HEX[length].match(text) else None


def digest_matches(expected_hex: str, given_hex: str | None) -> bool:
    return given_hex is not None and hmac.compare_digest(expected_hex.encode(), given_hex.encode())
