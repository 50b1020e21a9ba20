"""The instrumentation's Block Kit builders (pure): who gets the button, the preview point by point within Slack's
limits, hostile paths shown as text, the submission's metadata, the outcomes."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime

from bot.blocks.home import home_view
from bot.blocks.instrument import (
    done_modal,
    instrument_buttons,
    nothing_modal,
    offered,
    preview_modal,
    progress_modal,
    refused_modal,
    submitted,
)
from bot.blocks.limits import view_violations
from skills.amplitude.instrument.plan import Change, Plan, Point
from skills.amplitude.instrument.publish import Published
from skills.amplitude.readiness import INSTRUMENT_STEP, NO_EVENTS
from skills.base import Readiness, ReadinessStatus

NO_EVENTS_ROW = Readiness(
    "Amplitude", ReadinessStatus.BLOCKED, NO_EVENTS, INSTRUMENT_STEP, actions=("amplitude_snippet",)
)


def plan(files: int = 2, points_per_file: int = 2, path: str = "app/api/x{i}/route.ts") -> Plan:
    p = Plan("mochacare/web", "main", "a" * 40, "t" * 40, init_path="lib/amplitude.ts")
    p.changes.append(Change("lib/amplitude.ts", None, "init", "initialises the SDK from AMPLITUDE_API_KEY"))
    for i in range(files):
        name = path.format(i=i)
        p.changes.append(Change(name, "before", "after", "API Error"))
        p.points += [Point(name, 10 + j, "API Error", f"`/api/x{i}` answers 500") for j in range(points_per_file)]
    p.changes.append(Change("package.json", "{}", '{"dependencies": {}}', "the SDK"))
    p.already.append("`app/api/checkout/route.ts` already sends API Error")
    p.notes.append("read 10 of 10 source files of the app (1,000 bytes)")
    return p


def text(view: dict) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def test_the_button_is_offered_to_admins_while_no_events_arrive() -> None:
    repos = ["mochacare/web", "mochacare/api"]
    assert offered(NO_EVENTS_ROW, repos, admin=True) == repos
    assert offered(NO_EVENTS_ROW, repos, admin=False) == []
    assert offered(NO_EVENTS_ROW, [], admin=True) == []
    ready = Readiness("Amplitude", ReadinessStatus.READY, "", "ask", "events flowing")
    rejected = Readiness("Amplitude", ReadinessStatus.BLOCKED, "credentials rejected", "check the keys")
    assert offered(ready, repos, admin=True) == [] and offered(rejected, repos, admin=True) == []
    assert offered(Readiness("Grafana", ReadinessStatus.BLOCKED, NO_EVENTS, "x"), repos, admin=True) == []


def test_buttons_name_the_repository_and_sit_on_the_amplitude_row() -> None:
    buttons = instrument_buttons(["mochacare/web", "mochacare/api"])
    view = home_view([NO_EVENTS_ROW], generated_at=datetime(2026, 1, 1), row_buttons={"Amplitude": buttons})
    actions = next(b for b in view["blocks"] if b["type"] == "actions")
    labels = [e["text"]["text"] for e in actions["elements"]]
    assert labels == ["Show tracking snippet", "Instrument mochacare/web", "Instrument mochacare/api"]
    ids = [e["action_id"] for e in actions["elements"]]
    assert len(set(ids)) == len(ids) and [e.get("value") for e in actions["elements"]][1:] == [
        "mochacare/web",
        "mochacare/api",
    ]
    assert view_violations(view) == []


def test_the_preview_lists_each_file_each_point_its_event_and_why() -> None:
    view = preview_modal(plan())
    body = text(view)
    assert "4 points in 2 files" in body and "`main`" in body and "`aaaaaaa`" in body
    assert "line 10: *API Error*, since /api/x0 answers 500" in body and "line 11: *API Error*" in body
    assert "lib/amplitude.ts" in body and "package.json" in body and "@amplitude/analytics-node" in body
    assert "already sends API Error" in body and "AMPLITUDE_API_KEY" in body
    assert view["submit"]["text"] == "Open pull request" and view["callback_id"] == "amplitude_instrument_submit"
    assert submitted(view) == ("mochacare/web", "a" * 40, plan().digest)
    updating = preview_modal(plan(), {"number": 12, "html_url": "https://github.com/mochacare/web/pull/12"})
    assert updating["submit"]["text"] == "Update #12" and "<https://github.com/mochacare/web/pull/12|#12>" in text(
        updating
    )
    assert view_violations(view) == [] and view_violations(updating) == []


def test_a_huge_plan_stays_within_slack_limits() -> None:
    view = preview_modal(plan(files=300, points_per_file=40))
    assert view_violations(view) == []
    assert "… and 260 more files." in text(view)


def test_paths_from_the_repository_are_text_not_markup() -> None:
    hostile = plan(files=1, path="app/api/<!channel>/<https://evil.example|click>/route.ts")
    body = text(preview_modal(hostile))
    assert "<!channel>" not in body and "<https://evil.example|click>" not in body
    assert "&lt;!channel&gt;" in body


def test_submitted_survives_missing_or_broken_metadata() -> None:
    assert submitted({}) == ("", "", "")
    assert submitted({"private_metadata": "not json"}) == ("", "", "")
    assert submitted({"private_metadata": "[1]"}) == ("", "", "")


def test_outcomes() -> None:
    p = plan()
    published = Published(
        "mochacare/web", 7, "https://github.com/mochacare/web/pull/7", "sitrep/x", "c" * 40, True, ("a", "b")
    )
    done = text(done_modal(published, p))
    assert "*Opened* <https://github.com/mochacare/web/pull/7|mochacare/web#7>" in done and "AMPLITUDE_API_KEY" in done
    assert "Updated" in text(done_modal(replace(published, opened=False), p))
    refused = text(refused_modal("mochacare/web is a fork", "instrument the upstream"))
    assert ":no_entry: mochacare/web is a fork" in refused and "Nothing was pushed." in refused
    assert "may have been pushed" in text(refused_modal("GitHub failed", pushed=True))
    assert "Nothing to instrument" in text(nothing_modal(p))
    assert "Reading source files: 3 of 10" in text(progress_modal("mochacare/web", "Reading source files", 3, 10))
    for view in (done_modal(published, p), refused_modal("x"), nothing_modal(p), progress_modal("r", "w")):
        assert view_violations(view) == []
