"""State of the fake GitHub: installations, repositories, pull requests, commits and git objects.

Pull requests hold files as GitHub's files API gives them (`filename`, `status`, `patch`, counts); the diff
media type is built from those patches. Helpers make a patch from file contents.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
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
    base_ref: str = ""  # the default branch unless set


@dataclass
class Repo:
    full_name: str
    default_branch: str = "main"
    private: bool = True
    fork: bool = False
    archived: bool = False
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
            "fork": self.fork,
            "archived": self.archived,
            "disabled": False,
            "visibility": "private" if self.private else "public",
        }

    def pull_json(self, pr: Pull) -> dict[str, Any]:
        head_repo = dict(self.summary())
        if pr.fork:
            head_repo = dict(head_repo, full_name=f"someone/{self.full_name.split('/')[1]}", fork=True)
        base = pr.base_ref or self.default_branch
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
            "base": {"ref": base, "sha": self.refs.get(base, ""), "repo": self.summary()},
            "additions": sum(f.row()["additions"] for f in pr.files),
            "deletions": sum(f.row()["deletions"] for f in pr.files),
            "changed_files": len(pr.files),
        }

    # -- git objects ---------------------------------------------------------------------------------------

    def known_tree(self, sha: str) -> bool:
        """A tree posted here, or the tree of a commit the fake made up (add_pull), which has no entries."""
        if self.objects.get(sha, {}).get("type") == "tree":
            return True
        return any(_tree_sha(o) == sha for o in self.objects.values() if o["type"] == "commit")

    def tree_of(self, commit: str) -> str:
        return _tree_sha(self.objects[commit])

    def flat_tree(self, sha: str) -> dict[str, str]:
        """path -> blob sha: the base tree's, then this tree's entries over them (sha None deletes)."""
        tree = self.objects.get(sha)
        if tree is None or tree["type"] != "tree":
            return {}
        files = self.flat_tree(tree["base_tree"]) if tree.get("base_tree") else {}
        for entry in tree["tree"]:
            if entry.get("sha") is None:
                files.pop(entry["path"], None)
            else:
                files[entry["path"]] = entry["sha"]
        return files

    def blob_size(self, sha: str) -> int:
        return len(self.objects[sha]["content"].encode())

    def files_at(self, ref: str) -> dict[str, str]:
        """The text of every file at a branch or commit."""
        commit = self.refs.get(ref, ref)
        return {p: self.objects[b]["content"] for p, b in self.flat_tree(self.tree_of(commit)).items()}

    def seed(self, files: dict[str, str], message: str = "Initial commit", branch: str | None = None) -> str:
        """A commit with exactly these files on `branch` (default: the default branch), on top of its head."""
        entries = []
        for path, content in sorted(files.items()):
            blob = sha_of("blob", content)
            self.objects[blob] = {"type": "blob", "sha": blob, "content": content}
            entries.append({"path": path, "mode": "100644", "type": "blob", "sha": blob})
        tree = sha_of("tree", json.dumps(entries, sort_keys=True))
        self.objects[tree] = {"type": "tree", "sha": tree, "tree": entries}
        branch = branch or self.default_branch
        parent = self.refs.get(branch)
        commit = sha_of("commit", tree, message, parent or "")
        self.objects[commit] = {
            "type": "commit",
            "sha": commit,
            "tree": {"sha": tree},
            "message": message,
            "parents": [parent] if parent else [],
        }
        self.refs[branch] = commit
        return commit

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


def _tree_sha(commit: dict[str, Any]) -> str:
    tree = commit.get("tree")
    return str(tree.get("sha") if isinstance(tree, dict) else tree)


DEFAULT_PERMISSIONS = {"pull_requests": "write", "contents": "write", "metadata": "read", "issues": "read"}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Installation:
    id: int
    account: str
    repos: list[str]
    account_type: str = "Organization"
    permissions: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_PERMISSIONS))
    # GitHub's installation object carries both (REST "Get an installation for the authenticated app");
    # updated_at moves when the installation's repositories or permissions change
    created_at: str = field(default_factory=_now)
    updated_at: str = field(default_factory=_now)

    def touch(self) -> None:
        """The installation was just changed (repositories added or removed on GitHub)."""
        self.updated_at = _now()

    def json(self, app_id: str, app_slug: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "account": {"login": self.account, "type": self.account_type},
            "app_id": int(app_id),
            "app_slug": app_slug,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "target_type": self.account_type,
            "repository_selection": "selected",
            "permissions": dict(self.permissions),
            "events": ["pull_request", "issue_comment", "push"],
            "html_url": f"https://github.com/organizations/{self.account}/settings/installations/{self.id}",
        }
