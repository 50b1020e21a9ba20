"""The App client against the fake GitHub, which verifies the JWT's signature with the App's public key."""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest

from skills.base import SkillError
from skills.github.auth import AppJwt, InstallationToken, PrivateKeyError, TokenCache, load_private_key
from skills.github.client import GitHubClient
from tests.fakes.github import FakeGitHub
from tests.fakes.github_limits import RETRY_AFTER
from tests.support.github_world import APP_ID, INSTALLATION, REPO, new_key


async def test_jwt_is_signed_with_the_app_key_and_checked_by_github() -> None:
    key, pem = new_key()
    async with FakeGitHub(APP_ID, key.public_key()) as gh:
        gh.add_installation(INSTALLATION, "mochacare", [REPO])
        client = GitHubClient(gh.url, AppJwt(APP_ID, load_private_key(pem)))
        try:
            assert [i["id"] for i in await client.installations()] == [INSTALLATION]
        finally:
            await client.aclose()
        token = gh.seen("GET", "/app/installations")[0].headers["Authorization"].split(" ", 1)[1]
        claims = jwt.decode(token, key.public_key(), algorithms=["RS256"])
        assert claims["iss"] == APP_ID and claims["exp"] - claims["iat"] <= 600


async def test_a_jwt_signed_with_another_key_is_refused() -> None:
    key, _ = new_key()
    _, other_pem = new_key()
    async with FakeGitHub(APP_ID, key.public_key()) as gh:
        client = GitHubClient(gh.url, AppJwt(APP_ID, load_private_key(other_pem)))
        try:
            with pytest.raises(SkillError) as err:
                await client.app()
        finally:
            await client.aclose()
        assert err.value.status == 401 and "GITHUB_APP_PRIVATE_KEY" in err.value.hint


async def test_a_short_wait_is_slept_once_and_a_second_refusal_is_not_retried() -> None:
    key, pem = new_key()
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async with FakeGitHub(APP_ID, key.public_key()) as gh:
        client = GitHubClient(gh.url, AppJwt(APP_ID, load_private_key(pem)), sleep=sleep, max_rate_wait=5)
        try:
            gh.rate_limit_next(2, RETRY_AFTER, retry_after=1)
            with pytest.raises(SkillError) as err:
                await client.app()
            assert "rate-limited until" in err.value.message
            assert waits == [1] and len(gh.seen("GET", "/app")) == 2  # one wait, one retry, no loop
        finally:
            await client.aclose()


async def test_installation_tokens_are_cached_until_shortly_before_expiry() -> None:
    now = [1000.0]
    minted: list[int] = []

    async def mint(installation: int) -> InstallationToken:
        minted.append(installation)
        return InstallationToken(f"ghs_{len(minted)}", now[0] + 3600)

    cache = TokenCache(mint, clock=lambda: now[0])
    assert await cache.get(1) == "ghs_1"
    now[0] += 3000
    assert await cache.get(1) == "ghs_1"
    now[0] += 400  # within 5 minutes of expiry
    assert await cache.get(1) == "ghs_2"
    assert minted == [1, 1]


def test_private_key_from_a_file_or_escaped_text(tmp_path: Path) -> None:
    _, pem = new_key()
    path = tmp_path / "app.pem"
    path.write_text(pem)
    assert load_private_key(str(path)).key_size == 2048
    assert load_private_key(pem.replace("\n", "\\n")).key_size == 2048
    with pytest.raises(PrivateKeyError):
        load_private_key(str(tmp_path / "missing.pem"))
    with pytest.raises(PrivateKeyError):
        load_private_key("-----BEGIN RSA PRIVATE KEY-----\nnope\n-----END RSA PRIVATE KEY-----")
