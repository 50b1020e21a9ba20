"""The review ledger: one claim per head across two connections (two processes), failed reviews retried a few
times, delivery de-duplication, single-use states."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from settings import Settings
from storage.db import Database
from storage.github import MAX_ATTEMPTS, GitHubStore
from storage.services import Storage


async def test_two_processes_claim_a_head_once(storage: Storage, settings: Settings) -> None:
    other = await Database.open(settings.db_path)
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
