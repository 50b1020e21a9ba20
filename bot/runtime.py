"""The Runtime: what the running app adds to the frozen Services, owned here and filled as the parts start.

    runtime = Runtime(services)          # app.py; the shell and `status` make one that never starts anything
    runtime.slack_identity               # auth.test's answer once connected (bot/slack/run.py, `app.py status`)
    await runtime.slack_connected()      # is the Socket Mode websocket open now (bot/slack/run.py sets it; /readyz)
    runtime.scheduler, runtime.drain     # the report scheduler and the Vercel drain relay while they run
                                         # (bot/background.py starts and stops them)
    runtime.alert_desk()                 # the alert investigations' desk, built at first use

The Slack surfaces and the web server take the Runtime; what they hand further down (the agent, the reports,
the review) is the Services, and, for the agent's status answer, the readiness table as a function.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from alerts.desk import AlertDesk

if TYPE_CHECKING:
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
    _alert_desk: AlertDesk | None = field(default=None, repr=False)

    def alert_desk(self) -> AlertDesk | None:
        """The one AlertDesk (the Slack listener and the webhook routes share its updaters); None without a Slack
        client to post with."""
        if self.services.slack is None:
            return None
        if self._alert_desk is None:
            self._alert_desk = AlertDesk(self.services, self.services.slack)
        return self._alert_desk
