"""Read a repository's default branch through GitHub's API, bounded: the git tree (recursive), then the blobs of the
files the plan needs, a few at a time, reporting progress.

https://docs.github.com/en/rest/git/trees#get-a-tree (`recursive=1`; `truncated` when GitHub cut the listing) and
https://docs.github.com/en/rest/git/blobs#get-a-blob (base64 content). Which files: every package.json near the
top (to find the Next.js app and add the SDK), then source files of that app in order of use: route files, files
whose path says "agent", then the rest, skipping dependencies, build output, tests and declaration files, each at
most `max_file_bytes`, until `max_files` or `max_bytes` are reached. What was left out is counted, not hidden.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from skills.amplitude.instrument.points import api_route
from skills.amplitude.instrument.syntax import language_of
from skills.github.client import GitHubClient

Progress = Callable[[str, int, int], Awaitable[None]]  # (what, done, total)

IGNORED_DIRS = frozenset(
    {
        "node_modules",
        ".next",
        ".vercel",
        ".turbo",
        ".git",
        "dist",
        "build",
        "out",
        "coverage",
        "vendor",
        "public",
        "__tests__",
        "__mocks__",
        "test",
        "tests",
        "e2e",
        "cypress",
        "storybook-static",
    }
)
_TEST_FILE = re.compile(r"\.(?:test|spec|stories|config)\.[cm]?[jt]sx?$|\.min\.js$")
PACKAGE_DEPTH = 3
READ_CONCURRENCY = 6


@dataclass(frozen=True)
class Limits:
    max_files: int = 250
    max_file_bytes: int = 256_000
    max_bytes: int = 4_000_000


@dataclass(frozen=True)
class Entry:
    path: str
    sha: str
    size: int


@dataclass
class Snapshot:
    repo: str
    default_branch: str
    commit: str  # the default branch's head, which the pull request builds on
    tree: str  # that commit's tree
    entries: dict[str, Entry]  # every file (blob) of the tree
    files: dict[str, str] = field(default_factory=dict)  # what was read: path -> text
    app_root: str = ""  # the Next.js app's folder ("" for the repository's root)
    next_found: bool = False
    truncated: bool = False  # GitHub cut the tree listing (very large repositories)
    candidates: int = 0  # source files of the app that the plan could use
    left_out: int = 0  # of those, not read because of the bounds
    too_large: int = 0  # of those, over max_file_bytes
    read_bytes: int = 0

    def has(self, path: str) -> bool:
        return path in self.entries


async def _noop(what: str, done: int, total: int) -> None:
    return None


async def head_commit(client: GitHubClient, installation: int, repo: str, branch: str) -> str:
    answer = await client.request("GET", f"/repos/{repo}/git/ref/heads/{branch}", installation=installation)
    return str(((answer.body or {}).get("object") or {}).get("sha") or "")


async def scan(
    client: GitHubClient,
    installation: int,
    repo: str,
    default_branch: str,
    *,
    commit: str | None = None,
    limits: Limits | None = None,
    progress: Progress = _noop,
) -> Snapshot:
    """The default branch (or `commit`, one read before: a preview and its pull request see the same code)."""
    limits = limits or Limits()
    await progress("Reading the repository's tree", 0, 0)
    commit = commit or await head_commit(client, installation, repo, default_branch)
    answer = await client.request("GET", f"/repos/{repo}/git/commits/{commit}", installation=installation)
    tree_sha = str(((answer.body or {}).get("tree") or {}).get("sha") or "")
    answer = await client.request(
        "GET", f"/repos/{repo}/git/trees/{tree_sha}", installation=installation, params={"recursive": "1"}
    )
    body = answer.body or {}
    entries = {
        str(e["path"]): Entry(str(e["path"]), str(e["sha"]), int(e.get("size") or 0))
        for e in body.get("tree") or []
        if e.get("type") == "blob" and e.get("path") and e.get("sha")
    }
    snap = Snapshot(repo, default_branch, commit, tree_sha, entries, truncated=bool(body.get("truncated")))
    packages = sorted(
        (p for p in entries if p.rsplit("/", 1)[-1] == "package.json" and _wanted_dir(p)),
        key=lambda p: (p.count("/"), p),
    )
    packages = [p for p in packages if p.count("/") < PACKAGE_DEPTH][:10]
    await _read(client, installation, snap, packages, limits, progress, "Reading package.json")
    snap.app_root, snap.next_found = _app_root(snap, packages)
    sources = [
        p
        for p in entries
        if p.startswith(snap.app_root) and language_of(p) and _wanted_dir(p) and not _TEST_FILE.search(p)
    ]
    sources.sort(key=lambda p: (_rank(p[len(snap.app_root) :]), p))
    snap.candidates = len(sources)
    chosen: list[str] = []
    budget = limits.max_bytes
    for path in sources:
        size = entries[path].size
        if size > limits.max_file_bytes:
            snap.too_large += 1
        elif len(chosen) < limits.max_files and size <= budget:
            chosen.append(path)
            budget -= size
        else:
            snap.left_out += 1
    await _read(client, installation, snap, chosen, limits, progress, "Reading source files")
    return snap


def _wanted_dir(path: str) -> bool:
    return not any(part in IGNORED_DIRS or part.startswith(".") for part in path.split("/")[:-1])


def _rank(relative: str) -> int:
    if api_route(relative) is not None:
        return 0
    if "agent" in relative.lower():
        return 1
    if relative.split("/", 1)[0] in ("lib", "src", "server", "app", "pages", "utils", "services"):
        return 2
    return 3


def _app_root(snap: Snapshot, packages: list[str]) -> tuple[str, bool]:
    """The folder of the shallowest package.json that depends on next (else the repository's root)."""
    for path in packages:
        try:
            data = json.loads(snap.files.get(path, ""))
        except ValueError:
            continue
        deps: dict[str, Any] = {}
        for section in ("dependencies", "devDependencies"):
            if isinstance(data, dict) and isinstance(data.get(section), dict):
                deps.update(data[section])
        if "next" in deps:
            return path[: -len("package.json")], True
    return "", False


async def _read(
    client: GitHubClient,
    installation: int,
    snap: Snapshot,
    paths: list[str],
    limits: Limits,
    progress: Progress,
    what: str,
) -> None:
    gate = asyncio.Semaphore(READ_CONCURRENCY)
    done = 0
    await progress(what, 0, len(paths))

    async def one(path: str) -> None:
        nonlocal done
        async with gate:
            blob = await client.request(
                "GET", f"/repos/{snap.repo}/git/blobs/{snap.entries[path].sha}", installation=installation
            )
        content = _decode(blob.body or {})
        if content is not None and len(content) <= limits.max_file_bytes:
            snap.files[path] = content
            snap.read_bytes += len(content.encode())
        done += 1
        await progress(what, done, len(paths))

    await asyncio.gather(*(one(p) for p in paths))


def _decode(blob: dict[str, Any]) -> str | None:
    raw = blob.get("content")
    if not isinstance(raw, str):
        return None
    try:
        data = base64.b64decode(raw) if blob.get("encoding", "base64") == "base64" else raw.encode()
        return data.decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None  # binary, or not UTF-8: not source the plan can edit
