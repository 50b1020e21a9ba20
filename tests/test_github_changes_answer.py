"""The built-in planner's error answers show the window's deploys (github_recent_changes) and how long before the
error jump the nearest earlier one landed, with its commit link; nothing about deploys when none landed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from agent import respond
from agent.question import Question
from storage.github import Change, GitHubStore
from tests.github_world import REPO, github_world

QUESTION = "what's the error rate in the last 3 hours?"


def _at(minutes_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _url(sha: str) -> str:
    return f"https://github.com/{REPO}/commit/{sha}"


async def test_error_answer_says_which_deploy_landed_before_the_jump(tmp_path: Path) -> None:
    async with github_world(tmp_path) as w:
        # The seeded logs: no error line until the TimeoutErrors start 18.5 min ago (one every 30 s). In 10-minute
        # buckets the errors jump in the bucket that starts 20 min ago; the timeout change landed 14 min before.
        shas = {name: name[0] * 40 for name in ("bump", "cause", "docs", "ancient")}
        await GitHubStore(w.services.storage.db).record_changes(
            [
                Change(
                    REPO,
                    shas["cause"],
                    "main",
                    "dev",
                    "Lower the agent timeout",
                    _at(34),
                    _url(shas["cause"]),
                    "webhook",
                ),
                Change(
                    REPO, shas["docs"], "main", "ann", "Fix a typo in the docs", _at(120), _url(shas["docs"]), "webhook"
                ),
                Change(REPO, shas["bump"], "main", "bot", "Bump next", _at(5), _url(shas["bump"]), "webhook"),
                Change(REPO, shas["ancient"], "main", "dev", "Outside the window", _at(300), None, "webhook"),
            ]
        )
        reply = await respond(w.services, Question(QUESTION, await w.team(), "shell"))
        assert reply.planner == "rules"
        text = reply.text
        assert f"<{_url(shas['cause'])}|{shas['cause'][:7]}>" in text
        assert "landed 14 min before the error jump" in text, text
        assert "Lower the agent timeout" in text and "Bump next" in text and "Fix a typo" in text
        assert "Outside the window" not in text
        # the jump cites the error series it was read from
        assert "Errors jumped</" not in text and "|Errors jumped>" in text


async def test_no_deploy_no_deploy_section(tmp_path: Path) -> None:
    async with github_world(tmp_path) as w:
        reply = await respond(w.services, Question(QUESTION, await w.team(), "shell"))
        assert "Error rate" in reply.text
        assert "Deploys" not in reply.text and "deploy" not in reply.text.lower()
        steps = [r for r in w.grafana.requests if r.path.endswith("query_range") and ("step", "600") in r.query]
        assert steps == []  # the jump's series is only read when a change landed
