"""The agent's GitHub tools: a file at a commit, a pull request's files (routed repos only); each handler declared
beside its parameter model and read-only hint. The pushes GitHub records are offered with the other changes by
skills/changes/tools.py (`recent_changes`)."""

from __future__ import annotations

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


TOOLS: tuple[ToolSpec[GitHubApp], ...] = (
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
    """The two read-only tools, bound to one skill (its client, installation, routed repos and store)."""
    return [spec.bind("github", skill) for spec in TOOLS]
