"""The GitHub readiness row: ready needs valid App credentials, a linked installation and a routed repo; when
blocked it names the missing piece and the next step; it says webhook or polling mode and why; and activity."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from pydantic import SecretStr

from bot.readiness import readiness_table
from bot.runtime import Runtime
from review.pipeline import review_pull
from settings import Settings
from skills.base import Readiness, ReadinessStatus
from skills.github.skill import GitHubSkill
from storage.github import GitHubStore
from tests.support.github_world import INSTALLATION, REPO, World, github_world, route_pull_files


async def row_of(w: World) -> Readiness:
    return {r.integration: r for r in await readiness_table(Runtime(w.services), await w.team())}["GitHub"]


async def test_not_configured_names_the_variables() -> None:
    row = await GitHubSkill(Settings.from_env({})).readiness()
    assert row.status is ReadinessStatus.NOT_CONFIGURED
    assert "GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY" in row.missing and "no SITREP_PUBLIC_URL" in row.detail


async def test_blocked_rows_name_the_missing_piece(tmp_path: Path) -> None:
    async with github_world(tmp_path, link=False, route=False) as w:
        row = await row_of(w)
        assert row.status is ReadinessStatus.BLOCKED and "no installation linked" in row.missing
        assert "Link GitHub" in row.next_step
        await GitHubStore(w.services.storage.db).link("default", INSTALLATION, "mochacare", "t")
        row = await row_of(w)
        assert row.status is ReadinessStatus.BLOCKED and "no repository routed" in row.missing
        await GitHubStore(w.services.storage.db).link("default", 999, "gone", "t")
        await w.services.storage.config.patch("default", {"routing": {"github_repos": [REPO]}}, "t")
        row = await row_of(w)
        assert row.status is ReadinessStatus.BLOCKED and "999 no longer exists" in row.missing


async def test_wrong_key_is_blocked_with_the_variable_to_fix(tmp_path: Path) -> None:
    async with github_world(tmp_path) as w:
        from tests.support.github_world import new_key

        w.services = replace(
            w.services,
            settings=w.services.settings.model_copy(update={"github_app_private_key": SecretStr(new_key()[1])}),
        )
        row = await GitHubSkill(w.services.settings, repos=[REPO]).readiness()
        assert row.status is ReadinessStatus.BLOCKED and "401" in row.missing
        assert "GITHUB_APP_PRIVATE_KEY" in row.next_step


async def test_ready_says_the_mode_and_the_review_activity(tmp_path: Path) -> None:
    async with github_world(tmp_path, SITREP_PUBLIC_URL="https://sitrep.example.com") as w:
        row = await row_of(w)
        assert row.status is ReadinessStatus.READY
        assert "webhook mode: GitHub sends events to https://sitrep.example.com/github/webhook" in row.detail
        assert "no review posted yet" in row.detail
        pr = w.github.add_pull(REPO, 61, route_pull_files())
        await review_pull(w.services, await w.team(), REPO, 61, head_sha=pr.head_sha)
        row = await row_of(w)
        assert f"last review {REPO}#61" in row.detail and "1 review in the last 7 days" in row.detail


async def test_public_url_without_secret_polls_and_says_why(tmp_path: Path) -> None:
    settings = Settings.from_env({"SITREP_PUBLIC_URL": "https://x.example.com/", "GITHUB_APP_ID": "1"})
    row = await GitHubSkill(settings).readiness()
    assert "GITHUB_WEBHOOK_SECRET is not" in row.detail and settings.public_url == "https://x.example.com"


async def test_a_loopback_public_url_polls() -> None:
    from skills.github.skill import webhook_mode

    env = {"SITREP_PUBLIC_URL": "http://localhost:3000", "GITHUB_WEBHOOK_SECRET": "s3cret-value"}
    settings = Settings.from_env(env)
    assert not webhook_mode(settings)
    assert "loopback" in (await GitHubSkill(settings).readiness()).detail
    assert webhook_mode(Settings.from_env({**env, "SITREP_PUBLIC_URL": "https://sitrep.example.com"}))
