"""Everything a review reads about one pull request, fetched concurrently, and the token budget for its patches.

The diff comes from the diff media type; when GitHub answers 406 (`too_large`: over 300 files or 20,000 lines)
the files list stands in (its `patch` may be missing for big or binary files). Large diffs are cut to a budget:
the most relevant patches whole, in order, and the rest listed by name with their line counts.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import Any

from skills.github.client import GitHubClient
from skills.github.diff import FilePatch, from_files_api, parse_diff
from skills.nextjs import route_for

PATCH_TOKEN_BUDGET = 12_000  # tokens of patch text given to the model (about 4 characters a token)
CHARS_PER_TOKEN = 4
COMMENT_CHARS = 600
_PR_URL = re.compile(r"https?://[^/\s]+/([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)/pulls?/(\d+)")
_LOW = re.compile(r"(^|/)(package-lock\.json|yarn\.lock|pnpm-lock\.yaml|.*\.min\.js|.*\.map|dist/|build/|vendor/)")
_TEST = re.compile(r"(^|/)(__tests__|tests?)/|\.(test|spec)\.[jt]sx?$")
_CODE = re.compile(r"\.(ts|tsx|js|jsx|mjs|py|go|rb)$")
_AGENT = re.compile(r"agent", re.IGNORECASE)


def parse_pr_url(text: str) -> tuple[str, int] | None:
    """('owner/name', number) from a pull request URL (github.com or GitHub Enterprise), else None."""
    match = _PR_URL.search(text or "")
    return (match.group(1), int(match.group(2))) if match else None


@dataclass
class PullRequestData:
    repo: str
    number: int
    title: str
    body: str
    author: str
    url: str
    head_sha: str
    head_ref: str
    head_repo: str
    base_ref: str
    draft: bool
    files: list[FilePatch]
    diff_source: str  # diff | files (the diff was too large: 406)
    issue_comments: list[dict[str, str]] = field(default_factory=list)
    review_comments: list[dict[str, str]] = field(default_factory=list)

    @property
    def fork(self) -> bool:
        return self.head_repo.lower() != self.repo.lower()

    @property
    def additions(self) -> int:
        return sum(f.additions for f in self.files)

    @property
    def deletions(self) -> int:
        return sum(f.deletions for f in self.files)

    def file(self, path: str) -> FilePatch | None:
        return next((f for f in self.files if f.path == path), None)


async def gather(client: GitHubClient, installation: int, repo: str, number: int) -> PullRequestData:
    pull, diff, issue_comments, review_comments = await asyncio.gather(
        client.pull(installation, repo, number),
        client.pull_diff(installation, repo, number),
        client.issue_comments(installation, repo, number),
        client.review_comments(installation, repo, number),
    )
    if diff is None:
        files, source = from_files_api(await client.pull_files(installation, repo, number)), "files"
    else:
        files, source = parse_diff(diff), "diff"
    head = pull.get("head") or {}
    return PullRequestData(
        repo=repo,
        number=number,
        title=str(pull.get("title") or ""),
        body=str(pull.get("body") or ""),
        author=str((pull.get("user") or {}).get("login") or ""),
        url=str(pull.get("html_url") or ""),
        head_sha=str(head.get("sha") or ""),
        head_ref=str(head.get("ref") or ""),
        head_repo=str((head.get("repo") or {}).get("full_name") or repo),
        base_ref=str((pull.get("base") or {}).get("ref") or ""),
        draft=bool(pull.get("draft")),
        files=files,
        diff_source=source,
        issue_comments=[_comment(c) for c in issue_comments],
        review_comments=[_comment(c) for c in review_comments],
    )


def _comment(c: dict[str, Any]) -> dict[str, str]:
    body = " ".join(str(c.get("body") or "").split())
    out = {"author": str((c.get("user") or {}).get("login") or ""), "body": body[:COMMENT_CHARS]}
    if c.get("path"):
        out["path"] = str(c["path"])
    return out


def relevance(fp: FilePatch) -> float:
    """Higher first: API routes and agent code, then other code; tests later; lockfiles and build output last."""
    if _LOW.search(fp.path):
        return -100.0
    score = min(fp.changes, 200) / 20
    route = route_for(fp.path)
    if route is not None:
        score += 100 if route.kind == "api" else 40
    if _AGENT.search(fp.path) or _AGENT.search(fp.added_text[:20_000]):
        score += 30
    if _CODE.search(fp.path):
        score += 20
    if _TEST.search(fp.path):
        score -= 30
    return score


@dataclass
class Budgeted:
    included: list[FilePatch]
    listed: list[FilePatch]  # over the budget (or without a patch): named only
    tokens: int  # estimated tokens of the included patches
    budget: int


def budget_patches(files: list[FilePatch], budget_tokens: int = PATCH_TOKEN_BUDGET) -> Budgeted:
    """The most relevant patches that fit in the budget, whole; the rest listed by name."""
    chars_left = budget_tokens * CHARS_PER_TOKEN
    included: list[FilePatch] = []
    listed: list[FilePatch] = []
    for fp in sorted(files, key=relevance, reverse=True):
        cost = len(fp.patch) + len(fp.path) + 20
        if fp.patch and cost <= chars_left:
            included.append(fp)
            chars_left -= cost
        else:
            listed.append(fp)
    used = budget_tokens * CHARS_PER_TOKEN - chars_left
    return Budgeted(included, listed, used // CHARS_PER_TOKEN, budget_tokens)


def patches_text(b: Budgeted) -> str:
    """The budgeted patches as text for the model, then the files left out, by name."""
    parts = [f"--- {fp.path} ({fp.status}, +{fp.additions} -{fp.deletions})\n{fp.patch}" for fp in b.included]
    if b.listed:
        names = "\n".join(f"- {fp.path} (+{fp.additions} -{fp.deletions})" for fp in b.listed)
        parts.append(
            f"Files not shown (over the {b.budget:,}-token budget or without a patch; ask github_get_file for one):"
            f"\n{names}"
        )
    return "\n\n".join(parts)
