"""GitHub REST client for the App: one httpx client, App JWT or installation token per call, rate limits honoured.

Why not githubkit or gidgethub: both were checked. githubkit works with our httpx and pydantic, but it brings
a generated model for every GitHub schema (a large, slow import for the dozen endpoints used here) and its own
retry layer beside skills.base.send. gidgethub's GitHubAPI hides a 304 behind its own cache (polling needs to
see it, to skip work) and turns 406 `too_large` into a generic exception. So this stays a thin client over the
project's shared httpx factory and retry policy; JWT signing is PyJWT (skills/github/auth.py).

Rate limits: a 403 or 429 with `x-ratelimit-remaining: 0` or `retry-after` waits (bounded by MAX_RATE_WAIT_S)
and tries once more; a second refusal is a SkillError. Nothing loops.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from skills.base import RetryPolicy, SkillError, make_client, retry_after_seconds, send
from skills.github.auth import AppJwt, InstallationToken, TokenCache, parse_expiry

log = logging.getLogger(__name__)

INTEGRATION = "GitHub"
API_VERSION = "2022-11-28"
JSON = "application/vnd.github+json"
DIFF = "application/vnd.github.diff"
MAX_RATE_WAIT_S = 30.0
# 429 is not retried by `send`: rate limits are handled once, in `request`, with the wait GitHub asks for.
DEFAULT_RETRY = RetryPolicy(attempts=3, backoff=0.5, max_wait=10.0, statuses=frozenset({500, 502, 503, 504}))


@dataclass
class Answer:
    status: int
    headers: httpx.Headers
    body: Any
    text: str = ""


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
        self._clock = clock
        self.tokens = TokenCache(self._mint, clock=clock)
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
        etag: str | None = None,
        ok: tuple[int, ...] = (200, 201),
    ) -> Answer:
        """One call; statuses outside `ok` become SkillErrors. The caller lists 304/406/422 in `ok` to see them."""
        for attempt in range(2):
            headers = {"Accept": accept, "Authorization": await self._auth(installation, as_app)}
            if etag:
                headers["If-None-Match"] = etag
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
            wait = self._rate_wait(response)
            if wait is not None and attempt == 0:
                log.warning("GitHub rate limit on %s %s: waiting %.0f s once", method, path, wait)
                await self._sleep(wait)
                continue
            if response.status_code == 401 and installation is not None and attempt == 0:
                self.tokens.forget(installation)  # revoked or expired early: mint a new one once
                continue
            break
        status = response.status_code
        text = response.text
        body: Any = None
        if text and "json" in response.headers.get("content-type", ""):
            try:
                body = json.loads(text)
            except ValueError:
                body = None
        if status not in ok:
            raise self._error(method, path, status, body, text, response.headers)
        return Answer(status, response.headers, body, text)

    def _rate_wait(self, response: httpx.Response) -> float | None:
        """Seconds to wait when GitHub refused for rate limiting; None otherwise."""
        if response.status_code not in (403, 429):
            return None
        headers = response.headers
        if "retry-after" in headers:
            return min(retry_after_seconds(response, 60.0), self.max_rate_wait)
        if headers.get("x-ratelimit-remaining") == "0":
            try:
                reset = float(headers.get("x-ratelimit-reset", "0"))
            except ValueError:
                reset = 0.0
            return min(max(0.0, reset - self._clock()) + 1.0, self.max_rate_wait)
        return None

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
        return InstallationToken(token, parse_expiry(body.get("expires_at"), self._clock()))

    def _error(self, method: str, path: str, status: int, body: Any, text: str, headers: httpx.Headers) -> SkillError:
        said = body.get("message") if isinstance(body, dict) else None
        said = " ".join(str(said or text[:200]).split())
        if status == 401:
            return SkillError(
                INTEGRATION,
                f"GitHub rejected the App's credentials (401: {said})",
                "Check GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY (the App's .pem), and this host's clock",
                status=status,
            )
        if status in (403, 429) and (headers.get("x-ratelimit-remaining") == "0" or "retry-after" in headers):
            return SkillError(
                INTEGRATION,
                f"rate limit reached on {method} {path} ({status})",
                "Waited once; try again after x-ratelimit-reset",
                status=status,
            )
        if status == 403:
            return SkillError(
                INTEGRATION,
                f"{method} {path} is forbidden (403: {said})",
                "Check the App's permissions (README, GitHub App) and accept them on the installation",
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
        return (await self.request("GET", f"/repos/{repo}", installation=installation)).body or {}

    async def open_pulls(self, installation: int, repo: str, etag: str | None) -> tuple[list[dict] | None, str | None]:
        """Open pull requests, newest update first: (None, etag) when unchanged since `etag` (a 304 is free)."""
        params = {"state": "open", "sort": "updated", "direction": "desc", "per_page": 50}
        answer = await self.request(
            "GET", f"/repos/{repo}/pulls", installation=installation, params=params, etag=etag, ok=(200, 304)
        )
        new_etag = answer.headers.get("etag") or etag
        if answer.status == 304:
            return None, new_etag
        return (answer.body if isinstance(answer.body, list) else []), new_etag

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

    async def commits(self, installation: int, repo: str, branch: str, since: str | None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"sha": branch, "per_page": 30}
        if since:
            params["since"] = since
        answer = await self.request("GET", f"/repos/{repo}/commits", installation=installation, params=params)
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
