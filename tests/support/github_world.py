"""The GitHub test world: an App key pair, a fake GitHub (and Grafana) on 127.0.0.1, and sitrep's services
pointed at them through GITHUB_API_URL / GRAFANA_URL, with `mochacare/web` installed and a pull request open.

Used by tests/review/, tests/skills/github/, tests/app/test_secrets_never_leak.py and bench/pr_review.py.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from agent.services import Services
from settings import Settings
from skills import amplitude as amplitude_skill
from skills import github, grafana
from storage.services import open_storage
from tests.fakes.amplitude import FakeAmplitude
from tests.fakes.github import FakeGitHub
from tests.fakes.github_repo import PullFile, added_patch
from tests.fakes.grafana import FakeGrafana

APP_ID = "424242"
SLUG = "sitrep-test"
INSTALLATION = 7001
REPO = "mochacare/web"
WEBHOOK_SECRET = "whsec-test-0123456789abcdef"
ROUTE_FILE = "app/api/agents/[id]/run/route.ts"
TIMEOUTS = 26  # TimeoutError lines for /api/agents/<id>/run in the seeded logs

ROUTE_TS = """import { NextResponse } from 'next/server';
import { runAgent } from '@/lib/agents';

export async function POST(req: Request, { params }: { params: { id: string } }) {
  try {
    const result = await runAgent(params.id);
    return NextResponse.json(result);
  } catch (err) {
    return NextResponse.json({ error: 'failed' }, { status: 500 });
  }
}
"""


def new_key() -> tuple[rsa.RSAPrivateKey, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    return key, pem


def route_pull_files() -> list[PullFile]:
    return [
        PullFile(ROUTE_FILE, added_patch(ROUTE_TS), content=ROUTE_TS),
        PullFile("lib/format.ts", added_patch("export const x = 1;\n"), content="export const x = 1;\n"),
    ]


def _id(i: int) -> str:
    return f"{i:08x}-0000-4000-8000-{i:012x}"


def seed_logs(g: FakeGrafana) -> None:
    lines = [
        json.dumps(
            {
                "level": "error",
                "message": f"TimeoutError: agent {_id(i)} exceeded 30000ms",
                "path": f"/api/agents/{_id(i)}/run",
            }
        )
        for i in range(TIMEOUTS)
    ]
    lines += [json.dumps({"level": "info", "message": "POST /api/agents/a1/run 200", "path": "/api/agents/a1/run"})] * 5
    lines += [json.dumps({"level": "error", "message": "Error: db down", "path": "/api/users/u1"})] * 7
    g.add_logs({"source": "lambda", "host": "mochacare.vercel.app"}, lines, gap_s=30)


@dataclass
class World:
    github: FakeGitHub
    grafana: FakeGrafana
    services: Services
    settings: Settings
    pem: str
    env: dict[str, str] = field(default_factory=dict)
    notes: list[tuple[str, str]] = field(default_factory=list)

    async def notify(self, channel: str, text: str) -> None:
        self.notes.append((channel, text))

    async def team(self) -> Any:
        return await self.services.storage.teams.get("default")


def world_env(tmp: Path, gh: FakeGitHub, g: FakeGrafana, pem: str, **extra: str) -> dict[str, str]:
    env = {
        "SITREP_DB": str(tmp / "sitrep.db"),
        "SITREP_SECRET_KEY": Fernet.generate_key().decode(),
        "GITHUB_APP_ID": APP_ID,
        "GITHUB_APP_PRIVATE_KEY": pem,
        "GITHUB_APP_SLUG": SLUG,
        "GITHUB_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "GITHUB_API_URL": gh.url,
        "GRAFANA_URL": g.url,
        "GRAFANA_TOKEN": g.token,
    }
    env.update(extra)
    return env


@asynccontextmanager
async def github_world(
    tmp: Path, *, link: bool = True, route: bool = True, amplitude: FakeAmplitude | None = None, **env_extra: str
) -> AsyncIterator[World]:
    key, pem = new_key()
    async with AsyncExitStack() as stack:
        gh = await stack.enter_async_context(FakeGitHub(APP_ID, key.public_key(), slug=SLUG))
        g = await stack.enter_async_context(FakeGrafana())
        gh.add_installation(INSTALLATION, "mochacare", [REPO, "mochacare/other"])
        seed_logs(g)
        if amplitude is not None:
            env_extra.update(
                AMPLITUDE_API_URL=amplitude.url,
                AMPLITUDE_API_KEY=amplitude.api_key,
                AMPLITUDE_SECRET_KEY=amplitude.secret_key,
            )
        env = world_env(tmp, gh, g, pem, **env_extra)
        settings = Settings.from_env(env)
        services = Services(
            settings=settings,
            storage=await open_storage(settings),
            skill_factories=[grafana.open_skill, amplitude_skill.open_skill, github.open_skill],
        )
        stack.push_async_callback(services.close)
        if route:
            await services.storage.config.patch(
                "default", {"routing": {"github_repos": [REPO], "channels": ["C0PRNOTES"]}}, "test"
            )
        if link:
            from storage.github import GitHubStore

            await GitHubStore(services.storage.db, services.storage.audit).link(
                "default", INSTALLATION, "mochacare", "test"
            )
        yield World(gh, g, services, settings, pem, env)
