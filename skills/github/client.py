"""GitHub REST client for the App: one httpx client, App JWT or installation token per call, rate limits honoured.

Why not githubkit or gidgethub: both were checked. githubkit works with our httpx and pydantic, but it brings
a generated model for every GitHub schema (a large, slow import for the dozen endpoints used here) and its own
retry layer beside skills.http.send. gidgethub's GitHubAPI hides a 304 behind its own cache (polling needs to
see it, to skip work) and turns 406 `too_large` into a generic exception. So this stays a thin client over the
project's shared httpx factory and retry policy; JWT signing is PyJWT (skills/github/auth.py).

Rate limits follow GitHub's rules (skills/github/limits.py): a short wait (retry-after, or a reset, within
`max_rate_wait`) is slept once and the request tried again; a longer one raises `RateLimited` with the time, and
until then the scope sends nothing (the caller defers its work). A secondary-limit 403 is never a permission error.

Conditional requests: `conditional=True` GETs send the ETag GitHub gave the same URL under the same token
(GitHub varies ETags by Authorization, so one from an older installation token would not match: after a token
refresh the first request is a full one and the ETag is learned again); a 304 costs no rate limit and the
answer it confirms is returned from memory, with status 304.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from skills.base import SkillError
from skills.github.auth import AppJwt, InstallationToken, TokenCache, parse_expiry
from skills.github.limits import Block, RateLimited, RateLimits, refusal_kind
from skills.http import RetryPolicy, make_client, send

log = logging.getLogger(__name__)

INTEGRATION = "GitHub"
API_VERSION = "2022-11-28"
JSON = "application/vnd.github+json"
DIFF = "application/vnd.github.diff"
MAX_RATE_WAIT_S = 30.0
MAX_VALIDATORS = 512  # remembered ETags (one per polled URL); the oldest goes first
# 429 is not retried by `send`: rate limits are handled once, in `request`, with the wait GitHub asks for.
DEFAULT_RETRY = RetryPolicy(attempts=3, backoff=0.5, max_wait=10.0, statuses=frozenset({500, 502, 503, 504}))


@dataclass
class Answer:
    status: int
    headers: httpx.Headers
    body: Any
    text: str = ""


def _json_body(response: httpx.Response) -> Any:
    if not response.text or "json" not in response.headers.get("content-type", ""):
        return None
    try:
        return json.loads(response.text)
    except ValueError:
        return None


class GitHubClient:
    """Calls GitHub as the App (`as_app=True`) or as an installation (`installation=<id>`)."""

    def __init__(
        self,
        base_url: str,
        app_jwt: AppJwt,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_rate_wait: float = MAX_RATE_WAIT_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.app_jwt = app_jwt
        self.retry = retry or DEFAULT_RETRY
        self._sleep = sleep
        self.max_rate_wait = max_rate_wait
        self.clock = clock
        self.limits = RateLimits()
        self.tokens = TokenCache(self._mint, clock=lambda: self.clock())
        # (scope, method, path, params, accept) -> (token fingerprint, ETag, the answer it names)
        self._validators: dict[tuple[str, ...], tuple[str, str, Answer]] = {}
        self._http = make_client(self.base_url, headers={"Accept": JSON, "X-GitHub-Api-Version": API_VERSION})

    async def aclose(self) -> None:
        await self._http.aclose()

    def secrets(self) -> list[str]:
        return self.tokens.values()

    # -- plumbing ------------------------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        installation: int | None = None,
        as_app: bool = False,
        accept: str = JSON,
        json_body: Any = None,
        params: dict[str, Any] | None = None,
        conditional: bool = False,
        ok: tuple[int, ...] = (200, 201),
    ) -> Answer:
        """One call; statuses outside `ok` become SkillErrors (RateLimited for a rate limit). The caller lists
        406/422 in `ok` to see them; a `conditional` GET answers 304 with the remembered body."""
        scope = self._scope(installation, as_app)
        if (block := self.limits.blocked([scope], self.clock())) is not None:
            raise RateLimited(block.until, block.kind, block.status)  # GitHub said: nothing before then
        key = (scope, method, path, json.dumps(params or {}, sort_keys=True), accept)
        for attempt in range(2):
            authorization = await self._auth(installation, as_app)
            fingerprint = hashlib.sha256(authorization.encode()).hexdigest()[:16]
            headers = {"Accept": accept, "Authorization": authorization}
            known = self._validators.get(key) if conditional else None
            if known is not None and known[0] == fingerprint:
                headers["If-None-Match"] = known[1]
            try:
                response = await send(
                    self._http, method, path, policy=self.retry, headers=headers, json=json_body, params=params
                )
            except httpx.HTTPError as exc:
                raise SkillError(
                    INTEGRATION,
                    f"cannot reach {self.base_url} ({type(exc).__name__})",
                    "Check the network and GITHUB_API_URL",
                ) from None
            status, text = response.status_code, response.text
            body = _json_body(response)
            kind = refusal_kind(status, response.headers, body)
            if kind is not None:
                now = self.clock()
                wait = self.limits.refused(scope, kind, status, response.headers, now)
                if attempt == 0 and wait <= self.max_rate_wait:
                    log.warning("GitHub %s on %s %s: waiting %.0f s once", kind, method, path, wait)
                    await self._sleep(wait)
                    continue
                log.warning("GitHub %s on %s %s: nothing sent for %.0f s", kind, method, path, wait)
                raise RateLimited(now + wait, kind, status)
            if status == 401 and installation is not None and attempt == 0:
                self.tokens.forget(installation)  # revoked or expired early: mint a new one once
                continue
            self.limits.succeeded(scope)
            if status == 304 and known is not None:
                return Answer(304, response.headers, known[2].body, known[2].text)
            if status not in ok:
                raise self._error(method, path, status, body, text)
            answer = Answer(status, response.headers, body, text)
            if conditional and status == 200 and response.headers.get("etag"):
                self._remember(key, (fingerprint, response.headers["etag"], answer))
            return answer
        raise AssertionError("unreachable: the second attempt returns or raises")

    def rate_limit(self, installation: int | None = None) -> Block | None:
        """The rate-limit wait in force for the App (and this installation): nothing is sent before its `until`."""
        scopes = ["app"] + ([self._scope(installation, False)] if installation is not None else [])
        return self.limits.blocked(scopes, self.clock())

    @staticmethod
    def _scope(installation: int | None, as_app: bool) -> str:
        return "app" if as_app or installation is None else f"installation {installation}"

    def _remember(self, key: tuple[str, ...], value: tuple[str, str, Answer]) -> None:
        self._validators.pop(key, None)
        self._validators[key] = value
        while len(self._validators) > MAX_VALIDATORS:
            self._validators.pop(next(iter(self._validators)))

    async def _auth(self, installation: int | None, as_app: bool) -> str:
        if as_app or installation is None:
            return f"Bearer {self.app_jwt.token()}"
        return f"token {await self.tokens.get(installation)}"

    async def _mint(self, installation_id: int) -> InstallationToken:
        answer = await self.request("POST", f"/app/installations/{installation_id}/access_tokens", as_app=True)
        body = answer.body or {}
        token = body.get("token")
        if not isinstance(token, str) or not token:
            raise SkillError(INTEGRATION, "GitHub gave no installation token", "Check the App's installation")
        return InstallationToken(token, parse_expiry(body.get("expires_at"), self.clock()))

    @staticmethod
    def _error(method: str, path: str, status: int, body: Any, text: str) -> SkillError:
        said = body.get("message") if isinstance(body, dict) else None
        said = " ".join(str(said or text[:200]).split())
        if status == 401:
            return SkillError(
                INTEGRATION,
                f"GitHub rejected the App's credentials (401: {said})",
                "Check GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY (the App's .pem), and this host's clock",
                status=status,
            )
        if status == 403:
            return SkillError(
                INTEGRATION,
                f"{method} {path} is forbidden (403: {said})",
                "Check the App's permissions (docs/github.md) and accept them on the installation",
                status=status,
            )
        if status == 404:
            return SkillError(
                INTEGRATION,
                f"{path} was not found (404)",
                "Check the repository name and that the App is installed on it",
                status=status,
            )
        return SkillError(INTEGRATION, f"{method} {path} failed with HTTP {status}: {said}", status=status)

    # -- as the App ----------------------------------------------------------------------------------------

    async def app(self) -> dict[str, Any]:
        return (await self.request("GET", "/app", as_app=True)).body or {}

    async def installations(self) -> list[dict[str, Any]]:
        answer = await self.request("GET", "/app/installations", as_app=True, params={"per_page": 100})
        return answer.body if isinstance(answer.body, list) else []

    async def installation(self, installation_id: int) -> dict[str, Any]:
        return (await self.request("GET", f"/app/installations/{installation_id}", as_app=True)).body or {}

    async def repo_installation(self, repo: str) -> dict[str, Any]:
        return (await self.request("GET", f"/repos/{repo}/installation", as_app=True)).body or {}

    # -- as an installation --------------------------------------------------------------------------------

    async def installation_repos(self, installation: int) -> list[dict[str, Any]]:
        repos: list[dict[str, Any]] = []
        for page in range(1, 11):
            answer = await self.request(
                "GET", "/installation/repositories", installation=installation, params={"per_page": 100, "page": page}
            )
            rows = (answer.body or {}).get("repositories") or []
            repos += rows
            if len(rows) < 100:
                break
        return repos

    async def repo(self, installation: int, repo: str) -> dict[str, Any]:
        """The repository (conditional: an unchanged one is a free 304, answered from memory)."""
        return (await self.request("GET", f"/repos/{repo}", installation=installation, conditional=True)).body or {}

    async def open_pulls(self, installation: int, repo: str) -> list[dict] | None:
        """Open pull requests, newest update first; None when unchanged since this client last asked (a free 304)."""
        params = {"state": "open", "sort": "updated", "direction": "desc", "per_page": 50}
        answer = await self.request(
            "GET", f"/repos/{repo}/pulls", installation=installation, params=params, conditional=True
        )
        if answer.status == 304:
            return None
        return answer.body if isinstance(answer.body, list) else []

    async def pull(self, installation: int, repo: str, number: int) -> dict[str, Any]:
        return (await self.request("GET", f"/repos/{repo}/pulls/{number}", installation=installation)).body or {}

    async def pull_diff(self, installation: int, repo: str, number: int) -> str | None:
        """The unified diff; None when GitHub says it is too large (406), so the caller reads the files list."""
        answer = await self.request(
            "GET", f"/repos/{repo}/pulls/{number}", installation=installation, accept=DIFF, ok=(200, 406)
        )
        return None if answer.status == 406 else answer.text

    async def pull_files(self, installation: int, repo: str, number: int, pages: int = 30) -> list[dict[str, Any]]:
        files: list[dict[str, Any]] = []
        for page in range(1, pages + 1):
            answer = await self.request(
                "GET",
                f"/repos/{repo}/pulls/{number}/files",
                installation=installation,
                params={"per_page": 100, "page": page},
            )
            rows = answer.body if isinstance(answer.body, list) else []
            files += rows
            if len(rows) < 100:
                break
        return files

    async def issue_comments(self, installation: int, repo: str, number: int) -> list[dict[str, Any]]:
        answer = await self.request(
            "GET", f"/repos/{repo}/issues/{number}/comments", installation=installation, params={"per_page": 100}
        )
        return answer.body if isinstance(answer.body, list) else []

    async def review_comments(self, installation: int, repo: str, number: int) -> list[dict[str, Any]]:
        answer = await self.request(
            "GET", f"/repos/{repo}/pulls/{number}/comments", installation=installation, params={"per_page": 100}
        )
        return answer.body if isinstance(answer.body, list) else []

    async def create_review(self, installation: int, repo: str, number: int, review: dict[str, Any]) -> Answer:
        """POST a review; the answer is returned for 200 and 422 so the caller can retry without inline comments."""
        return await self.request(
            "POST", f"/repos/{repo}/pulls/{number}/reviews", installation=installation, json_body=review, ok=(200, 422)
        )

    async def commits(self, installation: int, repo: str, branch: str, since: str | None) -> list[dict] | None:
        """The branch's commits since `since`; None when unchanged since this client last asked (a free 304)."""
        params: dict[str, Any] = {"sha": branch, "per_page": 30}
        if since:
            params["since"] = since
        answer = await self.request(
            "GET", f"/repos/{repo}/commits", installation=installation, params=params, conditional=True
        )
        if answer.status == 304:
            return None
        return answer.body if isinstance(answer.body, list) else []

    async def file_text(self, installation: int, repo: str, path: str, ref: str) -> str | None:
        """A file's text at `ref` (raw media type); None when it does not exist there."""
        answer = await self.request(
            "GET",
            f"/repos/{repo}/contents/{path}",
            installation=installation,
            params={"ref": ref},
            accept="application/vnd.github.raw+json",
            ok=(200, 404),
        )
        return None if answer.status == 404 else answer.text
