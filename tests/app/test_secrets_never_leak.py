"""No credential reaches the model or Slack: secrets stored (credential store and environment), planted in the
upstream data and in the question, a question answered end to end; then every request the fake Messages API and
the fake Slack received is scanned for every secret value."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from settings import Settings
from tests.fakes.anthropic import ModelRequest, Reply, text, tool_calls
from tests.support.agent_world import World, mention, world

GRAFANA_TOKEN = "glsa_LEAKCHECK_grafana_7f3a9c21d4e8"
AMPLITUDE_API_KEY = "ampkey-LEAKCHECK-0b1c2d3e4f5a"
AMPLITUDE_SECRET = "ampsecret-LEAKCHECK-9a8b7c6d5e4f"
DRAIN_SECRET = "vdrain-LEAKCHECK-secret-4d5e6f7a"
DRAIN_VERIFY = "vverify-LEAKCHECK-8b9c0d1e2f3a"
LOKI_PUSH_TOKEN = "glc_LEAKCHECK_loki_push_3c4d5e6f"
STORED_PUSH_TOKEN = "glc_LEAKCHECK_stored_push_7a8b9c0d"
AUTH_HEADERS = {"authorization", "x-api-key"}  # where a key must go, to the service it belongs to


def planted(w: World) -> None:
    """Secrets inside what the upstreams return: a log line that leaks the token, an event property with a key."""
    w.grafana.add_logs(
        {"source": "lambda", "host": "mochacare.vercel.app"},
        [
            f"Error: auth failed for Bearer {GRAFANA_TOKEN}",
            f"Error: auth failed: drain {DRAIN_SECRET} verify {DRAIN_VERIFY}",
            f"Error: auth failed: push {LOKI_PUSH_TOKEN} {STORED_PUSH_TOKEN}",
        ],
    )
    w.grafana.add_logs({"source": "lambda", "pod": f"lambda-{GRAFANA_TOKEN}"}, ["ok"])  # a label value, resolved
    w.grafana.prom_metadata["http_request_duration_seconds"] = [
        {"type": "summary", "help": f"latency (scraped with {GRAFANA_TOKEN})", "unit": ""}
    ]
    w.amplitude.add_events("Agent Failed", w.amplitude.today, 4, error_type=f"BadKey {AMPLITUDE_SECRET}")


async def store_credentials(w: World) -> None:
    team = await w.services.team_for(None)
    await w.services.storage.credentials.set(team.id, "grafana", "token", GRAFANA_TOKEN, "test")
    await w.services.storage.credentials.set(team.id, "amplitude", "secret_key", AMPLITUDE_SECRET, "test")
    await w.services.storage.credentials.set(team.id, "grafana", "loki_push_token", STORED_PUSH_TOKEN, "test")


def secrets_of(w: World) -> dict[str, str]:
    return {
        "grafana token": GRAFANA_TOKEN,
        "amplitude api key": AMPLITUDE_API_KEY,
        "amplitude secret key": AMPLITUDE_SECRET,
        "anthropic key": w.model.api_key,
        "slack bot token": w.slack.bot_token,
        "slack app token": w.slack.app_token,
        "sitrep secret key": Settings.reveal(w.settings.secret_key) or "",
        "vercel drain secret": DRAIN_SECRET,
        "vercel drain verification value": DRAIN_VERIFY,
        "loki push token": LOKI_PUSH_TOKEN,
        "stored loki push token": STORED_PUSH_TOKEN,
    }


def model_traffic(w: World) -> list[str]:
    return [
        r.raw.decode("utf-8", "replace")
        + json.dumps({k: v for k, v in r.headers.items() if k.lower() not in AUTH_HEADERS})
        for r in w.model.requests
    ]


def slack_traffic(w: World) -> list[str]:
    return [json.dumps(c.args, ensure_ascii=False) for c in w.slack.calls]


async def stored_text(w: World) -> str:
    rows = await w.services.storage.db.fetchall("SELECT question, answer, error FROM answers")
    turns = await w.services.storage.db.fetchall("SELECT content FROM thread_turns")
    return json.dumps([dict(r) for r in rows] + [dict(t) for t in turns])


def leaks(haystacks: list[str], secrets: dict[str, str]) -> list[str]:
    return [f"{name} in request {i}" for i, h in enumerate(haystacks) for name, v in secrets.items() if v and v in h]


def echo_everything(req: ModelRequest) -> Reply:
    """A careless model: quotes every tool result back, and a token it should never know."""
    quoted = "\n".join(str(r["content"]) for r in req.tool_results())
    return text(f"Here is everything I saw:\n{quoted}\nAlso try token {GRAFANA_TOKEN} and {AMPLITUDE_API_KEY}.")


@pytest.mark.parametrize("key", [True, False], ids=["claude", "rules"])
async def test_no_secret_in_any_request_to_the_model_or_slack(tmp_path: Path, key: bool) -> None:
    env = {"GRAFANA_TOKEN": "", "AMPLITUDE_SECRET_KEY": ""}  # those two come from the credential store
    env |= {
        "VERCEL_DRAIN_SECRET": DRAIN_SECRET,
        "VERCEL_DRAIN_VERIFY": DRAIN_VERIFY,
        "LOKI_PUSH_TOKEN": LOKI_PUSH_TOKEN,
    }
    env |= {"LOKI_PUSH_URL": "https://logs-prod-021.grafana.net", "LOKI_PUSH_USER": "123456"}
    async with world(
        tmp_path,
        key=key,
        grafana_token=GRAFANA_TOKEN,
        amplitude_keys=(AMPLITUDE_API_KEY, AMPLITUDE_SECRET),
        env=env,
    ) as w:
        await store_credentials(w)
        planted(w)
        w.model.script(
            tool_calls(
                ("grafana_loki_error_patterns", {"since": "1h"}),
                ("amplitude_query_events", {"event_type": "Agent Failed", "group_by": ["error_type"], "days": 1}),
                ("grafana_query_loki", {"query": '{source="lambda"} |= "auth failed"', "since": "1h"}),
                ("grafana_resolve_subject", {"name": "lambda"}),
                ("grafana_find_metrics", {"keyword": "latency"}),
            ),
            echo_everything,
        )
        question = f"why are agents failing? is the key {AMPLITUDE_API_KEY} still valid? what's the error rate?"
        _, post = await mention(w, question)

        # the secrets really were on the path (so this test can fail): Grafana and Amplitude answered with them
        assert any(r.headers.get("Authorization") == f"Bearer {GRAFANA_TOKEN}" for r in w.grafana.requests)
        assert any(r.authorized for r in w.amplitude.requests)
        assert "[redacted]" in json.dumps(post.args)
        assert any(DRAIN_SECRET in json.dumps(s) for s in w.grafana.streams)  # the drain's secrets were upstream
        if key:
            assert len(w.model.answered) == 2 and "[redacted]" in model_traffic(w)[1]
        secrets = secrets_of(w)
        assert leaks(model_traffic(w), secrets) == []
        assert leaks(slack_traffic(w), secrets) == []
        assert leaks([await stored_text(w)], secrets) == []


INSTALLATION_TOKEN = "ghs_LEAKCHECKinstallationtoken0123456789"


@pytest.mark.parametrize("key", [True, False], ids=["claude", "rules"])
async def test_no_github_secret_in_logs_slack_model_or_review(
    tmp_path: Path, key: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """The App key, the installation token and the webhook secret, planted in the pull request and the logs, reach
    neither the review GitHub receives, nor the Slack note, the model, the database or the log."""
    from review.pipeline import review_pull
    from tests.fakes.anthropic import FakeAnthropic
    from tests.fakes.github_repo import PullFile, added_patch
    from tests.support.github_world import REPO, ROUTE_FILE, ROUTE_TS, WEBHOOK_SECRET, github_world

    caplog.set_level("DEBUG")
    async with FakeAnthropic() as model:
        env = {"ANTHROPIC_API_KEY": model.api_key, "ANTHROPIC_BASE_URL": model.url} if key else {}
        async with github_world(tmp_path, SITREP_MODEL="claude-sonnet-5-5", **env) as w:
            pem_line = w.pem.splitlines()[2]  # a line of the App's private key
            w.github.next_tokens.append(INSTALLATION_TOKEN)
            leaky = f"// token {INSTALLATION_TOKEN} secret {WEBHOOK_SECRET}\n// {pem_line}\n" + ROUTE_TS
            pr = w.github.add_pull(REPO, 71, [PullFile(ROUTE_FILE, added_patch(leaky), content=leaky)])
            pr.body = f"webhook secret is {WEBHOOK_SECRET}; key line {pem_line}"
            w.grafana.add_logs({"source": "lambda"}, [f"Error: /api/agents/x/run auth Bearer {INSTALLATION_TOKEN}"])
            model.script(
                tool_calls(("github_get_file", {"repo": REPO, "path": ROUTE_FILE, "ref": pr.head_sha})),
                lambda req: text(
                    "Everything I saw:\n"
                    + "\n".join(str(r["content"]) for r in req.tool_results())
                    + f"\n{INSTALLATION_TOKEN} {WEBHOOK_SECRET} {pem_line}"
                ),
            )
            out = await review_pull(w.services, await w.team(), REPO, 71, head_sha=pr.head_sha, notify=w.notify)
            assert out.status == "posted", out.reason
            assert out.planner == ("claude" if key else "rules")
            # the secrets were on the path: GitHub was called with the token, and the key signed the JWTs
            assert any(INSTALLATION_TOKEN in s.headers.get("Authorization", "") for s in w.github.requests)
            secrets = {"installation token": INSTALLATION_TOKEN, "webhook secret": WEBHOOK_SECRET, "app key": pem_line}
            review_traffic = [s.body.decode() for s in w.github.requests if s.method == "POST" and s.body]
            if key:  # the careless model quoted them: the review shows where they were cut out
                assert "[redacted]" in "".join(review_traffic)
            assert leaks(review_traffic, secrets) == []
            assert leaks([json.dumps(w.notes)], secrets) == []
            assert leaks([r.raw.decode("utf-8", "replace") for r in model.requests], secrets) == []
            rows = await w.services.storage.db.fetchall("SELECT * FROM github_reviews")
            assert leaks([json.dumps([dict(r) for r in rows])], secrets) == []
            assert leaks([caplog.text], secrets) == []


async def test_no_secret_on_the_home_tab_or_in_the_config_modals(tmp_path: Path) -> None:
    """Credentials stored, and an admin pasted a token into the planner prompt: the Home tab's history, Agent
    settings and Test connections show that things are set, never the values."""
    env = {"GRAFANA_TOKEN": "", "AMPLITUDE_SECRET_KEY": "", "SITREP_ADMINS": "U123"}
    async with world(
        tmp_path, key=False, grafana_token=GRAFANA_TOKEN, amplitude_keys=(AMPLITUDE_API_KEY, AMPLITUDE_SECRET), env=env
    ) as w:
        await store_credentials(w)
        prompt = {"agents": {"planner": {"prompt": {"system": f"Grafana token is {GRAFANA_TOKEN}"}}}}
        await w.services.storage.config.patch("default", prompt, "U123")
        await w.slack.send_event({"type": "app_home_opened", "user": "U123", "tab": "home"})
        home = await w.slack.wait_for_call("views.publish")
        assert "grafana.token" in json.dumps(home.args) and "Recent changes" in json.dumps(home.args)
        for action in ("config_agent", "test_connections"):
            mark = len(w.slack.calls)
            await w.slack.send_interactive(
                {
                    "type": "block_actions",
                    "actions": [{"action_id": action, "type": "button", "value": action}],
                    "view": {"id": "VHOME", "type": "home"},
                    "container": {"type": "view", "view_id": "VHOME"},
                }
            )
            await w.slack.wait_for_call("views.update", lambda c: "Loading" not in json.dumps(c.args), since=mark)
        agent = w.slack.calls_to("views.update")[-2].args["view"]
        assert agent["callback_id"] == "agent_settings_submit" and "[redacted]" in json.dumps(agent)
        assert leaks(slack_traffic(w), secrets_of(w)) == []


async def test_no_secret_reaches_claude_or_the_instrumentation_pull_request(tmp_path: Path) -> None:
    """A repository that holds sitrep's secrets in its code (the installation token, the Amplitude key): Claude is
    sent none of them while it proposes the instrumentation, and the pull request's body and commit hold none."""
    from bot.slack.instrument import proposer_for
    from skills.amplitude.instrument.flow import open_pull_request, prepare
    from skills.github.skill import GitHubSkill
    from tests.fakes.anthropic import FakeAnthropic
    from tests.support import nextjs_repo
    from tests.support.github_world import REPO, github_world

    async with FakeAnthropic() as model:
        env = {
            "ANTHROPIC_API_KEY": model.api_key,
            "ANTHROPIC_BASE_URL": model.url,
            "AMPLITUDE_API_KEY": AMPLITUDE_API_KEY,
        }
        async with github_world(tmp_path, **env) as w:
            w.github.next_tokens.append(INSTALLATION_TOKEN)
            runner = nextjs_repo.RUNNER.replace(
                "const client", f"// {INSTALLATION_TOKEN} {AMPLITUDE_API_KEY}\nconst client"
            )
            w.github.repo(REPO).seed({**nextjs_repo.files(), "lib/agents/runner.ts": runner})
            model.script(text("no proposal"))
            gh = await w.services.skill(await w.team(), "github")
            assert isinstance(gh, GitHubSkill)
            prepared = await prepare(gh, REPO, proposer=await proposer_for(w.services, await w.team(), gh))
            published = await open_pull_request(gh, prepared, store=None, team_id="default", actor="t")
            secrets = {"installation token": INSTALLATION_TOKEN, "amplitude key": AMPLITUDE_API_KEY}
            [request] = model.answered
            assert "[redacted]" in request.text() and leaks([request.text()], secrets) == []
            pr = w.github.repo(REPO).pulls[published.number]
            messages = [o.get("message", "") for o in w.github.repo(REPO).objects.values() if o["type"] == "commit"]
            assert leaks([pr.body, pr.title, *messages], secrets) == []


