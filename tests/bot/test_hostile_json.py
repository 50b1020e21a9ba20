"""Deeply nested JSON, with valid credentials, at every route that parses JSON from outside: 400 with one line,
never a 500 and a traceback; in a drain batch only the bad line is refused."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from agent.services import Services
from bot.runtime import Runtime
from bot.web import bound_port, start_web
from skills.github.webhook import signature_for
from tests.support.attacks import ALERTS_TOKEN, Exposed, exposed
from tests.support.drain_support import entry, ndjson, sign
from tests.support.github_world import WEBHOOK_SECRET
from text.json_in import MAX_DEPTH, NotJSON, loads

DEEP_ARRAYS = b"[" * 200_000 + b"]" * 200_000  # past the parser: RecursionError
DEEP_OBJECTS = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
JUST_TOO_DEEP = b'{"a":' * (MAX_DEPTH + 1) + b"1" + b"}" * (MAX_DEPTH + 1)  # parses, but past MAX_DEPTH
BODIES = {"arrays": DEEP_ARRAYS, "objects": DEEP_OBJECTS, "just too deep": JUST_TOO_DEEP}
ADMIN_TOKEN = "admin-token-for-deep-json-789"


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Exposed]:
    async with exposed(tmp_path) as server:
        yield server


def one_line_400(response: httpx.Response) -> str:
    assert response.status_code == 400, response.text
    message = str(response.json()["error"])
    assert "\n" not in message and len(message) < 200
    return message


@pytest.mark.parametrize("kind", list(BODIES))
async def test_webhooks_answer_400_in_one_line(site: Exposed, kind: str, caplog: pytest.LogCaptureFixture) -> None:
    body = BODIES[kind]
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{site.port}") as http:
        bearer = {"Authorization": f"Bearer {ALERTS_TOKEN}"}
        for path in ("/alerts/grafana?channel=C0ALERTS", "/alerts/alertmanager?channel=C0ALERTS"):
            assert "nested too deeply" in one_line_400(await http.post(path, content=body, headers=bearer))
        signature = hmac.new(ALERTS_TOKEN.encode(), body, hashlib.sha256).hexdigest()
        signed = await http.post(
            "/alerts/grafana?channel=C0ALERTS", content=body, headers={"X-Grafana-Alerting-Signature": signature}
        )
        assert "nested too deeply" in one_line_400(signed)
        github = await http.post(
            "/github/webhook",
            content=body,
            headers={
                "X-GitHub-Event": "pull_request",
                "X-GitHub-Delivery": f"deep-{kind}",
                "X-Hub-Signature-256": signature_for(WEBHOOK_SECRET, body),
            },
        )
        assert "nested too deeply" in one_line_400(github)
        if kind != "just too deep":  # a drain entry is relayed as sent: only what the parser cannot follow is refused
            drain = await http.post("/drains/vercel", content=body, headers=sign(body))
            assert drain.status_code == 200 and drain.json()["accepted"] == 0 and drain.json()["malformed"] == 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


async def test_one_deep_line_in_a_drain_batch_is_refused_alone(site: Exposed) -> None:
    good = ndjson([entry(1), entry(2), entry(3)])
    body = good + DEEP_ARRAYS + b"\n" + DEEP_OBJECTS + b"\n" + ndjson([entry(4)])
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{site.port}") as http:
        response = await http.post("/drains/vercel", content=body, headers=sign(body))
    assert response.status_code == 200, response.text
    assert response.json() == {"ok": True, "accepted": 4, "malformed": 2}


@pytest.fixture
async def admin(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    settings = services.settings.model_copy(update={"admin_token": SecretStr(ADMIN_TOKEN), "http_port": 0})
    runner = await start_web(Runtime(replace(services, settings=settings)))
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{bound_port(runner)}", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        ) as http:
            yield http
    finally:
        await runner.cleanup()


ADMIN_BODIES = {  # under the admin API's 256 KiB
    "arrays": b"[" * 100_000 + b"]" * 100_000,
    "objects": b'{"a":' * 40_000 + b"1" + b"}" * 40_000,
    "just too deep": JUST_TOO_DEEP,
}


@pytest.mark.parametrize("kind", list(ADMIN_BODIES))
async def test_the_admin_patch_answers_400_in_one_line(admin: httpx.AsyncClient, kind: str) -> None:
    response = await admin.patch("/api/v1/config/me", content=ADMIN_BODIES[kind])
    assert "nested too deeply" in one_line_400(response)
    assert (await admin.get("/api/v1/config/me")).status_code == 200


def test_loads_names_what_is_wrong_in_one_line() -> None:
    for raw in (*BODIES.values(), b"{nope", b"\xff\xfe\x00", "[1,"):
        with pytest.raises(NotJSON) as refused:
            loads(raw, what="the patch")
        assert str(refused.value).startswith("the patch ") and "\n" not in str(refused.value)
    assert loads(b'{"a": [1, {"b": null}]}') == {"a": [1, {"b": None}]}
    assert loads(json.dumps({"a": 1}).encode() * 1 + b" ") == {"a": 1}
