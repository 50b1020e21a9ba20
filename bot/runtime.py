"""The Runtime: what the running app adds to the frozen Services, owned here and filled as the parts start.

    runtime = Runtime(services)          # app.py; the shell and `status` make one that never starts anything
    runtime.slack                        # the one Slack Web API client (app.py's, or built here from the token)
    runtime.poster()                     # the one SlackPoster: every post and edit (storage/poster.py's Protocol)
    runtime.alert_desk()                 # the alert investigations' desk, built at first use
    runtime.slack_identity               # auth.test's answer once connected (bot/slack/run.py, `app.py status`)
    await runtime.slack_connected()      # is the Socket Mode websocket open now (bot/slack/run.py sets it; /readyz)
    runtime.scheduler, runtime.drain     # the report scheduler and the Vercel drain relay while they run
                                         # (bot/background.py starts and stops them)
    await runtime.close()                # stop the background work (the poster's sender, the desk's investigators)

The Slack surfaces and the web server take the Runtime; what they hand further down (the agent, the reports,
the review, the alert desk) is the Services and the poster, and, for the agent's status answer, the readiness
table as a function. The background work the poster and the desk start runs under the Runtime's Supervisor.
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

    from reports.scheduler import ReportScheduler
    from skills.services import Services
    from skills.vercel_drain import Relay


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
    supervisor: Supervisor = field(default_factory=Supervisor)
    _slack: AsyncWebClient | None = field(default=None, repr=False)
    _poster: SlackPoster | None = field(default=None, repr=False)
    _alert_desk: AlertDesk | None = field(default=None, repr=False)

    @property
    def slack(self) -> AsyncWebClient | None:
        """The Web API client: the one app.py built (Services.slack), else one built from SLACK_BOT_TOKEN; None
        without a token."""
        if self._slack is None:
            settings = self.services.settings
            token = Settings.reveal(settings.slack_bot_token)
            self._slack = self.services.slack or (web_client(token, settings.slack_api_url) if token else None)
        return self._slack

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
        """Stop the background work started through the Runtime (what is in the outbox stays for the next run)."""
        await self.supervisor.stop()