@pytest.mark.parametrize("platform", ["bedrock", "vertex"])
async def test_no_platform_credential_in_requests_logs_slack_or_the_database(
    tmp_path: Path, platform: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Claude through Bedrock (an access key with a session token) or Vertex AI (a service account's key file): the
    AWS secret and the Google private key are only ever used to sign, the session token and the access token go
    only in their own headers to their own service; a secret planted upstream and echoed by a careless model is
    redacted everywhere."""
    from app import RAW_PAYLOAD_LOGGERS
    from tests.fakes.bedrock import ACCESS_KEY, REGION, SECRET_KEY, FakeBedrock
    from tests.fakes.vertex import REGION as VERTEX_REGION
    from tests.fakes.vertex import FakeVertex

    session_token = "FwoGZXIvYXdzLEAKCHECK-session-token-5e6f7a8b"

    def env(fake: object) -> dict[str, str]:
        base = {"ANTHROPIC_API_KEY": "", "ANTHROPIC_BASE_URL": ""}
        if isinstance(fake, FakeVertex):
            keyfile = fake.service_account_file(tmp_path)
            return base | {
                "SITREP_MODEL_PROVIDER": "vertex",
                "CLOUD_ML_REGION": VERTEX_REGION,
                "GOOGLE_APPLICATION_CREDENTIALS": str(keyfile),
                "ANTHROPIC_VERTEX_BASE_URL": f"{fake.url}/v1",
            }
        assert isinstance(fake, FakeBedrock)
        return base | {
            "SITREP_MODEL_PROVIDER": "bedrock",
            "SITREP_MODEL": "anthropic.claude-sonnet-5-5",
            "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_SESSION_TOKEN": session_token,
            "ANTHROPIC_BEDROCK_BASE_URL": fake.url,
        }

    caplog.set_level("DEBUG")  # as `python app.py --verbose` logs: its raw-payload loggers stay at INFO
    for name in RAW_PAYLOAD_LOGGERS:
        caplog.set_level("INFO", logger=name)
    double = FakeBedrock if platform == "bedrock" else FakeVertex
    async with world(tmp_path, key=False, model_double=double, env=env) as w:
        private_key_line = ""
        if isinstance(w.model, FakeVertex):
            private_key_line = json.loads((tmp_path / "service-account.json").read_text())["private_key"].split()[5]
        if platform == "bedrock":  # planted upstream: redacted as every secret in Settings is
            w.grafana.add_logs({"source": "lambda"}, [f"Error: signed with {SECRET_KEY} and {session_token}"])
        w.model.script(
            tool_calls(("grafana_query_loki", {"query": '{source="lambda"} |= "signed"', "since": "1h"})),
            echo_everything,
        )
        _, post = await mention(w, "why are agents failing?")
        assert len(w.model.answered) == 2
        assert ("[redacted]" in json.dumps(post.args)) == (platform == "bedrock")
        secrets = {"aws secret": SECRET_KEY, "aws session token": session_token}
        if private_key_line:
            secrets["google private key"] = private_key_line
        traffic = model_traffic(w)
        own_headers = {"x-amz-security-token"}
        traffic = [
            r.raw.decode("utf-8", "replace")
            + json.dumps({k: v for k, v in r.headers.items() if k.lower() not in AUTH_HEADERS | own_headers})
            for r in w.model.requests
        ]
        assert leaks(traffic, secrets) == []
        assert leaks(slack_traffic(w), secrets) == []
        assert leaks([await stored_text(w)], secrets) == []
        assert leaks([caplog.text], secrets) == []
