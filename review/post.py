"""Posting: one review (event COMMENT) with inline comments, retried without them on 422; one commit via the Git
Data API for `agents.coding.mode: commit`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from review.findings import Edit, apply_edits
from review.gather import PullRequestData
from review.render import bound_body
from skills.base import SkillError
from skills.github.client import INTEGRATION, GitHubClient

log = logging.getLogger(__name__)

FALLBACK_NOTE = "\n\n_(GitHub refused the inline comments (422); they are left out of this review)_"


@dataclass
class Posted:
    url: str
    review_id: int
    inline: int
    fell_back: bool


async def post_review(
    client: GitHubClient,
    installation: int,
    pr: PullRequestData,
    body: str,
    comments: list[dict[str, Any]],
) -> Posted:
    review: dict[str, Any] = {"commit_id": pr.head_sha, "body": bound_body(body), "event": "COMMENT"}
    if comments:
        review["comments"] = comments
    answer = await client.create_review(installation, pr.repo, pr.number, review)
    fell_back = False
    if answer.status == 422 and comments:
        log.warning(
            "GitHub refused the review of %s#%s with inline comments (422): posting without", pr.repo, pr.number
        )
        review = {"commit_id": pr.head_sha, "body": bound_body(body + FALLBACK_NOTE), "event": "COMMENT"}
        answer = await client.create_review(installation, pr.repo, pr.number, review)
        fell_back = True
    if answer.status != 200:
        said = answer.body.get("message") if isinstance(answer.body, dict) else answer.text[:200]
        raise SkillError(INTEGRATION, f"GitHub refused the review ({answer.status}: {said})", status=answer.status)
    data = answer.body or {}
    return Posted(
        str(data.get("html_url") or pr.url), int(data.get("id") or 0), 0 if fell_back else len(comments), fell_back
    )


@dataclass
class Pushed:
    sha: str
    files: list[str]
    branch: str


async def push_commit(
    client: GitHubClient, installation: int, pr: PullRequestData, edits: list[Edit], default_branch: str
) -> tuple[Pushed | None, str]:
    """One commit with the edits on the PR's head branch: (pushed, note) or (None, why it was skipped)."""
    if not edits:
        return None, ""
    if pr.fork:
        return None, "the head branch is in a fork: sitrep does not push there"
    if not pr.head_ref or pr.head_ref == default_branch:
        return None, f"the head branch is the default branch ({default_branch}): sitrep never pushes there"
    repo = pr.repo
    ref = await client.request("GET", f"/repos/{repo}/git/ref/heads/{pr.head_ref}", installation=installation)
    head = ((ref.body or {}).get("object") or {}).get("sha")
    if head != pr.head_sha:
        return None, "the head branch moved since this review started: nothing was pushed"
    commit = await client.request("GET", f"/repos/{repo}/git/commits/{head}", installation=installation)
    base_tree = ((commit.body or {}).get("tree") or {}).get("sha")
    tree = []
    by_path: dict[str, list[Edit]] = {}
    for e in edits:
        by_path.setdefault(e.path, []).append(e)
    for path, file_edits in by_path.items():
        content = await client.file_text(installation, repo, path, head)
        if content is None:
            continue
        blob = await client.request(
            "POST",
            f"/repos/{repo}/git/blobs",
            installation=installation,
            json_body={"content": apply_edits(content, file_edits), "encoding": "utf-8"},
        )
        tree.append({"path": path, "mode": "100644", "type": "blob", "sha": (blob.body or {}).get("sha")})
    if not tree:
        return None, "the files to change could not be read at the head commit"
    new_tree = await client.request(
        "POST", f"/repos/{repo}/git/trees", installation=installation, json_body={"base_tree": base_tree, "tree": tree}
    )
    message = "Track the tracking plan's events in new routes and agent calls\n\nPushed by sitrep (agents.coding)."
    new_commit = await client.request(
        "POST",
        f"/repos/{repo}/git/commits",
        installation=installation,
        json_body={"message": message, "tree": (new_tree.body or {}).get("sha"), "parents": [head]},
    )
    sha = str((new_commit.body or {}).get("sha"))
    update = await client.request(
        "PATCH",
        f"/repos/{repo}/git/refs/heads/{pr.head_ref}",
        installation=installation,
        json_body={"sha": sha, "force": False},
        ok=(200, 422),
    )
    if update.status == 422:
        return None, "the head branch moved while the commit was made (not a fast-forward): nothing was pushed"
    files = [str(t["path"]) for t in tree]
    return Pushed(sha, files, pr.head_ref), f"pushed {sha[:7]} to `{pr.head_ref}`: " + ", ".join(
        f"`{f}`" for f in files
    )
