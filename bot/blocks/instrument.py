"""Instrument a repository with Amplitude's tracking plan (pure builders): the Home tab's button on the Amplitude
row, the progress modal of the scan, the preview (each file, each point, the event it gets and why), and the
outcome. Paths and reasons come from the repository, so they are shown as escaped code, never as markup."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ButtonElement,
    ContextBlock,
    DividerBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from skills.amplitude.instrument.plan import Plan
from skills.amplitude.instrument.publish import Published
from skills.amplitude.instrument.scaffold import API_KEY_ENV
from skills.amplitude.readiness import INSTRUMENT_ACTION, NO_EVENTS
from skills.base import Readiness, ReadinessStatus
from text.mrkdwn import SECTION_TEXT_MAX, code, esc, link, truncate

SUBMIT_CALLBACK = "amplitude_instrument_submit"
TITLE = "Instrument the app"
MAX_BUTTONS = 5
MAX_FILES = 40  # sections of the preview: the rest are counted
LIST_MAX = 12  # lines of each "already tracked" / "left alone" list


def offered(row: Readiness, repos: Sequence[str], admin: bool) -> list[str]:
    """The repositories to offer on the Amplitude row: the linked ones, to an admin, while the app sends no events."""
    if not admin or row.integration != "Amplitude" or row.status is not ReadinessStatus.BLOCKED:
        return []
    return list(repos[:MAX_BUTTONS]) if row.missing == NO_EVENTS else []


def instrument_buttons(repos: Sequence[str]) -> list[ButtonElement]:
    """One button per repository ("Instrument owner/name"); action ids unique within the row's block."""
    return [
        ButtonElement(text=truncate(f"Instrument {repo}", 75), action_id=f"{INSTRUMENT_ACTION}:{i}", value=repo)
        for i, repo in enumerate(repos[:MAX_BUTTONS])
    ]


def _view(blocks: list[Any], *, submit: str | None = None, metadata: str | None = None) -> dict:
    return View(
        type="modal",
        callback_id=SUBMIT_CALLBACK if submit else None,
        title=TITLE,
        submit=submit,
        close="Close" if not submit else "Cancel",
        private_metadata=metadata,
        blocks=blocks[:100],
    ).to_dict()


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_TEXT_MAX)))


def progress_modal(repo: str, what: str, done: int = 0, total: int = 0) -> dict:
    count = f": {done:,} of {total:,}" if total else "…"
    lines = [f"*{esc(repo)}*", f"{esc(what)}{count}"]
    note = "The scan reads the default branch through GitHub's API; nothing is written until you confirm."
    return _view([_section("\n".join(lines)), ContextBlock(elements=[MarkdownTextObject(text=note)])])


def preview_modal(plan: Plan, pull: dict[str, Any] | None = None, *, changed: bool = False) -> dict:
    """The preview: what the pull request will change, point by point; Open (or Update) pull request submits.
    `changed`: shown again because the change differs from the one previewed before (nothing was pushed)."""
    files = len({p.path for p in plan.points})
    where = f"{esc(plan.repo)} at {code(plan.default_branch)} {code(plan.base_commit[:7])}"
    head = (
        f"*{len(plan.points)} point{'s' if len(plan.points) != 1 else ''} in {files} file{'s' if files != 1 else ''}*"
    )
    blocks: list[Any] = [_section(f"{head} of {where} get the tracking plan's events.")]
    if changed:
        blocks.insert(
            0,
            _section(
                ":warning: The change differs from the preview you confirmed, so nothing was pushed. Here it is again."
            ),
        )
    if pull:
        url, number = pull.get("html_url"), pull.get("number")
        blocks.append(_section(f"Updates sitrep's open pull request {link(url, f'#{number}')} (same branch)."))
    edited = [c for c in plan.changes if c.before is not None and not c.path.endswith("package.json")]
    for change in edited[:MAX_FILES]:
        lines = [code(change.path, 200)]
        for p in (p for p in plan.points if p.path == change.path):
            lines.append(f"• line {p.line}: *{esc(p.event)}*, since {esc(p.why.replace('`', ''))}")
        blocks.append(_section("\n".join(lines)))
    if len(edited) > MAX_FILES:
        blocks.append(_section(f"… and {len(edited) - MAX_FILES} more files."))
    added = [f"• {code(c.path, 200)}: {esc(c.summary)}" for c in plan.changes if c.before is None]
    added += [
        f"• {code(c.path, 200)}: adds {code('@amplitude/analytics-node')}"
        for c in plan.changes
        if c.path.endswith("package.json")
    ]
    blocks += [DividerBlock(), _section("*Also in the pull request*\n" + "\n".join(added))]
    for title, items in (
        ("Already tracked", plan.already),
        ("Covered by the instrumented runner", plan.covered),
        ("Left alone", plan.left_alone),
        ("Notes", plan.notes),
    ):
        if items:
            shown = [f"• {esc(i.replace('`', ''))}" for i in items[:LIST_MAX]]
            more = [f"… and {len(items) - LIST_MAX} more"] if len(items) > LIST_MAX else []
            blocks.append(_section(f"*{title}*\n" + "\n".join(shown + more)))
    made = "Claude proposed these edits; sitrep checked each" if plan.source == "claude" else "Rule-based edits"
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"{made}: every edited file parses. The pull request goes on branch "
                    f"`sitrep/amplitude-instrumentation`, never the default branch. Set {code(API_KEY_ENV)} in the "
                    "app's environment before deploying: the key is never in the code."
                )
            ]
        )
    )
    metadata = json.dumps({"repo": plan.repo, "commit": plan.base_commit, "digest": plan.digest})
    submit = f"Update #{pull.get('number')}" if pull else "Open pull request"
    return _view(blocks, submit=submit[:24], metadata=metadata)


def submitted(view: dict[str, Any]) -> tuple[str, str, str]:
    """(repo, commit, digest) of what the preview showed, from the submitted view."""
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    return str(data.get("repo") or ""), str(data.get("commit") or ""), str(data.get("digest") or "")


def nothing_modal(plan: Plan) -> dict:
    lines = [
        f"*Nothing to instrument in {esc(plan.repo)}*: no API route answers an error and no agent runner was "
        "found that does not already send its events."
    ]
    lines += [f"• {esc(i.replace('`', ''))}" for i in (plan.already + plan.left_alone + plan.notes)[:LIST_MAX]]
    return _view([_section("\n".join(lines))])


def refused_modal(message: str, hint: str = "", *, pushed: bool = False) -> dict:
    """A check failed (nothing pushed), or GitHub failed part-way (`pushed`: the branch may have moved)."""
    after = (
        "The branch may have been pushed; pressing the button again updates the same branch and pull request."
        if pushed
        else "Nothing was pushed."
    )
    lines = [f":no_entry: {esc(message)}"] + ([esc(hint)] if hint else []) + [after]
    return _view([_section("\n".join(lines))])


def done_modal(published: Published, plan: Plan) -> dict:
    verb = "Opened" if published.opened else "Updated"
    label = f"{published.repo}#{published.number}"
    lines = [
        f":white_check_mark: *{verb}* {link(published.url, label)}: {len(plan.points)} points in "
        f"{len(published.files)} files, on branch {code(published.branch)}.",
        f"*Next:* set {code(API_KEY_ENV)} in the app's environment to the Amplitude project's API key, merge and "
        "deploy. The Amplitude row turns Ready on the first events and names this pull request.",
    ]
    return _view([_section("\n".join(lines))])
