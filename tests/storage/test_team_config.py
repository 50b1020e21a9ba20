import pytest

from storage.services import Storage
from storage.team_config import ConfigInvalid
from storage.teams import DEFAULT_TEAM_ID
from tests.support.environment import STORE_BACKENDS


@pytest.fixture(params=STORE_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Every test here runs on SQLite and on PostgreSQL, directly and through PgBouncer."""
    return str(request.param)


async def test_default_team_exists_with_an_empty_config(storage: Storage) -> None:
    team = await storage.teams.get(DEFAULT_TEAM_ID)
    assert team.config.routing.github_repos == []
    assert team.config.reports.channel is None


async def test_patch_merges_and_persists(storage: Storage) -> None:
    await storage.config.patch(DEFAULT_TEAM_ID, {"routing": {"github_repos": ["mochacare/app"]}}, "U1")
    team = await storage.config.patch(
        DEFAULT_TEAM_ID, {"agents": {"coding": {"enabled": True}}, "reports": {"channel": "C0ADZHLL76V"}}, "U1"
    )
    assert team.config.routing.github_repos == ["mochacare/app"]
    assert team.config.agents.coding.enabled is True
    team = await storage.config.patch(DEFAULT_TEAM_ID, {"reports": {"channel": None}}, "U2")
    assert team.config.reports.channel is None
    assert team.config.routing.github_repos == ["mochacare/app"]


@pytest.mark.parametrize(
    ("patch", "problem"),
    [
        ({"routing": {"github_repos": ["not a repo"]}}, "routing.github_repos"),
        ({"reports": {"timezone": "Mars/Olympus"}}, "reports.timezone"),
        ({"reports": {"channel": "#general"}}, "reports.channel"),
        ({"amplitude": {"region": "apac"}}, "amplitude.region"),
        ({"grafana": {"dashboards": []}}, "grafana.dashboards: is not a known setting"),
        ({"agents": {"coding": {"enabled": "yes please"}}}, "agents.coding.enabled"),
        ({"agents": {"model": "claude sonnet"}}, "agents.model: 'claude sonnet' is not a model id"),
        ({"agents": {"daily_token_budget": 0}}, "agents.daily_token_budget"),
        (["not", "an", "object"], "must be a JSON object"),
    ],
)
async def test_invalid_patch_is_rejected_and_changes_nothing(storage: Storage, patch: object, problem: str) -> None:
    before = await storage.config.patch(DEFAULT_TEAM_ID, {"routing": {"github_repos": ["a/b"]}}, "U1")
    audit_before = len(await storage.audit.recent())
    with pytest.raises(ConfigInvalid) as err:
        await storage.config.patch(DEFAULT_TEAM_ID, patch, "U1")
    assert problem in str(err.value)
    after = await storage.teams.get(DEFAULT_TEAM_ID)
    assert after.config == before.config
    assert len(await storage.audit.recent()) == audit_before


async def test_patches_are_audited_with_actor(storage: Storage) -> None:
    await storage.config.patch(DEFAULT_TEAM_ID, {"reports": {"timezone": "Europe/Berlin"}}, "U42")
    recent = await storage.audit.recent()
    entry = next(e for e in recent if e.action == "config.patch")
    assert entry.actor == "U42" and entry.detail["patch"] == {"reports": {"timezone": "Europe/Berlin"}}
    reseeds = [e for e in recent if e.action == "jobs.reseed"]  # the report jobs followed, in the same change
    assert reseeds and {e.actor for e in reseeds} == {"U42"} and reseeds[0].detail["timezone"] == "Europe/Berlin"


@pytest.mark.parametrize(
    "model",
    [
        "claude-sonnet-5-5",
        "anthropic.claude-sonnet-5-5",  # Bedrock
        "us.anthropic.claude-sonnet-5-5-v1:0",  # a Bedrock inference profile
        "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-5-5",
        "claude-sonnet-5-5@20260901",  # Vertex AI
        "qwen3-coder:30b",  # Ollama
        "Qwen/Qwen3-Coder-30B-A3B-Instruct",  # vLLM
    ],
)
async def test_any_providers_model_id_is_taken(storage: Storage, model: str) -> None:
    team = await storage.config.patch(DEFAULT_TEAM_ID, {"agents": {"model": model}}, "U1")
    assert team.config.agents.model == model
