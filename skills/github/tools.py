"""The agent's GitHub tools: recent changes, a file at a commit, a pull request's files (routed repos only); each
handler declared beside its parameter model and read-only hint."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from skills.base import SkillError, Tool, ToolSpec
from skills.github.client import INTEGRATION
from skills.github.diff import from_files_api

if TYPE_CHECKING:
    from skills.github.api import GitHubApp

FILE_CHARS = 12_000


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GetFile(_Params):
    repo: str = Field(..., description="owner/name of a routed repository")
    path: str = Field(..., min_length=1, description="File path in the repository")
    ref: str = Field(..., min_length=1, description="Commit SHA or branch, e.g. the pull request's head SHA")


class ListPullFiles(_Params):
    repo: str = Field(..., description="owner/name of a routed repository")
    number: int = Field(..., ge=1, description="Pull request number")


class RecentChanges(_Params):
    hours: int = Field(24, ge=1, le=24 * 14, description="How far back, in hours")


def routed(skill: GitHubApp, repo: str) -> str:
    """`repo`, when it is routed to the skill's team; else a SkillError naming the routed ones."""
    if repo.lower() not in {r.lower() for r in skill.repos}:
        raise SkillError(INTEGRATION, f"{repo} is not routed to this team", "Routed: " + ", ".join(skill.repos))
    return repo


async def get_file(skill: GitHubApp, p: GetFile) -> dict[str, Any]:
    text = await skill.client.file_text(skill.installation_id, routed(skill, p.repo), p.path, p.ref)
    if text is None:
        return {"found": False, "path": p.path, "ref": p.ref, "hint": "no such file at this ref"}
    cut = len(text) > FILE_CHARS
    return {"found": True, "path": p.path, "ref": p.ref, "truncated": cut, "content": text[:FILE_CHARS]}


async def list_pull_files(skill: GitHubApp, p: ListPullFiles) -> dict[str, Any]:
    rows = await skill.client.pull_files(skill.installation_id, routed(skill, p.repo), p.number)
    files = [
        {"path": f.path, "status": f.status, "additions": f.additions, "deletions": f.deletions}
        for f in from_files_api(rows)
    ]
    return {"count": len(files), "files": files}


async def recent_changes(skill: GitHubApp, p: RecentChanges) -> dict[str, Any]:
    if skill.store is None or not skill.repos:
        return {"count": 0, "changes": [], "hint": "no repository is routed to this team (Link GitHub)"}
    since = datetime.now(UTC) - timedelta(hours=p.hours)
    rows = await skill.store.changes(skill.repos, since, limit=30)
    changes = [
        {
            "repo": c.repo,
            "sha": c.sha[:7],
            "author": c.author,
            "message": c.message,
            "time": c.committed_at,
            "url": c.url,
        }
        for c in rows
    ]
    out: dict[str, Any] = {"count": len(changes), "hours": p.hours, "changes": changes}
    if not changes:
        out["hint"] = f"no push to the default branch of {', '.join(skill.repos)} in the last {p.hours} h"
    return out


TOOLS: tuple[ToolSpec[GitHubApp], ...] = (
    ToolSpec(
        "recent_changes",
        "Commits pushed to the routed repositories' default branches (what was deployed), newest first: "
        "repo, sha, author, message, time, link. Use it to relate an error spike or a latency jump to a change "
        '("deployed 14 min before the 5xx jump").',
        RecentChanges,
        recent_changes,
    ),
    ToolSpec(
        "get_file",
        "A file's text at a commit of a routed repository (first 12,000 characters). Use it to read code a "
        "pull request's diff does not show: the rest of a changed file, or a helper it calls.",
        GetFile,
        get_file,
    ),
    ToolSpec(
        "list_pull_files",
        "Every file a pull request changes, with its status and line counts.",
        ListPullFiles,
        list_pull_files,
    ),
)


def build_tools(skill: GitHubApp) -> list[Tool]:
    """The three read-only tools, bound to one skill (its client, installation, routed repos and store)."""
    return [spec.bind("github", skill) for spec in TOOLS]
