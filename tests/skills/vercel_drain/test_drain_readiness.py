"""The log-drain steps of Grafana's readiness row, from the relay's settings and saved status, and in the row."""

from __future__ import annotations

import json
import time

from bot.slack.credentials import rejected
from skills.base import Credential, Readiness, ReadinessStatus
from skills.grafana.skill import GrafanaSkill
from skills.vercel_drain.config import DrainConfig
from skills.vercel_drain.readiness import (
    FLOWING,
    LOKI_REJECTING,
    NO_PUBLIC_URL,
    NOT_CONFIGURED,
    NOT_RECEIVING,
    DrainState,
    assess,
)
from skills.vercel_drain.status import RelayStatus
from tests.fakes.grafana import LOKI_URL, FakeGrafana, default_datasources

NOW = 1_800_000_000.0
LOKI_DS = default_datasources()[1]


def config(public: str | None = "https://sitrep.mochacare.example", **unset: bool) -> DrainConfig:
    values = {
        "push_url": Credential("https://logs-prod-021.grafana.net", "LOKI_PUSH_URL"),
        "push_user": Credential("123456", "LOKI_PUSH_USER"),
        "push_token": Credential("glc_token", "LOKI_PUSH_TOKEN"),
        "secret": Credential("drain-secret", "VERCEL_DRAIN_SECRET"),
        "verify": Credential("verify-value", "VERCEL_DRAIN_VERIFY"),
    }
    for name in unset:
        values[name] = Credential(None, values[name].source)
    return DrainConfig(**values, public_url=public)


def test_not_configured_names_what_is_missing_with_grafanas_loki_as_the_hint() -> None:
    state = assess(config(push_token=True), RelayStatus(), loki=LOKI_DS, now=NOW)
    assert state.state == NOT_CONFIGURED and "LOKI_PUSH_TOKEN not set" in state.summary
    assert f"{LOKI_URL}/loki/api/v1/push" in state.step and "123456" in state.step


def test_no_public_url() -> None:
    for public in (None, "http://localhost:3000", "http://127.0.0.1:3000"):
        state = assess(config(public), RelayStatus(), now=NOW)
        assert state.state == NO_PUBLIC_URL and "SITREP_PUBLIC_URL" in state.step


def test_not_receiving_gives_the_url_to_paste_into_vercel() -> None:
    stale = RelayStatus(last_request_at=NOW - 3700)
    for status in (RelayStatus(), stale):
        state = assess(config(), status, now=NOW)
        assert state.state == NOT_RECEIVING and "no request in the last hour" in state.summary
        assert "https://sitrep.mochacare.example/drains/vercel" in state.step and "Drains" in state.step
    wrong = assess(config(), RelayStatus(last_bad_signature_at=NOW - 60), now=NOW)
    assert "signature does not match" in wrong.summary


def test_receiving_but_loki_rejecting_says_the_status() -> None:
    status = RelayStatus(last_request_at=NOW - 10, last_push_ok_at=NOW - 600, backlog_lines=40)
    status.failed(401, "invalid authentication credentials", now=NOW - 5)
    state = assess(config(), status, now=NOW)
    assert state.state == LOKI_REJECTING and "Loki answered 401" in state.summary
    assert "40 lines wait in the spill table" in state.summary and "logs:write" in state.step


def test_flowing_says_lines_per_minute() -> None:
    status = RelayStatus(last_request_at=NOW - 10)
    status.failed(503, "no healthy ingesters", now=NOW - 120)
    status.pushed(600, now=NOW - 100)
    status.pushed(900, now=NOW - 30)
    state = assess(config(), status, now=NOW)
    assert state.state == FLOWING and state.flowing and "300 lines/min" in state.summary and state.step == ""


async def test_the_grafana_row_shows_the_drain_step_when_loki_has_no_lines(grafana: FakeGrafana) -> None:
    async def not_receiving(loki: dict) -> DrainState:
        return assess(config(), RelayStatus(), loki=loki, now=time.time())

    skill = GrafanaSkill(Credential(grafana.url, "GRAFANA_URL"), Credential(grafana.token, "T"), drain=not_receiving)
    try:
        row = await skill.readiness()
        assert row.status is ReadinessStatus.BLOCKED
        assert row.missing.startswith("no log lines in the last hour: the drain at https://sitrep")
        assert "/drains/vercel" in row.next_step and "loki/api/v1/push" not in row.next_step
        grafana.add_logs({"service_name": "vercel", "source": "lambda"}, [json.dumps({"message": "hi"})])

        async def flowing(loki: dict) -> DrainState:
            status = RelayStatus(last_request_at=time.time())
            status.pushed(50)
            return assess(config(), status, loki=loki)

        skill.drain = flowing
        row = await skill.readiness()
        assert row.ready and "Vercel drain: flowing: 10 lines/min" in row.detail
    finally:
        await skill.aclose()


def test_no_drain_state_reads_as_a_rejected_grafana_token() -> None:
    """Configure Grafana refuses to save when the row says the token was rejected; the drain's states never do."""
    status = RelayStatus(last_request_at=NOW - 10)
    status.failed(None, "no connection to https://logs-prod-021.grafana.net/loki/api/v1/push (ConnectError)", NOW)
    states = [
        assess(config(push_token=True), RelayStatus(), now=NOW),
        assess(config(None), RelayStatus(), now=NOW),
        assess(config(), RelayStatus(last_bad_signature_at=NOW), now=NOW),
        assess(config(), status, now=NOW),
    ]
    for state in states:
        row = Readiness("Grafana", ReadinessStatus.BLOCKED, f"no log lines in the last hour: {state.summary}", "")
        assert not rejected(row), state.summary
