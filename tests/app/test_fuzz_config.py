"""Fuzzed config changes: PATCH /api/v1/config/me bodies and headers, and `python app.py config patch`.

Properties: no crash (never a 500, never a traceback), no partial write (the config afterwards is either what it
was or what the answer says it now is, and valid), and a clear error whenever the input is refused.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

import app
from agent.services import Services
from bot.runtime import Runtime
from bot.web import bound_port, start_web
from settings import Settings
from storage.services import open_storage
from tests.support.environment import APP_VARS
from tests.support.loop_thread import LoopThread

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TOKEN = "admin-token-for-the-config-fuzz"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
REFUSED = {400, 401, 404, 413, 422}

leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=30),
    st.sampled_from(["C0ADZHLL76V", "UTC", "America/Los_Angeles", "eu", "us", "owner/repo", "#general", "Mars/Base"]),
)
json_value = st.recursive(
    leaf,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=10), inner, max_size=3)),
    max_leaves=10,
)
section = st.sampled_from(["reports", "grafana", "amplitude", "routing", "agents", "nope"])
shaped = st.dictionaries(
    section,
    st.one_of(
        json_value,
        st.dictionaries(
            st.sampled_from(["channel", "timezone", "region", "datasources", "github_repos", "channels", "planner"]),
            json_value,
            max_size=3,
        ),
    ),
    max_size=3,
)
patches = st.one_of(shaped, json_value, shaped.map(lambda p: {"config": p}))
header_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30).map(str.strip)


class Api:
    def __init__(self, loop: LoopThread, services: Services, http: httpx.Client) -> None:
        self.loop, self.services, self.http = loop, services, http

    def config(self) -> dict[str, Any]:
        response = self.http.get("/api/v1/config/me", headers=AUTH)
        assert response.status_code == 200
        return response.json()["config"]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    loop = LoopThread()
    tmp = tmp_path_factory.mktemp("fuzz-config")
    settings_ = Settings.from_env(
        {"SITREP_DB": str(tmp / "sitrep.db"), "SITREP_SECRET_KEY": Fernet.generate_key().decode()}
    )
    settings_ = settings_.model_copy(update={"admin_token": SecretStr(TOKEN), "http_port": 0})
    services = Services(settings=settings_, storage=loop.run(open_storage(settings_)))
    runner = loop.run(start_web(Runtime(services)))
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{bound_port(runner)}", timeout=10) as http:
            yield Api(loop, services, http)
    finally:
        loop.run(runner.cleanup())
        loop.run(services.close())
        loop.close()


def check_answer(response: httpx.Response, before: dict[str, Any], after: dict[str, Any]) -> None:
    assert response.status_code == 200 or response.status_code in REFUSED, response.text
    body = response.json()
    if response.status_code == 200:
        assert body["config"] == after  # what it says it saved is what is there
    else:
        assert isinstance(body.get("error"), str) and body["error"].strip()  # says what is wrong
        assert after == before  # and changed nothing


@FUZZ
@given(patch=patches)
def test_any_json_patch_is_applied_whole_or_refused_clearly(api: Api, patch: Any) -> None:
    before = api.config()
    response = api.http.patch("/api/v1/config/me", headers=AUTH, content=json.dumps(patch).encode())
    check_answer(response, before, api.config())
    if response.status_code == 422:
        assert response.json()["problems"]  # which fields, and why


@FUZZ
@given(
    body=st.one_of(st.binary(max_size=300), st.text(max_size=100).map(str.encode)),
    auth=st.one_of(
        st.just(AUTH["Authorization"]),
        st.just(f"bearer {TOKEN}"),
        st.just(f"Bearer  {TOKEN}"),
        header_text,
        st.none(),
    ),
    org=st.one_of(st.none(), st.just("default"), header_text),
    node=st.one_of(st.none(), st.just("default"), header_text),
    content_type=st.one_of(st.none(), st.just("application/json"), header_text),
)
def test_any_body_and_headers_get_an_answer_and_change_nothing_they_should_not(
    api: Api, body: bytes, auth: str | None, org: str | None, node: str | None, content_type: str | None
) -> None:
    headers = {
        k: v
        for k, v in {
            "Authorization": auth,
            "X-Org-Id": org,
            "X-Team-Node-Id": node,
            "Content-Type": content_type,
        }.items()
        if v is not None
    }
    before = api.config()
    response = api.http.patch("/api/v1/config/me", headers=headers, content=body)
    check_answer(response, before, api.config())
    if auth is None or TOKEN not in auth:
        assert response.status_code == 401


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    tmp = tmp_path_factory.mktemp("fuzz-cli")
    env = {"SITREP_DB": str(tmp / "sitrep.db"), "SITREP_SECRET_KEY": Fernet.generate_key().decode()}
    saved = {k: os.environ.get(k) for k in [*env, *APP_VARS]}
    for name in APP_VARS:
        os.environ.pop(name, None)
    os.environ.update(env)
    try:
        yield env
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = app.main(list(argv))
    return code, out.getvalue(), err.getvalue()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# "-" alone means: read the patch from standard input (and "--" ends the options, so "-1" is a patch)
@given(text=st.one_of(patches.map(json.dumps), st.text(max_size=80)).filter(lambda t: t != "-"))
@example(text='{"reports": {"\\u001e": false}}')  # found by this test: a control character split the error line
def test_config_patch_from_the_cli_is_applied_whole_or_refused_in_one_line(cli_env: dict[str, str], text: str) -> None:
    code, out, _ = run_cli("config", "get")
    assert code == 0
    before = json.loads(out)
    code, out, err = run_cli("config", "patch", "--", text)
    _, now, _ = run_cli("config", "get")
    after = json.loads(now)
    if code == 0:
        assert json.loads(out) == after
    else:
        assert code == app.EXIT_USAGE and after == before
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("sitrep: ") and "Traceback" not in err
