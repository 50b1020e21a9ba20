"""The Git Data API of the fake GitHub (refs, commits, blobs, trees): what a commit without a clone goes through.

A ref update without `force` must be a fast-forward (422 otherwise), as on GitHub.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from .github_repo import Repo, sha_of


def _err(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"message": message, **extra}, status=status)


class GitDataMixin:
    def _repo_for(self, request: web.Request) -> tuple[Repo, int] | web.Response:  # provided by FakeGitHub
        raise NotImplementedError

    # -- Git Data API --------------------------------------------------------------------------------------

    async def _get_ref(self, request: web.Request) -> web.Response:
        found = self._repo_for(request)
        if isinstance(found, web.Response):
            return found
        branch = request.match_info["branch"]
        sha = found[0].refs.get(branch)
        if sha is None:
            return _err(404, "Not Found")
        return web.json_response({"ref": f"refs/heads/{branch}", "object": {"sha": sha, "type": "commit"}})

    async def _get_commit(self, request: web.Request) -> web.Response:
        found = self._repo_for(request)
        if isinstance(found, web.Response):
            return found
        obj = found[0].objects.get(request.match_info["sha"])
        return web.json_response(obj) if obj and obj["type"] == "commit" else _err(404, "Not Found")

    async def _store(self, request: web.Request, kind: str, required: tuple[str, ...]) -> web.Response:
        found = self._repo_for(request)
        if isinstance(found, web.Response):
            return found
        body = await request.json()
        if not isinstance(body, dict) or any(k not in body for k in required):
            return _err(422, "Invalid request.", errors=[f"{', '.join(required)} are required"])
        sha = sha_of(kind, json.dumps(body, sort_keys=True))
        found[0].objects[sha] = {"type": kind, "sha": sha, **body}
        return web.json_response(
            {"sha": sha, **({"tree": {"sha": body["tree"]}} if kind == "commit" else {})}, status=201
        )

    async def _blob(self, request: web.Request) -> web.Response:
        return await self._store(request, "blob", ("content",))

    async def _tree(self, request: web.Request) -> web.Response:
        return await self._store(request, "tree", ("tree",))

    async def _commit(self, request: web.Request) -> web.Response:
        return await self._store(request, "commit", ("message", "tree", "parents"))

    async def _update_ref(self, request: web.Request) -> web.Response:
        found = self._repo_for(request)
        if isinstance(found, web.Response):
            return found
        repo = found[0]
        branch = request.match_info["branch"]
        body = await request.json()
        new = repo.objects.get(body.get("sha", ""))
        if branch not in repo.refs or new is None:
            return _err(422, "Reference does not exist")
        if not body.get("force") and repo.refs[branch] not in new.get("parents", []):
            return _err(422, "Update is not a fast forward")
        repo.refs[branch] = new["sha"]
        for pr in repo.pulls.values():
            if pr.head_ref == branch:
                pr.head_sha = new["sha"]
        return web.json_response({"ref": f"refs/heads/{branch}", "object": {"sha": new["sha"], "type": "commit"}})
