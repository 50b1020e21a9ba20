"""The Amplitude row and the instrumentation pull request: while no events arrive it names the pull request to
merge and deploy; on the first events it turns Ready and names the pull request that did it; a store that fails
leaves the row as it was."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest

from skills.amplitude import AmplitudeSkill
from skills.base import Credential, ReadinessStatus
from skills.http import RetryPolicy
from storage.instrumentation import InstrumentationPR
from tests.fakes.amplitude import FakeAmplitude

TODAY = date(2026, 2, 17)
PR = InstrumentationPR(
    "default", "mochacare/web", 12, "https://github.com/mochacare/web/pull/12", "sitrep/x", "c" * 40, 7, "U1", "", ""
)


@pytest.fixture
async def amp() -> AsyncIterator[FakeAmplitude]:
    async with FakeAmplitude(today=TODAY) as fake:
        yield fake


async def row_of(amp: FakeAmplitude, pr: InstrumentationPR | Exception | None):  # type: ignore[no-untyped-def]
    async def instrumented() -> InstrumentationPR | None:
        if isinstance(pr, Exception):
            raise pr
        return pr

    skill = AmplitudeSkill(
        Credential(amp.api_key, "AMPLITUDE_API_KEY"),
        Credential(amp.secret_key, "AMPLITUDE_SECRET_KEY"),
        base_url=amp.url,
        retry=RetryPolicy(attempts=1, backoff=0.0, max_wait=0.0),
        today=lambda: TODAY,
        instrumentation=instrumented,
    )
    try:
        return await skill.readiness()
    finally:
        await skill.aclose()


async def test_no_events_yet_names_the_pull_request_to_merge(amp: FakeAmplitude) -> None:
    row = await row_of(amp, PR)
    assert row.status is ReadinessStatus.BLOCKED and row.missing == "the app sends no events yet"
    assert row.next_step.startswith("merge and deploy mochacare/web#12 (https://github.com/mochacare/web/pull/12)")
    assert "AMPLITUDE_API_KEY" in row.next_step and "sitrep opened mochacare/web#12" in row.detail
    without = await row_of(amp, None)
    assert "python -m skills.amplitude snippet" in without.next_step and "mochacare/web#12" not in str(without)


async def test_the_first_events_turn_it_ready_naming_the_pull_request(amp: FakeAmplitude) -> None:
    amp.add_events("Agent Started", TODAY, 3)
    row = await row_of(amp, PR)
    assert row.status is ReadinessStatus.READY
    assert row.detail.endswith("; instrumented by mochacare/web#12 (https://github.com/mochacare/web/pull/12)")
    assert "instrumented by" not in (await row_of(amp, None)).detail


async def test_a_failing_store_leaves_the_row_as_it_was(amp: FakeAmplitude) -> None:
    row = await row_of(amp, RuntimeError("database gone"))
    assert row.status is ReadinessStatus.BLOCKED and "python -m skills.amplitude snippet" in row.next_step
