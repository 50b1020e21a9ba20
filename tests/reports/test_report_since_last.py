"""Scheduled reports say what is new since the last one, and can go one thread per day: an alert firing in the
evening report and gone by the morning is listed under "resolved since the last report"; with thread_per_day the
day's later report replies in the thread of its first (through the local Slack, as the scheduler runs them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reports.scheduler import ReportScheduler
from storage.jobs import EVENING_REPORT, MORNING_REPORT
from tests.bot.test_report_slack import REPORT_CHANNEL, World, scheduled, world  # noqa: F401 - the local Slack, Grafana, Amplitude
from tests.support import report_data as rd

EVENING_16 = datetime(2026, 2, 17, 4, tzinfo=UTC)  # 20:00 PST on the 16th
MORNING_17 = datetime(2026, 2, 17, 16, tzinfo=UTC)  # 08:00 PST on the 17th
EVENING_17 = datetime(2026, 2, 18, 4, tzinfo=UTC)  # 20:00 PST on the 17th


def text_of(message: dict) -> str:
    return "\n".join(b.get("text", {}).get("text", "") for b in message["blocks"] if isinstance(b.get("text"), dict))


async def test_an_alert_gone_by_morning_is_listed_as_resolved_and_later_reports_thread(world: World) -> None:  # noqa: F811
    rd.seed_all(world.grafana, world.amp, datetime.now(UTC))
    services = await world.services(SITREP_REPORT_CHANNEL=REPORT_CHANNEL)
    try:
        team = await services.team_for(None)
        jobs = [
            {"name": name, "time": time, "thread_per_day": True}
            for name, time in ((MORNING_REPORT, "08:00"), (EVENING_REPORT, "20:00"))
        ]
        await services.storage.config.patch(team.id, {"reports": {"jobs": jobs}}, "U0ADMIN")
        by_name = {j.name: j for j in await services.storage.jobs.list(team.id)}
        assert by_name[MORNING_REPORT].thread_per_day and by_name[EVENING_REPORT].thread_per_day
        scheduler = ReportScheduler(services.storage.jobs, scheduled(services))

        assert await scheduler.fire(by_name[EVENING_REPORT], EVENING_16) == "posted"
        evening = world.slack.messages[REPORT_CHANNEL][-1]
        assert "Since the last report" not in text_of(evening)  # nothing to compare with yet
        assert "High 5xx rate" in text_of(evening)

        for group in world.grafana.alert_groups:  # overnight the alert resolves
            for rule in group["rules"]:
                rule["state"], rule["alerts"] = "inactive", []
        assert await scheduler.fire(by_name[MORNING_REPORT], MORNING_17) == "posted"
        morning = world.slack.messages[REPORT_CHANNEL][-1]
        text = text_of(morning)
        assert "*Since the last report (20:00)*" in text
        resolved = text.split("*Alerts resolved since the last report*", 1)[1].split("*", 1)[0]
        assert "High 5xx rate" in resolved and "Slow chat" not in resolved  # the pending one never fired
        assert "Unchanged since 20:00:" in text and "error patterns" in text
        assert "thread_ts" not in morning  # the day's first report is a channel message

        assert await scheduler.fire(by_name[EVENING_REPORT], EVENING_17) == "posted"
        later = world.slack.messages[REPORT_CHANNEL][-1]
        assert later.get("thread_ts") == morning["ts"]  # a reply in the morning report's thread
        assert "*Since the last report (08:00)*" in text_of(later)
        assert "Nothing new since 08:00." in text_of(later)
        [call] = [c for c in world.slack.calls_to("chat.postMessage") if c.args.get("thread_ts")]
        assert call.args["channel"] == REPORT_CHANNEL
    finally:
        await services.close()


async def test_an_alert_investigated_and_resolved_between_two_reports_is_listed_with_how_long_it_lasted(
    world: World,  # noqa: F811
) -> None:
    """Neither report saw it firing (it fired at 23:10 and resolved at 23:33), but sitrep investigated it as it
    landed: the morning report lists it under resolved since the last report, with its duration."""
    rd.seed_all(world.grafana, world.amp, datetime.now(UTC))
    for group in world.grafana.alert_groups:  # nothing firing at either report
        for rule in group["rules"]:
            rule["state"], rule["alerts"] = "inactive", []
    services = await world.services(SITREP_REPORT_CHANNEL=REPORT_CHANNEL)
    try:
        team = await services.team_for(None)
        by_name = {j.name: j for j in await services.storage.jobs.list(team.id)}
        scheduler = ReportScheduler(services.storage.jobs, scheduled(services))
        assert await scheduler.fire(by_name[EVENING_REPORT], EVENING_16) == "posted"

        fired = EVENING_16 + timedelta(hours=3, minutes=10)
        inv, created = await services.storage.alerts.claim(
            team.id, "fp-night", fired, alert_name="Checkout errors", source="grafana", channel="C0ALERTS", thread_ts=""
        )
        assert created
        await services.storage.alerts.resolve(inv.id, fired + timedelta(minutes=23))
        await services.storage.alerts.claim(
            team.id, "fp-late", MORNING_17 + timedelta(minutes=5), alert_name="After the report", source="grafana",
            channel="C0ALERTS", thread_ts="",
        )  # fmt: skip

        assert await scheduler.fire(by_name[MORNING_REPORT], MORNING_17) == "posted"
        text = text_of(world.slack.messages[REPORT_CHANNEL][-1])
        resolved = text.split("*Alerts resolved since the last report*", 1)[1].split("*", 1)[0]
        assert "Checkout errors" in resolved and "resolved at 23:33, lasted 23 min" in resolved
        assert "After the report" not in text  # it started after the morning slot
    finally:
        await services.close()
