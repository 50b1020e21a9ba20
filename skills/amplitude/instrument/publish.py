"""The pull request: checks first, then one commit on sitrep's own branch and one pull request, found again by its
head branch on every later run.

Checks (nothing is pushed when one fails): the repository is not a fork and not archived
(https://docs.github.com/en/rest/repos/repos#get-a-repository), and the App's installation on it holds
`contents: write` and `pull_requests: write` (https://docs.github.com/en/rest/apps/apps#get-a-repository-
installation-for-the-authenticated-app). The branch is `sitrep/amplitude-instrumentation`, never the default
branch. Its commit builds on the scanned default-branch commit through the Git Data API (blobs, a tree over the
base tree, a commit, then the ref created, or moved when the branch holds only sitrep's commit); a branch someone
else pushed to is left alone. The pull request is listed by `head=owner:branch` and updated, or opened
(https://docs.github.com/en/rest/pulls/pulls).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from skills.amplitude.instrument.plan import Plan
from skills.amplitude.instrument.render import pr_body, pr_title
from skills.base import SkillError
from skills.github.client import INTEGRATION, GitHubClient

BRANCH = "sitrep/amplitude-instrumentation"
COMMIT_MARK = "Pushed by sitrep (Amplitude instrumentation)"
REQUIRED = ("contents", "pull_requests")


class Refused(SkillError):
    """A check failed: the message says what and what to do; nothing was pushed."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(INTEGRATION, message, hint)


@dataclass(frozen=True)
class Target:
    repo: str
    default_branch: str
    installation: int
    html_url: str


@dataclass(frozen=True)
class Published:
    repo: str
    number: int
    url: str
    branch: str
    commit: str
    opened: bool  # False: an existing pull request was updated
    files: tuple[str, ...]


async def check_target(client: GitHubClient, installation: int, repo: str) -> Target:
    """The repository, if sitrep may open a pull request on it; Refused (nothing pushed) otherwise."""
    info = await client.repo(installation, repo)
    name = str(info.get("full_name") or repo)
    if info.get("fork"):
        raise Refused(
            f"{name} is a fork: sitrep does not open pull requests on forks",
            "Link the upstream repository and instrument that one",
        )
    if info.get("archived"):
        raise Refused(f"{name} is archived, so it is read-only", "Unarchive it on GitHub (Settings → General)")
    default = str(info.get("default_branch") or "")
    if not default or default == BRANCH:
        raise Refused(f"{name}'s default branch is {default or 'unknown'}: sitrep never pushes to it")
    inst = await client.repo_installation(repo)
    if int(inst.get("id") or 0) != installation:
        raise Refused(
            f"{name} belongs to another installation of the App ({inst.get('id')}), not the linked one",
            "Link that installation with Link GitHub on the Home tab",
        )
    permissions = inst.get("permissions") or {}
    lacking = [f"{p}: write" for p in REQUIRED if permissions.get(p) != "write"]
    if lacking:
        account = (inst.get("account") or {}).get("login") or "the account"
        has = ", ".join(f"{p}: {permissions.get(p) or 'none'}" for p in REQUIRED)
        raise Refused(
            f"the App's installation on {account} lacks {' and '.join(lacking)} (it has {has})",
            "Give the GitHub App Contents and Pull requests read & write (App settings → Permissions), then accept "
            "the new permissions on the installation",
        )
    return Target(name, default, installation, str(info.get("html_url") or f"https://github.com/{name}"))


