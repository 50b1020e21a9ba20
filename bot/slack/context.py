"""How a listener reaches the Runtime: through Bolt's request context, filled by one global middleware.

Every listener in bot/slack/ is a module-level function taking what Bolt injects by argument name (`ack`, `body`,
`client`, `event`, `command`, `action`, `view`, `respond`, `context`; see slack_bolt's `AsyncArgs`,
https://docs.slack.dev/tools/bolt-python/reference/kwargs_injection/async_args.html). `Provide`, installed
first with `app.use(...)`, puts the Runtime in `context["runtime"]`, and the listeners read it back with
`runtime_of(context)`. A test calls a listener directly with a context `Provide(runtime).fill(...)` made.

The little state a listener keeps for the app's lifetime (the Run report now gate, the instrumentation previews)
lives here too, one of each kind per app: `app_state(context, RunNowGate)`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, TypeVar

from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.runtime import Runtime

RUNTIME = "runtime"
STATE = "sitrep_listener_state"

T = TypeVar("T")
C = TypeVar("C", bound=MutableMapping[str, Any])


class Provide(AsyncMiddleware):
    """The global middleware that hands every listener (and matcher, and later middleware) the app's Runtime."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.state: dict[type, object] = {}

    def fill(self, context: C) -> C:
        context[RUNTIME] = self.runtime
        context[STATE] = self.state
        return context

    async def async_process(
        self, *, req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse | None:
        self.fill(req.context)
        return await next()


def runtime_of(context: MutableMapping[str, Any]) -> Runtime:
    """The Runtime `Provide` put in this request's context."""
    runtime = context.get(RUNTIME)
    if not isinstance(runtime, Runtime):
        raise LookupError("no Runtime in the Bolt context: install bot.slack.context.Provide first (app.use)")
    return runtime


def app_state(context: MutableMapping[str, Any], kind: type[T]) -> T:
    """The listeners' one `kind` for this app (made with no arguments at first use), kept for its lifetime."""
    state = context.get(STATE)
    if not isinstance(state, dict):
        raise LookupError("no listener state in the Bolt context: install bot.slack.context.Provide first (app.use)")
    kept = state.get(kind)
    if not isinstance(kept, kind):
        kept = state[kind] = kind()
    return kept
