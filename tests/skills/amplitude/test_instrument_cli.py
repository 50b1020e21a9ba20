"""`python -m skills.amplitude instrument` as a user runs it, pointed at the fake GitHub: --dry-run previews and
pushes nothing; without it the pull request is opened, then updated; a fork is one line on stderr, exit 1."""

from __future__ import annotations

from pathlib import Path

import pytest

from skills.amplitude.instrument.publish import BRANCH
from tests.skills.amplitude.test_amplitude_cli import assert_one_line_error, cli
from tests.support import nextjs_repo
from tests.support.github_world import REPO, github_world

pytestmark = pytest.mark.e2e  # starts processes: `pytest -m "not e2e"` skips it


async def test_dry_run_then_open_then_update(tmp_path: Path) -> None:
    async with github_world(tmp_path) as w:
        repo = w.github.repo(REPO)
        repo.seed(nextjs_repo.files())
        dry = await cli(w.env, "instrument", "--repo", REPO, "--dry-run")
        assert dry.code == 0, dry.err
        assert "mochacare/web at main" in dry.out and "7 points" in dry.out
        assert "lib/agents/runner.ts: agent events" in dry.out and "line 14: API Error" in dry.out
        assert "Reading source files: 10 of 10" in dry.err
        assert BRANCH not in repo.refs and not repo.pulls

        opened = await cli(w.env, "instrument", "--repo", REPO)
        assert opened.code == 0, opened.err
        [pr] = repo.pulls.values()
        assert f"Opened https://github.com/{REPO}/pull/{pr.number}" in opened.out
        updated = await cli(w.env, "instrument", "--repo", REPO.upper())
        assert updated.code == 0 and f"Updated https://github.com/{REPO}/pull/{pr.number}" in updated.out
        assert len(repo.pulls) == 1
        record = await w.services.storage.instrumentation.latest("default")
        assert record is not None and record.number == pr.number and record.opened_by == "cli"


async def test_a_fork_is_one_line_and_nothing_pushed(tmp_path: Path) -> None:
    async with github_world(tmp_path) as w:
        w.github.repo(REPO).seed(nextjs_repo.files())
        w.github.repo(REPO).fork = True
        run = await cli(w.env, "instrument", "--repo", REPO)
        assert_one_line_error(run)
        assert "mochacare/web is a fork" in run.err and "Nothing was pushed." in run.err
        assert not w.github.seen("POST", "/git/")
