"""GET /github/setup: a signed, expiring, single-use state binds an install to the Slack admin; the installation
is confirmed with the App JWT before it is linked; a forged, reused or expired state links nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.github_setup import new_state
from storage.github import GitHubStore
from tests.bot.test_github_webhook import served
from tests.support.github_world import INSTALLATION


async def test_setup_links_the_installation_and_dms_the_admin(tmp_path: Path) -> None:
    async with served(tmp_path, link=False) as (w, http, _):
        state = await new_state(w.services, "default", "U0ADMIN")
        page = await http.get(
            "/github/setup", params={"installation_id": INSTALLATION, "setup_action": "install", "state": state}
        )
        assert page.status_code == 200 and "linked" in page.text
        link = await GitHubStore(w.services.storage.db).installation("default")
        assert link is not None and link.installation_id == INSTALLATION and link.linked_by == "slack:U0ADMIN"
        assert w.github.seen("GET", f"/app/installations/{INSTALLATION}")
        assert w.notes and w.notes[0][0] == "U0ADMIN" and "mochacare" in w.notes[0][1]

        reused = await http.get("/github/setup", params={"installation_id": INSTALLATION, "state": state})
        assert reused.status_code == 400 and "already used" in reused.text


async def test_forged_state_links_nothing(tmp_path: Path) -> None:
    async with served(tmp_path, link=False) as (w, http, _):
        state = await new_state(w.services, "default", "U0ADMIN")
        nonce = state.split(".")[0]
        for forged in ("", "abc", f"{nonce}.{'0' * 32}", f"{nonce}.", "x.y"):
            page = await http.get("/github/setup", params={"installation_id": INSTALLATION, "state": forged})
            assert page.status_code == 400, forged
        assert await GitHubStore(w.services.storage.db).installation("default") is None
        assert w.github.requests == [] and w.notes == []
        # the real state still works once: the forgeries did not burn it
        ok = await http.get(
            "/github/setup", params={"installation_id": INSTALLATION, "setup_action": "install", "state": state}
        )
        assert ok.status_code == 200


async def test_expired_state_and_unknown_installation_link_nothing(tmp_path: Path) -> None:
    async with served(tmp_path, link=False) as (w, http, _):
        store = GitHubStore(w.services.storage.db)
        state = await new_state(w.services, "default", "U0ADMIN")
        nonce = state.split(".")[0]
        await w.services.storage.db.execute(
            "UPDATE github_setup_states SET expires_at = ? WHERE nonce = ?",
            ((datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z"), nonce),
        )
        expired = await http.get("/github/setup", params={"installation_id": INSTALLATION, "state": state})
        assert expired.status_code == 400
        spoofed = await new_state(w.services, "default", "U0ADMIN")
        page = await http.get(
            "/github/setup", params={"installation_id": 999999, "setup_action": "install", "state": spoofed}
        )
        assert page.status_code == 400 and "Nothing was linked" in page.text
        assert await store.installation("default") is None


async def setup_page(http: Any, state: str, installation: Any, action: str | None = "install") -> Any:
    params = {"installation_id": installation, "state": state}
    if action is not None:
        params["setup_action"] = action
    return await http.get("/github/setup", params=params)


async def test_ids_that_are_not_positive_link_nothing_and_ask_github_nothing(tmp_path: Path) -> None:
    async with served(tmp_path, link=False) as (w, http, _):
        for bad in ("-1", "0", "31337abc", "1e3", "99999999999999999999999"):
            page = await setup_page(http, await new_state(w.services, "default", "U0ADMIN"), bad)
            assert page.status_code == 400 and "installation id" in page.text, bad
        assert not w.github.seen("GET", "/app/installations/-1")
        assert await GitHubStore(w.services.storage.db).installation("default") is None and w.notes == []


async def test_an_installation_the_app_can_see_but_the_admin_did_not_just_make_links_nothing(tmp_path: Path) -> None:
    async with served(tmp_path, link=False) as (w, http, _):
        old = w.github.add_installation(31337, "someone-else", ["someone-else/app"])
        old.created_at = old.updated_at = (datetime.now(UTC) - timedelta(days=40)).strftime("%Y-%m-%dT%H:%M:%SZ")
        for action in ("install", "update", None, "something"):
            page = await setup_page(http, await new_state(w.services, "default", "U0ADMIN"), 31337, action)
            assert page.status_code == 400, (action, page.text)
        assert await GitHubStore(w.services.storage.db).installation("default") is None and w.notes == []
        # the admin changes its repositories on GitHub now: GitHub redirects with setup_action=update
        old.touch()
        page = await setup_page(http, await new_state(w.services, "default", "U0ADMIN"), 31337, "update")
        assert page.status_code == 200 and "someone-else" in page.text
        link = await GitHubStore(w.services.storage.db).installation("default")
        assert link is not None and link.installation_id == 31337


async def test_an_installation_linked_to_another_team_is_not_moved(tmp_path: Path) -> None:
    async with served(tmp_path, link=False) as (w, http, _):
        store = GitHubStore(w.services.storage.db)
        # a second team on this sitrep, which linked the installation first
        await w.services.storage.db.execute("INSERT INTO teams (id, org_id, name) VALUES ('platform', 'acme', 'P')")
        await store.link("platform", INSTALLATION, "mochacare", "slack:U0OTHER")
        page = await setup_page(http, await new_state(w.services, "default", "U0ADMIN"), INSTALLATION)
        assert page.status_code == 409 and "another team" in page.text
        assert await store.teams_of_installation(INSTALLATION) == ["platform"]
        assert await store.installation("default") is None
        assert w.notes and w.notes[0][0] == "U0ADMIN" and "another team" in w.notes[0][1]  # told, in Slack too
