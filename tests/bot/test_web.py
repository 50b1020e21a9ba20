"""The admin config API, served for real on a loopback port (the probes: test_probes.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
from pydantic import SecretStr

from agent.services import Services
from bot.runtime import Runtime
from bot.web import bound_port, start_web

TOKEN = "admin-token-for-tests-123"


@pytest.fixture
async def api(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    services = replace(
        services, settings=services.settings.model_copy(update={"admin_token": SecretStr(TOKEN), "http_port": 0})
    )
    runner = await start_web(Runtime(services))
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{bound_port(runner)}") as client:
            yield client
    finally:
        await runner.cleanup()


AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def test_patch_with_the_config_envelope_and_org_headers(api: httpx.AsyncClient) -> None:
    headers = {**AUTH, "X-Org-Id": "default", "X-Team-Node-Id": "default"}
    response = await api.patch(
        "/api/v1/config/me", headers=headers, json={"config": {"routing": {"github_repos": ["mochacare/their-repo"]}}}
    )
    assert response.status_code == 200, response.text
    assert response.json()["config"]["routing"]["github_repos"] == ["mochacare/their-repo"]
    got = await api.get("/api/v1/config/me", headers=headers)
    assert got.json()["config"]["routing"]["github_repos"] == ["mochacare/their-repo"]


async def test_invalid_patch_is_422_and_changes_nothing(api: httpx.AsyncClient) -> None:
    await api.patch("/api/v1/config/me", headers=AUTH, json={"reports": {"channel": "C0ADZHLL76V"}})
    response = await api.patch("/api/v1/config/me", headers=AUTH, json={"reports": {"channel": "#general"}})
    assert response.status_code == 422
    assert any("reports.channel" in p for p in response.json()["problems"])
    assert (await api.get("/api/v1/config/me", headers=AUTH)).json()["config"]["reports"]["channel"] == "C0ADZHLL76V"
    bad = await api.patch("/api/v1/config/me", headers=AUTH, content=b"{not json")
    assert bad.status_code == 400


async def test_auth_is_required(api: httpx.AsyncClient) -> None:
    assert (await api.get("/api/v1/config/me")).status_code == 401
    assert (await api.get("/api/v1/config/me", headers={"Authorization": "Bearer nope"})).status_code == 401


async def test_unknown_team_is_404(api: httpx.AsyncClient) -> None:
    headers = {**AUTH, "X-Org-Id": "mochacare", "X-Team-Node-Id": "mochacare-sre"}
    response = await api.get("/api/v1/config/me", headers=headers)
    assert response.status_code == 404 and "default/default" in response.json()["error"]


async def test_api_disabled_without_admin_token(services: Services) -> None:
    services = replace(services, settings=services.settings.model_copy(update={"admin_token": None, "http_port": 0}))
    runner = await start_web(Runtime(services))
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{bound_port(runner)}") as client:
            response = await client.get("/api/v1/config/me", headers=AUTH)
        assert response.status_code == 404 and "SITREP_ADMIN_TOKEN" in response.json()["error"]
    finally:
        await runner.cleanup()
