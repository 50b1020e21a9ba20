"""The whole change, from a scanned snapshot: each file, each point, the event it gets and why; the new files'
text; and what was left alone, with the reason. Rule-based: the edits of edits.py at the points of points.py.

A file whose edit would not re-parse cleanly is left out (and named), as is a file that does not parse to begin
with: nothing unparsed is ever proposed. The init module is named for the app's layout (`src/lib/` when the app
lives under `src/`), TypeScript when the app has a tsconfig.json.
"""

from __future__ import annotations

import hashlib
import posixpath
from dataclasses import dataclass, field

from skills.amplitude.instrument.edits import (
    Edit,
    EditConflict,
    apply,
    call_edit,
    exit_edit,
    import_edit,
    runner_edits,
    verify,
)
from skills.amplitude.instrument.points import AGENT_EVENTS, API_ERROR, FileFacts, analyse
from skills.amplitude.instrument.scaffold import PackageJsonError, add_dependency, init_module, is_ours
from skills.amplitude.instrument.scan import Snapshot
from skills.amplitude.instrument.syntax import check


@dataclass(frozen=True)
class Point:
    path: str
    line: int
    event: str  # "API Error" or "Agent Started/Completed/Failed/Timeout"
    why: str


@dataclass(frozen=True)
class Change:
    path: str
    before: str | None  # None for a new file
    after: str
    summary: str = ""


@dataclass
class Plan:
    repo: str
    default_branch: str
    base_commit: str
    base_tree: str
    app_root: str = ""
    init_path: str = ""
    changes: list[Change] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)
    already: list[str] = field(default_factory=list)  # what already sends the plan's events
    covered: list[str] = field(default_factory=list)  # agent calls the instrumented runner covers
    left_alone: list[str] = field(default_factory=list)  # files skipped, and why
    notes: list[str] = field(default_factory=list)  # scan bounds, lockfile, missing package.json
    source: str = "rules"  # rules | claude

    @property
    def empty(self) -> bool:
        return not self.points

    @property
    def edited_files(self) -> list[str]:
        return [c.path for c in self.changes]

    @property
    def digest(self) -> str:
        """Names the exact change: a preview and its submission must agree on it before anything is pushed."""
        h = hashlib.sha256(self.base_commit.encode())
        for c in sorted(self.changes, key=lambda c: c.path):
            h.update(b"\0" + c.path.encode() + b"\0" + c.after.encode())
        return h.hexdigest()[:16]


def make_plan(snap: Snapshot, region: str = "us") -> Plan:
    plan = Plan(snap.repo, snap.default_branch, snap.commit, snap.tree, app_root=snap.app_root)
    root = snap.app_root
    facts: list[FileFacts] = []
    for path, content in sorted(snap.files.items()):
        found = analyse(path, content.encode(), relative=path[len(root) :])
        if found is not None:
            facts.append(found)
    typescript = snap.has(root + "tsconfig.json") or any(f.language != "javascript" for f in facts)
    plan.init_path = _init_path(snap, root, typescript)
    runners = {r.name: f.path for f in facts for r in f.runners if not (set(AGENT_EVENTS) & f.tracked)}
    for f in facts:
        _plan_file(plan, f, snap.files[f.path], runners)
    _bounds(plan, snap)
    if plan.empty:
        return plan
    if not snap.next_found:
        plan.notes.append("no package.json here depends on `next`: the routes were read as a Next.js app's anyway")
    package_path = root + "package.json"
    if package_path not in snap.files:
        plan.notes.append(f"no `{package_path}`: add `@amplitude/analytics-node` to the app's dependencies by hand")
    else:
        try:
            edited = add_dependency(snap.files[package_path])
        except PackageJsonError as exc:
            plan.notes.append(f"`{package_path}` was left alone ({exc}): add `@amplitude/analytics-node` by hand")
        else:
            if edited.added:
                plan.changes.append(Change(package_path, snap.files[package_path], edited.after, "the SDK"))
                plan.notes += _lockfile_note(snap, root)
    existing = snap.files.get(plan.init_path)
    if existing is None or not is_ours(existing):
        language = "typescript" if typescript else "javascript"
        text = init_module(language, region)
        plan.changes.insert(0, Change(plan.init_path, None, text, "initialises the SDK from AMPLITUDE_API_KEY"))
    return plan


