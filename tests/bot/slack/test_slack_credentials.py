"""Home tab → Configure Grafana: an admin's token is checked against Grafana, then stored encrypted."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from agent.services import Services
from bot.blocks.credentials import FORMS, credentials_modal, submitted_values
from bot.blocks.limits import view_violations
from bot.slack.credentials import validate
from skills.registry import default_factories
from storage.services import open_storage
from storage.teams import DEFAULT_TEAM_ID
from tests.fakes.grafana import FakeGrafana
from tests.fakes.slack import FakeSlack
from tests.support.serving import served, slack_settings

ADMIN, MEMBER = "UADMIN", "UMEMBER"


@dataclass
class World:
    slack: FakeSlack
    grafana: FakeGrafana
    services: Services


@pytest.fixture
async def world(env: dict[str, str]) -> AsyncIterator[World]:
    users = {ADMIN: {"name": "ops-lead", "is_admin": True}, MEMBER: {"name": "dev"}}
    async with FakeSlack(users=users) as slack, FakeGrafana(token="glsa_good_token_1234") as grafana:
        grafana.add_logs({"source": "lambda"}, ["GET /api 200"])
        settings = slack_settings(env, slack)
        services = Services(
            settings=settings, storage=await open_storage(settings), skill_factories=default_factories()
        )
        async with served(services, slack):
            yield World(slack, grafana, services)


def field_values(values: dict[str, str]) -> dict:
    form = FORMS["grafana"]
    return {f.block_id: {"value": {"type": "plain_text_input", "value": values.get(f.name)}} for f in form.fields}


async def open_form(slack: FakeSlack, user: str) -> dict:
    mark = len(slack.calls)
    await slack.send_interactive(
        {
            "type": "block_actions",
            "user": {"id": user},
            "actions": [{"action_id": "configure_grafana", "type": "button"}],
            "view": {"id": "VHOME", "type": "home"},
            "container": {"type": "view", "view_id": "VHOME"},
        }
    )
    await slack.wait_for_call("views.open", since=mark)
    update = await slack.wait_for_call("views.update", since=mark)
    return {**update.args["view"], "id": update.args["view_id"]}


async def submit(slack: FakeSlack, user: str, view: dict, values: dict[str, str]) -> str:
    payload = {
        "type": "view_submission",
        "user": {"id": user},
        "view": {**view, "state": {"values": field_values(values)}},
    }
    return await slack.send_interactive(payload)


def text(view: dict) -> str:
    return "\n".join((b.get("text") or {}).get("text", "") for b in view.get("blocks", []))


async def test_admin_saves_a_grafana_token_that_grafana_accepts(world: World) -> None:
    slack = world.slack
    form = await open_form(slack, ADMIN)
    assert form["callback_id"] == "credentials_submit"
    mark = len(slack.calls)
    envelope = await submit(slack, ADMIN, form, {"url": world.grafana.url, "token": "glsa_good_token_1234"})
    ack = await slack.wait_ack(envelope)
    assert ack["payload"]["response_action"] == "update"
    done = await slack.wait_for_call("views.update", lambda c: "Saved" in text(c.args["view"]), since=mark)
    assert "Ready" in text(done.args["view"])
    stored = await world.services.storage.credentials.get_all(DEFAULT_TEAM_ID, "grafana")
    assert stored == {"url": world.grafana.url, "token": "glsa_good_token_1234"}
    home = await slack.wait_for_call("views.publish", since=mark)
    assert "glsa_good_token_1234" not in json.dumps(home.args)

    # Opening the form again shows that a token is stored, never the token itself.
    again = await open_form(slack, ADMIN)
    assert "glsa_good_token_1234" not in json.dumps(again)
    assert "ends in …1234" in json.dumps(again, ensure_ascii=False)


async def test_a_service_account_token_on_grafana_10_is_saved(world: World) -> None:
    # Grafana 9-10 answer /api/user with 403 "Endpoint only available for users" for a service account.
    world.grafana.version = "10.4.2"
    slack = world.slack
    form = await open_form(slack, ADMIN)
    mark = len(slack.calls)
    await submit(slack, ADMIN, form, {"url": world.grafana.url, "token": "glsa_good_token_1234"})
    done = await slack.wait_for_call(
        "views.update", lambda c: any(w in text(c.args["view"]) for w in ("Saved", "Not saved")), since=mark
    )
    assert "Saved" in text(done.args["view"]) and "Not saved" not in text(done.args["view"])
    stored = await world.services.storage.credentials.get_all(DEFAULT_TEAM_ID, "grafana")
    assert stored == {"url": world.grafana.url, "token": "glsa_good_token_1234"}


async def test_a_token_grafana_rejects_is_not_saved(world: World) -> None:
    slack = world.slack
    form = await open_form(slack, ADMIN)
    mark = len(slack.calls)
    await submit(slack, ADMIN, form, {"url": world.grafana.url, "token": "glsa_wrong_token_999"})
    done = await slack.wait_for_call("views.update", lambda c: "Not saved" in text(c.args["view"]), since=mark)
    assert "rejected" in text(done.args["view"])
    assert await world.services.storage.credentials.get_all(DEFAULT_TEAM_ID, "grafana") == {}


async def test_malformed_url_gets_a_field_error(world: World) -> None:
    slack = world.slack
    form = await open_form(slack, ADMIN)
    ack = await slack.wait_ack(await submit(slack, ADMIN, form, {"url": "mochacare.grafana", "token": "glsa_x_12345"}))
    assert ack["payload"]["response_action"] == "errors"
    assert "full URL" in json.dumps(ack["payload"]["errors"])
    assert await world.services.storage.credentials.get_all(DEFAULT_TEAM_ID, "grafana") == {}


async def test_members_cannot_change_credentials(world: World) -> None:
    form = await open_form(world.slack, MEMBER)
    assert "Only workspace admins" in text(form)
    ack = await world.slack.wait_ack(
        await submit(
            world.slack,
            MEMBER,
            credentials_modal(FORMS["grafana"], {}),
            {"url": "https://g.example", "token": "t0k3n_abcdef"},
        )
    )
    assert "Only workspace admins" in text(ack["payload"]["view"])
    assert await world.services.storage.credentials.get_all(DEFAULT_TEAM_ID, "grafana") == {}


def test_modal_is_within_limits_and_never_prefills_secrets() -> None:
    view = credentials_modal(FORMS["amplitude"], {"api_key": "set, ends in …abcd", "config:amplitude.region": "eu"})
    assert view_violations(view) == []
    dumped = json.dumps(view)
    assert '"initial_value"' not in dumped
    region = next(b for b in view["blocks"] if b.get("block_id") == "field_config_amplitude_region")
    assert region["element"]["initial_option"]["value"] == "eu"


def test_validate_requires_missing_secrets_but_keeps_stored_ones() -> None:
    form = FORMS["grafana"]
    assert set(validate(form, {}, {})) == {"field_url", "field_token"}
    assert validate(form, {"url": "https://g.example"}, {"token": "stored"}) == {}
    values = submitted_values(form, field_values({"url": " https://g.example ", "token": ""}))
    assert values == {"url": "https://g.example"}


async def test_amplitude_keys_and_region_are_checked_then_saved(env: dict[str, str]) -> None:
    from tests.fakes.amplitude import FakeAmplitude

    async with FakeSlack(users={ADMIN: {"is_admin": True}}) as slack, FakeAmplitude() as amp:
        amp.add_events("Agent Started", amp.today, 12)
        settings = slack_settings(env, slack, AMPLITUDE_API_URL=amp.url)
        services = Services(
            settings=settings, storage=await open_storage(settings), skill_factories=default_factories()
        )
        async with served(services, slack):
            mark = len(slack.calls)
            await slack.send_interactive(
                {
                    "type": "block_actions",
                    "user": {"id": ADMIN},
                    "actions": [{"action_id": "configure_amplitude", "type": "button"}],
                    "view": {"id": "VHOME", "type": "home"},
                    "container": {"type": "view", "view_id": "VHOME"},
                }
            )
            update = await slack.wait_for_call("views.update", since=mark)
            form = FORMS["amplitude"]
            values = {
                "field_api_key": {"value": {"type": "plain_text_input", "value": amp.api_key}},
                "field_secret_key": {"value": {"type": "plain_text_input", "value": amp.secret_key}},
                "field_config_amplitude_region": {
                    "value": {"type": "static_select", "selected_option": {"value": "eu"}}
                },
            }
            assert {f.block_id for f in form.fields} == set(values)
            mark = len(slack.calls)
            await slack.send_interactive(
                {
                    "type": "view_submission",
                    "user": {"id": ADMIN},
                    "view": {**update.args["view"], "id": update.args["view_id"], "state": {"values": values}},
                }
            )
            done = await slack.wait_for_call("views.update", lambda c: "Saved" in text(c.args["view"]), since=mark)
            assert "Ready" in text(done.args["view"])
            stored = await services.storage.credentials.get_all(DEFAULT_TEAM_ID, "amplitude")
            assert stored == {"api_key": amp.api_key, "secret_key": amp.secret_key}
            assert (await services.storage.teams.get(DEFAULT_TEAM_ID)).config.amplitude.region == "eu"


DRAIN_VALUES = {
    "loki_push_url": "https://logs-prod-021.grafana.net",
    "loki_push_user": "123456",
    "loki_push_token": "glc_push_token_LEAK_5678",
    "drain_secret": "drain_secret_LEAK_abcd",
    "drain_verify": "drain_verify_LEAK_ef01",
}


async def test_the_vercel_drain_fields_are_stored_encrypted_and_never_echoed(world: World) -> None:
    slack = world.slack
    form = await open_form(slack, ADMIN)
    assert "$SITREP_PUBLIC_URL/drains/vercel" in json.dumps(form)  # no public URL yet: says what to set
    assert view_violations(form) == []
    mark = len(slack.calls)
    values = {"url": world.grafana.url, "token": "glsa_good_token_1234", **DRAIN_VALUES}
    await slack.wait_ack(await submit(slack, ADMIN, form, values))
    done = await slack.wait_for_call("views.update", lambda c: "Saved" in text(c.args["view"]), since=mark)
    stored = await world.services.storage.credentials.get_all(DEFAULT_TEAM_ID, "grafana")
    assert {k: stored[k] for k in DRAIN_VALUES} == DRAIN_VALUES
    raw = await world.services.storage.db.fetchall("SELECT ciphertext FROM credentials")
    assert not any(b"LEAK" in bytes(r["ciphertext"]) for r in raw)
    again = await open_form(slack, ADMIN)
    shown = json.dumps(again, ensure_ascii=False) + json.dumps(done.args, ensure_ascii=False)
    for name in ("loki_push_token", "drain_secret", "drain_verify"):
        assert DRAIN_VALUES[name] not in shown
        assert f"ends in …{DRAIN_VALUES[name][-4:]}" in shown
    assert "https://logs-prod-021.grafana.net" in shown and '"123456"' in shown  # not secrets: shown as they are


def test_the_grafana_form_shows_the_url_to_paste_into_vercel() -> None:
    view = credentials_modal(FORMS["grafana"], {}, notes=["paste `https://sitrep.example/drains/vercel`"])
    assert "https://sitrep.example/drains/vercel" in json.dumps(view) and view_violations(view) == []
    optional = {b["block_id"]: b.get("optional", False) for b in view["blocks"] if b["type"] == "input"}
    assert optional["field_url"] is False and optional["field_drain_secret"] is True
    assert validate(FORMS["grafana"], {"loki_push_url": "logs-prod"}, {"url": "u", "token": "t"}) == {
        "field_loki_push_url": "Enter the full URL, like https://mochacare.grafana.net"
    }