async def publish(client: GitHubClient, target: Target, plan: Plan) -> Published:
    """Push the plan's changes to sitrep's branch and open or update its one pull request."""
    repo, inst = target.repo, target.installation
    if plan.empty:
        raise Refused(f"nothing to instrument in {repo}: every point found already sends its event")
    ref = await client.request("GET", f"/repos/{repo}/git/ref/heads/{BRANCH}", installation=inst, ok=(200, 404))
    existing = str(((ref.body or {}).get("object") or {}).get("sha") or "") if ref.status == 200 else ""
    if existing:
        await _ours(client, target, existing)
    tree = []
    for change in plan.changes:
        blob = await client.request(
            "POST",
            f"/repos/{repo}/git/blobs",
            installation=inst,
            json_body={"content": change.after, "encoding": "utf-8"},
        )
        tree.append({"path": change.path, "mode": "100644", "type": "blob", "sha": (blob.body or {}).get("sha")})
    new_tree = await client.request(
        "POST", f"/repos/{repo}/git/trees", installation=inst, json_body={"base_tree": plan.base_tree, "tree": tree}
    )
    message = f"{pr_title(plan)}\n\n{len(plan.points)} points in {len(plan.changes)} files.\n\n{COMMIT_MARK}."
    commit = await client.request(
        "POST",
        f"/repos/{repo}/git/commits",
        installation=inst,
        json_body={"message": message, "tree": (new_tree.body or {}).get("sha"), "parents": [plan.base_commit]},
    )
    sha = str((commit.body or {}).get("sha") or "")
    if existing:
        await _move(client, target, sha)
    else:
        created = await client.request(
            "POST",
            f"/repos/{repo}/git/refs",
            installation=inst,
            json_body={"ref": f"refs/heads/{BRANCH}", "sha": sha},
            ok=(201, 422),
        )
        if created.status == 422:  # created meanwhile (another run): move it if it is still only sitrep's
            again = await client.request("GET", f"/repos/{repo}/git/ref/heads/{BRANCH}", installation=inst)
            await _ours(client, target, str(((again.body or {}).get("object") or {}).get("sha") or ""))
            await _move(client, target, sha)
    number, url, opened = await _pull_request(client, target, plan)
    return Published(repo, number, url, BRANCH, sha, opened, tuple(c.path for c in plan.changes))


async def _ours(client: GitHubClient, target: Target, head: str) -> None:
    commit = await client.request("GET", f"/repos/{target.repo}/git/commits/{head}", installation=target.installation)
    if COMMIT_MARK not in str((commit.body or {}).get("message") or ""):
        author = ((commit.body or {}).get("author") or {}).get("name") or "someone"
        raise Refused(
            f"{author} pushed {head[:7]} to `{BRANCH}` after sitrep: sitrep does not overwrite it",
            f"Merge or close the pull request from `{BRANCH}` (or delete the branch), then run this again",
        )


async def _move(client: GitHubClient, target: Target, sha: str) -> None:
    # sitrep's own single commit is replaced by one on the newer base: a forced update of sitrep's branch only
    await client.request(
        "PATCH",
        f"/repos/{target.repo}/git/refs/heads/{BRANCH}",
        installation=target.installation,
        json_body={"sha": sha, "force": True},
    )


async def open_pull(client: GitHubClient, target: Target) -> dict[str, Any] | None:
    """sitrep's open pull request on the repository, found by its head branch; None when there is none."""
    owner = target.repo.split("/")[0]
    answer = await client.request(
        "GET",
        f"/repos/{target.repo}/pulls",
        installation=target.installation,
        params={"head": f"{owner}:{BRANCH}", "state": "open", "per_page": 10},
    )
    rows = answer.body if isinstance(answer.body, list) else []
    return next((r for r in rows if (r.get("head") or {}).get("ref") == BRANCH), None)


async def _pull_request(client: GitHubClient, target: Target, plan: Plan) -> tuple[int, str, bool]:
    title, body = pr_title(plan), pr_body(plan)
    found = await open_pull(client, target)
    if found is None:
        created = await client.request(
            "POST",
            f"/repos/{target.repo}/pulls",
            installation=target.installation,
            json_body={"title": title, "head": BRANCH, "base": target.default_branch, "body": body},
            ok=(201, 422),
        )
        if created.status == 201:
            data = created.body or {}
            return int(data.get("number") or 0), str(data.get("html_url") or ""), True
        found = await open_pull(client, target)  # opened meanwhile by another run
        if found is None:
            said = (created.body or {}).get("errors") or (created.body or {}).get("message")
            raise SkillError(INTEGRATION, f"GitHub refused the pull request (422: {said})")
    number = int(found.get("number") or 0)
    await client.request(
        "PATCH",
        f"/repos/{target.repo}/pulls/{number}",
        installation=target.installation,
        json_body={"title": title, "body": body},
    )
    return number, str(found.get("html_url") or ""), False
