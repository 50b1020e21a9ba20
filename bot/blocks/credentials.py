"""The credentials modal of an integration (Home tab → Configure): inputs, never the stored secret itself."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from slack_sdk.models.blocks import (
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

SUBMIT_CALLBACK = "credentials_submit"
INPUT_MAX = 3000  # the most a plain_text_input takes (its max_length and initial_value)
URL_MAX = 2000


@dataclass(frozen=True)
class Field:
    name: str  # credential name, or "config:<path>" for a non-secret config value
    label: str
    secret: bool = True
    placeholder: str = ""
    hint: str = ""
    options: tuple[tuple[str, str], ...] = ()  # (value, label) for a select
    max_length: int = INPUT_MAX
    optional: bool = False  # may stay unset (the Vercel drain relay's fields)

    @property
    def block_id(self) -> str:
        return f"field_{self.name.replace(':', '_').replace('.', '_')}"


@dataclass(frozen=True)
class IntegrationForm:
    integration: str  # "grafana"
    title: str  # "Grafana"
    intro: str
    fields: tuple[Field, ...]


# The Vercel log drain relay (Vercel → sitrep → Loki push): optional; the Grafana row says which step is next.
DRAIN_FIELDS = (
    Field(
        "loki_push_url",
        "Loki push URL (Vercel drain relay)",
        secret=False,
        placeholder="https://logs-prod-021.grafana.net",
        hint="Grafana Cloud → your stack → Loki → Details: the URL.",
        max_length=URL_MAX,
        optional=True,
    ),
    Field(
        "loki_push_user",
        "Loki push user",
        secret=False,
        placeholder="123456",
        hint="The Loki instance id.",
        optional=True,
    ),
    Field(
        "loki_push_token",
        "Loki push token",
        placeholder="glc_…",
        hint="An access-policy token with logs:write.",
        optional=True,
    ),
    Field("drain_secret", "Vercel drain signature secret", hint="Vercel → Drains → your drain.", optional=True),
    Field("drain_verify", "Vercel drain verification value", hint="Shown when the drain is created.", optional=True),
)

FORMS: dict[str, IntegrationForm] = {
    "grafana": IntegrationForm(
        "grafana",
        "Grafana",
        "A service account token with the Editor role: Grafana → Administration → Users and access → "
        "Service accounts → Add service account → Add token.",
        (
            Field("url", "Grafana URL", secret=False, placeholder="https://mochacare.grafana.net", max_length=URL_MAX),
            Field("token", "Service account token", placeholder="glsa_…"),
            *DRAIN_FIELDS,
        ),
    ),
    "amplitude": IntegrationForm(
        "amplitude",
        "Amplitude",
        "Amplitude → Settings → Projects → your project → General: the API Key and the Secret Key.",
        (
            Field("api_key", "API key"),
            Field("secret_key", "Secret key"),
            Field("config:amplitude.region", "Data region", secret=False, options=(("us", "US"), ("eu", "EU"))),
        ),
    ),
}


def credentials_modal(
    form: IntegrationForm, current: Mapping[str, str], *, channel_hint: str = "", notes: Sequence[str] = ()
) -> dict:
    """`current` maps field name → how the stored value may be shown: a mask for secrets ("set, ends in …4f2a"),
    the value itself for non-secrets. A secret input starts empty: leaving it empty keeps the stored value."""
    blocks: list = [SectionBlock(text=MarkdownTextObject(text=form.intro))]
    blocks += [ContextBlock(elements=[MarkdownTextObject(text=note[:3000])]) for note in notes]
    for field in form.fields:
        shown = current.get(field.name)
        if field.options:
            options = [Option(value=v, text=label) for v, label in field.options]
            initial = next((o for o in options if o.value == shown), options[0])
            select = StaticSelectElement(action_id="value", options=options, initial_option=initial)
            blocks.append(InputBlock(block_id=field.block_id, label=field.label, element=select))
            continue
        # A stored value longer than the input takes cannot be its initial value (Slack refuses the view).
        too_long = bool(shown) and not field.secret and len(shown or "") > field.max_length
        element = PlainTextInputElement(
            action_id="value",
            placeholder=field.placeholder or None,
            initial_value=None if field.secret or too_long else (shown or None),
            max_length=field.max_length,
        )
        hint = f"Stored: {shown}. Leave empty to keep it." if field.secret and shown else field.hint or None
        if too_long:
            hint = (
                f"The stored value is {len(shown or '')} characters, longer than this field takes "
                f"({field.max_length}). Leave empty to keep it, or enter a shorter one."
            )
        blocks.append(
            InputBlock(
                block_id=field.block_id,
                label=field.label,
                element=element,
                hint=hint,
                optional=bool(field.optional or ((field.secret or too_long) and shown)),
            )
        )
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="Stored encrypted in sitrep's database; never shown again, never sent to the model."
                    + channel_hint
                )
            ]
        )
    )
    return View(
        type="modal",
        callback_id=SUBMIT_CALLBACK,
        private_metadata=json.dumps({"integration": form.integration}),
        title=f"Connect {form.title}"[:24],
        submit="Check and save",
        close="Cancel",
        blocks=blocks,
    ).to_dict()


def submitted_values(form: IntegrationForm, state_values: Mapping[str, Mapping]) -> dict[str, str]:
    """The non-empty values the user entered, by field name."""
    values: dict[str, str] = {}
    for field in form.fields:
        element = _dict(_dict(state_values.get(field.block_id)).get("value"))
        raw = _dict(element.get("selected_option")).get("value") if field.options else element.get("value")
        if isinstance(raw, str) and raw.strip():
            values[field.name] = raw.strip()
    return values


def _dict(value: object) -> Mapping:
    """A submitted state's part when it has the shape Slack sends; {} when it does not."""
    return value if isinstance(value, Mapping) else {}


def result_modal(title: str, lines: Sequence[str]) -> dict:
    return View(
        type="modal",
        title=title[:24],
        close="Done",
        blocks=[SectionBlock(text=MarkdownTextObject(text="\n".join(lines)[:3000]))],
    ).to_dict()
