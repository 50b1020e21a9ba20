"""The Agent settings modal: the planner's extra system prompt, coding suggestions, the model (from the list the
provider offers, or typed when the list does not fit: a Bedrock inference profile, a Vertex AI version, a model of
an Anthropic-compatible server) and the team's daily token budget."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    CheckboxesElement,
    InputBlock,
    MarkdownTextObject,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

AGENT_CALLBACK = "agent_settings_submit"
PROMPT_BLOCK, CODING_BLOCK, MODEL_BLOCK = "planner_prompt", "coding", "model"
TYPED_MODEL_BLOCK, BUDGET_BLOCK = "model_typed", "daily_token_budget"
PROMPT_INPUT_MAX = 3000  # the most a Slack plain_text_input holds
MODEL_ID_MAX = 200  # storage/team_config.py's longest model id


def model_options(default: str, choices: Sequence[str]) -> list[Option]:
    names = [default, *(m for m in choices if m != default)]
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


def agent_settings_modal(
    *,
    prompt: str,
    coding: bool,
    model: str | None,
    default_model: str,
    choices: Sequence[str] = (),
    budget: int | None = None,
) -> dict:
    """`choices`: the provider's short list (agent/model_client.py: model_choices), besides the default."""
    options = model_options(default_model, choices)
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
            hint=f"The default is {default_model} (SITREP_MODEL). Answers, report summaries, alert investigations "
            "and reviews all use this model.",
        ),
        InputBlock(
            block_id=TYPED_MODEL_BLOCK,
            label="Or type a model id",
            element=PlainTextInputElement(
                action_id="value", max_length=MODEL_ID_MAX, placeholder="e.g. us.anthropic.claude-sonnet-5-5"
            ),
            hint="When the list does not have it: a Bedrock inference profile, a Vertex AI version, a model on your "
            "Anthropic-compatible server (qwen3-coder:30b). It wins over the list.",
            optional=True,
        ),
        InputBlock(
            block_id=BUDGET_BLOCK,
            label="Daily token budget",
            element=NumberInputElement(
                action_id="value",
                is_decimal_allowed=False,
                min_value="1",
                initial_value=str(budget) if budget else None,
            ),
            hint="Claude tokens (in and out) the team may use a day, in its time zone. Past it the built-in planner "
            "answers and says why. Empty: no budget.",
            optional=True,
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
    model: str  # the typed id when one was typed, else the one picked
    budget: int | None = None
    budget_shown: bool = False  # the modal had the budget field (an old view may not)
    typed: bool = False  # the model was typed


def read_agent_settings(state: Mapping[str, Any]) -> AgentForm:
    def value(block: str) -> dict:
        return dict((state.get(block) or {}).get("value") or {})

    checked: Sequence[dict] = value(CODING_BLOCK).get("selected_options") or []
    typed = str(value(TYPED_MODEL_BLOCK).get("value") or "").strip()
    raw_budget = str(value(BUDGET_BLOCK).get("value") or "").strip()
    return AgentForm(
        prompt=str(value(PROMPT_BLOCK).get("value") or "").strip() if PROMPT_BLOCK in state else None,
        coding=any(o.get("value") == "on" for o in checked),
        model=typed or str((value(MODEL_BLOCK).get("selected_option") or {}).get("value") or ""),
        budget=int(raw_budget) if raw_budget.isdigit() else None,
        budget_shown=BUDGET_BLOCK in state,
        typed=bool(typed),
    )


def agent_patch(
    form: AgentForm,
    *,
    prompt: str,
    coding: bool,
    model: str | None,
    default_model: str,
    choices: Sequence[str] = (),
    budget: int | None = None,
) -> dict:
    """The merge patch for what changed (empty when nothing did); the default model is stored as unset."""
    agents: dict[str, Any] = {}
    if form.prompt is not None and form.prompt != prompt:
        agents["planner"] = {"prompt": {"system": form.prompt}}
    if form.coding != coding:
        agents["coding"] = {"enabled": form.coding}
    wanted = None if form.model in ("", default_model) else form.model
    if wanted != model:
        agents["model"] = wanted
    if form.budget_shown and form.budget != budget:
        agents["daily_token_budget"] = form.budget
    return {"agents": agents} if agents else {}
