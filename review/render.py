"""The review's text: the rule-based body (files by area, production context, findings) and inline comments.

Production context arrives as plain data (review/context.py builds it from the Grafana and Amplitude tools):
[{"route", "file", "errors": {"count", "top_pattern", "top_count", "link"} | None, "p95": {...} | None,
"events": [{"event", "total", "link"}], "notes": [...]}]. Every number printed comes from that data, with its link.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from review.findings import Finding
from review.gather import PullRequestData
from skills.github.diff import FilePatch
from skills.nextjs import route_for

MAX_BODY_CHARS = 60_000  # GitHub caps review bodies at 65,536 characters
MAX_FILES_PER_AREA = 15
AREAS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Tests", re.compile(r"(^|/)(__tests__|tests?)/|\.(test|spec)\.[jt]sx?$")),
    (
        "Config and dependencies",
        re.compile(
            r"(^|/)(package(-lock)?\.json|yarn\.lock|pnpm-lock\.yaml|.*\.config\.[jt]s|"
            r"tsconfig\.json|\.env.*|vercel\.json|Dockerfile|\.github/.*)$"
        ),
    ),
    ("Docs", re.compile(r"\.(md|mdx|txt)$")),
    ("Components and libraries", re.compile(r"(^|/)(components|lib|utils|hooks|src)/")),
)


def area_of(path: str) -> str:
    route = route_for(path)
    if route is not None:
        return "API routes" if route.kind == "api" else "Pages"
    for name, pattern in AREAS:
        if pattern.search(path):
            return name
    return "Other"


def files_by_area(files: Sequence[FilePatch]) -> dict[str, list[FilePatch]]:
    order = ["API routes", "Pages", "Components and libraries", "Config and dependencies", "Tests", "Docs", "Other"]
    groups: dict[str, list[FilePatch]] = {name: [] for name in order}
    for fp in files:
        groups[area_of(fp.path)].append(fp)
    return {k: v for k, v in groups.items() if v}


def context_lines(context: Sequence[dict[str, Any]]) -> list[str]:
    lines = []
    for c in context:
        parts = []
        errors = c.get("errors")
        if errors and errors.get("count"):
            text = f"{errors['count']:,} error lines in the last 24 h"
            if errors.get("top_pattern"):
                text += f", top pattern `{_code(errors['top_pattern'])}` ({errors.get('top_count', 0):,}×)"
            parts.append(f"{text} ([Grafana Explore]({errors['link']}))")
        elif errors is not None:
            parts.append(f"no error lines in the last 24 h ([Grafana Explore]({errors['link']}))")
        p95 = c.get("p95")
        if p95 and p95.get("seconds") is not None:
            parts.append(f"p95 latency {p95['seconds'] * 1000:,.0f} ms ([Grafana Explore]({p95['link']}))")
        for e in c.get("events") or []:
            parts.append(f"Amplitude `{e['event']}`: {e['total']:,} in 7 days ([Amplitude]({e['link']}))")
        parts += c.get("notes") or []
        what = "; ".join(parts) or "no production data found for it"
        lines.append(f"- `{c['route']}` (`{c['file']}`): {what}")
    return lines


def _code(text: str) -> str:
    return str(text).replace("`", "'")[:200]


def rule_based_body(
    pr: PullRequestData,
    context: Sequence[dict[str, Any]],
    findings: Sequence[Finding],
    *,
    context_note: str = "",
    coding_note: str = "",
    listed_only: int = 0,
) -> str:
    out = [
        f"### sitrep review of {pr.repo}#{pr.number}",
        f"{len(pr.files)} files changed (+{pr.additions:,} −{pr.deletions:,}) at `{pr.head_sha[:7]}`"
        + (
            " · the diff was too large for GitHub's diff view, so this review read the files list"
            if pr.diff_source == "files"
            else ""
        ),
        "",
        "#### Production context",
    ]
    out += context_lines(context) or [f"- {context_note or 'this pull request touches no Next.js route'}"]
    if context_note and context:
        out.append(f"- {context_note}")
    out += ["", "#### Findings"]
    if findings:
        out += [f"- **{f.kind}** `{f.path}`{f':{f.line}' if f.line else ''}: {f.message}" for f in findings]
    else:
        out.append("- no tracking-plan or error-handling gaps found by the built-in checks")
    if coding_note:
        out += ["", coding_note]
    out += ["", "#### Files by area"]
    for area, files in files_by_area(pr.files).items():
        names = ", ".join(f"`{f.path}`" for f in files[:MAX_FILES_PER_AREA])
        more = f" and {len(files) - MAX_FILES_PER_AREA} more" if len(files) > MAX_FILES_PER_AREA else ""
        out.append(f"- {area} ({len(files)}): {names}{more}")
    if listed_only:
        out.append(f"\n_{listed_only} files were over the review's size budget and were only listed._")
    return bound_body("\n".join(out))


def bound_body(body: str, limit: int = MAX_BODY_CHARS) -> str:
    if len(body) <= limit:
        return body
    note = "\n\n_(review cut to fit GitHub's size limit)_"
    return body[: limit - len(note)] + note


def inline_comments(pr: PullRequestData, findings: Sequence[Finding], *, suggestions: bool) -> list[dict[str, Any]]:
    """Review comments on lines inside the diff's hunks only (anything else would fail the review with 422)."""
    comments = []
    for f in findings:
        fp = pr.file(f.path)
        if fp is None:
            continue
        if suggestions and f.edits:
            for e in f.edits:
                if e.line in fp.commentable:
                    comments.append({"path": e.path, "line": e.line, "side": "RIGHT", "body": e.suggestion()})
        elif f.line is not None and f.line in fp.commentable:
            comments.append({"path": f.path, "line": f.line, "side": "RIGHT", "body": f.message})
    return comments
