"""The dashboards play: find Grafana dashboards by title, or create the Vercel overview one."""

from __future__ import annotations

from agent.formatting import Section
from agent.rules.plays import PlayContext
from text.mrkdwn import code, escape, link, num


async def dashboards(ctx: PlayContext) -> Section:
    if ctx.plan.create_dashboard:
        section = Section("Dashboard")
        o = await ctx.call("grafana_create_dashboard", title=ctx.plan.create_dashboard)
        if not o.ok:
            section.failures.append(o.error or "")
            return section
        d = o.data
        section.headline = f"Dashboard {link(d.get('url'), str(d.get('title')))} {d.get('status', 'saved')}."
        panels = ", ".join(str(p.get("title")) for p in d.get("panels") or [] if isinstance(p, dict))
        if panels:
            section.lines.append(f"• Panels: {escape(panels)}")
        return section
    section = Section("Dashboards")
    o = await ctx.call("grafana_search_dashboards", query=ctx.plan.dashboard_query)
    if not o.ok:
        section.failures.append(o.error or "")
        return section
    rows = [r for r in o.data.get("dashboards") or [] if isinstance(r, dict)]
    if not rows:
        query = ctx.plan.dashboard_query
        section.headline = (
            f"No dashboard title matches {code(query)} in Grafana."
            if query
            else "Grafana has no dashboards yet: `@sitrep create a dashboard` makes the Vercel overview one."
        )
        return section
    section.headline = f"{num(o.data.get('total', len(rows)))} dashboards" + (
        f" match {code(ctx.plan.dashboard_query)}." if ctx.plan.dashboard_query else "."
    )
    for r in rows[:15]:
        section.lines.append(f"• {link(r.get('url'), str(r.get('title')))} ({escape(str(r.get('folder', '')))})")
    return section
