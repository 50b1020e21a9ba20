from agent.services import Services
from bot.readiness import readiness_table, slack_readiness
from bot.runtime import Runtime
from settings import Settings
from skills.base import ReadinessStatus
from storage.teams import DEFAULT_TEAM_ID


async def test_table_has_the_five_rows_in_order_then_the_database(services: Services) -> None:
    team = await services.team_for(None)
    rows = await readiness_table(Runtime(services), team)
    names = [r.integration for r in rows]
    assert names == ["Slack bot", "Scheduled reports", "Grafana", "Amplitude", "GitHub", "Database"]


async def test_rows_follow_stored_config(services: Services) -> None:
    team = await services.team_for(None)
    rows = {r.integration: r for r in await readiness_table(Runtime(services), team)}
    assert rows["Scheduled reports"].status is ReadinessStatus.NOT_CONFIGURED
    assert rows["GitHub"].status is ReadinessStatus.NOT_CONFIGURED

    team = await services.storage.config.patch(
        DEFAULT_TEAM_ID, {"reports": {"channel": "C0ADZHLL76V"}, "routing": {"github_repos": ["acme/app"]}}, "U1"
    )
    rows = {r.integration: r for r in await readiness_table(Runtime(services), team)}
    assert rows["Scheduled reports"].status is not ReadinessStatus.NOT_CONFIGURED


def test_slack_row_by_token_state() -> None:
    assert slack_readiness(Settings.from_env({}), None).status is ReadinessStatus.NOT_CONFIGURED
    partial = slack_readiness(Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1"}), None)
    assert partial.status is ReadinessStatus.BLOCKED and "SLACK_APP_TOKEN" in partial.missing
    ready = slack_readiness(Settings.from_env({}), {"user": "sitrep", "team": "MochaCare"})
    assert ready.ready and "MochaCare" in ready.detail
