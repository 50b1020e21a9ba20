"""The Runtime: what the running app adds to the frozen Services, owned here and filled as the parts start.

    async with opened(settings) as runtime:   # bot/root.py, the composition root, builds it for every command
    runtime.slack                        # the one Slack Web API client (the root's, on its one connection pool)
    runtime.poster()                     # the one SlackPoster: every post and edit (storage/poster.py's Protocol)
    runtime.alert_desk()                 # the alert investigations' desk, built at first use
    runtime.slack_identity               # auth.test's answer once connected (bot/slack/run.py, `app.py status`)
    await runtime.slack_connected()      # is the Socket Mode websocket open now (bot/slack/run.py sets it; /readyz)
    runtime.scheduler, runtime.drain     # the report scheduler and the Vercel drain relay while they run
                                         # (bot/background.py starts and stops them)
    await runtime.close()                # stop what talks to Slack (the poster's sender, the desk's investigators)

The Slack surfaces and the web server take the Runtime; what they hand further down (the agent, the reports,
the review, the alert desk) is the Services and the poster, and, for the agent's status answer, the readiness
table as a function. The background work the poster and the desk start runs under the app's one Supervisor
(`services.supervisor`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from alerts.desk import AlertDesk
from bot.poster import SlackPoster
from bot.slack_client import web_client
from settings import Settings
from supervisor import Supervisor

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient

    from agent.services import Services
    from reports.scheduler import ReportScheduler
    from skills.vercel_drain import Relay


SLACK_WORK = ("alerts", "alert-desk", "poster")  # the Supervisor groups of what talks to Slack


async def no_slack_connection() -> bool:
    """Until bot/slack/run.py connects (and again once it closes): no Socket Mode connection."""
    return False


@dataclass(eq=False)
class Runtime:
    services: Services
    slack_identity: dict[str, Any] | None = None
    slack_connected: Callable[[], Awaitable[bool]] = field(default=no_slack_connection, repr=False)
    scheduler: ReportScheduler | None = None
    drain: Relay | None = None
    slack_client: AsyncWebClient | None = field(default=None, repr=False)  # the root's; tests may leave it unset
    _poster: SlackPoster | None = field(default=None, repr=False)
    _alert_desk: AlertDesk | None = field(default=None, repr=False)

    @property
    def supervisor(self) -> Supervisor:
        """The app's one Supervisor: the skills' refreshes, the poster's sender, the investigators, the parts."""
        return self.services.supervisor

    @property
    def slack(self) -> AsyncWebClient | None:
        """The Web API client: the root's (bot/root.py), else, for a Runtime built without one (tests), one built
        here from SLACK_BOT_TOKEN the same way; None without a token."""
        if self.slack_client is None:
            settings = self.services.settings
            token = Settings.reveal(settings.slack_bot_token)
            self.slack_client = web_client(token, settings.slack_api_url) if token else None
        return self.slack_client

    def poster(self) -> SlackPoster | None:
        """The one poster (its outbox is the store's: replicas share it); None without a Slack client."""
        if self._poster is None and self.slack is not None:
            self._poster = SlackPoster(self.services.storage.outbox, self.slack, self.supervisor)
        return self._poster

    def alert_desk(self) -> AlertDesk | None:
        """The one AlertDesk (the Slack listener and the webhook routes share it); None without a Slack client."""
        poster = self.poster()
        if poster is None:
            return None
        if self._alert_desk is None:
            self._alert_desk = AlertDesk(self.services, poster, self.supervisor)
        return self._alert_desk

    async def close(self) -> None:
        """Stop the background work started through the Runtime: the poster's sender and the desk's investigators
        (what is in the outbox and the alert queue stays for the next run). The rest of the Supervisor's work is
        the Services' to stop (bot/root.py closes them after this, and after the Slack connection pool)."""
        await self.supervisor.cancel(*SLACK_WORK)
