"""GrafanaClient against the fake Grafana: auth, data-source choice, retries, and errors mapped to SkillError."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest

from skills.base import SkillError
from skills.grafana.client import GrafanaClient, display_url
from skills.http import RetryPolicy
from tests.fakes.grafana import LOKI_UID, PROM_UID, FakeGrafana, default_datasources

FAST = RetryPolicy(attempts=3, backoff=0.0, max_wait=0.0)


@pytest.fixture
async def client(grafana: FakeGrafana) -> AsyncIterator[GrafanaClient]:
    async with GrafanaClient(grafana.url, grafana.token, policy=FAST) as c:
        yield c


async def test_bearer_token_and_datasource_summaries(grafana: FakeGrafana, client: GrafanaClient) -> None:
    rows = await client.datasources()
    assert [(r["uid"], r["type"], r["default"]) for r in rows] == [
        (PROM_UID, "prometheus", True),
        (LOKI_UID, "loki", False),
    ]
    assert set(rows[0]) == {"id", "uid", "name", "type", "default", "url"}
    assert grafana.requests[-1].headers["Authorization"] == f"Bearer {grafana.token}"
    assert await client.datasources("loki") == [rows[1]]


async def test_uids_come_from_override_then_default_then_first(grafana: FakeGrafana) -> None:
    second = dict(default_datasources()[1], id=3, uid="loki-2", name="other-logs", isDefault=True)
    grafana.datasources.append(second)
    async with GrafanaClient(grafana.url, grafana.token) as client:
        assert await client.loki_uid() == "loki-2"  # the default one wins over the first
        assert await client.prometheus_uid() == PROM_UID
    grafana.datasources[-1]["isDefault"] = False
    async with GrafanaClient(grafana.url, grafana.token) as client:
        assert await client.loki_uid() == LOKI_UID  # no default: the first
    async with GrafanaClient(grafana.url, grafana.token, loki_uid="pinned", prometheus_uid="p2") as client:
        assert (await client.loki_uid(), await client.prometheus_uid()) == ("pinned", "p2")


async def test_datasources_are_cached_between_queries(grafana: FakeGrafana, client: GrafanaClient) -> None:
    await client.loki_uid()
    await client.prometheus_uid()
    assert grafana.paths().count("/api/datasources") == 1


async def test_no_loki_data_source_is_a_clear_error(grafana: FakeGrafana, client: GrafanaClient) -> None:
    grafana.datasources = [d for d in grafana.datasources if d["type"] != "loki"]
    with pytest.raises(SkillError) as caught:
        await client.query_loki('{source="lambda"}')
    assert caught.value.message == "no Loki data source"
    assert "Connections" in caught.value.hint


async def test_rejected_token_names_the_variable_and_is_not_retried(grafana: FakeGrafana) -> None:
    async with GrafanaClient(grafana.url, "glsa_wrong_token_value", policy=FAST) as client:
        with pytest.raises(SkillError) as caught:
            await client.datasources()
    err = caught.value
    assert err.status == 401
    assert err.message == "the token was rejected (401)"
    assert "GRAFANA_TOKEN" in err.hint and "Editor" in err.hint
    assert "glsa_wrong_token_value" not in err.one_line()
    assert len(grafana.requests) == 1


async def test_rejected_stored_token_names_the_stored_credential(grafana: FakeGrafana) -> None:
    source = "the grafana token stored in sitrep (Home tab)"
    async with GrafanaClient(grafana.url, "nope", token_source=source, policy=FAST) as client:
        with pytest.raises(SkillError) as caught:
            await client.user()
    assert source in caught.value.hint


async def test_forbidden_carries_grafanas_words(grafana: FakeGrafana, client: GrafanaClient) -> None:
    grafana.fail_next(403, body={"message": "You'll need additional permissions to perform this action."})
    with pytest.raises(SkillError) as caught:
        await client.datasources()
    assert caught.value.status == 403 and "rejected" not in caught.value.message
    assert "additional permissions" in caught.value.message
    assert "role" in caught.value.hint


async def test_identity_of_a_service_account_on_grafana_10(grafana: FakeGrafana, client: GrafanaClient) -> None:
    grafana.version = "10.4.2"
    who = await client.identity()
    assert who == {"kind": "service account"}
    assert grafana.paths() == ["/api/user", "/api/search"]
    assert grafana.requests[-1].param("limit") == "1"


async def test_identity_on_grafana_11_names_the_login(client: GrafanaClient) -> None:
    who = await client.identity()
    assert who["kind"] == "service account" and who["login"] == "sa-1-sitrep"


async def test_identity_of_a_wrong_token_on_grafana_10_is_rejected(grafana: FakeGrafana) -> None:
    grafana.version = "10.4.2"
    async with GrafanaClient(grafana.url, "glsa_wrong", policy=FAST) as client:
        with pytest.raises(SkillError) as caught:
            await client.identity()
    assert caught.value.status == 401 and caught.value.message == "the token was rejected (401)"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_unreachable_url_is_named() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    async with GrafanaClient(url, "t", policy=FAST) as client:
        with pytest.raises(SkillError) as caught:
            await client.datasources()
    assert url in caught.value.message
    assert "GRAFANA_URL" in caught.value.hint


async def test_get_is_retried_on_503_and_429(grafana: FakeGrafana, client: GrafanaClient) -> None:
    grafana.fail_next(503, 1)
    grafana.fail_next(429, 1, headers={"Retry-After": "0"})
    rows = await client.datasources()
    assert len(rows) == 2
    assert grafana.paths() == ["/api/datasources"] * 3


async def test_get_gives_up_after_the_attempts(grafana: FakeGrafana, client: GrafanaClient) -> None:
    grafana.fail_next(502, 5)
    with pytest.raises(SkillError) as caught:
        await client.datasources()
    assert "(502)" in caught.value.message
    assert len(grafana.requests) == FAST.attempts


async def test_dashboard_post_is_not_retried(grafana: FakeGrafana, client: GrafanaClient) -> None:
    grafana.fail_next(503, 1, path_prefix="/api/dashboards/db")
    with pytest.raises(SkillError) as caught:
        await client.create_dashboard("MochaCare Overview")
    assert caught.value.status == 503
    posts = [r for r in grafana.requests if r.method == "POST"]
    assert len(posts) == 1


async def test_prometheus_error_body_carries_the_upstream_text(client: GrafanaClient) -> None:
    with pytest.raises(SkillError) as caught:
        await client.query_prometheus("sum(rate(http_requests_total[5m])")
    assert caught.value.status == 400
    assert caught.value.message.startswith("Prometheus error: ")
    assert "parse error" in caught.value.message
    assert "list_metric_names" in caught.value.hint


async def test_prometheus_error_status_in_a_200_is_still_an_error(grafana: FakeGrafana, client: GrafanaClient) -> None:
    body = {"status": "error", "errorType": "timeout", "error": "query timed out in expression evaluation"}
    grafana.fail_next(200, body=body, path_prefix=f"/api/datasources/proxy/uid/{PROM_UID}")
    with pytest.raises(SkillError) as caught:
        await client.query_prometheus("up")
    assert "query timed out in expression evaluation" in caught.value.message


async def test_loki_plain_text_error_is_carried(client: GrafanaClient) -> None:
    with pytest.raises(SkillError) as caught:
        await client.query_loki("{}")
    assert caught.value.message.startswith("Loki error: parse error")
    assert "list_loki_labels" in caught.value.hint


async def test_redirect_and_html_say_the_url_is_wrong(grafana: FakeGrafana, client: GrafanaClient) -> None:
    grafana.fail_next(302, headers={"Location": "/login"})
    with pytest.raises(SkillError) as caught:
        await client.datasources()
    assert "redirected to /login" in caught.value.message
    grafana.fail_next(200, body="<html>Grafana Cloud</html>")
    with pytest.raises(SkillError) as caught:
        await client.user()
    assert "did not answer with JSON" in caught.value.message


async def test_unknown_uid_is_a_404_with_a_hint(client: GrafanaClient) -> None:
    with pytest.raises(SkillError) as caught:
        await client.query_prometheus("up", uid="nope")
    assert caught.value.status == 404
    assert "list_datasources" in caught.value.hint


def test_display_url_drops_userinfo_and_trailing_slash() -> None:
    assert display_url("https://u:secret@mochacare.grafana.net/") == "https://mochacare.grafana.net"
    assert display_url("http://127.0.0.1:3000/grafana/") == "http://127.0.0.1:3000/grafana"


async def test_base_url_with_a_trailing_slash(grafana: FakeGrafana) -> None:
    async with GrafanaClient(grafana.url + "/", grafana.token) as client:
        assert (await client.health())["version"] == "11.3.0"
    assert grafana.paths() == ["/api/health"]
