"""Grafana's readiness row: not configured, token rejected, no Loki, no log lines (the drain), ready, timeout."""

from __future__ import annotations

import socket
import time

from skills.base import Credential, ReadinessStatus
from skills.grafana import GrafanaSkill
from skills.http import RetryPolicy
from tests.fakes.grafana import LOKI_URL, FakeGrafana


def skill_for(url: str | None, token: str | None, **kw) -> GrafanaSkill:
    return GrafanaSkill(
        Credential(url, "GRAFANA_URL"), Credential(token, "GRAFANA_TOKEN"), policy=RetryPolicy(backoff=0.0), **kw
    )


async def readiness(skill: GrafanaSkill):
    try:
        return await skill.readiness()
    finally:
        await skill.aclose()


async def test_not_configured_names_the_missing_variables() -> None:
    row = await readiness(skill_for(None, None))
    assert row.status is ReadinessStatus.NOT_CONFIGURED and row.integration == "Grafana"
    assert row.missing == "GRAFANA_URL and GRAFANA_TOKEN are not set"
    assert "Editor" in row.next_step and "Home tab" in row.next_step
    only_token = await readiness(skill_for("https://mochacare.grafana.net", None))
    assert only_token.missing == "GRAFANA_TOKEN is not set"


async def test_token_rejected(grafana: FakeGrafana) -> None:
    row = await readiness(skill_for(grafana.url, "glsa_not_the_token"))
    assert row.status is ReadinessStatus.BLOCKED
    assert row.missing == "token rejected (401)"
    assert "service account token" in row.next_step and "Editor" in row.next_step
    assert "GRAFANA_TOKEN" in row.next_step and "Home tab" in row.next_step
    assert "glsa_not_the_token" not in row.missing + row.next_step + row.detail


async def test_connected_but_no_loki(grafana: FakeGrafana) -> None:
    grafana.datasources = [d for d in grafana.datasources if d["type"] != "loki"]
    row = await readiness(skill_for(grafana.url, grafana.token))
    assert row.status is ReadinessStatus.BLOCKED
    assert row.missing == "connected but no Loki data source"
    assert "Loki data source" in row.next_step
    assert "Grafana 11.3.0" in row.detail and "sa-1-sitrep" in row.detail


async def test_configured_loki_uid_that_does_not_exist(grafana: FakeGrafana) -> None:
    row = await readiness(skill_for(grafana.url, grafana.token, loki_uid="gone"))
    assert row.status is ReadinessStatus.BLOCKED and "'gone' does not exist" in row.missing


async def test_no_log_lines_lists_the_drain_settings(grafana: FakeGrafana) -> None:
    grafana.add_logs({"source": "lambda"}, ["old line"], end_ns=time.time_ns() - 2 * 3600 * 10**9)
    row = await readiness(skill_for(grafana.url, grafana.token))
    assert row.status is ReadinessStatus.BLOCKED
    assert row.missing.startswith("no log lines in the last hour")
    assert "the Vercel drain relay is not configured" in row.missing and "LOKI_PUSH_URL" in row.missing
    step = row.next_step  # the relay's first step: Loki takes only its push format, not Vercel's drain
    assert f"push URL ({LOKI_URL}/loki/api/v1/push)" in step
    assert "push user (123456" in step and "logs:write" in step  # the Loki data source's Grafana Cloud user id


async def test_ready_says_how_old_the_last_line_is(grafana: FakeGrafana) -> None:
    grafana.add_logs({"source": "lambda"}, ["a", "b"], end_ns=time.time_ns() - 4 * 60 * 10**9)
    grafana.add_logs({"source": "edge"}, ["c"], end_ns=time.time_ns() - 30 * 60 * 10**9)
    row = await readiness(skill_for(grafana.url, grafana.token))
    assert row.status is ReadinessStatus.READY and row.ready
    assert row.detail.startswith("logs flowing, last line 4 min ago")
    assert "create-dashboard" in row.next_step


async def test_slow_grafana_is_bounded(grafana: FakeGrafana) -> None:
    grafana.delay = 1.0
    started = time.monotonic()
    row = await readiness(skill_for(grafana.url, grafana.token, readiness_timeout=0.3))
    assert time.monotonic() - started < 0.9
    assert row.status is ReadinessStatus.BLOCKED
    assert row.missing == "Grafana did not answer within 0.3 s"
    assert grafana.url in row.next_step


async def test_unreachable_grafana_is_blocked_naming_the_url() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    row = await readiness(skill_for(url, "t"))
    assert row.status is ReadinessStatus.BLOCKED
    assert url in row.missing and "GRAFANA_URL" in row.next_step


async def test_user_endpoint_missing_for_service_accounts_does_not_block(grafana: FakeGrafana) -> None:
    grafana.add_logs({"source": "lambda"}, ["a"])
    grafana.fail_next(404, body={"message": "user not found"}, path_prefix="/api/user")
    row = await readiness(skill_for(grafana.url, grafana.token))
    assert row.status is ReadinessStatus.READY
    assert "as the token" in row.detail


async def test_service_account_on_grafana_10_is_ready_and_named(grafana: FakeGrafana) -> None:
    grafana.version = "10.4.2"  # /api/user answers this token 403 "Endpoint only available for users"
    grafana.add_logs({"source": "lambda"}, ["a"])
    row = await readiness(skill_for(grafana.url, grafana.token))
    assert row.status is ReadinessStatus.READY, row
    assert "Grafana 10.4.2" in row.detail and "as a service account" in row.detail
    assert "/api/search" in grafana.paths()


async def test_user_and_service_account_logins_are_named(grafana: FakeGrafana) -> None:
    grafana.add_logs({"source": "lambda"}, ["a"])
    row = await readiness(skill_for(grafana.url, grafana.token))
    assert "as service account sa-1-sitrep" in row.detail
    grafana.user = {"id": 1, "login": "ops-lead", "name": "Ops Lead", "email": "ops@example.com", "orgId": 1}
    row = await readiness(skill_for(grafana.url, grafana.token))
    assert "as user ops-lead" in row.detail


async def test_forbidden_is_not_called_rejected(grafana: FakeGrafana) -> None:
    grafana.fail_next(
        403,
        body={"message": "You'll need additional permissions to perform this action."},
        path_prefix="/api/datasources",
    )
    row = await readiness(skill_for(grafana.url, grafana.token))
    assert row.status is ReadinessStatus.BLOCKED
    assert "rejected" not in row.missing and "403" in row.missing
    assert "additional permissions" in row.missing + row.next_step
