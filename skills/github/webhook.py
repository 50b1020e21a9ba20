"""GitHub webhooks: the signature check (before anything is parsed) and events turned into plain intake items.

`verify_signature` compares `X-Hub-Signature-256` with HMAC-SHA256(secret, raw body) in constant time.
`parse_event` maps a verified delivery to what sitrep does with it: review a pull request head, record pushed
changes, keep the installation link current, or nothing (None -> 204). A payload that is not the JSON object
its event promises (or nests deeper than text/json_in.py takes) raises MalformedEvent (-> 400).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from typing import Any

from text.json_in import NotJSON, loads

REVIEW_ACTIONS = frozenset({"opened", "reopened", "synchronize", "ready_for_review"})
REVIEW_COMMAND = re.compile(r"@sitrep\s+review\b", re.IGNORECASE)


class MalformedEvent(ValueError):
    """The body is not the JSON its event promises; answered 400."""


def signature_for(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    """True only when `header` is the sha256 HMAC of `body` under `secret` (constant-time comparison)."""
    if not secret or not header:
        return False
    return hmac.compare_digest(signature_for(secret, body).encode(), header.strip().encode())


@dataclass(frozen=True)
class ReviewRequest:
    repo: str
    number: int
    head_sha: str
    installation_id: int | None
    forced_by: str = ""  # set when someone asked ("@sitrep review"): a new review even for a reviewed head
    source: str = "webhook"


@dataclass(frozen=True)
class PushedCommit:
    sha: str
    author: str
    message: str
    timestamp: str
    url: str | None


@dataclass(frozen=True)
class PushEvent:
    repo: str
    branch: str
    default_branch: str
    commits: tuple[PushedCommit, ...]


@dataclass(frozen=True)
class InstallationEvent:
    action: str  # created | deleted | suspend | unsuspend | added | removed | new_permissions_accepted
    installation_id: int
    account: str
    repos_added: tuple[str, ...] = field(default=())
    repos_removed: tuple[str, ...] = field(default=())


Intake = ReviewRequest | PushEvent | InstallationEvent


def parse_event(event: str, body: bytes, delivery: str = "") -> Intake | None:
    """What to do with a verified delivery; None when sitrep does nothing with it."""
    if event not in ("pull_request", "issue_comment", "push", "installation", "installation_repositories"):
        return None
    try:
        payload = loads(body)
    except NotJSON as exc:
        raise MalformedEvent(str(exc)) from None
    if not isinstance(payload, dict):
        raise MalformedEvent("the body is not a JSON object")
    try:
        if event == "pull_request":
            return _pull_request(payload)
        if event == "issue_comment":
            return _issue_comment(payload, delivery)
        if event == "push":
            return _push(payload)
        return _installation(event, payload)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise MalformedEvent(f"{event} payload is missing {exc}") from None


def _installation_id(payload: dict[str, Any]) -> int | None:
    inst = payload.get("installation")
    return int(inst["id"]) if isinstance(inst, dict) and "id" in inst else None


def _pull_request(payload: dict[str, Any]) -> ReviewRequest | None:
    if payload.get("action") not in REVIEW_ACTIONS:
        return None
    pr = payload["pull_request"]
    if pr.get("draft"):
        return None
    return ReviewRequest(
        repo=str(payload["repository"]["full_name"]),
        number=int(pr["number"]),
        head_sha=str(pr["head"]["sha"]),
        installation_id=_installation_id(payload),
    )


def _issue_comment(payload: dict[str, Any], delivery: str) -> ReviewRequest | None:
    issue = payload["issue"]
    comment = payload["comment"]
    if payload.get("action") != "created" or not issue.get("pull_request"):
        return None
    if (comment.get("user") or {}).get("type") == "Bot" or not REVIEW_COMMAND.search(str(comment.get("body") or "")):
        return None
    return ReviewRequest(
        repo=str(payload["repository"]["full_name"]),
        number=int(issue["number"]),
        head_sha="",  # read from the pull request when the review runs
        installation_id=_installation_id(payload),
        forced_by=f"comment:{comment.get('id') or delivery}",
    )


def _push(payload: dict[str, Any]) -> PushEvent | None:
    repo = payload["repository"]
    default = str(repo.get("default_branch") or "")
    ref = str(payload["ref"])
    if not ref.startswith("refs/heads/") or payload.get("deleted"):
        return None
    commits = tuple(
        PushedCommit(
            sha=str(c["id"]),
            author=str((c.get("author") or {}).get("username") or (c.get("author") or {}).get("name") or ""),
            message=str(c.get("message") or "").split("\n", 1)[0],
            timestamp=str(c.get("timestamp") or ""),
            url=c.get("url"),
        )
        for c in payload.get("commits") or []
    )
    return PushEvent(str(repo["full_name"]), ref.removeprefix("refs/heads/"), default, commits)


def _installation(event: str, payload: dict[str, Any]) -> InstallationEvent:
    inst = payload["installation"]
    account = str((inst.get("account") or {}).get("login") or "")
    added = tuple(str(r["full_name"]) for r in payload.get("repositories_added") or [])
    removed = tuple(str(r["full_name"]) for r in payload.get("repositories_removed") or [])
    if event == "installation":
        added = tuple(str(r["full_name"]) for r in payload.get("repositories") or [])
    return InstallationEvent(str(payload.get("action") or ""), int(inst["id"]), account, added, removed)
