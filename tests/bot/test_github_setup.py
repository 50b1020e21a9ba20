"""GET /github/setup: a signed, expiring, single-use state binds an install to the Slack admin; the installation
is confirmed with the App JWT before it is linked; a forged, reused or expired state links nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.github_web import new_state
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
        ok = await http.get("/github/setup", params={"installation_id": INSTALLATION, "state": state})
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
        page = await http.get("/github/setup", params={"installation_id": 999999, "state": spoofed})
        assert page.status_code == 400 and "Nothing was linked" in page.text
        assert await store.installation("default") is None
