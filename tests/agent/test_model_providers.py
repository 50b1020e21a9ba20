"""The provider the team may use: Anthropic's API, Amazon Bedrock and Google Vertex AI through the SDK's own
clients (at the path and with the auth headers each really uses, credentials from each platform's chain pointed at
local doubles), and any Anthropic-compatible server with a free-form model name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent import respond
from agent.model_client import Traits, model_choices
from agent.question import Question
from settings import Settings, SettingsError
from tests.fakes.anthropic import FakeAnthropic, text, tool_calls
from tests.fakes.bedrock import ACCESS_KEY, REGION, SECRET_KEY, FakeBedrock
from tests.fakes.vertex import REGION as VERTEX_REGION
from tests.fakes.vertex import FakeVertex
from tests.support.agent_world import world

NO_KEY = {"ANTHROPIC_API_KEY": "", "ANTHROPIC_BASE_URL": ""}


def bedrock_env(fake: FakeAnthropic, **extra: str) -> dict[str, str]:
    return {
        **NO_KEY,
        "SITREP_MODEL_PROVIDER": "bedrock",
        "SITREP_MODEL": "us.anthropic.claude-sonnet-5-5",
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "ANTHROPIC_BEDROCK_BASE_URL": fake.url,
        **extra,
    }


async def test_bedrock_signs_with_sigv4_at_the_invoke_path(tmp_path: Path) -> None:
    async with world(tmp_path, serve_slack=False, key=False, model_double=FakeBedrock, env=bedrock_env) as w:
        team = await w.services.team_for(None)
        w.model.thinking_tokens = 200
        w.model.script(tool_calls(("grafana_get_alerts", {})), text("1 alert is firing."))
        reply = await respond(w.services, Question("any alerts?", team, "shell"))
        assert reply.planner == "claude" and reply.text.startswith("1 alert is firing."), reply.text
        first, second = w.model.answered
        assert first.path == "/model/us.anthropic.claude-sonnet-5-5/invoke"
        assert first.headers["Authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/")
        sent = json.loads(first.raw)
        assert "model" not in sent and sent["anthropic_version"] and sent["system"][0]["cache_control"]
        assert sent["thinking"] == {"type": "adaptive"}  # a Claude 5.5 id in Bedrock's spelling
        assert second.usage["cache_read_input_tokens"] > 0  # Bedrock's prompt cache, read the second turn
        assert reply.usage.model == "us.anthropic.claude-sonnet-5-5"
        assert all(SECRET_KEY not in r.text() + json.dumps(r.headers) for r in w.model.requests)


async def test_bedrock_with_a_wrong_secret_falls_back_and_says_why(tmp_path: Path) -> None:
    def env(fake: FakeAnthropic) -> dict[str, str]:
        return bedrock_env(fake, AWS_SECRET_ACCESS_KEY="not-the-secret-0000000000000000000000000")

    async with world(tmp_path, serve_slack=False, key=False, model_double=FakeBedrock, env=env) as w:
        team = await w.services.team_for(None)
        reply = await respond(w.services, Question("any alerts?", team, "shell"))
        assert reply.planner == "rules" and w.model.requests and not w.model.answered
        assert "Claude did not answer" in reply.text and "(403)" in reply.text


async def test_bedrock_takes_a_bedrock_api_key_as_a_bearer_token(tmp_path: Path) -> None:
    def env(fake: FakeAnthropic) -> dict[str, str]:
        return bedrock_env(fake, AWS_ACCESS_KEY_ID="", AWS_SECRET_ACCESS_KEY="", AWS_BEARER_TOKEN_BEDROCK=fake.api_key)

    async with world(tmp_path, serve_slack=False, key=False, model_double=FakeBedrock, env=env) as w:
        team = await w.services.team_for(None)
        w.model.script(text("Quiet."))
        reply = await respond(w.services, Question("anything?", team, "shell"))
        (asked,) = w.model.answered
        assert reply.planner == "claude" and asked.headers["Authorization"] == f"Bearer {w.model.api_key}"


async def test_vertex_gets_a_token_from_the_service_account_and_calls_raw_predict(tmp_path: Path) -> None:
    def env(fake: FakeAnthropic) -> dict[str, str]:
        assert isinstance(fake, FakeVertex)
        return {
            **NO_KEY,
            "SITREP_MODEL_PROVIDER": "vertex",
            "SITREP_MODEL": "claude-sonnet-5-5",
            "CLOUD_ML_REGION": VERTEX_REGION,
            "GOOGLE_APPLICATION_CREDENTIALS": str(fake.service_account_file(tmp_path)),
            "ANTHROPIC_VERTEX_BASE_URL": f"{fake.url}/v1",
        }

    async with world(tmp_path, serve_slack=False, key=False, model_double=FakeVertex, env=env) as w:
        vertex = w.model
        assert isinstance(vertex, FakeVertex)
        team = await w.services.team_for(None)
        vertex.script(text("Quiet."), text("Still quiet."))
        for question in ("anything?", "and now?"):
            reply = await respond(w.services, Question(question, team, "shell"))
            assert reply.planner == "claude", reply.text
        first, second = vertex.answered
        path = f"/v1/projects/{vertex.project}/locations/{VERTEX_REGION}/publishers/anthropic/models/"
        assert first.path == path + "claude-sonnet-5-5:rawPredict"
        assert first.headers["Authorization"] == f"Bearer {vertex.tokens_issued[0]}"
        assert len(vertex.grants) == 1 and second.headers["Authorization"] == first.headers["Authorization"]
        assert "model" not in json.loads(first.raw) and second.usage["cache_read_input_tokens"] > 0


async def test_a_compatible_server_with_a_free_form_model_for_the_team(tmp_path: Path) -> None:
    def compatible() -> FakeAnthropic:
        return FakeAnthropic(compatible=True)

    async with world(tmp_path, serve_slack=False, model_double=compatible, env={"SITREP_MODEL": "llama3.1:8b"}) as w:
        team = await w.services.storage.config.patch("default", {"agents": {"model": "qwen3-coder:30b"}}, "UADMIN")
        w.model.script(tool_calls(("grafana_get_alerts", {})), text("1 alert is firing."))
        reply = await respond(w.services, Question("any alerts?", team, "shell"))
        assert reply.planner == "claude" and reply.text.startswith("1 alert is firing.")
        assert {r.body["model"] for r in w.model.answered} == {"qwen3-coder:30b"}
        assert reply.usage.cache_read_tokens == 0 and reply.usage.tokens_in > 0  # no cache fields: none counted


def test_a_platform_without_its_region_stops_at_start_up() -> None:
    with pytest.raises(SettingsError, match="AWS_REGION"):
        Settings.from_env({"SITREP_MODEL_PROVIDER": "bedrock"})
    with pytest.raises(SettingsError, match="CLOUD_ML_REGION"):
        Settings.from_env({"SITREP_MODEL_PROVIDER": "vertex"})


@pytest.mark.parametrize(
    ("model", "claude", "adaptive"),
    [
        ("claude-sonnet-5-5", True, True),
        ("us.anthropic.claude-sonnet-5-5-v1:0", True, True),
        ("claude-opus-5-5@20260901", True, True),
        ("claude-haiku-5-5", True, True),
        ("claude-sonnet-4-6", True, True),
        ("claude-haiku-4-5", True, False),  # extended thinking with a budget only: asked without thinking
        ("claude-opus-4-1-20250805", True, False),
        ("claude-sonnet-4-20250514", True, False),
        ("claude-3-5-sonnet-20241022", True, False),
        ("qwen3-coder:30b", False, False),
    ],
)
def test_what_a_model_id_says_about_its_requests(model: str, claude: bool, adaptive: bool) -> None:
    assert Traits.of(model) == Traits(claude, adaptive)


def test_the_modal_lists_the_providers_spelling() -> None:
    assert model_choices(Settings.from_env({}))[0] == "claude-opus-5-5"
    bedrock = Settings.from_env({"SITREP_MODEL_PROVIDER": "bedrock", "AWS_REGION": "us-east-1"})
    assert all(m.startswith("anthropic.claude-") for m in model_choices(bedrock))
    assert model_choices(Settings.from_env({"ANTHROPIC_BASE_URL": "http://localhost:11434"})) == ()
    assert model_choices(Settings.from_env({"ANTHROPIC_BASE_URL": "https://api.anthropic.com"}))
