"""The Agent settings modal: the planner's extra system prompt, coding suggestions, and the Claude model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    CheckboxesElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

AGENT_CALLBACK = "agent_settings_submit"
PROMPT_BLOCK, CODING_BLOCK, MODEL_BLOCK = "planner_prompt", "coding", "model"
PROMPT_INPUT_MAX = 3000  # the most a Slack plain_text_input holds
# The short list offered besides the default (SITREP_MODEL or the built-in one): current models only.
MODEL_CHOICES = ("claude-opus-5-5", "claude-sonnet-5-5", "claude-haiku-5-5")


def model_options(default: str) -> list[Option]:
    names = [default, *(m for m in MODEL_CHOICES if m != default)]
    return [Option(value=name, text=f"{name} (default)" if name == default else name) for name in names]


def prompt_input(prompt: str) -> InputBlock | SectionBlock:
    """The prompt field; a prompt longer than a Slack field holds (set with config patch) is left alone here."""
    if len(prompt) > PROMPT_INPUT_MAX:
        return SectionBlock(
            text=MarkdownTextObject(
                text=f"*Planner: extra system prompt*: {len(prompt)} characters, more than a Slack field holds "
                f"({PROMPT_INPUT_MAX}). It stays as it is; change it with `python app.py config patch`."
            )
        )
    return InputBlock(
        block_id=PROMPT_BLOCK,
        label="Planner: extra system prompt",
        element=PlainTextInputElement(
            action_id="value",
            multiline=True,
            max_length=PROMPT_INPUT_MAX,
            initial_value=prompt or None,
            placeholder="e.g. Our services are api, web and worker; p95 above 800 ms is bad.",
        ),
        hint=f"At most {PROMPT_INPUT_MAX} characters.",
        optional=True,
    )


def agent_settings_modal(*, prompt: str, coding: bool, model: str | None, default_model: str) -> dict:
    options = model_options(default_model)
    current = model or default_model
    chosen = next((o for o in options if o.value == current), None)
    if chosen is None:  # set elsewhere (config patch) to a model not in the list: keep offering it
        chosen = Option(value=current, text=current)
        options.append(chosen)
    coding_option = Option(value="on", text="Suggest code changes in answers (agents.coding.enabled)")
    blocks: list = [
        SectionBlock(
            text=MarkdownTextObject(
                text="The extra prompt is appended to the planner's system prompt for every question. "
                "Never put secrets in it: it is sent to the model."
            )
        ),
        prompt_input(prompt),
        InputBlock(
            block_id=CODING_BLOCK,
            label="Coding",
            element=CheckboxesElement(
                action_id="value", options=[coding_option], initial_options=[coding_option] if coding else None
            ),
            optional=True,
        ),
        InputBlock(
            block_id=MODEL_BLOCK,
            label="Model",
            element=StaticSelectElement(action_id="value", options=options, initial_option=chosen),
            hint=f"The default is {default_model} (SITREP_MODEL).",
        ),
    ]
    return View(
        type="modal",
        callback_id=AGENT_CALLBACK,
        title="Agent settings",
        submit="Save",
        close="Cancel",
        blocks=blocks,
    ).to_dict()


@dataclass(frozen=True)
class AgentForm:
    prompt: str | None  # None: the modal had no prompt field (the stored prompt is too long for one)
    coding: bool
    model: str


def read_agent_settings(state: Mapping[str, Any]) -> AgentForm:
    def value(block: str) -> dict:
        return dict((state.get(block) or {}).get("value") or {})

    checked: Sequence[dict] = value(CODING_BLOCK).get("selected_options") or []
    return AgentForm(
        prompt=str(value(PROMPT_BLOCK).get("value") or "").strip() if PROMPT_BLOCK in state else None,
        coding=any(o.get("value") == "on" for o in checked),
        model=str((value(MODEL_BLOCK).get("selected_option") or {}).get("value") or ""),
    )


def agent_patch(form: AgentForm, *, prompt: str, coding: bool, model: str | None, default_model: str) -> dict:
    """The merge patch for what changed (empty when nothing did); the default model is stored as unset."""
    agents: dict[str, Any] = {}
    if form.prompt is not None and form.prompt != prompt:
        agents["planner"] = {"prompt": {"system": form.prompt}}
    if form.coding != coding:
        agents["coding"] = {"enabled": form.coding}
    wanted = None if form.model in ("", default_model) else form.model
    if wanted != model:
        agents["model"] = wanted
    return {"agents": agents} if agents else {}
