"""Who may change sitrep's configuration: workspace admins and owners, and the users in SITREP_ADMINS."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from agent.services import Services
from bot.slack_client import error_of

log = logging.getLogger(__name__)


async def is_admin(services: Services, client: AsyncWebClient, user_id: str | None) -> bool:
    if not user_id:
        return False
    if user_id in services.settings.admins:
        return True
    try:
        info = await client.users_info(user=user_id)
    except SlackApiError as exc:
        log.warning("users.info for %s failed (%s): treated as not an admin", user_id, error_of(exc))
        return False
    user = info.get("user") or {}
    return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
