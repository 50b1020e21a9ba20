"""Instrumenting a linked repository end to end against the fake GitHub serving a realistic Next.js app: the pull
request has exactly the expected edits, every edited file parses, the API key is nowhere in it, a second run
updates the same branch and pull request; forks, archived repositories, missing permissions and a branch someone
else pushed to are refused with nothing pushed."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from skills.amplitude.instrument.flow import open_pull_request, prepare
from skills.amplitude.instrument.publish import BRANCH, Refused
from skills.amplitude.instrument.scaffold import init_module
from skills.amplitude.instrument.scan import Limits
from skills.amplitude.instrument.syntax import check, language_of
from skills.github.skill import GitHubSkill
from tests.fakes.amplitude import FakeAmplitude
from tests.support import nextjs_repo
from tests.support.github_world import INSTALLATION, REPO, World, github_world

WRITES = ("POST", "PATCH", "PUT", "DELETE")


@pytest.fixture
async def w(tmp_path: Path) -> AsyncIterator[World]:
    async with FakeAmplitude() as amp, github_world(tmp_path, amplitude=amp) as world:
        world.github.repo(REPO).seed(nextjs_repo.files())
        yield world


async def github(w: World) -> GitHubSkill:
    skill = await w.services.skill(await w.team(), "github")
    assert isinstance(skill, GitHubSkill)
    return skill


def writes(w: World) -> list[str]:
    return [f"{s.method} {s.path}" for s in w.github.requests if s.method in WRITES and "/access_tokens" not in s.path]


async def run(w: World, **kw):  # type: ignore[no-untyped-def]
    gh = await github(w)
    prepared = await prepare(gh, REPO, **kw)
    published = await open_pull_request(
        gh, prepared, store=w.services.storage.instrumentation, team_id="default", actor="UADMIN"
    )
    return prepared, published


async def test_the_pull_request_has_exactly_the_expected_edits(w: World) -> None:
    repo = w.github.repo(REPO)
    main_before = repo.refs["main"]
    seen: list[tuple[str, int, int]] = []

    async def progress(what: str, done: int, total: int) -> None:
        seen.append((what, done, total))

    prepared, published = await run(w, progress=progress)

    assert published.opened and published.branch == BRANCH != "main"
    assert repo.refs["main"] == main_before  # the default branch is never written
    pr = repo.pulls[published.number]
    assert pr.head_ref == BRANCH and pr.state == "open" and published.url.endswith(f"/pull/{published.number}")
    before, after = repo.files_at("main"), repo.files_at(BRANCH)
    changed = {p for p in after if after[p] != before.get(p)}
    assert changed == {*nextjs_repo.EXPECTED_EDITS, nextjs_repo.INIT_PATH}
    assert set(before) <= set(after)
    for path, expected in nextjs_repo.EXPECTED_EDITS.items():
        assert after[path] == expected, path
    assert after[nextjs_repo.INIT_PATH] == init_module("typescript")
    for path in changed:
        if language := language_of(path):
            assert check(after[path].encode(), language) == [], path
    commit = repo.objects[repo.refs[BRANCH]]
    assert commit["parents"] == [main_before]

    key = w.env["AMPLITUDE_API_KEY"]
    pushed = [s.body.decode() for s in w.github.requests if s.method in WRITES]
    assert all(key not in body for body in pushed) and key not in pr.body
    assert "process.env.AMPLITUDE_API_KEY" in after[nextjs_repo.INIT_PATH]

    # the body lists every point and names the variable to set
    assert "AMPLITUDE_API_KEY" in pr.body and len(prepared.plan.points) == 7
    for point in prepared.plan.points:
        assert f"| `{point.path}` | {point.line} | {point.event} |" in pr.body
    assert "`app/api/checkout/route.ts` already sends API Error" in pr.body
    assert "app/api/broken/route.ts" in pr.body and "npm install" in pr.body
    assert "node_modules/left-pad/index.js" not in {s.path for s in w.github.requests}
    # progress was reported as the files were read
    assert any(what == "Reading source files" and done == total > 0 for what, done, total in seen)

    record = await w.services.storage.instrumentation.latest("default")
    assert record is not None and (record.repo, record.number, record.url) == (REPO, pr.number, published.url)
    assert record.points == 7 and record.commit_sha == repo.refs[BRANCH]


async def test_a_second_run_updates_the_same_branch_and_pull_request(w: World) -> None:
    repo = w.github.repo(REPO)
    _, first = await run(w)
    first_commit = repo.refs[BRANCH]
    route = "export async function DELETE() {\n  throw new Error('not yet');\n}\n"
    new_main = repo.seed({**nextjs_repo.files(), "app/api/sessions/route.ts": route}, "Add sessions")

    _, second = await run(w)

    assert not second.opened and second.number == first.number
    assert [p.number for p in repo.pulls.values()] == [first.number]
    assert repo.refs[BRANCH] != first_commit
    assert repo.objects[repo.refs[BRANCH]]["parents"] == [new_main]
    assert "await trackApiError('/api/sessions', 500);" in repo.files_at(BRANCH)["app/api/sessions/route.ts"]
    assert "`app/api/sessions/route.ts` | 2 | API Error" in repo.pulls[first.number].body
    assert [s.path for s in w.github.seen("POST", "/pulls")] == [f"/repos/{REPO}/pulls"]  # opened once
    assert len(w.github.seen("PATCH", f"/repos/{REPO}/pulls/{first.number}")) == 1
    record = await w.services.storage.instrumentation.get("default", REPO)
    assert record is not None and record.commit_sha == repo.refs[BRANCH] and record.points == 8


async def test_a_branch_someone_else_pushed_to_is_left_alone(w: World) -> None:
    repo = w.github.repo(REPO)
    await run(w)
    theirs = repo.seed({**repo.files_at(BRANCH), "package-lock.json": "{}\n"}, "Update the lockfile", branch=BRANCH)
    before = len(writes(w))
    with pytest.raises(Refused, match="does not overwrite"):
        await run(w)
    assert repo.refs[BRANCH] == theirs and writes(w)[before:] == []


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda w: setattr(w.github.repo(REPO), "fork", True), "is a fork"),
        (lambda w: setattr(w.github.repo(REPO), "archived", True), "is archived"),
        (
            lambda w: w.github.installations[INSTALLATION].permissions.update(contents="read"),
            "lacks contents: write (it has contents: read, pull_requests: write)",
        ),
        (
            lambda w: w.github.installations[INSTALLATION].permissions.pop("pull_requests"),
            "lacks pull_requests: write",
        ),
    ],
    ids=["fork", "archived", "contents-read", "no-pull-requests"],
)
async def test_refusals_say_why_and_push_nothing(w: World, setup, message: str) -> None:  # type: ignore[no-untyped-def]
    setup(w)
    with pytest.raises(Refused, match=re.escape(message)) as refused:
        await run(w)
    assert refused.value.hint
    assert writes(w) == []
    assert BRANCH not in w.github.repo(REPO).refs and not w.github.repo(REPO).pulls
    assert await w.services.storage.instrumentation.latest("default") is None


async def test_a_repository_not_linked_to_the_team_is_refused(w: World) -> None:
    with pytest.raises(Refused, match="not linked to this team"):
        await prepare(await github(w), "mochacare/other")
    assert writes(w) == []


async def test_the_scan_is_bounded_and_says_what_it_left_unread(w: World) -> None:
    prepared = await prepare(await github(w), REPO, limits=Limits(max_files=3))
    blobs = w.github.seen("GET", "/git/blobs/")
    assert len(blobs) == 4  # package.json, then three source files: the route files first
    note = prepared.plan.notes[0]
    assert "read 3 of 10 source files" in note and "7 left unread by the scan's bounds" in note
    read = {p for p in prepared.snapshot.files if not p.endswith("package.json")}
    assert all(p.startswith(("app/api/", "pages/api/")) for p in read), read
    assert writes(w) == []