def _init_path(snap: Snapshot, root: str, typescript: bool) -> str:
    src = any(p.startswith(root + "src/app/") or p.startswith(root + "src/pages/") for p in snap.entries)
    folder = root + ("src/lib/" if src else "lib/")
    ext = ".ts" if typescript else ".js"
    for name in ("amplitude", "amplitude-tracking", "sitrep-amplitude"):
        path = folder + name + ext
        if not snap.has(path) or is_ours(snap.files.get(path, "")):
            return path
    return folder + "sitrep-amplitude-tracking" + ext


def specifier(from_path: str, init_path: str) -> str:
    target = init_path.rsplit(".", 1)[0]
    rel = posixpath.relpath(target, posixpath.dirname(from_path) or ".")
    return rel if rel.startswith(".") else "./" + rel


def _plan_file(plan: Plan, f: FileFacts, content: str, runners: dict[str, str]) -> None:
    source = content.encode()
    if f.skipped:
        if f.exits or f.route or f.runners:
            plan.left_alone.append(f"`{f.path}`: {f.skipped}")
        return
    if check(source, f.language):
        plan.left_alone.append(f"`{f.path}`: it does not parse as {f.language} as it is, so it is not edited")
        return
    edits: list[Edit] = []
    points: list[Point] = []
    helpers: set[str] = set()
    route = f.route or ""
    if f.exits and API_ERROR in f.tracked:
        plan.already.append(f"`{f.path}` already sends API Error")
    elif f.exits:
        for exit_ in f.exits:
            edits.append(exit_edit(source, route, exit_))
            helpers.add("trackApiError")
            cause = (
                "throws where no catch handles it (Next.js answers 500)" if exit_.throw else f"answers {exit_.status}"
            )
            points.append(Point(f.path, exit_.line, API_ERROR, f"`{route}` {cause}"))
    agent_tracked = bool(set(AGENT_EVENTS) & f.tracked)
    for runner in f.runners:
        if agent_tracked:
            plan.already.append(f"`{f.path}`: `{runner.name}` already sends agent events")
            continue
        edits += runner_edits(source, f.language, runner, f.indent)
        helpers.add("trackAgentRun")
        points.append(
            Point(f.path, runner.line, ", ".join(AGENT_EVENTS), f"`{runner.name}` runs an agent: every call is tracked")
        )
    for call in f.calls:
        if call.name in runners:
            plan.covered.append(f"`{f.path}` line {call.line}: `{call.name}` (instrumented in `{runners[call.name]}`)")
        elif agent_tracked:
            plan.already.append(f"`{f.path}` line {call.line}: `{call.name}` already tracked")
        else:
            edits.append(call_edit(source, call))
            helpers.add("trackAgentRun")
            why = f"awaits `{call.name}(…)`, an agent defined outside the code read"
            points.append(Point(f.path, call.line, ", ".join(AGENT_EVENTS), why))
    if not edits:
        return
    edits.append(import_edit(f, specifier(f.path, plan.init_path), sorted(helpers), source))
    try:
        after = apply(source, edits)
    except EditConflict as exc:
        plan.left_alone.append(f"`{f.path}`: its edits would overlap ({exc}), so it is not edited")
        return
    if problems := verify(after, f.language):
        plan.left_alone.append(f"`{f.path}`: the edited file would not parse ({problems[0]}), so it is not edited")
        return
    summary = ", ".join(sorted({p.event if p.event == API_ERROR else "agent events" for p in points}))
    plan.changes.append(Change(f.path, content, after.decode(), summary))
    plan.points += points


def _bounds(plan: Plan, snap: Snapshot) -> None:
    read = sum(1 for p in snap.files if not p.endswith("package.json"))
    line = f"read {read} of {snap.candidates} source files of the app ({snap.read_bytes:,} bytes)"
    if snap.left_out:
        line += f"; {snap.left_out} left unread by the scan's bounds"
    if snap.too_large:
        line += f"; {snap.too_large} over the size limit"
    if snap.truncated:
        line += "; GitHub truncated the tree listing, so some files were not seen"
    plan.notes.append(line)


def _lockfile_note(snap: Snapshot, root: str) -> list[str]:
    for lockfile, command in (
        ("package-lock.json", "npm install"),
        ("pnpm-lock.yaml", "pnpm install"),
        ("yarn.lock", "yarn install"),
        ("bun.lockb", "bun install"),
    ):
        if snap.has(root + lockfile):
            return [f"run `{command}` on this branch and commit `{root}{lockfile}`: the lockfile is not updated here"]
    return []
