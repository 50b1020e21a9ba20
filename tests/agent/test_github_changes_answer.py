"""The built-in planner's error answers show the window's changes (recent_changes) and how long before the
error jump the nearest earlier one landed, with its link, or that none landed in the window before it; a Vercel
deploy or a Grafana annotation counts too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from agent import respond
from agent.question import Question
from storage.changes import VERCEL, ChangeStore, pushed_commit
from storage.changes import Change as AnyChange
from tests.fakes.grafana_annotations import annotation
from tests.support.github_world import REPO, github_world

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
        await ChangeStore(w.services.storage.db).record(
            [
                pushed_commit(
                    REPO,
                    shas["cause"],
                    "main",
                    "dev",
                    "Lower the agent timeout",
                    _at(34),
                    _url(shas["cause"]),
                    "webhook",
                ),
                pushed_commit(
                    REPO, shas["docs"], "main", "ann", "Fix a typo in the docs", _at(120), _url(shas["docs"]), "webhook"
                ),
                pushed_commit(REPO, shas["bump"], "main", "bot", "Bump next", _at(5), _url(shas["bump"]), "webhook"),
                pushed_commit(REPO, shas["ancient"], "main", "dev", "Outside the window", _at(300), None, "webhook"),
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


async def test_a_jump_without_a_change_says_none_landed_in_the_window(tmp_path: Path) -> None:
    async with github_world(tmp_path) as w:
        reply = await respond(w.services, Question(QUESTION, await w.team(), "shell"))
        assert "Error rate" in reply.text
        assert "No deploy, push or annotation recorded in the last 3h before the error jump at" in reply.text
        assert "|Errors jumped>" in reply.text  # the jump still cites its series


async def test_the_nearest_change_may_be_a_vercel_deploy_or_a_grafana_annotation(tmp_path: Path) -> None:
    async with github_world(tmp_path) as w:
        # the annotation 25 min ago is the nearest before the jump (20 min ago); the deploy 40 min ago is older
        deployed = datetime.now(UTC) - timedelta(minutes=40)
        await ChangeStore(w.services.storage.db).record(
            [
                AnyChange(
                    VERCEL,
                    "web",
                    "dpl_7Hx",
                    "deploy",
                    deployed,
                    title="web-abc.vercel.app",
                    environment="production",
                    url="https://web-abc.vercel.app",
                    via="drain",
                )
            ]
        )
        noted = int((datetime.now(UTC) - timedelta(minutes=25)).timestamp() * 1000)
        w.grafana.annotations.append(annotation(41, noted, "Feature flag new-checkout on", dashboard_uid="ops"))
        reply = await respond(w.services, Question(QUESTION, await w.team(), "shell"))
        text = reply.text
        assert "Annotation <" in text and "|41>" in text and "Feature flag new-checkout on" in text
        assert "landed 5 min before the error jump" in text, text
        assert "Deploy web <https://web-abc.vercel.app|dpl_7Hx>" in text
        [asked] = [r for r in w.grafana.requests if r.path == "/api/annotations"]
        assert ("type", "annotation") in asked.query
