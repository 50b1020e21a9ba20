"""The tracking-snippet modal: how to send the five recommended events to Amplitude (install, init, track)."""

from __future__ import annotations

from slack_sdk.models.blocks import ContextBlock, DividerBlock, HeaderBlock, MarkdownTextObject, SectionBlock
from slack_sdk.models.views import View

from skills.amplitude.snippet import INSTALL_COMMAND, RECOMMENDED_EVENTS, agent_example, init_code
from text.mrkdwn import SECTION_TEXT_MAX, escape, split_mrkdwn, truncate

SNIPPET_CALLBACK_ID = "amplitude_snippet"
TITLE = "Amplitude tracking"


def _code(code: str) -> str:
    return f"```{escape(code)}```"


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_TEXT_MAX)))


def snippet_modal(*, region: str = "us", status_line: str | None = None, private_metadata: str = "") -> dict:
    """A modal view (plain dict) with the install command, init code and a track call for each recommended event.

    `status_line` (e.g. the readiness detail "no events in the last 7 days") is shown at the top when given.
    """
    intro = (
        "Amplitude only has data once the app sends events. Add these lines to the Node.js app and deploy: "
        "events arrive within seconds, and sitrep's Amplitude row turns ready."
    )
    blocks: list = []
    if status_line:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=truncate(escape(status_line), 2000))]))
    blocks += [
        _section(intro),
        HeaderBlock(text="1. Install the SDK"),
        _section(_code(INSTALL_COMMAND)),
        HeaderBlock(text="2. Initialise it once"),
        _section(_code(init_code(region))),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="Put the project's *API key* where the placeholder is (never the secret key); "
                    "reading it from an environment variable is better still."
                )
            ]
        ),
        HeaderBlock(text="3. Track the five recommended events"),
    ]
    for event in RECOMMENDED_EVENTS:
        props = ", ".join(f"`{p}`" for p in event.property_names)
        blocks.append(
            _section(
                f"*{escape(event.name)}*: when {escape(event.when)}\nProperties: {props}\n{_code(event.track_call())}"
            )
        )
    blocks += [DividerBlock(), HeaderBlock(text="Example: an agent handler")]
    blocks += [_section(chunk) for chunk in split_mrkdwn(_code(agent_example()))]
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="On Vercel and other serverless hosts, `await flush().promise` before the function "
                    "returns, or events are lost. Check with `python -m skills.amplitude check` or Refresh on "
                    "the Home tab."
                )
            ]
        )
    )
    view = View(
        type="modal",
        callback_id=SNIPPET_CALLBACK_ID,
        title=TITLE,
        close="Close",
        blocks=blocks,
        private_metadata=private_metadata or None,
    )
    return view.to_dict()
