"""State of the fake GitHub: installations, repositories, pull requests, commits and git objects.

Pull requests hold files as GitHub's files API gives them (`filename`, `status`, `patch`, counts); the diff
media type is built from those patches. Helpers make a patch from file contents.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any


def added_patch(content: str) -> str:
    """The patch of a new file: every line added."""
    lines = content.splitlines()
    return f"@@ -0,0 +1,{len(lines)} @@\n" + "\n".join("+" + line for line in lines)


def sha_of(*parts: str) -> str:
    return hashlib.sha1("\0".join(parts).encode()).hexdigest()


@dataclass
class PullFile:
    filename: str
    patch: str | None
    status: str = "added"
    content: str = ""  # the file at the head, for the contents API

    def row(self) -> dict[str, Any]:
        added = sum(1 for line in (self.patch or "").splitlines() if line.startswith("+"))
        removed = sum(1 for line in (self.patch or "").splitlines() if line.startswith("-"))
        row: dict[str, Any] = {
            "sha": sha_of(self.filename, self.content),
            "filename": self.filename,
            "status": self.status,
            "additions": added,
            "deletions": removed,
            "changes": added + removed,
        }
        if self.patch is not None:
            row["patch"] = self.patch
        return row

    def diff(self) -> str:
        old = "/dev/null" if self.status == "added" else f"a/{self.filename}"
        mode = "new file mode 100644\n" if self.status == "added" else ""
        return (
            f"diff --git a/{self.filename} b/{self.filename}\n{mode}index 0000000..1111111\n"
            f"--- {old}\n+++ b/{self.filename}\n{self.patch or ''}\n"
        )

    def commentable(self) -> set[int]:
        lines: set[int] = set()
        new = 0
        for line in (self.patch or "").splitlines():
            if line.startswith("@@"):
                new = int(line.split("+", 1)[1].split(",")[0].split(" ")[0])
            elif line.startswith("-") or line.startswith("\\"):
                continue
            else:
                lines.add(new)
                new += 1
        return lines


@dataclass
class Pull:
    number: int
    title: str
    head_sha: str
    head_ref: str
    author: str = "dev"
    body: str = ""
    draft: bool = False
    state: str = "open"
    fork: bool = False
    files: list[PullFile] = field(default_factory=list)
    issue_comments: list[dict[str, Any]] = field(default_factory=list)
    review_comments: list[dict[str, Any]] = field(default_factory=list)
    updated_at: str = "2026-11-30T10:00:00Z"
    # The files as GitHub sees them when a review is posted, when they differ from what was read (a force-push
    # in between): review comments are checked against these.
    files_at_post: list[PullFile] | None = None


@dataclass
class Repo:
    full_name: str
    default_branch: str = "main"
    private: bool = True
    pulls: dict[int, Pull] = field(default_factory=dict)
    commits: list[dict[str, Any]] = field(default_factory=list)  # newest first, the /commits wire format
    refs: dict[str, str] = field(default_factory=dict)  # branch -> commit sha
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)  # sha -> blob | tree | commit
    reviews: list[dict[str, Any]] = field(default_factory=list)

    @property
    def id(self) -> int:
        return int(sha_of(self.full_name)[:6], 16)

    def summary(self) -> dict[str, Any]:
        owner, name = self.full_name.split("/")
        return {
            "id": self.id,
            "name": name,
            "full_name": self.full_name,
            "private": self.private,
            "owner": {"login": owner},
            "default_branch": self.default_branch,
            "html_url": f"https://github.com/{self.full_name}",
        }

    def pull_json(self, pr: Pull) -> dict[str, Any]:
        head_repo = dict(self.summary())
        if pr.fork:
            head_repo = dict(head_repo, full_name=f"someone/{self.full_name.split('/')[1]}", fork=True)
        return {
            "id": 1000 + pr.number,
            "number": pr.number,
            "state": pr.state,
            "draft": pr.draft,
            "title": pr.title,
            "body": pr.body,
            "user": {"login": pr.author, "type": "User"},
            "html_url": f"https://github.com/{self.full_name}/pull/{pr.number}",
            "updated_at": pr.updated_at,
            "head": {"ref": pr.head_ref, "sha": pr.head_sha, "repo": head_repo},
            "base": {"ref": self.default_branch, "sha": self.refs.get(self.default_branch, ""), "repo": self.summary()},
            "additions": sum(f.row()["additions"] for f in pr.files),
            "deletions": sum(f.row()["deletions"] for f in pr.files),
            "changed_files": len(pr.files),
        }

    def push_commit(self, sha: str, message: str, author: str, date: str) -> None:
        self.commits.insert(
            0,
            {
                "sha": sha,
                "html_url": f"https://github.com/{self.full_name}/commit/{sha}",
                "commit": {
                    "message": message,
                    "author": {"name": author, "email": f"{author}@example.com", "date": date},
                    "committer": {"name": author, "email": f"{author}@example.com", "date": date},
                },
                "author": {"login": author},
            },
        )
        self.refs[self.default_branch] = sha


@dataclass
class Installation:
    id: int
    account: str
    repos: list[str]
    account_type: str = "Organization"

    def json(self, app_id: str, app_slug: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "account": {"login": self.account, "type": self.account_type},
            "app_id": int(app_id),
            "app_slug": app_slug,
            "target_type": self.account_type,
            "repository_selection": "selected",
            "permissions": {"pull_requests": "write", "contents": "write", "metadata": "read", "issues": "read"},
            "events": ["pull_request", "issue_comment", "push"],
            "html_url": f"https://github.com/organizations/{self.account}/settings/installations/{self.id}",
        }
