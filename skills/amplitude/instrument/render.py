"""The plan as text: the pull request's title and body (GitHub Markdown, within GitHub's 65,536 characters), and
the terminal preview of `python -m skills.amplitude instrument`.

Paths and reasons come from the repository: they are shown as code, with backticks taken out, so a file name
cannot turn into a link or markup.
"""

from __future__ import annotations

from skills.amplitude.instrument.plan import Plan, Point
from skills.amplitude.instrument.scaffold import API_KEY_ENV, SDK_RANGE
from skills.amplitude.snippet import PACKAGE

BODY_MAX = 60_000  # GitHub caps a pull request body at 65,536 characters
BODY_MARK = "<!-- sitrep:amplitude-instrumentation -->"


def pr_title(plan: Plan) -> str:
    return "Send the tracking plan's events to Amplitude"


def _code(text: str) -> str:
    return "`" + text.replace("`", "'") + "`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def pr_body(plan: Plan) -> str:
    files = len({p.path for p in plan.points})
    lines = [
        f"sitrep read `{plan.default_branch}` at {plan.base_commit[:7]} and found {len(plan.points)} "
        f"point{'s' if len(plan.points) != 1 else ''} in {files} file{'s' if files != 1 else ''} to instrument with "
        "Amplitude's tracking plan (Agent Started, Agent Completed, Agent Failed, Agent Timeout, API Error).",
        "",
        f"**Before merging, set `{API_KEY_ENV}`** in the app's environment (on Vercel: Project → Settings → "
        "Environment Variables) to the Amplitude project's API key, then deploy. Without it the helpers send "
        "nothing and change nothing.",
        "",
        "| File | Line | Event | Why |",
        "| --- | --- | --- | --- |",
    ]
    lines += [f"| {_code(p.path)} | {p.line} | {p.event} | {_cell(p.why)} |" for p in plan.points]
    lines += ["", "**Added**", ""]
    for change in plan.changes:
        if change.before is None:
            lines.append(
                f"- {_code(change.path)}: initialises `{PACKAGE}` once from `{API_KEY_ENV}`, and the helpers the "
                "edits call (`trackApiError`, `trackAgentRun`); flushes before a serverless function returns."
            )
        elif change.path.endswith("package.json"):
            lines.append(f"- {_code(change.path)}: `{PACKAGE}` `{SDK_RANGE}`.")
    for title, items in (
        ("Already tracked", plan.already),
        ("Covered by an instrumented agent runner", plan.covered),
        ("Left alone", plan.left_alone),
        ("Notes", plan.notes),
    ):
        if items:
            lines += ["", f"**{title}**", ""] + [f"- {item}" for item in items]
    made_by = "Claude proposed the edits; sitrep checked each" if plan.source == "claude" else "Rule-based edits"
    lines += [
        "",
        f"{made_by}: every edited file parses (tree-sitter). Once this is merged and deployed, the first events "
        "turn sitrep's Amplitude row Ready. Running the instrumentation again updates this pull request.",
        "",
        BODY_MARK,
    ]
    body = "\n".join(lines)
    if len(body) > BODY_MAX:
        body = body[: BODY_MAX - 200].rsplit("\n", 1)[0] + "\n\n_(cut to fit GitHub's limit)_\n\n" + BODY_MARK
    return body


def point_line(p: Point) -> str:
    return f"{p.path}:{p.line}  {p.event}  ({p.why.replace('`', '')})"


def preview_text(plan: Plan) -> str:
    """The plan for a terminal: each file, each point, what is added, what was left alone."""
    out = [f"{plan.repo} at {plan.default_branch} {plan.base_commit[:7]}: {len(plan.points)} points"]
    for change in plan.changes:
        out.append(f"  {'new ' if change.before is None else ''}{change.path}: {change.summary}")
        out += [
            f"    line {p.line}: {p.event} ({p.why.replace('`', '')})" for p in plan.points if p.path == change.path
        ]
    for title, items in (
        ("already tracked", plan.already),
        ("covered", plan.covered),
        ("left alone", plan.left_alone),
        ("notes", plan.notes),
    ):
        out += [f"{title}: {item.replace('`', '')}" for item in items]
    out.append(f"Set {API_KEY_ENV} in the app's environment to the project's API key before deploying.")
    return "\n".join(out)
