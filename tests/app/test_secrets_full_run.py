"""The secrets audit over a full run: configure (Slack modal and admin API), a mention answered by Claude, a
report posted; then every log line (at debug level), every request every double received, and a dump of the
database are searched for every secret value. A credential may only appear in the auth header of the service
it belongs to."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import replace
from pathlib import Path

import httpx

import app
from bot.runtime import Runtime
from bot.slack.credentials import FORMS
from bot.web import bound_port, start_web
from reports.post import build_and_post
from settings import Settings
from tests.app.test_secrets_never_leak import AMPLITUDE_API_KEY, AMPLITUDE_SECRET, AUTH_HEADERS, GRAFANA_TOKEN, planted
from tests.fakes.anthropic import text, tool_calls
from tests.support.agent_world import World, mention, world

ADMIN_TOKEN = "sitrep-admin-LEAKCHECK-5e6f7a8b9c"
STORED_GRAFANA_TOKEN = "glsa_LEAKCHECK_stored_via_modal_11aa22"
ADMIN = "U123"


class Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@contextmanager
def every_log_line() -> Iterator[Everything]:
    """Logging as `python app.py --verbose` sets it up, every record kept."""
    names = ["", "httpx", *app.RAW_PAYLOAD_LOGGERS]
    levels = {name: logging.getLogger(name).level for name in names}
    handler = Everything()
    app.configure_logging(logging.DEBUG)
    logging.getLogger().setLevel(logging.DEBUG)  # what basicConfig sets in a real run (pytest has handlers already)
    logging.getLogger().addHandler(handler)
    try:
        yield handler
    finally:
        logging.getLogger().removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def secrets_of(w: World) -> dict[str, str]:
    return {
        "grafana token (env)": GRAFANA_TOKEN,
        "grafana token (stored)": STORED_GRAFANA_TOKEN,
        "amplitude api key": AMPLITUDE_API_KEY,
        "amplitude secret key": AMPLITUDE_SECRET,
        "anthropic key": w.model.api_key,
        "slack bot token": w.slack.bot_token,
        "slack app token": w.slack.app_token,
        "sitrep secret key": Settings.reveal(w.settings.secret_key) or "",
        "admin token": ADMIN_TOKEN,
    }


def found(haystacks: dict[str, str], secrets: dict[str, str]) -> list[str]:
    return [f"{name} in {where}" for where, h in haystacks.items() for name, v in secrets.items() if v and v in h]


async def configure_grafana_in_slack(w: World) -> None:
    """An admin opens Configure Grafana on the Home tab and saves a new token."""
    mark = len(w.slack.calls)
    await w.slack.send_interactive(
        {
            "type": "block_actions",
            "user": {"id": ADMIN},
            "actions": [{"action_id": "configure_grafana", "type": "button"}],
            "view": {"id": "VHOME", "type": "home"},
            "container": {"type": "view", "view_id": "VHOME"},
        }
    )
    update = await w.slack.wait_for_call("views.update", since=mark)
    view = {**update.args["view"], "id": update.args["view_id"]}
    values = {"url": w.grafana.url, "token": STORED_GRAFANA_TOKEN}
    state = {
        f.block_id: {"value": {"type": "plain_text_input", "value": values.get(f.name)}}
        for f in FORMS["grafana"].fields
    }
    mark = len(w.slack.calls)
    envelope = await w.slack.send_interactive(
        {"type": "view_submission", "user": {"id": ADMIN}, "view": {**view, "state": {"values": state}}}
    )
    await w.slack.wait_ack(envelope)
    await w.slack.wait_for_call("views.publish", since=mark, timeout=20)  # saved: the Home tab was refreshed


async def test_no_secret_anywhere_after_configure_mention_and_report(tmp_path: Path) -> None:
    env = {
        "SITREP_ADMINS": ADMIN,
        "SITREP_ADMIN_TOKEN": ADMIN_TOKEN,
        "SITREP_ALERTS_TOKEN": "alerts-token-never-shown-7731",
        "SITREP_REPORT_CHANNEL": "C0REPORTS",
    }
    with every_log_line() as logs:
        async with world(
            tmp_path,
            key=True,
            grafana_token=GRAFANA_TOKEN,
            amplitude_keys=(AMPLITUDE_API_KEY, AMPLITUDE_SECRET),
            env=env,
        ) as w:
            w.grafana.token = STORED_GRAFANA_TOKEN  # Grafana now accepts only the token configured from Slack
            planted(w)
            await configure_grafana_in_slack(w)
            assert (await w.services.storage.credentials.get_all("default", "grafana"))["token"] == STORED_GRAFANA_TOKEN

            w.services = replace(w.services, settings=w.services.settings.model_copy(update={"http_port": 0}))
            runner = await start_web(Runtime(w.services))
            try:
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{bound_port(runner)}") as http:
                    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
                    patched = await http.patch("/api/v1/config/me", headers=auth, json={"reports": {"timezone": "UTC"}})
                    assert patched.status_code == 200
                    admin_answers = [patched.text, (await http.get("/api/v1/config/me", headers=auth)).text]
                    # refusals of the web server's exposed routes (#28): their answers and log lines join the audit
                    alerts = "/alerts/grafana?channel=C0ALERTS"
                    token = {"Authorization": "Bearer alerts-token-never-shown-7731"}
                    for headers, body in (
                        (auth, b"{}"),  # another secret as the bearer token
                        (token, b"[" * 5000 + b"]" * 5000),  # too deeply nested
                        ({"X-Grafana-Alerting-Signature": "0" * 64}, ADMIN_TOKEN.encode()),  # wrongly signed
                    ):
                        refused = await http.post(alerts, content=body, headers=headers)
                        assert refused.status_code in (400, 401), refused.text
                        admin_answers.append(refused.text)
            finally:
                await runner.cleanup()

            w.model.script(
                tool_calls(
                    ("grafana_loki_error_patterns", {"since": "1h"}),
                    ("amplitude_query_events", {"event_type": "Agent Failed", "group_by": ["error_type"], "days": 1}),
                ),
                lambda req: text("Quoting everything: " + "\n".join(str(r["content"]) for r in req.tool_results())),
            )
            await mention(w, f"what's failing? and is {AMPLITUDE_API_KEY} right?")
            team = await w.services.team_for(None)
            await build_and_post(w.services, team, "C0REPORTS", poster=Runtime(w.services).poster())

            secrets = secrets_of(w)
            grafana_seen = [r for r in w.grafana.requests]
            assert any(r.headers.get("Authorization") == f"Bearer {STORED_GRAFANA_TOKEN}" for r in grafana_seen)
            haystacks = {
                "admin API answers": "\n".join(admin_answers),
                "Slack calls": "\n".join(json.dumps(c.args, ensure_ascii=False) for c in w.slack.calls),
                "model requests": "\n".join(
                    r.raw.decode("utf-8", "replace")
                    + json.dumps({k: v for k, v in r.headers.items() if k.lower() not in AUTH_HEADERS})
                    for r in w.model.requests
                ),
                "Grafana requests": "\n".join(
                    f"{r.method} {r.path} {r.query} {r.body!r} "
                    + json.dumps({k: v for k, v in r.headers.items() if k.lower() != "authorization"})
                    for r in grafana_seen
                ),
                "Amplitude requests": "\n".join(f"{r.method} {r.path} {r.query}" for r in w.amplitude.requests),
            }
            db_path = w.settings.db_path
    haystacks["log lines"] = "\n".join(logs.lines)
    with closing(sqlite3.connect(db_path)) as db:
        haystacks["database dump"] = "\n".join(db.iterdump())
    assert len(logs.lines) > 50 and "CREATE TABLE credentials" in haystacks["database dump"]
    leaks = found(haystacks, secrets)
    where = [line for line in logs.lines if any(v and v in line for v in secrets.values())][:5]
    assert leaks == [], "\n".join(line[:400] for line in where)
