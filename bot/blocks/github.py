"""The Link GitHub modal (pure builders): the install link, the App's installations, the repositories to route,
and the channel for pull-request notes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
)
from slack_sdk.models.blocks.block_elements import ConversationFilter, ConversationSelectElement
from slack_sdk.models.views import View

LINK_ACTION = "link_github"
PICK_INSTALLATION = "github_pick_installation"
SUBMIT_CALLBACK = "github_link_submit"
INSTALLATION_BLOCK = "github_installation"
REPOS_BLOCK = "github_repos"
CHANNEL_BLOCK = "github_channel"
MAX_OPTIONS = 100  # Slack's limit on a select's options


def _label(text: str, limit: int = 75) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def install_blocks(install_url: str | None, with_state: bool) -> list[Any]:
    if not install_url:
        return [
            SectionBlock(
                text=MarkdownTextObject(
                    text="*1. Install the App.* Set GITHUB_APP_SLUG so sitrep can show the install link, or install "
                    "it from the App's page on GitHub."
                )
            )
        ]
    note = (
        "GitHub sends you back to sitrep, which links the installation and DMs you."
        if with_state
        else "Then come back here and pick the installation below."
    )
    return [
        SectionBlock(
            text=MarkdownTextObject(text=f"*1. Install the App* on the organization or repository. {note}"),
            accessory=ButtonElement(text="Install on GitHub", url=install_url, action_id="github_install_link"),
        )
    ]


def link_modal(
    *,
    install_url: str | None,
    with_state: bool,
    installations: Sequence[dict[str, Any]],
    picked: int | None,
    repos: Sequence[str],
    routed: Sequence[str],
    channel: str | None,
    problem: str = "",
) -> dict:
    """The modal; `repos` are the picked installation's repositories, `routed` the ones routed now."""
    blocks: list[Any] = install_blocks(install_url, with_state)
    if problem:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f":warning: {problem}"[:3000])))
    options = [
        Option(
            value=str(i["id"]), text=_label(f"{(i.get('account') or {}).get('login', '?')} (installation {i['id']})")
        )
        for i in installations[:MAX_OPTIONS]
    ]
    if not options:
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text="*2. Installations:* none yet. Install the App, then reopen."))
        )
        return View(type="modal", title="Link GitHub", close="Close", blocks=blocks).to_dict()
    initial = next((o for o in options if o.value == str(picked)), None)
    blocks.append(
        ActionsBlock(
            block_id=INSTALLATION_BLOCK,
            elements=[
                StaticSelectElement(
                    action_id=PICK_INSTALLATION,
                    placeholder="Pick the installation",
                    options=options,
                    initial_option=initial,
                )
            ],
        )
    )
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text="*2.* The App's installations, listed by GitHub.")]))
    submit = None
    if picked is not None:
        repo_options = [Option(value=r, text=_label(r)) for r in list(repos)[:MAX_OPTIONS]]
        if repo_options:
            chosen = [o for o in repo_options if o.value.lower() in {r.lower() for r in routed}]
            blocks.append(
                InputBlock(
                    block_id=REPOS_BLOCK,
                    label="3. Repositories to review",
                    element=StaticMultiSelectElement(
                        action_id="repos", options=repo_options, initial_options=chosen or None
                    ),
                )
            )
            blocks.append(
                InputBlock(
                    block_id=CHANNEL_BLOCK,
                    label="4. Channel for pull-request notes",
                    optional=True,
                    element=ConversationSelectElement(
                        action_id="channel",
                        initial_conversation=channel,
                        filter=ConversationFilter(include=["public", "private"], exclude_bot_users=True),
                    ),
                )
            )
            submit = "Save"
        else:
            blocks.append(SectionBlock(text=MarkdownTextObject(text="This installation has access to no repository.")))
    metadata = json.dumps({"installation_id": picked})
    return View(
        type="modal",
        callback_id=SUBMIT_CALLBACK,
        title="Link GitHub",
        submit=submit,
        close="Cancel",
        private_metadata=metadata,
        blocks=blocks,
    ).to_dict()


def submitted(view: dict) -> tuple[int | None, list[str], str | None]:
    """(installation id, repos, channel) from a view_submission's view."""
    try:
        installation = json.loads(view.get("private_metadata") or "{}").get("installation_id")
    except ValueError:
        installation = None
    values = (view.get("state") or {}).get("values") or {}
    repos = [o["value"] for o in ((values.get(REPOS_BLOCK) or {}).get("repos") or {}).get("selected_options") or []]
    channel = ((values.get(CHANNEL_BLOCK) or {}).get("channel") or {}).get("selected_conversation")
    return (int(installation) if isinstance(installation, int) else None), repos, channel
