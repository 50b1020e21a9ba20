"""A fake GitHub: a real aiohttp server on 127.0.0.1 speaking GitHub's REST formats for a GitHub
App (https://docs.github.com/en/rest, https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app).

It checks what GitHub checks: the App JWT's RS256 signature against the App's public key (iss = App ID, exp at
most 10 minutes after iat, not expired); installation tokens it minted, only for the installation's repos. Every
GET answer has an ETag that varies by token (github_limits.py): the same token's If-None-Match gets a 304, which
does not count against the rate limit. It serves 406 `too_large` on the diff when `diff_too_large` is set, and
422 when a review's inline comment is outside the diff or its body is over 65,536 characters. The Git Data API
(github_git.py) serves trees and blobs and takes blobs, trees, commits and refs; pulls are listed, opened and
updated (github_pulls.py); a repository can be a fork or archived, and an installation's `permissions` are
checked on every write (403 as on GitHub). `Repo.seed` makes a branch of given files. Every request is
recorded; `rate_limit_next` makes the next answers one of GitHub's three rate-limit refusals. `clock` (epoch
seconds) drives token expiry and the rate-limit window, so a test can run an hour in a moment.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from .github_git import GitDataMixin
from .github_limits import PRIMARY, RateLimits, conditional
from .github_pulls import PullsMixin
from .github_repo import Installation, Pull, PullFile, Repo, sha_of

MAX_BODY = 65_536


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    status: int = 0

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def _err(status: int, message: str, **extra: Any) -> web.Response:
    body = {"message": message, "documentation_url": "https://docs.github.com/rest", **extra}
    return web.json_response(body, status=status)


class FakeGitHub(GitDataMixin, PullsMixin):
    def __init__(self, app_id: str, public_key: RSAPublicKey, *, slug: str = "sitrep-test") -> None:
        self.app_id = app_id
        self.public_key = public_key
        self.slug = slug
        self.installations: dict[int, Installation] = {}
        self.repos: dict[str, Repo] = {}
        self.tokens: dict[str, tuple[int, float]] = {}  # token -> (installation id, expires epoch)
        self.requests: list[Seen] = []
        self.clock: Callable[[], float] = time.time
        self.limits = RateLimits(lambda: self.clock())
        self.diff_too_large = False
        self.forbidden: set[str] = set()  # paths the App has no permission for (403 "Resource not accessible")
        self.delay = 0.0
        self.hooks: list[Callable[[Seen], None]] = []  # run after each answer (e.g. a push in between two calls)
        self.next_tokens: list[str] = []  # installation tokens to hand out first (tests plant them upstream)
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._ids = 1

    # -- lifecycle -----------------------------------------------------------------------------------------

    async def __aenter__(self) -> FakeGitHub:
        app = web.Application(middlewares=[self._middleware], client_max_size=30 * 1024 * 1024)
        r = app.router
        r.add_get("/app", self._app)
        r.add_get("/app/installations", self._installations)
        r.add_get("/app/installations/{id}", self._installation)
        r.add_post("/app/installations/{id}/access_tokens", self._access_token)
        r.add_get("/installation/repositories", self._installation_repos)
        base = "/repos/{owner}/{name}"
        r.add_get(base, self._repo)
        r.add_get(base + "/installation", self._repo_installation)
        r.add_get(base + "/pulls", self._pulls)
        r.add_post(base + "/pulls", self._create_pull)
        r.add_patch(base + "/pulls/{n}", self._update_pull)
        r.add_get(base + "/pulls/{n}", self._pull)
        r.add_get(base + "/pulls/{n}/files", self._files)
        r.add_get(base + "/pulls/{n}/comments", self._review_comments)
        r.add_get(base + "/issues/{n}/comments", self._issue_comments)
        r.add_post(base + "/pulls/{n}/reviews", self._create_review)
        r.add_get(base + "/commits", self._commits)
        r.add_get(base + "/contents/{path:.+}", self._contents)
        r.add_get(base + "/git/ref/heads/{branch:.+}", self._get_ref)
        r.add_get(base + "/git/commits/{sha}", self._get_commit)
        r.add_get(base + "/git/trees/{sha:.+}", self._get_tree)
        r.add_get(base + "/git/blobs/{sha}", self._get_blob)
        r.add_post(base + "/git/refs", self._create_ref)
        r.add_post(base + "/git/blobs", self._blob)
        r.add_post(base + "/git/trees", self._tree)
        r.add_post(base + "/git/commits", self._commit)
        r.add_patch(base + "/git/refs/heads/{branch:.+}", self._update_ref)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- knobs ---------------------------------------------------------------------------------------------

    def add_installation(self, installation_id: int, account: str, repos: list[str]) -> Installation:
        inst = Installation(installation_id, account, list(repos))
        self.installations[installation_id] = inst
        for name in repos:
            self.repos.setdefault(name.lower(), Repo(name))
        return inst

    def repo(self, full_name: str) -> Repo:
        return self.repos[full_name.lower()]

    def add_pull(self, repo: str, number: int, files: list[PullFile], *, title: str = "Change", **kw: Any) -> Pull:
        head = kw.pop("head_sha", None) or sha_of(repo, str(number), str(time.time_ns()))
        pr = Pull(number, title, head, kw.pop("head_ref", f"feature-{number}"), files=files, **kw)
        r = self.repo(repo)
        r.pulls[number] = pr
        r.refs[pr.head_ref] = head
        r.objects[head] = {"type": "commit", "sha": head, "tree": {"sha": sha_of("tree", head)}, "parents": []}
        return pr

    def push_to_pull(self, repo: str, number: int) -> str:
        """A new head commit on the pull request's branch."""
        r = self.repo(repo)
        pr = r.pulls[number]
        pr.head_sha = sha_of(repo, str(number), str(time.time_ns()))
        r.refs[pr.head_ref] = pr.head_sha
        r.objects[pr.head_sha] = {"type": "commit", "sha": pr.head_sha, "tree": {"sha": sha_of("t", pr.head_sha)}}
        pr.updated_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return pr.head_sha

    @property
    def rate_remaining(self) -> int:
        return self.limits.remaining

    def rate_limit_next(
        self, times: int = 1, shape: str = PRIMARY, *, status: int = 403, retry_after: int = 60, reset_in: int = 3600
    ) -> None:
        """The next `times` requests are refused: PRIMARY (remaining 0 until reset_in from now; later requests
        before the reset are refused too), RETRY_AFTER (a secondary limit with retry-after) or SECONDARY (one
        without it)."""
        self.limits.queue(shape, times, status=status, retry_after=retry_after, reset_in=reset_in)

    def seen(self, method: str, path_part: str) -> list[Seen]:
        return [s for s in self.requests if s.method == method and path_part in s.path]

    # -- auth ----------------------------------------------------------------------------------------------

    def _check_jwt(self, request: web.Request) -> web.Response | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return _err(401, "A JSON web token could not be decoded")
        try:
            claims = jwt.decode(
                token, self.public_key, algorithms=["RS256"], options={"require": ["iat", "exp", "iss"]}
            )
        except jwt.PyJWTError as exc:
            return _err(401, f"A JSON web token could not be decoded ({type(exc).__name__})")
        if str(claims["iss"]) != self.app_id:
            return _err(401, "Integration not found")
        if claims["exp"] - claims["iat"] > 600:
            return _err(401, "'Expiration time' claim ('exp') is too far in the future")
        if claims["iat"] > time.time() + 60:
            return _err(401, "'Issued at' claim ('iat') must be an Integer representing the time in the past")
        return None

    def _installation_of(self, request: web.Request) -> int | web.Response:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        found = self.tokens.get(token) if scheme.lower() in ("token", "bearer") else None
        if found is None or found[1] < self.clock():
            return _err(401, "Bad credentials")
        return found[0]

    def _repo_for(self, request: web.Request) -> tuple[Repo, int] | web.Response:
        inst = self._installation_of(request)
        if isinstance(inst, web.Response):
            return inst
        name = f"{request.match_info['owner']}/{request.match_info['name']}".lower()
        allowed = {r.lower() for r in self.installations[inst].repos}
        if name not in self.repos or name not in allowed:
            return _err(404, "Not Found")
        return self.repos[name], inst

    def _may_write(self, repo: Repo, installation: int, permission: str) -> web.Response | None:
        """GitHub's refusals of a write: an archived repository, or an installation without `permission: write`."""
        if repo.archived:
            return _err(403, "Repository was archived so is read-only.")
        if self.installations[installation].permissions.get(permission) != "write":
            return _err(403, "Resource not accessible by integration")
        return None

    def _installation_id_of(self, request: web.Request) -> int | str:
        found = self.tokens.get(request.headers.get("Authorization", "").partition(" ")[2])
        return found[0] if found else self.app_id

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        seen = Seen(request.method, request.path, dict(request.query), dict(request.headers), await request.read())
        self.requests.append(seen)
        if self.delay:
            await asyncio.sleep(self.delay)
        refused = self.limits.refusal(self._installation_id_of(request))
        if refused is not None:
            response: web.StreamResponse = refused
        elif request.path in self.forbidden:
            response = _err(403, "Resource not accessible by integration")
            self.limits.answered(response)
        else:
            response = conditional(request, await handler(request))
            self.limits.answered(response)
        seen.status = response.status
        for hook in self.hooks:
            hook(seen)
        return response

    # -- the App -------------------------------------------------------------------------------------------

    async def _app(self, request: web.Request) -> web.Response:
        if bad := self._check_jwt(request):
            return bad
        return web.json_response({"id": int(self.app_id), "slug": self.slug, "name": "sitrep", "owner": {"login": "x"}})

    async def _installations(self, request: web.Request) -> web.Response:
        if bad := self._check_jwt(request):
            return bad
        return web.json_response([i.json(self.app_id, self.slug) for i in self.installations.values()])

    async def _installation(self, request: web.Request) -> web.Response:
        if bad := self._check_jwt(request):
            return bad
        inst = self.installations.get(int(request.match_info["id"]))
        return web.json_response(inst.json(self.app_id, self.slug)) if inst else _err(404, "Not Found")

    async def _access_token(self, request: web.Request) -> web.Response:
        if bad := self._check_jwt(request):
            return bad
        inst_id = int(request.match_info["id"])
        if inst_id not in self.installations:
            return _err(404, "Not Found")
        token = self.next_tokens.pop(0) if self.next_tokens else "ghs_" + secrets.token_urlsafe(27)
        expires = self.clock() + 3600
        self.tokens[token] = (inst_id, expires)
        when = datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        permissions = dict(self.installations[inst_id].permissions)
        return web.json_response({"token": token, "expires_at": when, "permissions": permissions}, status=201)

    async def _installation_repos(self, request: web.Request) -> web.Response:
        inst = self._installation_of(request)
        if isinstance(inst, web.Response):
            return inst
        rows = [self.repos[r.lower()].summary() for r in self.installations[inst].repos]
        return web.json_response({"total_count": len(rows), "repositories": rows})

    async def _repo_installation(self, request: web.Request) -> web.Response:
        if bad := self._check_jwt(request):
            return bad
        name = f"{request.match_info['owner']}/{request.match_info['name']}".lower()
        for inst in self.installations.values():
            if name in {r.lower() for r in inst.repos}:
                return web.json_response(inst.json(self.app_id, self.slug))
        return _err(404, "Not Found")

    # -- repositories and pull requests --------------------------------------------------------------------

    async def _repo(self, request: web.Request) -> web.Response:
        found = self._repo_for(request)
        return found if isinstance(found, web.Response) else web.json_response(found[0].summary())

    def _pull_of(self, request: web.Request) -> tuple[Repo, Pull] | web.Response:
        found = self._repo_for(request)
        if isinstance(found, web.Response):
            return found
        pr = found[0].pulls.get(int(request.match_info["n"]))
        return (found[0], pr) if pr else _err(404, "Not Found")

    async def _pull(self, request: web.Request) -> web.Response:
        found = self._pull_of(request)
        if isinstance(found, web.Response):
            return found
        repo, pr = found
        if "diff" in request.headers.get("Accept", ""):
            if self.diff_too_large:
                return _err(
                    406,
                    "Sorry, the diff exceeded the maximum number of lines (20000)",
                    errors=[{"resource": "PullRequest", "field": "diff", "code": "too_large"}],
                )
            return web.Response(text="".join(f.diff() for f in pr.files), content_type="text/plain")
        return web.json_response(repo.pull_json(pr))

    async def _files(self, request: web.Request) -> web.Response:
        found = self._pull_of(request)
        if isinstance(found, web.Response):
            return found
        per_page, page = int(request.query.get("per_page", 30)), int(request.query.get("page", 1))
        rows = [f.row() for f in found[1].files]
        return web.json_response(rows[(page - 1) * per_page : page * per_page])

    async def _review_comments(self, request: web.Request) -> web.Response:
        return await self._pr_list(request, "review_comments")

    async def _issue_comments(self, request: web.Request) -> web.Response:
        return await self._pr_list(request, "issue_comments")

    async def _pr_list(self, request: web.Request, what: str) -> web.Response:
        found = self._pull_of(request)
        return found if isinstance(found, web.Response) else web.json_response(getattr(found[1], what))

    async def _create_review(self, request: web.Request) -> web.Response:
        found = self._pull_of(request)
        if isinstance(found, web.Response):
            return found
        repo, pr = found
        try:
            review = await request.json()
        except ValueError:
            return _err(400, "Problems parsing JSON")
        if review.get("event") not in (None, "COMMENT", "APPROVE", "REQUEST_CHANGES"):
            return _err(422, "Unprocessable Entity", errors=["event is not included in the list"])
        if len(review.get("body") or "") > MAX_BODY:
            return _err(422, "Unprocessable Entity", errors=[f"Body is too long (maximum is {MAX_BODY} characters)"])
        files = {f.filename: f for f in (pr.files_at_post if pr.files_at_post is not None else pr.files)}
        for c in review.get("comments") or []:
            file = files.get(c.get("path"))
            if file is None or c.get("line") not in file.commentable() or len(c.get("body") or "") > MAX_BODY:
                return _err(
                    422, "Unprocessable Entity", errors=["Pull request review thread line must be part of the diff"]
                )
        review_id = self._ids = self._ids + 1
        stored = {
            "id": review_id,
            "user": {"login": f"{self.slug}[bot]", "type": "Bot"},
            "body": review.get("body") or "",
            "state": "COMMENTED",
            "commit_id": review.get("commit_id") or pr.head_sha,
            "comments": review.get("comments") or [],
            "html_url": f"https://github.com/{repo.full_name}/pull/{pr.number}#pullrequestreview-{review_id}",
            "pull_number": pr.number,
        }
        repo.reviews.append(stored)
        return web.json_response({k: v for k, v in stored.items() if k != "comments"})

    async def _commits(self, request: web.Request) -> web.Response:
        found = self._repo_for(request)
        if isinstance(found, web.Response):
            return found
        since = request.query.get("since")
        rows = [c for c in found[0].commits if not since or c["commit"]["committer"]["date"] >= since]
        return web.json_response(rows[: int(request.query.get("per_page", 30))])

    async def _contents(self, request: web.Request) -> web.Response:
        found = self._repo_for(request)
        if isinstance(found, web.Response):
            return found
        path, ref = request.match_info["path"], request.query.get("ref", "")
        for pr in found[0].pulls.values():
            for f in pr.files:
                if f.filename == path and ref in (pr.head_sha, pr.head_ref, ""):
                    return web.Response(text=f.content, content_type="application/vnd.github.raw+json")
        return _err(404, "Not Found")
