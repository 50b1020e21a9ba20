"""The Alert investigations modal clicked through the local Slack: an admin changes `alerts.*` (a public channel
is joined, a private one sitrep is not in is a field error and nothing is stored); a non-admin sees the settings
read-only and a forged submission of theirs stores nothing."""

from __future__ import annotations

from bot.blocks.alert_settings import CHANNELS_BLOCK, ONLY, SCOPE_BLOCK, UNKNOWN_BLOCK, WEBHOOK_BLOCK
from bot.blocks.config_menu import ALERTS_ACTION
from storage.teams import DEFAULT_TEAM_ID
from tests.bot.blocks.test_blocks_alert_settings import state_of
from tests.bot.slack.test_slack_config import ADMIN, MEMBER, REPORT, SECRET, WEEKLY, World, press, submit, text, world

__all__ = ["world"]  # the fixture, shared with tests/bot/slack/test_slack_config.py


async def alerts_config(w: World) -> dict:
    team = await w.services.team_for(None)
    assert team.id == DEFAULT_TEAM_ID
    return team.config.alerts.model_dump()


async def test_an_admin_narrows_alerts_to_channels_and_a_public_one_is_joined(world: World) -> None:
    view = await press(world.slack, ADMIN, ALERTS_ACTION)
    assert view.get("submit") and "Investigate alert notifications" in str(view)
    state = state_of(view)
    state[SCOPE_BLOCK]["value"]["selected_option"] = {"value": ONLY}
    state[CHANNELS_BLOCK]["value"]["selected_conversations"] = [REPORT, WEEKLY]
    state[WEBHOOK_BLOCK]["value"]["selected_conversation"] = REPORT
    state[UNKNOWN_BLOCK]["value"]["selected_options"] = []
    answer = await submit(world.slack, ADMIN, view, state)
    assert answer.get("response_action") == "update", answer
    shown = text(answer["view"])
    assert "Saved" in shown and "`alerts.channels`" in shown and f"Joined <#{WEEKLY}>" in shown
    stored = await alerts_config(world)
    assert stored["channels"] == [REPORT, WEEKLY] and stored["channel"] == REPORT
    assert stored["unknown_format_reply"] is False
    assert world.slack.channels[WEEKLY]["is_member"] is True  # joined: sitrep now receives its messages


async def test_a_private_channel_sitrep_is_not_in_is_flagged_and_nothing_is_stored(world: World) -> None:
    before = await alerts_config(world)
    view = await press(world.slack, ADMIN, ALERTS_ACTION)
    state = state_of(view)
    state[SCOPE_BLOCK]["value"]["selected_option"] = {"value": ONLY}
    state[CHANNELS_BLOCK]["value"]["selected_conversations"] = [REPORT, SECRET]
    answer = await submit(world.slack, ADMIN, view, state)
    assert answer.get("response_action") == "errors"
    error = answer["errors"][CHANNELS_BLOCK]
    assert f"<#{SECRET}>" in error and "private" in error and "/invite @sitrep" in error
    assert await alerts_config(world) == before
    assert not world.slack.calls_to("conversations.join")


async def test_a_non_admin_sees_the_settings_read_only_and_cannot_store(world: World) -> None:
    view = await press(world.slack, MEMBER, ALERTS_ACTION)
    assert "submit" not in view and "Read-only" in str(view) and "*Alert investigations:* on" in text(view)
    before = await alerts_config(world)
    form = state_of(await press(world.slack, ADMIN, ALERTS_ACTION))
    form[UNKNOWN_BLOCK]["value"]["selected_options"] = []
    answer = await submit(world.slack, MEMBER, {"type": "modal", "callback_id": "alert_settings_submit"}, form)
    assert answer.get("response_action") == "update" and "nothing was changed" in text(answer["view"])
    assert await alerts_config(world) == before
