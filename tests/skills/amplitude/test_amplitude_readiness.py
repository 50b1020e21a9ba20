"""Amplitude's readiness row in its four states (and a slow server), and how the skill finds its keys and region."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import fields
from datetime import date, timedelta

import pytest

from settings import Settings
from skills.amplitude import AmplitudeSkill, open_skill
from skills.base import Credential, Readiness, ReadinessStatus, SkillContext
from skills.http import RetryPolicy
from storage.services import Storage
from storage.team_config import TeamConfig
from storage.teams import Team
from tests.fakes.amplitude import FakeAmplitude

TODAY = date(2026, 2, 17)


def make_skill(amp: FakeAmplitude, *, secret: str | None = None, **kw) -> AmplitudeSkill:
    return AmplitudeSkill(
        Credential(amp.api_key, "AMPLITUDE_API_KEY"),
        Credential(secret or amp.secret_key, "AMPLITUDE_SECRET_KEY"),
        base_url=amp.url,
        retry=RetryPolicy(attempts=2, backoff=0.0, max_wait=0.0),
        today=lambda: TODAY,
        **kw,
    )


async def readiness_of(amp: FakeAmplitude, **kw) -> Readiness:
    skill = make_skill(amp, **kw)
    try:
        return await skill.readiness()
    finally:
        await skill.aclose()


@pytest.fixture
async def amp() -> AsyncIterator[FakeAmplitude]:
    async with FakeAmplitude(today=TODAY) as fake:
        yield fake


async def test_not_configured_names_the_variables() -> None:
    skill = AmplitudeSkill(Credential(None, "AMPLITUDE_API_KEY"), Credential(None, "AMPLITUDE_SECRET_KEY"))
    row = await skill.readiness()
    assert not skill.configured
    assert row.integration == "Amplitude" and row.status is ReadinessStatus.NOT_CONFIGURED
    assert row.missing == "AMPLITUDE_API_KEY and AMPLITUDE_SECRET_KEY"
    assert "AMPLITUDE_API_KEY" in row.next_step and "Home tab" in row.next_step
    half = AmplitudeSkill(Credential("key-123456", "AMPLITUDE_API_KEY"), Credential(None, "AMPLITUDE_SECRET_KEY"))
    assert (await half.readiness()).missing == "AMPLITUDE_SECRET_KEY"


async def test_rejected_credentials(amp: FakeAmplitude) -> None:
    row = await readiness_of(amp, secret="not-the-secret")
    assert row.status is ReadinessStatus.BLOCKED
    assert row.missing == "credentials rejected"
    assert "AMPLITUDE_API_KEY" in row.next_step and "AMPLITUDE_SECRET_KEY" in row.next_step
    assert "not-the-secret" not in f"{row}"


async def test_no_events_yet(amp: FakeAmplitude) -> None:
    row = await readiness_of(amp)
    assert row.status is ReadinessStatus.BLOCKED
    assert row.missing == "the app sends no events yet"
    assert "Agent Started" in row.next_step and "python -m skills.amplitude snippet" in row.next_step
    assert row.detail == "no events in the last 7 days"
    if "actions" in {f.name for f in fields(Readiness)}:
        assert row.actions == ("amplitude_snippet",)
    assert amp.requests_to("/api/2/events/segmentation") == []  # nothing defined: no need to ask further


async def test_idle_event_types_are_checked_with_one_cheap_segmentation(amp: FakeAmplitude) -> None:
    amp.define_event("Agent Started")
    amp.add_events("Agent Failed", TODAY - timedelta(days=30), 5)  # long ago
    row = await readiness_of(amp)
    assert row.status is ReadinessStatus.BLOCKED and row.missing == "the app sends no events yet"
    assert "2 event types defined but idle" in row.detail
    (req,) = amp.requests_to("/api/2/events/segmentation")
    assert req.e == {"event_type": "_all"} and (req.query["start"], req.query["end"]) == ("20260211", "20260217")


async def test_events_flowing(amp: FakeAmplitude) -> None:
    amp.add_events("Agent Started", TODAY, 5)
    amp.add_events("Agent Completed", TODAY - timedelta(days=2), 4)
    amp.define_event("Agent Timeout")
    amp.add_events("Hidden Event", TODAY, 100)
    amp.define_event("Hidden Event", hidden=True)
    row = await readiness_of(amp)
    assert row.status is ReadinessStatus.READY and row.ready
    assert row.detail == "events flowing: 2 event types, 9 events this week"


async def test_events_in_the_last_7_days_but_not_this_week(amp: FakeAmplitude) -> None:
    amp.add_events("Agent Started", TODAY - timedelta(days=1), 6)
    amp.today = TODAY + timedelta(days=7)  # Amplitude's "this week" has just begun
    row = await readiness_of(amp)
    assert row.status is ReadinessStatus.READY
    assert row.detail == "events flowing: 1 event type, 6 events in the last 7 days"


async def test_slow_amplitude_is_blocked_within_the_timeout() -> None:
    async with FakeAmplitude(today=TODAY, delay=2.0) as amp:
        row = await readiness_of(amp, readiness_timeout=0.2)
    assert row.status is ReadinessStatus.BLOCKED
    assert row.missing == "Amplitude did not answer within 0.2 s"


async def test_rate_limited_readiness_is_blocked_with_the_limit(amp: FakeAmplitude) -> None:
    amp.inject_429("Exceeded concurrent limit.", times=5, retry_after="0")
    row = await readiness_of(amp)
    assert row.status is ReadinessStatus.BLOCKED and "concurrent request limit" in row.missing


# -- how open_skill finds keys, region and base URL ----------------------------------------------------------


def context(settings: Settings, config: TeamConfig | None = None, storage: Storage | None = None) -> SkillContext:
    team = Team("default", "default", "Default team", None, config or TeamConfig())
    return SkillContext(
        settings=settings, team=team, credentials=storage.credentials if storage else None, storage=storage
    )


async def test_keys_and_region_from_the_environment(env: dict[str, str]) -> None:
    settings = Settings.from_env(
        {**env, "AMPLITUDE_API_KEY": "env-api-key-1", "AMPLITUDE_SECRET_KEY": "env-secret-1", "AMPLITUDE_REGION": "eu"}
    )
    skill = await open_skill(context(settings))
    assert skill.configured and skill.region == "eu"
    assert skill.base_url == "https://analytics.eu.amplitude.com"
    assert skill.secrets() == ["env-api-key-1", "env-secret-1"]
    assert skill.key_sources() == ["AMPLITUDE_API_KEY", "AMPLITUDE_SECRET_KEY"]
    assert [t.name for t in skill.tools()] == [
        "query_events",
        "get_user_activity",
        "get_chart_annotations",
        "list_events",
    ]
    await skill.aclose()


async def test_team_config_region_and_url_override(env: dict[str, str]) -> None:
    settings = Settings.from_env(env)
    skill = await open_skill(context(settings, TeamConfig.model_validate({"amplitude": {"region": "eu"}})))
    assert (skill.region, skill.base_url, skill.configured) == ("eu", "https://analytics.eu.amplitude.com", False)
    overridden = Settings.from_env({**env, "AMPLITUDE_API_URL": "http://127.0.0.1:9/"})
    assert (await open_skill(context(overridden))).base_url == "http://127.0.0.1:9"


async def test_stored_credentials_win(settings: Settings, storage: Storage) -> None:
    env_settings = Settings.from_env(
        {
            "SITREP_DB": str(settings.db_path),
            "SITREP_SECRET_KEY": Settings.reveal(settings.secret_key) or "",
            "AMPLITUDE_API_KEY": "env-api-key-1",
            "AMPLITUDE_SECRET_KEY": "env-secret-1",
        }
    )
    for name, value in (("api_key", "stored-api-key"), ("secret_key", "stored-secret"), ("region", "eu")):
        await storage.credentials.set("default", "amplitude", name, value, "test")
    team_us = TeamConfig.model_validate({"amplitude": {"region": "us"}})
    skill = await open_skill(context(env_settings, team_us, storage))
    assert skill.secrets() == ["stored-api-key", "stored-secret"]
    assert skill.region == "eu"  # the stored region wins over the team config
    assert "stored in sitrep" in skill.key_sources()[0]


async def test_stored_keys_rejected_name_where_they_came_from(amp: FakeAmplitude) -> None:
    skill = AmplitudeSkill(
        Credential("stored-api-key", "the amplitude api_key stored in sitrep (Home tab)"),
        Credential("stored-secret", "the amplitude secret_key stored in sitrep (Home tab)"),
        base_url=amp.url,
    )
    row = await skill.readiness()
    await skill.aclose()
    assert row.missing == "credentials rejected" and "stored in sitrep" in row.next_step
