"""POST /github/webhook served for real: signature first (the test vector of GitHub's "Validating webhook
deliveries": https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries), de-duplication, 202
then work, 204 for events sitrep ignores, 400 for malformed bodies; and the events' effects."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from agent.toolbox import Toolbox
from bot.github_web import running_tasks
from bot.runtime import Runtime
from bot.web import bound_port, start_web
from skills.github.webhook import parse_event, signature_for, verify_signature
from storage.github import GitHubStore
from tests.support.github_world import INSTALLATION, REPO, WEBHOOK_SECRET, World, github_world, route_pull_files

VECTOR_SECRET = "It's a Secret to Everybody"
VECTOR_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_signature_matches_the_apis_md_test_vector() -> None:
    assert signature_for(VECTOR_SECRET, b"Hello, World!") == VECTOR_SIGNATURE
    assert verify_signature(VECTOR_SECRET, b"Hello, World!", VECTOR_SIGNATURE)
    assert not verify_signature(VECTOR_SECRET, b"Hello, World?", VECTOR_SIGNATURE)
    assert not verify_signature(VECTOR_SECRET, b"Hello, World!", None)
    assert not verify_signature("", b"Hello, World!", VECTOR_SIGNATURE)


def pr_payload(number: int, head: str, action: str = "opened", draft: bool = False) -> dict[str, Any]:
    return {
        "action": action,
        "number": number,
        "pull_request": {"number": number, "draft": draft, "head": {"sha": head, "ref": f"feature-{number}"}},
        "repository": {"full_name": REPO, "default_branch": "main"},
        "installation": {"id": INSTALLATION},
    }


@asynccontextmanager
async def served(tmp: Path, **kw: Any) -> AsyncIterator[tuple[World, httpx.AsyncClient, Any]]:
    async with github_world(tmp, SITREP_PUBLIC_URL="https://sitrep.example.com", SITREP_HTTP_PORT="0", **kw) as w:
        w.services = replace(w.services, settings=w.services.settings.model_copy(update={"http_port": 0}))
        runner = await start_web(Runtime(w.services), w.notify)
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{bound_port(runner)}") as http:
                yield w, http, runner.app
        finally:
            await runner.cleanup()


async def deliver(
    http: httpx.AsyncClient, event: str, payload: Any, *, delivery: str | None = None, secret: str = WEBHOOK_SECRET
) -> httpx.Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": signature_for(secret, body),
        "Content-Type": "application/json",
    }
    return await http.post("/github/webhook", content=body, headers=headers)


async def test_signed_pull_request_yields_one_review_and_a_repeat_delivery_none(tmp_path: Path) -> None:
    async with served(tmp_path) as (w, http, app):
        pr = w.github.add_pull(REPO, 21, route_pull_files())
        first = await deliver(http, "pull_request", pr_payload(21, pr.head_sha), delivery="d-1")
        assert first.status_code == 202
        await running_tasks(app)
        again = await deliver(http, "pull_request", pr_payload(21, pr.head_sha), delivery="d-1")
        assert again.status_code == 202 and again.json()["duplicate"] is True
        await running_tasks(app)
        assert len(w.github.repo(REPO).reviews) == 1
        assert w.notes and "review on GitHub" in w.notes[0][1]


async def test_bad_or_missing_signature_is_401_and_nothing_is_done(tmp_path: Path) -> None:
    async with served(tmp_path) as (w, http, app):
        pr = w.github.add_pull(REPO, 22, route_pull_files())
        wrong = await deliver(http, "pull_request", pr_payload(22, pr.head_sha), secret="not-the-secret")
        body = json.dumps(pr_payload(22, pr.head_sha)).encode()
        missing = await http.post(
            "/github/webhook", content=body, headers={"X-GitHub-Event": "pull_request", "X-GitHub-Delivery": "x"}
        )
        assert (wrong.status_code, missing.status_code) == (401, 401)
        await running_tasks(app)
        assert w.github.requests == []
        assert await w.services.storage.db.fetchone("SELECT 1 FROM github_deliveries") is None


async def test_ignored_events_204_and_malformed_400(tmp_path: Path) -> None:
    async with served(tmp_path) as (w, http, app):
        assert (await deliver(http, "star", {"action": "created"})).status_code == 204
        assert (await deliver(http, "pull_request", pr_payload(1, "a" * 40, action="closed"))).status_code == 204
        assert (await deliver(http, "pull_request", pr_payload(1, "a" * 40, draft=True))).status_code == 204
        assert (await deliver(http, "pull_request", b"{not json")).status_code == 400
        assert (await deliver(http, "pull_request", {"action": "opened"})).status_code == 400
        assert (await deliver(http, "pull_request", [1, 2])).status_code == 400
        await running_tasks(app)
        assert w.github.requests == []


async def test_at_sitrep_review_comment_forces_a_new_review(tmp_path: Path) -> None:
    async with served(tmp_path) as (w, http, app):
        pr = w.github.add_pull(REPO, 23, route_pull_files())
        await deliver(http, "pull_request", pr_payload(23, pr.head_sha))
        await running_tasks(app)
        comment = {
            "action": "created",
            "issue": {"number": 23, "pull_request": {"url": "x"}},
            "comment": {"id": 99, "body": "@sitrep review please", "user": {"login": "dev", "type": "User"}},
            "repository": {"full_name": REPO},
            "installation": {"id": INSTALLATION},
        }
        assert (await deliver(http, "issue_comment", comment)).status_code == 202
        await running_tasks(app)
        assert len(w.github.repo(REPO).reviews) == 2


async def test_push_to_default_branch_records_changes(tmp_path: Path) -> None:
    async with served(tmp_path) as (w, http, app):
        push = {
            "ref": "refs/heads/main",
            "before": "0" * 40,
            "after": "b" * 40,
            "repository": {"full_name": REPO, "default_branch": "main"},
            "pusher": {"name": "dev"},
            "commits": [
                {
                    "id": "b" * 40,
                    "message": "Raise the agent timeout\n\nbody",
                    "timestamp": "2026-11-30T01:46:00-08:00",
                    "author": {"name": "Dev", "username": "dev"},
                    "url": f"https://github.com/{REPO}/commit/{'b' * 40}",
                }
            ],
        }
        assert (await deliver(http, "push", push)).status_code == 202
        other_branch = dict(push, ref="refs/heads/feature", commits=[dict(push["commits"][0], id="c" * 40)])
        await deliver(http, "push", other_branch)
        await running_tasks(app)
        rows = await w.services.storage.db.fetchall("SELECT * FROM changes WHERE source = 'github'")
        assert [(r["ref"], r["author"], r["title"], r["at"]) for r in rows] == [
            ("b" * 40, "dev", "Raise the agent timeout", "2026-11-30T09:46:00.000Z")
        ]


async def test_installation_deleted_unlinks(tmp_path: Path) -> None:
    async with served(tmp_path) as (w, http, app):
        event = {"action": "deleted", "installation": {"id": INSTALLATION, "account": {"login": "mochacare"}}}
        assert (await deliver(http, "installation", event)).status_code == 202
        await running_tasks(app)
        assert await GitHubStore(w.services.storage.db).installation("default") is None


async def test_unrouted_repo_event_is_ignored(tmp_path: Path) -> None:
    async with served(tmp_path) as (w, http, app):
        pr = w.github.add_pull("mochacare/other", 3, route_pull_files())
        payload = pr_payload(3, pr.head_sha)
        payload["repository"]["full_name"] = "mochacare/other"
        assert (await deliver(http, "pull_request", payload)).status_code == 202
        await running_tasks(app)
        assert w.github.repo("mochacare/other").reviews == []


async def test_no_public_url_no_webhook_route(tmp_path: Path) -> None:
    async with github_world(tmp_path) as w:
        w.services = replace(w.services, settings=w.services.settings.model_copy(update={"http_port": 0}))
        runner = await start_web(Runtime(w.services))
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{bound_port(runner)}") as http:
                assert (await http.post("/github/webhook", content=b"{}")).status_code == 404
        finally:
            await runner.cleanup()


def test_parse_event_skips_bots_and_plain_comments() -> None:
    base = {"action": "created", "issue": {"number": 1, "pull_request": {}}, "repository": {"full_name": REPO}}
    plain = dict(base, comment={"id": 1, "body": "LGTM", "user": {"type": "User"}})
    bot = dict(base, comment={"id": 2, "body": "@sitrep review", "user": {"type": "Bot"}})
    issue = dict(base, issue={"number": 1}, comment={"id": 3, "body": "@sitrep review", "user": {"type": "User"}})
    for payload in (plain, bot, issue):
        assert parse_event("issue_comment", json.dumps(payload).encode()) is None


async def test_recorded_changes_are_a_tool_for_answers(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from storage.changes import ChangeStore, pushed_commit

    async with github_world(tmp_path) as w:
        when = (datetime.now(UTC) - timedelta(minutes=14)).strftime("%Y-%m-%dT%H:%M:%SZ")
        change = pushed_commit(
            REPO, "e" * 40, "main", "dev", "Raise the agent timeout", when, "https://x/commit/e", "poll"
        )
        await ChangeStore(w.services.storage.db).record([change])
        box = await Toolbox.for_team(w.services, await w.team())
        assert not box.has("github_recent_changes")  # one tool for every kind of change
        tool = box.tools["recent_changes"]
        result = await tool.call({"hours": 1})
        assert result["count"] == 1 and result["changes"][0]["title"] == "Raise the agent timeout"
        assert result["changes"][0]["ref"] == "eeeeeee" and result["changes"][0]["source"] == "github"


async def test_repositories_removed_from_the_installation_leave_the_routing(tmp_path: Path) -> None:
    async with served(tmp_path) as (w, http, app):
        event = {
            "action": "removed",
            "installation": {"id": INSTALLATION, "account": {"login": "mochacare"}},
            "repositories_added": [],
            "repositories_removed": [{"full_name": REPO}],
        }
        assert (await deliver(http, "installation_repositories", event)).status_code == 202
        await running_tasks(app)
        team = await w.team()
        assert team.config.routing.github_repos == []
        assert "config.patch" in [e.action for e in await w.services.storage.audit.recent(team.id)]
