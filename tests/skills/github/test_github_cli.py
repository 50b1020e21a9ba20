"""`python -m skills.github` and `python -m review` as a user runs them, against the fake GitHub (and Grafana)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from tests.support.environment import subprocess_env
from tests.support.github_world import INSTALLATION, REPO, github_world, route_pull_files

pytestmark = pytest.mark.e2e  # starts processes: `pytest -m "not e2e"` skips it


async def cli(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """`python -m skills.github <args>`, or `python -m review <url> ...` when the first argument is "review"."""
    module, args = ("review", args[1:]) if args[:1] == ("review",) else ("skills.github", args)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        *args,
        env=subprocess_env(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_check_installations_and_review(tmp_path: Path) -> None:
    async with github_world(tmp_path) as w:
        code, out, err = await cli(w.env, "check")
        assert code == 0, err
        assert "ready" in out and REPO in out and "polling" in out

        code, out, _ = await cli(w.env, "installations")
        assert code == 0 and str(INSTALLATION) in out and "mochacare/other" in out and "yes" in out

        w.github.add_pull(REPO, 51, route_pull_files())
        code, out, err = await cli(w.env, "review", f"https://github.com/{REPO}/pull/51", "--print")
        assert code == 0, err
        assert "/api/agents/<id>/run" in out and w.github.repo(REPO).reviews == []
        assert w.pem.splitlines()[1] not in out

        code, out, err = await cli(w.env, "review", f"https://github.com/{REPO}/pull/51")
        assert code == 0, err
        assert "Posted https://github.com/mochacare/web/pull/51#pullrequestreview-" in out
        assert len(w.github.repo(REPO).reviews) == 1


async def test_errors_are_one_line(tmp_path: Path) -> None:
    code, out, _ = await cli({"SITREP_DB": str(tmp_path / "x.db")}, "check")
    assert code == 1 and "not configured" in out and "GITHUB_APP_ID" in out
    code, _, err = await cli({"SITREP_DB": str(tmp_path / "x.db")}, "review", "not-a-url")
    assert code == 2 and "not a pull request URL" in err and len(err.strip().splitlines()) == 1
