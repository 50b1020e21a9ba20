"""Pull requests of the fake GitHub: list (filters `state`, `head` as `owner:branch`, `base`), create and update,
from https://docs.github.com/en/rest/pulls/pulls.

Creating needs the installation's `pull_requests: write` (403 otherwise) and answers 422 "Validation Failed" as
GitHub does: a head or base branch that does not exist, a head with no commits beyond the base, or an open pull
request for the same head and base already ("A pull request already exists for owner:branch.").
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from .github_repo import Pull, Repo


def _err(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"message": message, **extra}, status=status)


def _invalid(message: str, field: str = "", code: str = "custom") -> web.Response:
    error: dict[str, Any] = {"resource": "PullRequest", "code": code}
    error.update({"field": field} if field else {"message": message})
    return _err(422, "Validation Failed", errors=[error], documentation_url="https://docs.github.com/rest")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class PullsMixin:
    slug: str

    def _repo_for(self, request: web.Request) -> tuple[Repo, int] | web.Response:  # provided by FakeGitHub
        raise NotImplementedError

    def _may_write(self, repo: Repo, installation: int, permission: str) -> web.Response | None:
        raise NotImplementedError  # provided by FakeGitHub

    async def _pulls(self, request: web.Request) -> web.Response:
        found = self._repo_for(request)
        if isinstance(found, web.Response):
            return found
        repo = found[0]
        state = request.query.get("state", "open")
        owner = repo.full_name.split("/")[0]
        head, base = request.query.get("head"), request.query.get("base")
        rows = []
        for p in repo.pulls.values():
            if state != "all" and p.state != state:
                continue
            if head and head.lower() != f"{owner}:{p.head_ref}".lower() and head != p.head_ref:
                continue
            if base and base != p.base_ref:
                continue
            rows.append(repo.pull_json(p))
        rows.sort(key=lambda p: p["updated_at"], reverse=True)
        per_page = int(request.query.get("per_page", 30))
        return web.json_response(rows[:per_page])

    async def _create_pull(self, request: web.Request) -> web.Response:
        found = self._repo_for(request)
        if isinstance(found, web.Response):
            return found
        repo, installation = found
        if (refused := self._may_write(repo, installation, "pull_requests")) is not None:
            return refused
        body = await request.json()
        title, head, base = body.get("title"), str(body.get("head") or ""), str(body.get("base") or "")
        if not title:
            return _invalid("", "title", "missing_field")
        branch = head.split(":", 1)[-1]
        if branch not in repo.refs:
            return _invalid("", "head", "invalid")
        if base not in repo.refs:
            return _invalid("", "base", "invalid")
        if repo.refs[branch] == repo.refs[base]:
            return _invalid(f"No commits between {base} and {branch}")
        owner = repo.full_name.split("/")[0]
        if any(p.state == "open" and p.head_ref == branch and p.base_ref == base for p in repo.pulls.values()):
            return _invalid(f"A pull request already exists for {owner}:{branch}.")
        number = max(repo.pulls, default=0) + 1
        pr = Pull(
            number,
            str(title),
            repo.refs[branch],
            branch,
            author=f"{self.slug}[bot]",
            body=str(body.get("body") or ""),
            draft=bool(body.get("draft")),
            base_ref=base,
            updated_at=_now(),
        )
        repo.pulls[number] = pr
        return web.json_response(repo.pull_json(pr), status=201)

    async def _update_pull(self, request: web.Request) -> web.Response:
        found = self._repo_for(request)
        if isinstance(found, web.Response):
            return found
        repo, installation = found
        if (refused := self._may_write(repo, installation, "pull_requests")) is not None:
            return refused
        pr = repo.pulls.get(int(request.match_info["n"]))
        if pr is None:
            return _err(404, "Not Found")
        body = await request.json()
        if "title" in body:
            pr.title = str(body["title"])
        if "body" in body:
            pr.body = str(body["body"] or "")
        if body.get("state") in ("open", "closed"):
            pr.state = body["state"]
        pr.updated_at = _now()
        return web.json_response(repo.pull_json(pr))
