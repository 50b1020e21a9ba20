"""The Git Data API of the fake GitHub (refs, commits, blobs, trees): what a commit without a clone goes through,
and what a scan reads. Shapes from https://docs.github.com/en/rest/git (trees, blobs, commits, refs).

Objects are kept as they were posted (a tree is its entries over an optional `base_tree`; a commit's `parents`
are shas; a blob's `content` is text) and answered in GitHub's shapes: a tree read with `recursive=1` lists
every blob and the folders between them, `truncated` false; a blob is base64 in lines of 60 characters; a commit
has `tree: {sha}` and `parents: [{sha}]`. A ref update without `force` must be a fast-forward (422 otherwise), a
ref that exists cannot be created again (422), and writing needs the installation's `contents: write` on a
repository that is not archived (403 otherwise), as on GitHub.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from aiohttp import web

from .github_repo import Repo, sha_of


def _err(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"message": message, **extra}, status=status)


class GitDataMixin:
    def _repo_for(self, request: web.Request) -> tuple[Repo, int] | web.Response:  # provided by FakeGitHub
        raise NotImplementedError

    def _may_write(self, repo: Repo, installation: int, permission: str) -> web.Response | None:
        raise NotImplementedError  # provided by FakeGitHub

    async def _writable(self, request: web.Request, permission: str = "contents") -> tuple[Repo, int] | web.Response:
        found = self._repo_for(request)
        if isinstance(found, web.Response):
            return found
        refused = self._may_write(found[0], found[1], permission)
        return refused if refused is not None else found

    # -- reads ---------------------------------------------------------------------------------------------

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
        if not obj or obj["type"] != "commit":
            return _err(404, "Not Found")
        tree = obj.get("tree")
        return web.json_response(
            {
                **obj,
                "tree": tree if isinstance(tree, dict) else {"sha": tree},
                "parents": [{"sha": p} for p in obj.get("parents", [])],
            }
        )

    async def _get_tree(self, request: web.Request) -> web.Response:
        found = self._repo_for(request)
        if isinstance(found, web.Response):
            return found
        repo, sha = found[0], request.match_info["sha"]
        if sha in repo.refs:  # a branch name is accepted as tree_sha too
            sha = repo.tree_of(repo.refs[sha])
        if not repo.known_tree(sha):
            return _err(404, "Not Found")
        files = repo.flat_tree(sha)
        recursive = request.query.get("recursive") not in (None, "", "0", "false")
        rows: list[dict[str, Any]] = []
        folders: set[str] = set()
        for path, blob in sorted(files.items()):
            parts = path.split("/")
            for i in range(1, len(parts)):
                folders.add("/".join(parts[:i]))
            rows.append({"path": path, "mode": "100644", "type": "blob", "sha": blob, "size": repo.blob_size(blob)})
        rows += [{"path": f, "mode": "040000", "type": "tree", "sha": sha_of("dir", sha, f)} for f in folders]
        if not recursive:
            rows = [r for r in rows if "/" not in r["path"]]
        rows.sort(key=lambda r: r["path"])
        return web.json_response({"sha": sha, "url": "", "tree": rows, "truncated": False})

    async def _get_blob(self, request: web.Request) -> web.Response:
        found = self._repo_for(request)
        if isinstance(found, web.Response):
            return found
        sha = request.match_info["sha"]
        obj = found[0].objects.get(sha)
        if not obj or obj["type"] != "blob":
            return _err(404, "Not Found")
        raw = base64.b64encode(obj["content"].encode()).decode()
        content = "\n".join(raw[i : i + 60] for i in range(0, len(raw), 60)) + "\n"
        size = len(obj["content"].encode())
        answer = {"sha": sha, "node_id": "B_" + sha[:8], "size": size, "content": content, "encoding": "base64"}
        return web.json_response(answer)

    # -- writes --------------------------------------------------------------------------------------------

    async def _blob(self, request: web.Request) -> web.Response:
        found = await self._writable(request)
        if isinstance(found, web.Response):
            return found
        body = await request.json()
        if not isinstance(body, dict) or not isinstance(body.get("content"), str):
            return _err(422, "Invalid request.", errors=["content is required"])
        content = body["content"]
        if body.get("encoding") == "base64":
            content = base64.b64decode(content).decode()
        sha = sha_of("blob", content)
        found[0].objects[sha] = {"type": "blob", "sha": sha, "content": content}
        return web.json_response({"sha": sha, "url": ""}, status=201)

    async def _tree(self, request: web.Request) -> web.Response:
        found = await self._writable(request)
        if isinstance(found, web.Response):
            return found
        repo = found[0]
        body = await request.json()
        if not isinstance(body, dict) or not isinstance(body.get("tree"), list):
            return _err(422, "Invalid request.", errors=["tree is required"])
        base = body.get("base_tree")
        if base is not None and not repo.known_tree(base):
            return _err(422, "Invalid request.", errors=["base_tree is not a valid tree"])
        for entry in body["tree"]:
            blob = entry.get("sha")
            if not entry.get("path") or (blob is not None and repo.objects.get(blob, {}).get("type") != "blob"):
                return _err(422, "Invalid request.", errors=[f"tree.sha {blob} is not a valid blob"])
        sha = sha_of("tree", json.dumps(body, sort_keys=True))
        repo.objects[sha] = {"type": "tree", "sha": sha, **body}
        return web.json_response({"sha": sha, "url": "", "tree": body["tree"], "truncated": False}, status=201)

    async def _commit(self, request: web.Request) -> web.Response:
        found = await self._writable(request)
        if isinstance(found, web.Response):
            return found
        repo = found[0]
        body = await request.json()
        if not isinstance(body, dict) or any(k not in body for k in ("message", "tree", "parents")):
            return _err(422, "Invalid request.", errors=["message, tree, parents are required"])
        if not repo.known_tree(str(body["tree"])):
            return _err(422, "Invalid request.", errors=["tree is not a valid tree"])
        if any(repo.objects.get(p, {}).get("type") != "commit" for p in body["parents"]):
            return _err(422, "Invalid request.", errors=["parents must be commits"])
        sha = sha_of("commit", json.dumps(body, sort_keys=True), str(len(repo.objects)))
        repo.objects[sha] = {"type": "commit", "sha": sha, **body}
        return web.json_response(
            {"sha": sha, "tree": {"sha": body["tree"]}, "parents": [{"sha": p} for p in body["parents"]]}, status=201
        )

    async def _create_ref(self, request: web.Request) -> web.Response:
        found = await self._writable(request)
        if isinstance(found, web.Response):
            return found
        repo = found[0]
        body = await request.json()
        ref, sha = str(body.get("ref") or ""), str(body.get("sha") or "")
        if not ref.startswith("refs/") or ref.count("/") < 2:
            return _err(422, "Reference name is invalid")
        if repo.objects.get(sha, {}).get("type") != "commit":
            return _err(422, "Object does not exist")
        branch = ref.removeprefix("refs/heads/")
        if branch in repo.refs:
            return _err(422, "Reference already exists")
        repo.refs[branch] = sha
        return web.json_response({"ref": ref, "object": {"sha": sha, "type": "commit"}}, status=201)

    async def _update_ref(self, request: web.Request) -> web.Response:
        found = await self._writable(request)
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
