"""The config builders as pure functions: schedule and add-report modals, agent settings, the Home tab's schedule
and history sections, the menu and Test connections; within Slack's limits for any number of jobs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.blocks.agent_settings import (
    BUDGET_BLOCK,
    CODING_BLOCK,
    MODEL_BLOCK,
    PROMPT_BLOCK,
    TYPED_MODEL_BLOCK,
    agent_patch,
    agent_settings_modal,
    read_agent_settings,
)
from bot.blocks.config_menu import config_menu_modal, connections_modal, not_allowed_modal
from bot.blocks.home import home_view
from bot.blocks.home_schedule import (
    HOME_JOBS_MAX,
    JobStatus,
    LastRun,
    config_blocks,
    describe_change,
    history_blocks,
    schedule_blocks,
)
from bot.blocks.limits import view_violations
from bot.blocks.schedule import (
    MODAL_JOBS_MAX,
    SECTIONS_BLOCK,
    TIME_BLOCK,
    TZ_BLOCK,
    add_report_modal,
    job_block,
    read_new_report,
    read_schedule,
    schedule_modal,
)
from bot.slack.schedule import apply_schedule, new_report_errors, schedule_errors
from skills.base import Readiness, ReadinessStatus
from storage.audit import AuditEntry
from storage.team_config import ReportJob

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
ROWS = [Readiness(n, ReadinessStatus.READY, "", "nothing", "fine") for n in ("Slack bot", "Grafana", "Amplitude")]


def jobs(n: int) -> list[ReportJob]:
    return [ReportJob(name=f"Report {i:02d} " + "x" * 40, time=f"{i % 24:02d}:15") for i in range(n)]


def statuses(n: int) -> list[JobStatus]:
    out = []
    for i in range(n):
        last = LastRun(
            ("posted", "failed", "missed")[i % 3],
            NOW - timedelta(hours=i),
            link="https://t.slack.com/archives/C1/p1" if i % 3 == 0 else None,
            error="Slack refused chat.postMessage (not_in_channel) " * 3 if i % 3 else None,
        )
        out.append(
            JobStatus(
                name=f"Report {i:02d} " + "y" * 50,
                time="09:00",
                days="mon",
                timezone="Europe/Berlin",
                channel="C0REPORT",
                enabled=i % 4 != 0,
                window_hours=168,
                sections=("grafana", "amplitude"),
                next_run=NOW + timedelta(days=1, hours=i),
                last=last,
            )
        )
    return out


def dicts(blocks: list) -> list[dict]:
    return [b.to_dict() for b in blocks]


def change(action: str, detail: dict, actor: str = "UADMIN") -> AuditEntry:
    return AuditEntry("2026-11-30T09:59:00.000Z", "default", actor, action, detail)


def history(n: int) -> list[AuditEntry]:
    return [change("config.patch", {"patch": {"reports": {"timezone": "Europe/Berlin"}}}) for _ in range(n)]


def test_home_with_thirty_jobs_stays_within_slack_limits() -> None:
    schedule = schedule_blocks(statuses(30), "America/Los_Angeles")
    sections = [config_blocks(True), schedule, history_blocks(history(9), "UTC")]
    view = home_view(ROWS, generated_at=NOW, sections=sections)
    assert view_violations(view) == [] and len(view["blocks"]) <= 100
    body = json.dumps(view)
    assert body.count('"*Report ') == HOME_JOBS_MAX and "and 20 more (12 on)" in body
    assert body.count("2026-11-30T09:59") == 0 and body.count("Mon 30 Nov 09:59 UTC") == 5  # the last 5 changes


def test_a_job_line_says_next_run_in_the_team_zone_and_how_the_last_run_went() -> None:
    lines = [b["text"]["text"] for b in dicts(schedule_blocks(statuses(3), "America/Los_Angeles"))[1:4]]
    assert lines[0].startswith("*Report 01") and "next: Tue 01 Dec 03:00 PST" in lines[0]  # soonest first
    assert lines[2].startswith("*Report 00") and "*off*" in lines[2] and "next:" not in lines[2]  # off last
    texts = " ".join(lines)
    assert "<https://t.slack.com/archives/C1/p1|posted Mon 30 Nov 02:00 PST>" in texts
    assert "failed Mon 30 Nov 01:00 PST: Slack refused chat.postMessage (not_in_channel)" in texts
    assert "missed Mon 30 Nov 00:00 PST while sitrep was down" in texts


def test_schedule_modal_with_thirty_jobs_shows_the_first_and_names_the_rest() -> None:
    view = schedule_modal(jobs(30), channel="C0REPORT", timezone="America/Los_Angeles")
    assert view_violations(view) == []
    assert len(json.loads(view["private_metadata"])["jobs"]) == MODAL_JOBS_MAX
    assert "15 more reports are not shown" in json.dumps(view)
    form = read_schedule({}, view["private_metadata"])
    assert [e.name for e in form.jobs] == [j.name for j in jobs(30)[:MODAL_JOBS_MAX]]


def test_schedule_edits_apply_to_the_shown_jobs_only_and_errors_land_under_their_field() -> None:
    current = jobs(3)
    view = schedule_modal(current[:2], channel=None, timezone="UTC")
    state = {
        TZ_BLOCK: {"value": {"value": "UTC"}},
        job_block(0, TIME_BLOCK): {"value": {"selected_time": "18:30"}},
        job_block(0, "timezone"): {"value": {"value": "Europe/Berlin"}},
        job_block(0, SECTIONS_BLOCK): {"value": {"selected_options": [{"value": "on"}, {"value": "grafana"}]}},
        job_block(1, TIME_BLOCK): {"value": {"selected_time": "07:00"}},
        job_block(1, "timezone"): {"value": {"value": "UTC"}},
        job_block(1, SECTIONS_BLOCK): {"value": {"selected_options": [{"value": "amplitude"}]}},
    }
    form = read_schedule(state, view["private_metadata"])
    assert schedule_errors(form) == {}
    moved, second, untouched = apply_schedule(current, form)
    assert (moved.time, moved.timezone, moved.enabled, moved.sections) == ("18:30", "Europe/Berlin", True, ["grafana"])
    assert (second.time, second.timezone, second.enabled) == ("07:00", None, False)
    assert untouched == current[2]

    state[TZ_BLOCK] = {"value": {"value": "Pacific/Atlantis"}}
    state[job_block(1, SECTIONS_BLOCK)] = {"value": {"selected_options": [{"value": "on"}]}}
    errors = schedule_errors(read_schedule(state, view["private_metadata"]))
    assert set(errors) == {TZ_BLOCK, job_block(1, SECTIONS_BLOCK)}


def test_add_report_defaults_to_a_weekly_digest_and_checks_its_fields() -> None:
    view = add_report_modal(timezone="Europe/Berlin")
    assert view_violations(view) == []
    state = {
        b["block_id"]: {"value": {k: v for k, v in b["element"].items() if k.startswith("initial")}}
        for b in view["blocks"]
        if b["type"] == "input"
    }
    state = {
        "name": {"value": {"value": state["name"]["value"]["initial_value"]}},
        "days": {"value": {"selected_option": state["days"]["value"]["initial_option"]}},
        "time": {"value": {"selected_time": state["time"]["value"]["initial_time"]}},
        "timezone": {"value": {"value": state["timezone"]["value"]["initial_value"]}},
        "window": {"value": {"selected_option": state["window"]["value"]["initial_option"]}},
        "sections": {"value": {"selected_options": state["sections"]["value"]["initial_options"]}},
    }
    report = read_new_report(state)
    assert (report.name, report.days, report.time, report.window_hours) == ("Weekly digest", "mon", "09:00", 168)
    assert report.sections == ["grafana", "amplitude"] and report.channel is None
    assert new_report_errors(report, jobs(2)) == {}
    taken = [ReportJob(name="weekly DIGEST", time="08:00")]
    assert set(new_report_errors(report, taken)) == {"name"}


CHOICES = ("claude-opus-5-5", "claude-sonnet-5-5", "claude-haiku-5-5")


def test_agent_settings_modal_and_its_patch() -> None:
    view = agent_settings_modal(
        prompt="Be brief.", coding=False, model=None, default_model="claude-sonnet-5-5", choices=CHOICES
    )
    assert view_violations(view) == []
    model = next(b for b in view["blocks"] if b.get("block_id") == MODEL_BLOCK)["element"]
    assert model["initial_option"]["text"]["text"] == "claude-sonnet-5-5 (default)" and len(model["options"]) == 3
    prompt = next(b for b in view["blocks"] if b.get("block_id") == PROMPT_BLOCK)["element"]
    assert prompt["multiline"] is True and prompt["max_length"] == 3000
    long = agent_settings_modal(prompt="p" * 3001, coding=False, model=None, default_model="claude-sonnet-5-5")
    assert view_violations(long) == [] and "3001 characters" in json.dumps(long)
    assert read_agent_settings({}).prompt is None  # no prompt field: the stored prompt stays as it is
    state = {
        PROMPT_BLOCK: {"value": {"value": "Be brief. "}},
        CODING_BLOCK: {"value": {"selected_options": [{"value": "on"}]}},
        MODEL_BLOCK: {"value": {"selected_option": {"value": "claude-sonnet-5-5"}}},
    }
    current = {"prompt": "Be brief.", "coding": False, "model": None, "default_model": "claude-sonnet-5-5"}
    assert agent_patch(read_agent_settings(state), **current) == {"agents": {"coding": {"enabled": True}}}
    back_to_default = {**current, "model": "claude-haiku-5-5", "coding": True}
    assert agent_patch(read_agent_settings(state), **back_to_default) == {"agents": {"model": None}}


def test_a_typed_model_id_wins_over_the_list_and_the_budget_is_a_whole_number() -> None:
    view = agent_settings_modal(prompt="", coding=False, model=None, default_model="llama3.1:8b", budget=200_000)
    assert view_violations(view) == []
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert len(blocks[MODEL_BLOCK]["element"]["options"]) == 1  # a compatible server: no list but the default
    assert blocks[TYPED_MODEL_BLOCK]["optional"] and blocks[TYPED_MODEL_BLOCK]["element"]["type"] == "plain_text_input"
    assert blocks[BUDGET_BLOCK]["element"] | {} == {
        "type": "number_input",
        "action_id": "value",
        "is_decimal_allowed": False,
        "min_value": "1",
        "initial_value": "200000",
    }
    state = {
        MODEL_BLOCK: {"value": {"selected_option": {"value": "llama3.1:8b"}}},
        TYPED_MODEL_BLOCK: {"value": {"value": " qwen3-coder:30b "}},
        BUDGET_BLOCK: {"value": {"value": "500000"}},
    }
    current = {"prompt": "", "coding": False, "model": None, "default_model": "llama3.1:8b", "budget": 200_000}
    form = read_agent_settings(state)
    assert form.typed and form.model == "qwen3-coder:30b"
    assert agent_patch(form, **current) == {"agents": {"model": "qwen3-coder:30b", "daily_token_budget": 500_000}}
    cleared = {**state, TYPED_MODEL_BLOCK: {"value": {"value": None}}, BUDGET_BLOCK: {"value": {"value": None}}}
    assert agent_patch(read_agent_settings(cleared), **current) == {"agents": {"daily_token_budget": None}}


def test_history_masks_secrets_and_names_who_changed_what() -> None:
    entries = [
        change("credential.set", {"credential": "grafana.token", "value": "set, ends in …1234"}),
        change("config.patch", {"patch": {"agents": {"planner": {"prompt": {"system": "token glsa_abc123456"}}}}}),
        change("config.patch", {"patch": {"reports": {"channel": "C0REPORT", "jobs": [{"name": "A"}]}}}, "admin-api"),
        change("jobs.seed", {"job": "Morning report"}, "system"),
    ]
    lines = [b["elements"][0]["text"] for b in dicts(history_blocks(entries, "UTC"))[1:]]
    assert lines[0].endswith("<@UADMIN> · `grafana.token` set, ends in …1234")
    assert "`agents.planner.prompt.system` → set (20 characters)" in lines[1] and "glsa_" not in lines[1]
    assert "the admin API · `reports.channel` → <#C0REPORT>; `reports.jobs` → 1 reports (A)" in lines[2]
    assert len(lines) == 3  # job seeding is sitrep's own bookkeeping, not a config change
    assert describe_change(change("credential.delete", {"credential": "amplitude.api_key"})) == (
        "`amplitude.api_key` removed"
    )


def test_menu_not_allowed_and_connections_modals_are_valid() -> None:
    rows = [(r, 0.0123 * (i + 1)) for i, r in enumerate(ROWS)] + [
        (Readiness("GitHub", ReadinessStatus.BLOCKED, "no app", "create one"), 2.5)
    ]
    for view in (config_menu_modal(), not_allowed_modal(("U1", "U2")), connections_modal(rows)):
        assert view_violations(view) == []
    body = json.dumps(connections_modal(rows))
    assert "12 ms" in body and "2.5 s" in body and "*Missing:* no app" in body
    assert "<@U1>, <@U2>" in json.dumps(not_allowed_modal(("U1", "U2")))
    read_only = config_blocks(False)
    assert len(read_only) == 1 and "Read-only" in json.dumps(read_only[0].to_dict())
