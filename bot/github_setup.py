"""GET /github/setup: where GitHub sends the admin back after installing (or changing) the App, with
`installation_id`, `setup_action` and the `state` the install link carried
(https://docs.github.com/en/apps/creating-github-apps/registering-a-github-app/about-the-setup-url).

The installation id in that URL can be anyone's, so nothing is linked until all of this holds:

- the state is one sitrep signed, unexpired and unused (it names the team and the Slack admin who opened Link
  GitHub, and when);
- `setup_action` is install or update (request: an owner must approve first), and the id a positive integer;
- GitHub, asked with the App's JWT (`GET /app/installations/{id}`), knows it as this App's installation, created
  (install) or updated (update) since the admin opened the link: the one they just made, not any installation the
  App can see;
- it is not linked to another team of this sitrep: that link is never moved silently; the page and a DM say so.

Then it is linked to the team and the admin gets a DM.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import logging
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from agent.services import Services
from review.pipeline import github_skill
from settings import Settings
from skills.base import SkillError
from storage.times import parse
from text.mrkdwn import esc

log = logging.getLogger(__name__)

STATE_TTL = timedelta(minutes=30)
CLOCK_SKEW = timedelta(minutes=2)  # GitHub's clock against this host's
MAX_INSTALLATION_ID = 2**53
START_AGAIN = "Start again from Link GitHub on sitrep's Home tab in Slack."


def _state_signature(key: str, nonce: str, issued: str) -> str:
    return hmac.new(key.encode(), f"github-setup:{nonce}:{issued}".encode(), hashlib.sha256).hexdigest()[:32]


async def new_state(services: Services, team_id: str, slack_user: str) -> str:
    """A signed, single-use state for the install link, valid STATE_TTL, bound to the Slack admin and the time it
    was made."""
    key = Settings.reveal(services.settings.github_webhook_secret) or ""
    nonce = secrets.token_urlsafe(18)
    issued = str(int(time.time()))
    await services.storage.github.save_state(nonce, team_id, slack_user, datetime.now(UTC) + STATE_TTL)
    return f"{nonce}.{issued}.{_state_signature(key, nonce, issued)}"


def _page(title: str, message: str, status: int = 200) -> web.Response:
    body = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>sitrep: {html.escape(title)}</title></head>"
        f"<body style='font-family:sans-serif;max-width:40em;margin:4em auto'><h1>{html.escape(title)}</h1>"
        f"<p>{html.escape(message)}</p></body></html>"
    )
    return web.Response(text=body, status=status, content_type="text/html")


def _installation_id(text: str) -> int | None:
    if not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    return value if 0 < value < MAX_INSTALLATION_ID else None


def _changed_at(inst: dict[str, Any], action: str) -> datetime | None:
    try:
        return parse(str(inst.get("created_at" if action == "install" else "updated_at") or ""))
    except ValueError:
        return None


async def setup(request: web.Request, services: Services, notify: Any) -> web.Response:
    q = request.query
    nonce, issued, signature = (q.get("state", "").split(".") + ["", "", ""])[:3]
    key = Settings.reveal(services.settings.github_webhook_secret) or ""
    if (
        not nonce
        or not key
        or not issued.isdigit()
        or not hmac.compare_digest(signature.encode(), _state_signature(key, nonce, issued).encode())
    ):
        log.warning("GitHub setup callback with a missing or forged state refused")
        return _page("Link refused", f"This link is not one sitrep made. {START_AGAIN}", 400)
    store = services.storage.github
    used = await store.use_state(nonce)
    if used is None:
        return _page("Link expired", f"This link was already used or has expired. {START_AGAIN}", 400)
    team_id, slack_user = used
    action = q.get("setup_action", "")
    if action == "request":
        return _page("Waiting for approval", "An organization owner must approve the install; then link it again.")
    if action not in ("install", "update"):
        return _page("Link refused", f"GitHub did not say the App was installed or updated. {START_AGAIN}", 400)
    installation_id = _installation_id(q.get("installation_id", ""))
    if installation_id is None:
        return _page("Link refused", f"GitHub sent no valid installation id. {START_AGAIN}", 400)
    team = await services.storage.teams.get(team_id)
    skill = await github_skill(services, team)
    if skill is None or not skill.configured:
        return _page("GitHub App not configured", "Set GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY, then retry.", 503)
    try:
        inst = await skill.client.installation(installation_id)
    except SkillError as exc:
        log.warning("GitHub setup: installation %s not confirmed: %s", installation_id, exc.one_line())
        return _page("Link refused", "GitHub does not know this installation of the App. Nothing was linked.", 400)
    account = str((inst.get("account") or {}).get("login") or "")
    app_id = str(inst.get("app_id") or "")
    if app_id and app_id != str(services.settings.github_app_id or ""):
        return _page("Link refused", "This installation belongs to another GitHub App. Nothing was linked.", 400)
    opened = datetime.fromtimestamp(int(issued), UTC) - CLOCK_SKEW
    changed = _changed_at(inst, action)
    if changed is None or changed < opened:
        log.warning("GitHub setup: installation %s was not %sd since the link was opened", installation_id, action)
        done = "installed" if action == "install" else "changed"
        return _page(
            "Link refused",
            f"The installation on {account or 'that account'} was not {done} just now, so it is not the one you made. "
            f"Nothing was linked. {START_AGAIN}",
            400,
        )
    others = [t for t in await store.teams_of_installation(installation_id) if t != team_id]
    if others:
        text = (
            f"GitHub not linked: the App's installation on {account} is already linked to another team on this sitrep. "
            "It was not moved; unlink it there first."
        )
        await _tell(notify, slack_user, esc(text))
        return _page("Linked to another team", text, 409)
    before = await store.installation(team_id)
    await store.link(team_id, installation_id, account, f"slack:{slack_user}")
    replaced = (
        f" It replaces installation {before.installation_id} on {before.account}."
        if before is not None and before.installation_id != installation_id
        else ""
    )
    await _tell(
        notify,
        slack_user,
        f"GitHub linked: the App is installed on *{esc(account)}* (installation {installation_id}).{esc(replaced)} "
        "Open Link GitHub on the Home tab to pick the repositories to review and the channel for PR notes.",
    )
    return _page("GitHub linked", f"sitrep is linked to the App's installation on {account}.{replaced} Back to Slack.")


async def _tell(notify: Any, slack_user: str, text: str) -> None:
    if not callable(notify):
        return
    try:
        await notify(slack_user, text)
    except Exception:
        log.exception("the DM about the GitHub link failed")
