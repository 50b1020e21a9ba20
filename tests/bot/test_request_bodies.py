"""Bodies as they arrive over the internet: in many small pieces on a real socket. GitHub's webhook and the admin
API read the whole body before they hash or parse it, and refuse one over their limit (413) having done nothing."""

from __future__ import annotations

import json
import zlib
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from agent.services import Services
from bot import github_web, web
from bot.bodies import BodyRefused, inflate
from bot.github_web import running_tasks
from bot.runtime import Runtime
from bot.web import bound_port, start_web
from skills.github.webhook import signature_for
from tests.bot.test_github_webhook import pr_payload, served
from tests.support.github_world import REPO, WEBHOOK_SECRET, route_pull_files
from tests.support.http_pieces import send_in_pieces

TOKEN = "admin-token-for-body-tests-456"


def github_headers(body: bytes, delivery: str) -> dict[str, str]:
    return {
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": signature_for(WEBHOOK_SECRET, body),
        "Content-Type": "application/json",
    }


def port_of(http: httpx.AsyncClient) -> int:
    port = http.base_url.port
    assert port is not None
    return port


async def test_a_40_kb_pull_request_in_1_kb_pieces_is_verified_and_reviewed(tmp_path: Path) -> None:
    async with served(tmp_path) as (w, http, app):
        pr = w.github.add_pull(REPO, 31, route_pull_files())
        payload = pr_payload(31, pr.head_sha)
        payload["pull_request"]["body"] = "A long description of the change. " * 1200  # ~40 KB, like real ones
        body = json.dumps(payload).encode()
        assert len(body) > 40_000
        answer = await send_in_pieces(port_of(http), "/github/webhook", body, github_headers(body, "d-big"))
        assert answer.status == 202, answer.body
        assert answer.pieces == -(-len(body) // 1024)
        await running_tasks(app)
        assert len(w.github.repo(REPO).reviews) == 1


async def test_a_webhook_over_the_limit_is_413_and_nothing_is_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with served(tmp_path) as (w, http, app):
        pr = w.github.add_pull(REPO, 32, route_pull_files())
        payload = pr_payload(32, pr.head_sha)
        payload["pull_request"]["body"] = "x" * 20_000
        body = json.dumps(payload).encode()
        monkeypatch.setattr(github_web, "MAX_PAYLOAD", 8_000)
        for chunked in (False, True):  # announced by Content-Length, and not announced (chunked encoding)
            answer = await send_in_pieces(
                port_of(http), "/github/webhook", body, github_headers(body, "d-over"), chunked=chunked
            )
            assert answer.status == 413 and "8000" in answer.json()["error"]
        await running_tasks(app)
        assert w.github.repo(REPO).reviews == []
        monkeypatch.setattr(github_web, "MAX_PAYLOAD", 25 * 1024 * 1024)
        again = await send_in_pieces(port_of(http), "/github/webhook", body, github_headers(body, "d-over"))
        assert again.status == 202 and "duplicate" not in again.json()  # the refused delivery was never recorded


@pytest.fixture
async def admin_port(services: Services) -> AsyncIterator[int]:
    services = replace(
        services, settings=services.settings.model_copy(update={"admin_token": SecretStr(TOKEN), "http_port": 0})
    )
    runner = await start_web(Runtime(services))
    try:
        port = bound_port(runner)
        assert port is not None
        yield port
    finally:
        await runner.cleanup()


ADMIN = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


async def test_an_admin_patch_in_pieces_is_parsed_whole(admin_port: int, services: Services) -> None:
    patch = {"routing": {"github_repos": ["mochacare/their-repo"]}}
    body = b" " * 120_000 + json.dumps(patch).encode()  # leading whitespace is valid JSON: the patch comes last
    answer = await send_in_pieces(admin_port, "/api/v1/config/me", body, ADMIN, method="PATCH")
    assert answer.status == 200, answer.body
    assert (await services.team_for(None)).config.routing.github_repos == ["mochacare/their-repo"]


async def test_an_admin_patch_over_the_limit_is_413_and_changes_nothing(admin_port: int, services: Services) -> None:
    body = json.dumps({"routing": {"github_repos": ["mochacare/their-repo"]}}).encode() + b" " * web.MAX_BODY
    # (its first pieces alone are a valid patch: reading only them would apply it)
    answer = await send_in_pieces(admin_port, "/api/v1/config/me", body, ADMIN, method="PATCH", chunked=True)
    assert answer.status == 413 and str(web.MAX_BODY) in answer.json()["error"]
    assert (await services.team_for(None)).config.routing.github_repos == []


async def test_a_gzip_admin_patch_is_decoded(admin_port: int, services: Services) -> None:
    body = json.dumps({"routing": {"github_repos": ["mochacare/zipped"]}}).encode()
    compressor = zlib.compressobj(wbits=31)
    zipped = compressor.compress(body) + compressor.flush()
    answer = await send_in_pieces(
        admin_port, "/api/v1/config/me", zipped, {**ADMIN, "Content-Encoding": "gzip"}, method="PATCH", piece=7
    )
    assert answer.status == 200, answer.body
    assert (await services.team_for(None)).config.routing.github_repos == ["mochacare/zipped"]
    brotli = await send_in_pieces(
        admin_port, "/api/v1/config/me", zipped, {**ADMIN, "Content-Encoding": "br"}, method="PATCH"
    )
    assert brotli.status == 415 and "br" in brotli.json()["error"]


def test_inflate_reads_concatenated_members_and_refuses_corrupt_data() -> None:
    def member(data: bytes) -> bytes:
        compressor = zlib.compressobj(wbits=31)
        return compressor.compress(data) + compressor.flush()

    assert inflate(member(b"first ") + member(b"second"), 100) == b"first second"
    assert inflate(zlib.compress(b"zlib framed"), 100) == b"zlib framed"  # Content-Encoding: deflate
    whole = member(b"y" * 5000)
    for broken, why in ((whole[:-12], "cut short"), (b"\x1f\x8b" + bytes(30), "not valid")):
        with pytest.raises(BodyRefused) as refused:
            inflate(broken, 10_000)
        assert refused.value.status == 400 and why in refused.value.message
    with pytest.raises(BodyRefused) as too_big:
        inflate(whole, 4999)
    assert too_big.value.status == 413
    assert inflate(whole, 5000) == b"y" * 5000
