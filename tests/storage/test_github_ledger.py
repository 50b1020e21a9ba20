"""The review ledger: one claim per head across two connections (two processes), failed reviews retried a few
times, delivery de-duplication, single-use states."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from settings import Settings
from storage.changes import ChangeStore, pushed_commit
from storage.db import Database
from storage.github import MAX_ATTEMPTS, DeferredReview, GitHubStore
from storage.services import Storage
from tests.support.environment import STORE_BACKENDS


@pytest.fixture(params=STORE_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The review ledger on SQLite and on PostgreSQL, directly and through PgBouncer."""
    return str(request.param)


async def test_two_processes_claim_a_head_once(storage: Storage, settings: Settings) -> None:
    other = await Database.open(settings.database)
    try:
        a, b = GitHubStore(storage.db), GitHubStore(other)
        results = await asyncio.gather(
            *(s.claim_review("default", "Mochacare/Web", 1, "abc", "webhook") for s in (a, b, a, b))
        )
        assert sum(r is not None for r in results) == 1
        assert await a.claim_review("default", "mochacare/web", 1, "abc", "poll") is None  # repo case ignored
        assert await b.claim_review("default", "mochacare/web", 1, "def", "poll") is not None  # a new head
        assert await b.claim_review("default", "mochacare/web", 1, "abc", "slack", forced_by="slack:1") is not None
    finally:
        await other.close()


async def test_a_failed_review_is_claimed_again_a_few_times(storage: Storage) -> None:
    store = GitHubStore(storage.db)
    claims = []
    for _ in range(MAX_ATTEMPTS + 2):
        claim = await store.claim_review("default", "o/r", 2, "abc", "poll")
        claims.append(claim)
        if claim is not None:
            await store.finish_review(claim, "failed", error="GitHub: 502")
    assert sum(c is not None for c in claims) == MAX_ATTEMPTS
    posted = await store.claim_review("default", "o/r", 3, "abc", "poll")
    assert posted is not None
    await store.finish_review(posted, "posted", review_url="https://github.com/o/r/pull/3#pullrequestreview-1")
    assert await store.claim_review("default", "o/r", 3, "abc", "poll") is None
    last, count = await store.activity("default")
    assert last is not None and last.number == 3 and count == 1


async def test_deliveries_and_states_are_single_use(storage: Storage) -> None:
    store = GitHubStore(storage.db)
    assert await store.first_delivery("d-1", "pull_request") is True
    assert await store.first_delivery("d-1", "pull_request") is False
    await store.save_state("n1", "default", "U1", datetime.now(UTC) + timedelta(minutes=5))
    assert await store.use_state("n1") == ("default", "U1")
    assert await store.use_state("n1") is None
    assert await store.use_state("unknown") is None


async def test_installations_poll_state_and_changes_read_back(storage: Storage) -> None:
    store = GitHubStore(storage.db, storage.audit)
    link = await store.link("default", 42, "mochacare", "U1")
    assert (link.installation_id, link.account) == (42, "mochacare")
    await store.link("default", 43, "mochacare", "U2")  # linked again: replaced, not doubled
    assert await store.teams_of_installation(43) == ["default"] and await store.teams_of_installation(42) == []
    await store.set_suspended(43, True)
    assert await store.installation("default") is None
    assert await store.unlink_installation(43, "github") == 1

    await store.save_poll_state("Mochacare/Web", etag='W/"1"', last_commit_at="2026-03-09T15:00:00Z")
    await store.save_poll_state("mochacare/web", etag='W/"2"')  # the commit time is kept
    assert await store.poll_state("mochacare/web") == ('W/"2"', "2026-03-09T15:00:00Z")

    change = pushed_commit("Mochacare/Web", "abc", "main", "ana", "fix", "2026-03-09T07:00:00-08:00", None, "push")
    assert await ChangeStore(storage.db).record([change, change]) == 1
    got = await ChangeStore(storage.db).between(
        datetime(2026, 3, 9, tzinfo=UTC), datetime.now(UTC), repos=["mochacare/web"]
    )
    assert [(c.ref, c.at) for c in got] == [("abc", datetime(2026, 3, 9, 15, tzinfo=UTC))]  # the offset read as UTC


async def test_the_integrations_version_follows_a_linked_installation(storage: Storage) -> None:
    team = await storage.teams.for_slack_team(None)
    before = await storage.integrations_version(team.id)  # read on both backends (numbers and text joined as text)
    await GitHubStore(storage.db, storage.audit).link("default", 42, "mochacare", "U1")
    assert await storage.integrations_version(team.id) != before


async def test_a_deferred_review_gives_its_attempt_back_and_is_due_after_its_time(storage: Storage) -> None:
    store = GitHubStore(storage.db)
    for _ in range(MAX_ATTEMPTS - 1):  # failed under rate limits all but once: it may still be claimed
        claim = await store.claim_review("default", "mochacare/web", 5, "abc", "webhook")
        assert claim is not None
        await store.finish_review(claim, "failed", error="GitHub: rate-limited until 09:00 UTC")
        row = DeferredReview("default", "Mochacare/Web", 5, "abc", "", 7001, "webhook", "2027-01-15T09:00:01.000Z")
        await store.defer_review(row)
    assert [d.deferrals for d in await store.deferred_reviews(team_id="default")] == [MAX_ATTEMPTS - 1]
    assert await store.deferred_reviews(due_by=datetime(2027, 1, 15, 9, 0, tzinfo=UTC)) == []
    [due] = await store.deferred_reviews(due_by=datetime(2027, 1, 15, 9, 0, 2, tzinfo=UTC))
    assert (due.repo, due.number, due.installation_id) == ("mochacare/web", 5, 7001)
    for _ in range(MAX_ATTEMPTS):  # the deferrals took no attempts: all of them are left
        claim = await store.claim_review("default", "mochacare/web", 5, "abc", "deferred")
        assert claim is not None
        await store.finish_review(claim, "failed", error="some other failure")
    assert await store.claim_review("default", "mochacare/web", 5, "abc", "deferred") is None
    await store.drop_deferred(due)
    assert await store.deferred_reviews() == []
