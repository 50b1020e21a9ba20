"""One model rule for every Claude call: the team's choice (Agent settings, `agents.model`), else SITREP_MODEL.
Answers, report summaries, alert investigations and pull-request reviews all ask the same model."""

from __future__ import annotations

from pathlib import Path

from agent import summarize
from agent.model_client import model_for
from review.pipeline import review_pull
from tests.alerts.test_alerts_desk import CHANNEL, _notification, desk_world
from tests.fakes.anthropic import FakeAnthropic, text
from tests.support.agent_world import MODEL, world
from tests.support.github_world import REPO, route_pull_files

TEAM_MODEL = "claude-haiku-5-5"


def keyed(model: FakeAnthropic) -> dict[str, str]:
    return {"ANTHROPIC_API_KEY": model.api_key, "ANTHROPIC_BASE_URL": model.url, "SITREP_MODEL": MODEL}


async def test_the_rule_is_the_teams_choice_else_sitrep_model(tmp_path: Path) -> None:
    async with world(tmp_path, serve_slack=False) as w:
        team = await w.services.team_for(None)
        assert model_for(w.settings, team) == MODEL
        team = await w.services.storage.config.patch(team.id, {"agents": {"model": TEAM_MODEL}}, "UADMIN")
        assert model_for(w.settings, team) == TEAM_MODEL
        w.model.script(text("All quiet."))
        await summarize(w.services, team, "Errors: 0.")
        assert [r.body["model"] for r in w.model.answered] == [TEAM_MODEL]


async def test_alert_investigations_follow_the_teams_model(tmp_path: Path) -> None:
    async with FakeAnthropic() as model, desk_world(tmp_path, **keyed(model)) as (w, _slack, desk, starts):
        await w.services.storage.config.patch("default", {"agents": {"model": TEAM_MODEL}}, "UADMIN")
        model.script(text("*High error rate*: timeouts."))
        await desk.handle(await w.team(), _notification(starts), channel=CHANNEL)
        await desk.settle()
        assert model.answered and {r.body["model"] for r in model.answered} == {TEAM_MODEL}


async def test_pull_request_reviews_follow_the_teams_model(tmp_path: Path) -> None:
    async with FakeAnthropic() as model, desk_world(tmp_path, **keyed(model)) as (w, _slack, _desk, _starts):
        await w.services.storage.config.patch("default", {"agents": {"model": TEAM_MODEL}}, "UADMIN")
        pr = w.github.add_pull(REPO, 85, route_pull_files())
        model.script(text("Low risk."))
        out = await review_pull(w.services, await w.team(), REPO, 85, head_sha=pr.head_sha)
        assert out.planner == "claude", out.reason
        assert {r.body["model"] for r in model.answered} == {TEAM_MODEL}
