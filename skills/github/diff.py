"""Unified diffs parsed into files and hunks: which new-side lines a review comment may point at.

GitHub accepts an inline comment (side RIGHT) only on a line inside a hunk of the pull request's diff; one line
outside fails the whole review with 422. `FilePatch.commentable` is that set of lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


@dataclass
class FilePatch:
    path: str
    status: str = "modified"  # added | modified | removed | renamed
    patch: str = ""  # the hunks, as GitHub's files API gives them
    added: dict[int, str] = field(default_factory=dict)  # new-side line number -> added line text
    commentable: set[int] = field(default_factory=set)  # new-side lines inside a hunk (added or context)
    additions: int = 0
    deletions: int = 0

    @property
    def changes(self) -> int:
        return self.additions + self.deletions

    @property
    def added_text(self) -> str:
        return "\n".join(self.added[n] for n in sorted(self.added))


def parse_hunks(fp: FilePatch, patch: str) -> FilePatch:
    """Fill `fp` from the hunks of one file's patch (text starting at the first @@)."""
    fp.patch = patch
    new_line = 0
    in_hunk = False
    for line in patch.splitlines():
        match = _HUNK.match(line)
        if match:
            new_line = int(match.group(3))
            in_hunk = True
            continue
        if not in_hunk or line.startswith("\\"):
            continue
        if line.startswith("+"):
            fp.added[new_line] = line[1:]
            fp.commentable.add(new_line)
            fp.additions += 1
            new_line += 1
        elif line.startswith("-"):
            fp.deletions += 1
        else:
            fp.commentable.add(new_line)
            new_line += 1
    return fp


def parse_diff(text: str) -> list[FilePatch]:
    """Every file of a `git diff` / application/vnd.github.diff text, in order."""
    files: list[FilePatch] = []
    for chunk in re.split(r"^(?=diff --git )", text, flags=re.MULTILINE):
        if not chunk.startswith("diff --git "):
            continue
        lines = chunk.splitlines()
        header = lines[0][len("diff --git ") :]
        old_path, new_path = _paths(header)
        status = "modified"
        body_start = len(lines)
        for i, line in enumerate(lines[1:], start=1):
            if line.startswith("new file mode"):
                status = "added"
            elif line.startswith("deleted file mode"):
                status = "removed"
            elif line.startswith("rename to "):
                status, new_path = "renamed", line[len("rename to ") :]
            elif line.startswith("+++ "):
                target = line[4:]
                if target != "/dev/null":
                    new_path = target[2:] if target.startswith("b/") else target
            elif line.startswith("@@"):
                body_start = i
                break
        path = new_path if status != "removed" else old_path
        files.append(parse_hunks(FilePatch(path, status), "\n".join(lines[body_start:])))
    return files


def from_files_api(rows: list[dict]) -> list[FilePatch]:
    """The files list (GET .../pulls/{n}/files): `patch` may be missing for big or binary files."""
    files = []
    for row in rows:
        fp = FilePatch(str(row.get("filename", "")), str(row.get("status", "modified")))
        patch = row.get("patch")
        if isinstance(patch, str):
            parse_hunks(fp, patch)
        fp.additions = int(row.get("additions") or fp.additions)
        fp.deletions = int(row.get("deletions") or fp.deletions)
        files.append(fp)
    return files


def _paths(header: str) -> tuple[str, str]:
    """'a/x b/x' -> ('x', 'x'); good enough for paths without ' b/' inside them."""
    if header.startswith("a/") and " b/" in header:
        old, new = header[2:].split(" b/", 1)
        return old, new
    parts = header.split(" ")
    return parts[0], parts[-1]
