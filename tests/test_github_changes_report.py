"""Pushes recorded from GitHub show in the status report beside the error numbers (the Grafana section)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from reports.builder import ReportOptions, build_report
from reports.render import report_text
from reports.sections.discovery import CACHE
from storage.github import Change, GitHubStore
from tests.github_world import REPO, github_world


async def test_report_lists_the_windows_deploys(tmp_path: Path) -> None:
    async with github_world(tmp_path) as w:
        now = datetime.now(UTC)
        recent = (now - timedelta(minutes=14)).strftime("%Y-%m-%dT%H:%M:%SZ")
        old = (now - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
        url = f"https://github.com/{REPO}/commit/{'f' * 40}"
        await GitHubStore(w.services.storage.db).record_changes(
            [
                Change(REPO, "f" * 40, "main", "dev", "Raise the agent timeout", recent, url, "webhook"),
                Change(REPO, "a" * 40, "main", "dev", "An old change", old, None, "webhook"),
            ]
        )
        report = await build_report(w.services, await w.team(), options=ReportOptions(use_model=False))
        await CACHE.settle()
        grafana = next(s for s in report.sections if s.key == "grafana")
        assert grafana.ok, grafana.reason
        [deploys] = [listing for listing in grafana.listings if listing.title.startswith("Deploys")]
        assert [i.label for i in deploys.items] == ["Raise the agent timeout"]
        assert deploys.items[0].link == url and "by dev" in deploys.items[0].detail
        assert "Raise the agent timeout" in report_text(report, [])
