"""`python -m skills.grafana` as a user runs it: a subprocess pointed at the fake Grafana through GRAFANA_URL."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import time
from pathlib import Path

import pytest

from storage.services import Storage
from storage.teams import DEFAULT_TEAM_ID
from tests.fakes.grafana import LOKI_UID, FakeGrafana
from tests.support.environment import subprocess_env

pytestmark = pytest.mark.e2e  # starts processes: `pytest -m "not e2e"` skips it


@pytest.fixture
def cli_env(grafana: FakeGrafana, tmp_path: Path) -> dict[str, str]:
    return subprocess_env(
        {"GRAFANA_URL": grafana.url, "GRAFANA_TOKEN": grafana.token, "SITREP_DB": str(tmp_path / "none.db")}
    )


async def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "skills.grafana",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def add_vercel_logs(grafana: FakeGrafana) -> None:
    lines = [
        json.dumps({"level": "error", "message": f"TimeoutError: upstream 10.0.0.{i} timed out after {900 + i}ms"})
        for i in range(12)
    ]
    lines += [json.dumps({"level": "info", "message": "GET /api/health 200"})] * 3
    grafana.add_logs({"source": "lambda", "host": "mochacare.vercel.app"}, lines, gap_s=5)


async def test_check_ready_and_blocked(grafana: FakeGrafana, cli_env: dict[str, str]) -> None:
    code, out, _ = await run(cli_env, "check")
    assert code == 1
    assert out.startswith("Grafana: blocked: no log lines in the last hour")
    assert "/loki/api/v1/push" in out and "logs:write" in out and "LOKI_PUSH_TOKEN" in out
    add_vercel_logs(grafana)
    code, out, err = await run(cli_env, "check")
    assert code == 0, err
    assert out.startswith("Grafana: ready: logs flowing, last line just now")
    assert f"loki uid:  {LOKI_UID}" in out and "token is service account sa-1-sitrep" in out
    code, out, _ = await run(cli_env, "check", "--json")
    assert json.loads(out)["readiness"]["status"] == "ready"


async def test_list_datasources_table_and_json(cli_env: dict[str, str]) -> None:
    code, out, err = await run(cli_env, "list-datasources")
    assert code == 0, err
    header, *rows = out.splitlines()
    assert header.split()[:3] == ["NAME", "TYPE", "UID"]
    assert any(LOKI_UID in row and "loki" in row for row in rows)
    code, out, _ = await run(cli_env, "--json", "list-datasources")
    assert {d["uid"] for d in json.loads(out)} == {LOKI_UID, "prom-uid"}


async def test_create_dashboard_then_update(grafana: FakeGrafana, cli_env: dict[str, str]) -> None:
    args = ("create-dashboard", "--title", "MochaCare Overview", "--template", "vercel-overview.json")
    code, out, err = await run(cli_env, *args)
    assert code == 0, err
    assert out.startswith('Created dashboard "MochaCare Overview" (uid ')
    (uid,) = grafana.dashboards
    panels = grafana.dashboards[uid]["dashboard"]["panels"]
    assert [p["title"] for p in panels] == ["Error Count", "Error Rate", "Log Stream", "Request Summary"]
    assert all(p["datasource"]["uid"] == LOKI_UID for p in panels)
    assert all(t["datasource"]["uid"] == LOKI_UID for p in panels for t in p["targets"])
    code, out, err = await run(cli_env, *args, "--loki-uid", LOKI_UID)
    assert code == 0, err
    assert out.startswith(f'Updated dashboard "MochaCare Overview" (uid {uid}, version 2)')
    assert list(grafana.dashboards) == [uid]
    code, out, _ = await run(cli_env, "list-dashboards", "--query", "mocha")
    assert "MochaCare Overview" in out and uid in out


async def test_queries(grafana: FakeGrafana, cli_env: dict[str, str]) -> None:
    add_vercel_logs(grafana)
    now = time.time()
    grafana.add_series({"__name__": "up", "job": "api"}, [(now - 30 * i, 1) for i in range(100)])
    code, out, err = await run(cli_env, "query-prometheus", "up")
    assert code == 0, err
    assert 'up{job="api"}' in out and "explore: " in out
    code, out, err = await run(cli_env, "query-prometheus", "up", "--range", "1h")
    assert code == 0, err
    assert out.splitlines()[0].split() == ["SERIES", "LAST", "MIN", "MAX", "AVG", "POINTS"]
    code, out, err = await run(cli_env, "query-loki", '{source="lambda"} |= "Timeout"', "--limit", "3")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == '3 lines, newest first; labels {host="mochacare.vercel.app", source="lambda"}'
    assert "TimeoutError: upstream 10.0.0.11 " in lines[1] and "10.0.0.9 " in lines[3]
    assert lines[4].startswith("note: the limit of 3 lines was reached")
    code, out, _ = await run(cli_env, "query-loki", 'sum(count_over_time({source="lambda"}[10m]))', "--since", "10m")
    assert "15" in out and "explore: " in out
    code, out, _ = await run(cli_env, "labels")
    assert out.split()[:3] == ["LABEL", "host", "source"]
    code, out, _ = await run(cli_env, "labels", "source")
    assert out.split()[:2] == ["VALUE", "lambda"]
    code, out, err = await run(cli_env, "error-patterns", "--since", "12h")
    assert code == 0, err
    assert "×12     TimeoutError: upstream <*> timed out after <*>" in out


async def test_get_alerts(grafana: FakeGrafana, cli_env: dict[str, str]) -> None:
    grafana.alert_groups = [
        {
            "name": "g",
            "file": "f",
            "rules": [
                {"name": "High error rate", "state": "firing", "alerts": [], "annotations": {"summary": "5xx up"}}
            ],
        }
    ]
    code, out, err = await run(cli_env, "get-alerts")
    assert code == 0, err
    assert out.startswith("1 firing, 0 pending of 1 rules")
    assert "High error rate" in out and "5xx up" in out


async def test_wrong_token_is_one_line_naming_the_variable(cli_env: dict[str, str]) -> None:
    env = dict(cli_env, GRAFANA_TOKEN="glsa_wrong_value_123")
    code, out, err = await run(env, "list-datasources")
    assert code == 1 and out == ""
    line = one_error_line(err)
    assert "token was rejected (401)" in line and "GRAFANA_TOKEN" in line
    assert "glsa_wrong_value_123" not in err


async def test_unreachable_url_is_one_line_naming_the_url(cli_env: dict[str, str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    code, _, err = await run(dict(cli_env, GRAFANA_URL=url), "list-dashboards")
    assert code == 1
    assert url in one_error_line(err)


async def test_not_configured_and_bad_queries_are_one_line(cli_env: dict[str, str]) -> None:
    env = {k: v for k, v in cli_env.items() if k != "GRAFANA_TOKEN"}
    code, _, err = await run(env, "get-alerts")
    assert code == 1 and "GRAFANA_TOKEN" in one_error_line(err)
    code, _, err = await run(cli_env, "query-prometheus", "sum(up")
    assert code == 1 and "Prometheus error" in one_error_line(err)
    code, _, err = await run(cli_env, "create-dashboard", "--title", "x", "--template", "missing.json")
    assert code == 1 and "vercel-overview.json" in one_error_line(err)


async def test_stored_credentials_are_used(grafana: FakeGrafana, storage: Storage, env: dict[str, str]) -> None:
    await storage.credentials.set(DEFAULT_TEAM_ID, "grafana", "url", grafana.url, "test")
    await storage.credentials.set(DEFAULT_TEAM_ID, "grafana", "token", grafana.token, "test")
    code, out, err = await run(subprocess_env(env), "list-datasources", "--json")
    assert code == 0, err
    assert len(json.loads(out)) == 2
