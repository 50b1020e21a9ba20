"""One reading of a Next.js app's layout (skills/nextjs.py) for the review and the instrumentation."""

from __future__ import annotations

from skills.nextjs import route_for


def test_a_route_handler_is_an_api_route_wherever_it_lives() -> None:
    hook = route_for("app/webhooks/stripe/route.ts")
    assert hook is not None and (hook.path, hook.kind, hook.app_router) == ("/webhooks/stripe", "api", True)
    page = route_for("src/app/(marketing)/pricing/page.tsx")
    assert page is not None and (page.path, page.kind) == ("/pricing", "page")


def test_pages_api_files_and_every_module_extension() -> None:
    for file, path in [
        ("pages/api/users/[uid].ts", "/api/users/[uid]"),
        ("pages/api/index.js", "/api"),
        ("src/pages/api/agents/[id]/run.mts", "/api/agents/[id]/run"),
        ("app/api/health/route.cjs", "/api/health"),
    ]:
        route = route_for(file)
        assert route is not None and (route.path, route.kind) == (path, "api"), file
    assert route_for("pages/about.tsx") is None and route_for("lib/agents/runner.ts") is None
