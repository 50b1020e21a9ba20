"""The real `python app.py` against the local Slack: /readyz is 503 while Socket Mode is not connected (at start-up,
and while it reconnects after Slack drops the websocket) and 200 once it is; /healthz is 200 throughout."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.fakes.slack import FakeSlack
from tests.support.app_process import AppProcess, app_env
from tests.support.pg_server import free_port

pytestmark = pytest.mark.e2e  # starts processes: `pytest -m "not e2e"` skips it

NOT_CONNECTED = "Slack: the Socket Mode connection is not open (connecting, or reconnecting)"


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


async def test_readyz_follows_the_socket_mode_connection(tmp_path: Path, slack: FakeSlack) -> None:
    slack.accepting.clear()  # Slack is slow to take the websocket
    port = free_port()
    app = await AppProcess("sitrep", app_env(tmp_path, slack, SITREP_HTTP_PORT=str(port))).start()
    try:
        await slack.wait_for_call("apps.connections.open", timeout=30)  # asked once the web server is serving
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as web:
            assert (await web.get("/healthz")).status_code == 200
            before = await web.get("/readyz")
            assert before.status_code == 503, before.text
            assert before.json()["reasons"] == [NOT_CONNECTED]
            assert before.json()["database"]["ok"] is True

            slack.accepting.set()
            await app.wait_line(r"connected to Slack as @")
            after = await web.get("/readyz")
            assert after.status_code == 200, after.text
            assert after.json() == {**after.json(), "ready": True, "reasons": [], "slack": {"connected": True}}

            # Slack drops the websocket and is slow to take the next one: not ready until it reconnects.
            slack.accepting.clear()
            mark = len(slack.calls)
            await slack.drop_connections()
            await slack.wait_for_call("apps.connections.open", since=mark, timeout=30)
            dropped = await web.get("/readyz")
            assert dropped.status_code == 503 and dropped.json()["reasons"] == [NOT_CONNECTED]
            assert (await web.get("/healthz")).status_code == 200

            slack.accepting.set()
            await app.wait_line(r"A new session \(.*\) has been established", nth=2)
            again = await web.get("/readyz")
            assert again.status_code == 200, again.text
    finally:
        assert await app.stop() == 0
