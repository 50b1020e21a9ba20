"""Done when: a signed NDJSON drain request reaches the fake Loki with the relay's labels, `@sitrep show me the
errors` then finds those lines through the same labels (the fake Grafana's Loki reads what the fake Loki took),
and a Loki outage in the middle loses nothing. A process SIGKILLed while drain posts stream in loses none of the lines
it answered 200 for: started again on the same database, it pushes them."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import httpx
import pytest

from bot.background import Background
from bot.runtime import Runtime
from bot.web import bound_port
from tests.fakes.loki import FakeLoki
from tests.fakes.slack import FakeSlack
from tests.support.agent_world import mention, text_of, world
from tests.support.drain_kill import kill_and_restart
from tests.support.drain_support import DRAIN_SECRET, DRAIN_VERIFY, entry, ndjson, sign

TIMEOUT = "Error: payment provider timed out after 3000ms"


async def test_vercel_lines_reach_loki_and_sitrep_finds_their_errors(tmp_path: Path) -> None:
    async with FakeLoki() as loki:
        env = {
            "SITREP_HTTP_PORT": "0",
            "SITREP_PUBLIC_URL": "https://sitrep.mochacare.example",
            "LOKI_PUSH_URL": loki.push_url,
            "LOKI_PUSH_USER": loki.user,
            "LOKI_PUSH_TOKEN": loki.token,
            "VERCEL_DRAIN_SECRET": DRAIN_SECRET,
            "VERCEL_DRAIN_VERIFY": DRAIN_VERIFY,
        }
        async with world(tmp_path, key=False, env=env) as w:
            w.grafana.streams = loki.streams  # Grafana's Loki data source is the Loki the relay pushes to
            runtime = Runtime(w.services)
            background = Background(runtime)
            await background.start()
            try:
                assert background.web is not None
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{bound_port(background.web)}") as http:

                    async def post(items: list[dict]) -> None:
                        body = ndjson(items)
                        response = await http.post("/drains/vercel", content=body, headers=sign(body))
                        assert response.status_code == 200, response.text

                    await post([entry(i) for i in range(4)] + [entry(4, level="error", message=TIMEOUT)])
                    await loki.wait_lines(5)
                    loki.down(503)  # an outage in the middle
                    await post([entry(i) for i in range(5, 9)] + [entry(9, level="error", message=TIMEOUT)])
                    relay = runtime.drain
                    assert relay is not None
                    await relay.wait_until(lambda s: s.spilled_lines >= 5)
                    loki.up()
                    await loki.wait_lines(10)
                    await relay.wait_until(lambda s: s.backlog_lines == 0)
            finally:
                await background.stop()

            taken = Counter(json.loads(line)["id"] for _, _, line in loki.lines())
            assert taken == Counter(f"log-{i}" for i in range(10))  # each line exactly once
            assert {labels["level"] for labels, _, _ in loki.lines()} == {"info", "error"}
            for labels, _, _ in loki.lines():
                assert set(labels) == {"service_name", "source", "level", "environment", "project"}
                assert labels["service_name"] == "vercel" and labels["project"] == "mochacare"

            _, post_call = await mention(w, "show me the errors")
            answer = text_of(post_call.args)
            assert "2 error lines of 10" in answer, answer
            assert "payment provider timed out" in answer
            queries = [r.param("query") or "" for r in w.grafana.requests]
            assert any('service_name=~".+"' in q for q in queries)  # found through the relay's label


@pytest.mark.e2e  # starts `python app.py` twice
async def test_lines_answered_200_survive_a_sigkill_and_reach_loki_after_a_restart(tmp_path: Path) -> None:
    # Vercel never sends again what got a 2xx: a 200 must mean the lines are in the store.
    async with FakeSlack() as slack, FakeLoki() as loki:
        run = await kill_and_restart(tmp_path, slack, loki, timeout=20)
    assert run.acked, run.log  # the drain was answering before the kill
    lost = run.lost(loki)
    assert not lost, f"{len(lost)} of {len(run.acked)} acknowledged lines never reached Loki\n" + run.log
    assert "Traceback" not in run.log, run.log
