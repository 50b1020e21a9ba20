"""GitHub's rate-limit procedure against the fake's three documented refusals (403 and 429 each): retry-after is
waited out, a primary limit waits for x-ratelimit-reset however far (a deferral, not a sleep), a secondary limit
without headers waits a minute and then doubles; nothing is sent early, and none of them reads as a permission
problem. Conditional requests: an ETag is only believed under the token that learned it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest

from skills.base import SkillError
from skills.github.auth import AppJwt, load_private_key
from skills.github.client import GitHubClient
from tests.fakes.github import FakeGitHub
from tests.fakes.github_limits import PRIMARY, RETRY_AFTER, SECONDARY
from tests.support.github_world import APP_ID, INSTALLATION, REPO, new_key

START = 1_800_000_000.0  # 2027-01-15 08:00 UTC


@dataclass
class Clock:
    now: float = START
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@asynccontextmanager
async def fake_github() -> AsyncIterator[tuple[FakeGitHub, GitHubClient, Clock]]:
    key, pem = new_key()
    clock = Clock()
    async with FakeGitHub(APP_ID, key.public_key()) as gh:
        gh.clock = clock
        gh.limits.reset_at = int(clock.now) + 3600
        gh.add_installation(INSTALLATION, "mochacare", [REPO])
        client = GitHubClient(gh.url, AppJwt(APP_ID, load_private_key(pem)), sleep=clock.sleep, clock=clock)
        try:
            yield gh, client, clock
        finally:
            await client.aclose()


@pytest.mark.parametrize("status", [403, 429])
async def test_retry_after_is_waited_out_and_a_long_one_defers(status: int) -> None:
    async with fake_github() as (gh, client, clock):
        gh.rate_limit_next(1, RETRY_AFTER, status=status, retry_after=7)
        assert (await client.app())["id"] == int(APP_ID)
        assert clock.slept == [7]
        gh.rate_limit_next(1, RETRY_AFTER, status=status, retry_after=600)
        with pytest.raises(SkillError) as err:
            await client.app()
        assert "rate-limited until 08:10 UTC" in err.value.message and "permission" not in err.value.one_line()
        assert clock.slept == [7]  # 600 s is not slept: the caller defers
        sent = len(gh.requests)
        clock.now += 599
        with pytest.raises(SkillError):
            await client.app()  # still inside the wait: GitHub is not asked
        assert len(gh.requests) == sent
        clock.now += 2
        assert (await client.app())["id"] == int(APP_ID)


@pytest.mark.parametrize("status", [403, 429])
async def test_a_primary_limit_waits_for_the_reset_even_an_hour_away(status: int) -> None:
    async with fake_github() as (gh, client, clock):
        assert await client.installation_repos(INSTALLATION)
        gh.rate_limit_next(1, PRIMARY, status=status, reset_in=3600)
        with pytest.raises(SkillError) as err:
            await client.installation_repos(INSTALLATION)
        assert "rate-limited until 09:00 UTC" in err.value.message and err.value.status == status
        assert clock.slept == []  # an hour is never slept in a coroutine
        sent = len(gh.requests)
        clock.now += 1800
        with pytest.raises(SkillError):
            await client.installation_repos(INSTALLATION)
        assert len(gh.requests) == sent  # nothing before x-ratelimit-reset
        limit = client.rate_limit(INSTALLATION)
        assert limit is not None and limit.until >= START + 3600
        clock.now += 1801
        assert await client.installation_repos(INSTALLATION)
        assert client.rate_limit(INSTALLATION) is None


@pytest.mark.parametrize("status", [403, 429])
async def test_a_secondary_limit_without_headers_waits_a_minute_then_doubles(status: int) -> None:
    async with fake_github() as (gh, client, clock):
        gh.rate_limit_next(2, SECONDARY, status=status)
        with pytest.raises(SkillError) as err:
            await client.app()
        assert "secondary rate limit" in err.value.message
        assert "permission" not in err.value.one_line().lower()  # a 403 here is not the App's permissions
        first = client.rate_limit()
        assert first is not None and first.until - START >= 60
        clock.now = first.until + 0.1
        with pytest.raises(SkillError):
            await client.app()
        second = client.rate_limit()
        assert second is not None and second.until - clock.now >= 120  # exponential back-off
        clock.now = second.until + 0.1
        assert (await client.app())["id"] == int(APP_ID)
        assert len(gh.seen("GET", "/app")) == 3


async def test_a_real_permission_403_still_says_permissions() -> None:
    async with fake_github() as (gh, client, _):
        gh.forbidden.add(f"/repos/{REPO}/pulls")
        with pytest.raises(SkillError) as err:
            await client.open_pulls(INSTALLATION, REPO)
        assert err.value.status == 403 and "Check the App's permissions" in err.value.hint
        assert "rate" not in err.value.message and client.rate_limit(INSTALLATION) is None


async def test_an_etag_is_believed_only_under_the_token_that_learned_it() -> None:
    async with fake_github() as (gh, client, clock):
        assert await client.open_pulls(INSTALLATION, REPO) == []
        assert await client.open_pulls(INSTALLATION, REPO) is None  # same token: 304
        assert await client.repo(INSTALLATION, REPO) and await client.repo(INSTALLATION, REPO)
        clock.now += 3400  # within 5 minutes of the token's expiry: a new token is minted
        assert await client.open_pulls(INSTALLATION, REPO) == []  # the new token's first list is a full one
        assert await client.open_pulls(INSTALLATION, REPO) is None
        pulls = [s for s in gh.requests if s.path.endswith("/pulls")]
        assert [s.status for s in pulls] == [200, 304, 200, 304]
        repo = [s.status for s in gh.requests if s.path == f"/repos/{REPO}"]
        assert repo == [200, 304]  # the repo is conditional too, its body remembered
        assert gh.limits.free_304 == 3
