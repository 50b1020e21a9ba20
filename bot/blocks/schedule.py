"""The Reports & schedule modal and the Add a report modal: pure builders, and what a submission says.

Block ids are stable so validation errors land under the right field (`response_action: errors`). Jobs are
addressed by their position in `private_metadata`'s list of names, which is what the modal showed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    ConversationSelectElement,
    DividerBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
    TimePickerElement,
)
from slack_sdk.models.blocks.block_elements import ConversationFilter
from slack_sdk.models.views import View

from storage.team_config import ReportJob
from text.mrkdwn import escape, truncate

SCHEDULE_CALLBACK = "schedule_submit"
ADD_REPORT_CALLBACK = "add_report_submit"
ADD_REPORT_ACTION = "config_add_report"
MODAL_JOBS_MAX = 15  # 4 blocks each: well inside a modal's 100 blocks

CHANNEL_BLOCK, TZ_BLOCK = "report_channel", "team_timezone"
NAME_BLOCK, DAYS_BLOCK, TIME_BLOCK, WINDOW_BLOCK, SECTIONS_BLOCK = "name", "days", "time", "window", "sections"
JOB_TZ_BLOCK, JOB_CHANNEL_BLOCK = "timezone", "channel"
ON = "on"
THREAD = "thread_per_day"

SECTION_LABELS = {"grafana": "Grafana", "amplitude": "Amplitude"}
DAY_LABELS = {
    "daily": "every day",
    "weekdays": "Monday to Friday",
    "mon": "Mondays",
    "tue": "Tuesdays",
    "wed": "Wednesdays",
    "thu": "Thursdays",
    "fri": "Fridays",
    "sat": "Saturdays",
    "sun": "Sundays",
}
WINDOWS = {12: "12 h vs the 12 h before", 24: "24 h vs the day before", 168: "7 days vs the 7 days before"}
CHANNELS = ConversationFilter(include=["public", "private"], exclude_bot_users=True)


def job_block(index: int, what: str) -> str:
    return f"job_{index}_{what}"


def window_text(hours: int) -> str:
    return WINDOWS.get(hours) or f"{hours} h vs the {hours} h before"


def job_summary(job: ReportJob, team_channel: str | None) -> str:
    channel = job.channel or team_channel
    where = f"<#{channel}>" if channel else "no channel yet"
    state = "" if job.enabled else " · *off*"
    return f"*{escape(job.name)}* · {DAY_LABELS[job.days]} · {window_text(job.window_hours)} · {where}{state}"


def _options(labels: Mapping[str, str]) -> list[Option]:
    return [Option(value=value, text=label) for value, label in labels.items()]


def _section_boxes(
    selected: Sequence[str], *, with_on: bool | None = None, thread: bool | None = None
) -> CheckboxesElement:
    labels = {ON: "Post this report"} if with_on is not None else {}
    labels |= {key: f"{label} section" for key, label in SECTION_LABELS.items()}
    if thread is not None:
        labels[THREAD] = "One thread per day (later reports of the day reply to the first)"
    options = _options(labels)
    chosen = set(selected) | ({ON} if with_on else set()) | ({THREAD} if thread else set())
    initial = [o for o in options if o.value in chosen]
    return CheckboxesElement(action_id="value", options=options, initial_options=initial or None)


def schedule_modal(
    jobs: Sequence[ReportJob],
    *,
    channel: str | None,
    timezone: str,
) -> dict:
    """Report channel, team time zone, and per report: time, time zone, on/off, sections."""
    shown = list(jobs[:MODAL_JOBS_MAX])
    blocks: list = [
        SectionBlock(
            text=MarkdownTextObject(
                text="Reports post to the report channel unless they name their own. sitrep joins a public channel "
                "by itself; for a private one, type `/invite @sitrep` there first."
            )
        ),
        InputBlock(
            block_id=CHANNEL_BLOCK,
            label="Report channel",
            element=ConversationSelectElement(action_id="value", initial_conversation=channel, filter=CHANNELS),
            optional=True,
        ),
        InputBlock(
            block_id=TZ_BLOCK,
            label="Team time zone",
            element=PlainTextInputElement(action_id="value", initial_value=timezone, max_length=64),
            hint="An IANA name, like America/Los_Angeles or Europe/Berlin. The Home tab shows times in it.",
        ),
    ]
    for i, job in enumerate(shown):
        blocks += [
            DividerBlock(),
            SectionBlock(text=MarkdownTextObject(text=truncate(job_summary(job, channel), 3000))),
            InputBlock(
                block_id=job_block(i, TIME_BLOCK),
                label=truncate(f"{job.name}: time", 2000),
                element=TimePickerElement(action_id="value", initial_time=job.time),
            ),
            InputBlock(
                block_id=job_block(i, JOB_TZ_BLOCK),
                label=truncate(f"{job.name}: time zone", 2000),
                element=PlainTextInputElement(action_id="value", initial_value=job.timezone or timezone, max_length=64),
            ),
            InputBlock(
                block_id=job_block(i, SECTIONS_BLOCK),
                label=truncate(f"{job.name}: posts, with", 2000),
                element=_section_boxes(job.sections, with_on=job.enabled, thread=job.thread_per_day),
                optional=True,
            ),
        ]
    blocks.append(ActionsBlock(elements=[ButtonElement(text="Add a report", action_id=ADD_REPORT_ACTION, value="add")]))
    if len(jobs) > len(shown):
        rest = ", ".join(job.name for job in jobs[len(shown) :])
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=truncate(
                            f"{len(jobs) - len(shown)} more reports are not shown here and stay as they are: "
                            f"{escape(rest)}. Change them with `python app.py config patch`.",
                            2000,
                        )
                    )
                ]
            )
        )
    return View(
        type="modal",
        callback_id=SCHEDULE_CALLBACK,
        private_metadata=json.dumps({"jobs": [job.name for job in shown]}),
        title="Reports & schedule",
        submit="Save",
        close="Cancel",
        blocks=blocks,
    ).to_dict()


def add_report_modal(*, timezone: str, default: ReportJob | None = None) -> dict:
    """A new scheduled report; the defaults are a weekly Monday digest over 7 days vs the previous 7."""
    job = default or ReportJob(name="Weekly digest", time="09:00", days="mon", window_hours=168)
    day_options, window_options = _options(DAY_LABELS), _options({str(h): t for h, t in WINDOWS.items()})
    blocks: list = [
        InputBlock(
            block_id=NAME_BLOCK,
            label="Name",
            element=PlainTextInputElement(action_id="value", initial_value=job.name, max_length=60),
        ),
        InputBlock(
            block_id=DAYS_BLOCK,
            label="Runs on",
            element=StaticSelectElement(
                action_id="value",
                options=day_options,
                initial_option=next(o for o in day_options if o.value == job.days),
            ),
        ),
        InputBlock(
            block_id=TIME_BLOCK,
            label="At",
            element=TimePickerElement(action_id="value", initial_time=job.time),
        ),
        InputBlock(
            block_id=JOB_TZ_BLOCK,
            label="Time zone",
            element=PlainTextInputElement(action_id="value", initial_value=job.timezone or timezone, max_length=64),
        ),
        InputBlock(
            block_id=WINDOW_BLOCK,
            label="Covers",
            element=StaticSelectElement(
                action_id="value",
                options=window_options,
                initial_option=next((o for o in window_options if o.value == str(job.window_hours)), None),
            ),
        ),
        InputBlock(
            block_id=JOB_CHANNEL_BLOCK,
            label="Channel",
            element=ConversationSelectElement(action_id="value", initial_conversation=job.channel, filter=CHANNELS),
            hint="Leave empty to post in the report channel.",
            optional=True,
        ),
        InputBlock(
            block_id=SECTIONS_BLOCK,
            label="Sections",
            element=_section_boxes(job.sections),
            optional=True,
        ),
    ]
    return View(
        type="modal",
        callback_id=ADD_REPORT_CALLBACK,
        title="Add a report",
        submit="Add",
        close="Back",
        blocks=blocks,
    ).to_dict()


# -- what a submission says ----------------------------------------------------------------------------------


@dataclass
class JobEdit:
    name: str
    time: str | None
    timezone: str
    enabled: bool
    sections: list[str]
    thread_per_day: bool = False


@dataclass
class ScheduleForm:
    channel: str | None
    timezone: str
    jobs: list[JobEdit] = field(default_factory=list)


def _value(state: Mapping[str, Any], block_id: str) -> dict:
    return dict((state.get(block_id) or {}).get("value") or {})


def _text(state: Mapping[str, Any], block_id: str) -> str:
    return str(_value(state, block_id).get("value") or "").strip()


def _checked(state: Mapping[str, Any], block_id: str) -> list[str]:
    return [str(o.get("value")) for o in _value(state, block_id).get("selected_options") or []]


def read_schedule(state: Mapping[str, Any], private_metadata: str) -> ScheduleForm:
    """The submitted schedule modal: channel, team time zone, and each shown job's edits."""
    try:
        names = [str(n) for n in json.loads(private_metadata or "{}").get("jobs", [])]
    except (ValueError, AttributeError):
        names = []
    form = ScheduleForm(
        channel=_value(state, CHANNEL_BLOCK).get("selected_conversation") or None,
        timezone=_text(state, TZ_BLOCK),
    )
    for i, name in enumerate(names):
        checked = _checked(state, job_block(i, SECTIONS_BLOCK))
        form.jobs.append(
            JobEdit(
                name=name,
                time=_value(state, job_block(i, TIME_BLOCK)).get("selected_time"),
                timezone=_text(state, job_block(i, JOB_TZ_BLOCK)),
                enabled=ON in checked,
                sections=[s for s in checked if s in SECTION_LABELS],
                thread_per_day=THREAD in checked,
            )
        )
    return form


@dataclass
class NewReport:
    name: str
    days: str
    time: str | None
    timezone: str
    window_hours: int
    channel: str | None
    sections: list[str]


def read_new_report(state: Mapping[str, Any]) -> NewReport:
    window = str((_value(state, WINDOW_BLOCK).get("selected_option") or {}).get("value") or "168")
    return NewReport(
        name=_text(state, NAME_BLOCK),
        days=str((_value(state, DAYS_BLOCK).get("selected_option") or {}).get("value") or "daily"),
        time=_value(state, TIME_BLOCK).get("selected_time"),
        timezone=_text(state, JOB_TZ_BLOCK),
        window_hours=int(window) if window.isdigit() else 168,
        channel=_value(state, JOB_CHANNEL_BLOCK).get("selected_conversation") or None,
        sections=[s for s in _checked(state, SECTIONS_BLOCK) if s in SECTION_LABELS],
    )
