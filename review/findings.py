"""Rule-based findings on a pull request: tracking-plan gaps and error-handling gaps, with fixes as edits.

Tracking plan: the five events of the Amplitude snippet (skills/amplitude/snippet.py). A new API route, or an
added agent invocation, whose file emits none of them gets a finding, and an `Edit` adding the right
`track(...)` call. The coding subagent turns edits into GitHub suggestion blocks (`agents.coding.mode:
suggest`) or one commit on the head branch (`commit`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from review.gather import PullRequestData
from skills.amplitude.snippet import EVENT_NAMES, PACKAGE
from skills.github.diff import FilePatch
from skills.nextjs import route_for

_TRACKED = re.compile(r"\btrack\(\s*['\"`](" + "|".join(re.escape(n) for n in EVENT_NAMES) + r")['\"`]")
_AGENT_CALL = re.compile(r"\b(runAgent|executeAgent|invokeAgent|startAgent|agent\.(?:run|invoke|execute))\s*\(")
_HANDLER = re.compile(r"^\s*export\s+(?:async\s+)?function\s+(GET|POST|PUT|PATCH|DELETE)\s*\(\s*(?P<req>\w+)?")
_PAGES_HANDLER = re.compile(r"^\s*export\s+default\s+(?:async\s+)?function\s*\w*\s*\(\s*(?P<req>\w+)?")
_CATCH = re.compile(r"\bcatch\s*\(\s*(\w+)[^)]*\)\s*\{\s*$")
_EMPTY_CATCH = re.compile(
    r"\bcatch\s*(\(\s*\w*\s*\))?\s*\{\s*\}|\.catch\(\s*\(\s*\w*\s*\)\s*=>\s*(\{\s*\}|null|undefined)\s*\)"
)
_IMPORT = re.compile(r"^\s*import\s")
SERVER_IDS = "{ device_id: 'server' }"


@dataclass(frozen=True)
class Edit:
    """Replace new-side line `line` of `path` with `lines` (which keep the original line where it belongs)."""

    path: str
    line: int
    lines: tuple[str, ...]
    why: str

    def suggestion(self) -> str:
        return f"{self.why}\n\n```suggestion\n" + "\n".join(self.lines) + "\n```"


@dataclass(frozen=True)
class Finding:
    kind: str  # tracking | error-handling
    path: str
    line: int | None
    message: str
    edits: tuple[Edit, ...] = ()


def _indent(text: str) -> str:
    return text[: len(text) - len(text.lstrip())]


def _import_edit(fp: FilePatch, lines: dict[int, str]) -> Edit | None:
    if re.search(r"\btrack\b.*from\s+['\"]" + re.escape(PACKAGE), fp.added_text):
        return None
    statement = f"import {{ track }} from '{PACKAGE}';"
    first = min(lines) if lines else 1
    for n in sorted(lines):
        if _IMPORT.match(lines[n]):
            first = n
            break
    if first not in lines:
        return None
    return Edit(fp.path, first, (statement, lines[first]), "Import Amplitude's `track` for the tracking plan.")


def _route_findings(fp: FilePatch, lines: dict[int, str]) -> list[Finding]:
    route = route_for(fp.path)
    if route is None or route.kind != "api" or fp.status != "added" or _TRACKED.search(fp.added_text):
        return []
    catch = next(((n, m.group(1)) for n, t in sorted(lines.items()) if (m := _CATCH.search(t))), None)
    handler = next(
        ((n, m) for n, t in sorted(lines.items()) if (m := _HANDLER.match(t) or _PAGES_HANDLER.match(t))), None
    )
    message = (
        f"New API route `{route.display}` emits none of the tracking plan's events ({', '.join(EVENT_NAMES)}): "
        "its failures will not show in Amplitude."
    )
    if catch is None:
        return [
            Finding(
                "tracking",
                fp.path,
                handler[0] if handler else None,
                message + " Add a try/catch that tracks `API Error` and answers 500.",
            )
        ]
    line_no, err = catch
    text = lines[line_no]
    inner = _indent(text) + "  "
    request = (handler[1].group("req") if handler else None) or "req"
    endpoint = f"new URL({request}.url).pathname"
    call = (
        f"{inner}track('API Error', {{ endpoint: {endpoint}, status_code: 500, "
        f"error_type: {err}?.name ?? 'Error' }}, {SERVER_IDS});"
    )
    edits = [Edit(fp.path, line_no, (text, call), "Track `API Error` when this route fails (tracking plan).")]
    if (imp := _import_edit(fp, lines)) is not None:
        edits.insert(0, imp)
    return [Finding("tracking", fp.path, line_no, message, tuple(edits))]


def _agent_findings(fp: FilePatch, lines: dict[int, str]) -> list[Finding]:
    if _TRACKED.search(fp.added_text):
        return []
    call = next(((n, t, m) for n, t in sorted(lines.items()) if (m := _AGENT_CALL.search(t))), None)
    if call is None:
        return []
    n, text, match = call
    ind = _indent(text)
    agent_id = "agentId" if "agentId" in fp.added_text else "params.id"
    started = f"{ind}track('Agent Started', {{ agent_id: {agent_id} }}, {SERVER_IDS});"
    edits = [Edit(fp.path, n, (started, text), "Track `Agent Started` before the agent runs (tracking plan).")]
    if (imp := _import_edit(fp, lines)) is not None and imp.line != n:
        edits.insert(0, imp)
    message = (
        f"Agent invocation `{match.group(1)}(...)` emits none of the tracking plan's events: "
        "Agent Started / Completed / Failed / Timeout would show its runs and failures in Amplitude."
    )
    return [Finding("tracking", fp.path, n, message, tuple(edits))]


def _error_findings(fp: FilePatch, lines: dict[int, str]) -> list[Finding]:
    out = []
    for n, text in sorted(lines.items()):
        if _EMPTY_CATCH.search(text):
            out.append(
                Finding(
                    "error-handling",
                    fp.path,
                    n,
                    "An empty catch swallows the error: nothing reaches the logs (Loki) or Amplitude. Log it, or "
                    "track `API Error` / `Agent Failed`, and rethrow or answer an error status.",
                )
            )
    return out


def find(pr: PullRequestData) -> list[Finding]:
    findings: list[Finding] = []
    for fp in pr.files:
        if fp.status == "removed" or not fp.added:
            continue
        lines = dict(fp.added)
        route_findings = _route_findings(fp, lines)
        findings += route_findings
        if not route_findings:
            findings += _agent_findings(fp, lines)
        findings += _error_findings(fp, lines)
    return findings


def edits_of(findings: list[Finding]) -> list[Edit]:
    return [e for f in findings for e in f.edits]


def apply_edits(content: str, edits: list[Edit]) -> str:
    """The file with each edit's line replaced by its lines (edits of one file, bottom first)."""
    lines = content.split("\n")
    for edit in sorted(edits, key=lambda e: e.line, reverse=True):
        index = edit.line - 1
        if 0 <= index < len(lines):
            lines[index : index + 1] = list(edit.lines)
    return "\n".join(lines)
