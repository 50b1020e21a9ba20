"""Next.js file paths -> the routes they serve, and a regex that matches those routes in log lines: one reading of
the app's layout for the PR review's production context and for the Amplitude instrumentation.

`app/api/agents/[id]/run/route.ts` serves `/api/agents/<id>/run`; `pages/api/users/[uid].ts` serves
`/api/users/<uid>`; a `src/` prefix, route groups `(marketing)` and `[...slug]` catch-alls are handled. Dynamic
segments match any value in the log path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_EXT = r"\.(?:ts|tsx|js|jsx|mjs|cjs|mts|cts)$"
_APP_ROUTE = re.compile(r"^(?:src/)?app/(?P<route>(?:.+/)?)(?P<kind>route|page)" + _EXT)
_PAGES_API = re.compile(r"^(?:src/)?pages/(?P<route>api(?:/.+?)?)" + _EXT)


@dataclass(frozen=True)
class Route:
    file: str
    path: str  # /api/agents/[id]/run
    kind: str  # api (an app-router route handler or a pages/api file) | page
    app_router: bool = False

    @property
    def display(self) -> str:
        """The path with dynamic segments as <name>: /api/agents/<id>/run."""
        return re.sub(r"\[\[?(?:\.\.\.)?([^\]]+)\]\]?", r"<\1>", self.path)

    @property
    def log_regex(self) -> str:
        """An RE2/Python regex for the path in a log line (followed by ?, space, quote or end)."""
        parts = []
        for segment in self.path.strip("/").split("/"):
            if segment.startswith("[[...") or segment.startswith("[..."):
                parts.append(".+")
            elif segment.startswith("["):
                parts.append('[^/?" ]+')
            else:
                parts.append(re.escape(segment))
        return "/" + "/".join(parts) + '(?:[?" ]|$)'

    def matches(self, path: str) -> bool:
        return re.search(self.log_regex, path) is not None


def route_for(file: str) -> Route | None:
    """The route a file serves, or None when it is not a route or page file."""
    match = _PAGES_API.match(file)
    if match:
        route = match.group("route")
        route = route[: -len("/index")] if route.endswith("/index") else route
        return Route(file, "/" + route, "api")
    match = _APP_ROUTE.match(file)
    if match:
        segments = [s for s in match.group("route").strip("/").split("/") if s]
        segments = [s for s in segments if not (s.startswith("(") and s.endswith(")")) and not s.startswith("@")]
        kind = "api" if match.group("kind") == "route" else "page"  # a route.ts answers requests wherever it is
        return Route(file, "/" + "/".join(segments), kind, app_router=True)
    return None


def routes_for(files: list[str]) -> list[Route]:
    seen: dict[str, Route] = {}
    for file in files:
        route = route_for(file)
        if route and route.path not in seen:
            seen[route.path] = route
    return list(seen.values())
