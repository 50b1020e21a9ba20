"""Changes (GitHub pushes, Vercel deploys, Grafana annotations) show in the status report beside the error
numbers (the Grafana section), and each error or latency jump names the nearest earlier change, or none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from reports.builder import ReportOptions, build_report
from reports.render import report_text
from reports.sections.changes import JUMPS_TITLE
from storage.changes import ChangeStore, pushed_commit
from tests.fakes.grafana_annotations import annotation
from tests.support.github_world import REPO, github_world


async def test_report_lists_the_windows_deploys(tmp_path: Path) -> None:
    async with github_world(tmp_path) as w:
        now = datetime.now(UTC)
        recent = (now - timedelta(minutes=14)).strftime("%Y-%m-%dT%H:%M:%SZ")
        old = (now - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
        url = f"https://github.com/{REPO}/commit/{'f' * 40}"
        await ChangeStore(w.services.storage.db).record(
            [
                pushed_commit(REPO, "f" * 40, "main", "dev", "Raise the agent timeout", recent, url, "webhook"),
                pushed_commit(REPO, "a" * 40, "main", "dev", "An old change", old, None, "webhook"),
            ]
        )
        report = await build_report(w.services, await w.team(), options=ReportOptions(use_model=False))
        await w.services.supervisor.settle("discovery")
        grafana = next(s for s in report.sections if s.key == "grafana")
        assert grafana.ok, grafana.reason
        [deploys] = [listing for listing in grafana.listings if listing.title.startswith("Changes")]
        assert [i.label for i in deploys.items] == ["Raise the agent timeout"]
        assert deploys.items[0].link == url and "by dev" in deploys.items[0].detail
        assert "Raise the agent timeout" in report_text(report, [])
        # the seeded errors start 18.5 min ago: the last 1-hour step jumps, and the push is the change before it
        [jumps] = [listing for listing in grafana.listings if listing.title == JUMPS_TITLE]
        [jump] = jumps.items
        assert jump.label.startswith("Error lines jumped 0 → ") and jump.link == url and jump.link_label == "fffffff"
        assert "nearest earlier change: push Raise the agent timeout" in jump.detail


async def test_a_jump_with_no_change_before_it_says_so(tmp_path: Path) -> None:
    async with github_world(tmp_path) as w:
        later = int((datetime.now(UTC) + timedelta(minutes=5)).timestamp() * 1000)  # after the window: not counted
        w.grafana.annotations.append(annotation(9, later, "Scaled the workers", dashboard_uid="ops"))
        report = await build_report(w.services, await w.team(), options=ReportOptions(use_model=False))
        await w.services.supervisor.settle("discovery")
        grafana = next(s for s in report.sections if s.key == "grafana")
        assert not [listing for listing in grafana.listings if listing.title.startswith("Changes")]
        [jumps] = [listing for listing in grafana.listings if listing.title == JUMPS_TITLE]
        assert jumps.items[0].detail == "no deploy, push or annotation recorded in the window before it"
        assert "no deploy, push or annotation recorded in the window before it" in report_text(report, [])
        assert any(r.path == "/api/annotations" for r in w.grafana.requests)
