"""Where a PR review's Slack note goes: the first routing channel, else the team's report channel, which (like the
reports') falls back to SITREP_REPORT_CHANNEL when the config names none."""

from __future__ import annotations

from review.pipeline import note_channel
from settings import Settings
from storage.team_config import TeamConfig
from storage.teams import Team


def team(config: dict) -> Team:
    return Team(id="t", org_id="o", name="Team", slack_team_id=None, config=TeamConfig.model_validate(config))


def test_a_team_whose_channel_comes_only_from_the_environment_gets_its_pr_notes() -> None:
    settings = Settings.from_env({"SITREP_REPORT_CHANNEL": "C0ENV"})
    assert note_channel(team({}), settings) == "C0ENV"


def test_the_config_wins_over_the_environment_and_routing_wins_over_both() -> None:
    settings = Settings.from_env({"SITREP_REPORT_CHANNEL": "C0ENV"})
    assert note_channel(team({"reports": {"channel": "C0CONF"}}), settings) == "C0CONF"
    assert note_channel(team({"routing": {"channels": ["C0ROUTE"]}, "reports": {"channel": "C0CONF"}}), settings) == (
        "C0ROUTE"
    )


def test_no_channel_anywhere_is_none() -> None:
    assert note_channel(team({}), Settings.from_env({})) is None
