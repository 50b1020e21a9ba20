"""Dashboards: search, a readable summary (panels and their queries), and create-or-update from a template."""

from __future__ import annotations

import asyncio
import copy
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skills.base import SkillError
from skills.grafana import datasources, loki
from skills.grafana.results import clip
from skills.results import bounded

if TYPE_CHECKING:
    from skills.grafana.api import GrafanaAPI

TEMPLATES = Path(__file__).with_name("templates")
PLACEHOLDER = re.compile(r"\$\{(DS_[A-Za-z0-9_]+)\}")
# Placeholder names a template may use without declaring them in __inputs.
KNOWN_PLACEHOLDERS = {"DS_LOKI": "loki", "DS_PROMETHEUS": "prometheus", "DS_PROM": "prometheus"}


async def search(client: GrafanaAPI, query: str = "", limit: int = 50) -> dict[str, Any]:
    params = {"type": "dash-db", "query": query, "limit": str(max(1, min(limit, 5000)))}
    body = await client.request("GET", "/api/search", params=params)
    hits = [h for h in body if isinstance(h, dict)] if isinstance(body, list) else []
    rows = [
        {
            "uid": h.get("uid"),
            "title": h.get("title"),
            "folder": h.get("folderTitle") or "General",
            "tags": h.get("tags") or [],
            "url": _absolute(client, h.get("url")),
        }
        for h in hits
    ]
    envelope: dict[str, Any] = {"query": query, "total": len(rows)}
    if not rows:
        hint = (
            f"no dashboard title matches {query!r}: try a shorter query, or none to list all"
            if query
            else "this Grafana has no dashboards yet; create_dashboard makes one from the vercel-overview template"
        )
        return dict(envelope, dashboards=[], truncated=False, empty=True, hint=hint)
    envelope["truncated"] = len(rows) >= limit
    result = bounded(envelope, "dashboards", rows, hint="too many dashboards: pass a query to narrow by title")
    if envelope["truncated"] and "hint" not in result:
        result["hint"] = f"the limit of {limit} was reached: pass a query to narrow by title"
    return result


async def summary(client: GrafanaAPI, uid: str) -> dict[str, Any]:
    body = await client.request(
        "GET", f"/api/dashboards/uid/{uid}", not_found=f"No dashboard has uid {uid!r}; search_dashboards lists them"
    )
    body = body if isinstance(body, dict) else {}
    dash = body.get("dashboard") or {}
    meta = body.get("meta") or {}
    variables = [
        {"name": v.get("name"), "type": v.get("type"), "query": clip(_text(v.get("query")), 200)}
        for v in (dash.get("templating") or {}).get("list") or []
        if isinstance(v, dict)
    ]
    envelope: dict[str, Any] = {
        "uid": dash.get("uid") or uid,
        "title": dash.get("title"),
        "url": _absolute(client, meta.get("url")),
        "folder": meta.get("folderTitle") or "General",
        "version": dash.get("version"),
        "tags": dash.get("tags") or [],
        "time": dash.get("time"),
        "variables": variables,
    }
    panels = [_panel(p) for p in _walk_panels(dash.get("panels") or dash.get("rows") or [])]
    envelope["panel_count"] = len(panels)
    return bounded(envelope, "panels", panels, hint="the dashboard has more panels than fit; open its url")


def _walk_panels(panels: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for panel in panels:
        if not isinstance(panel, dict):
            continue
        nested = panel.get("panels")
        is_row = panel.get("type") == "row" or ("type" not in panel and isinstance(nested, list))
        if not is_row:
            out.append(panel)
        if isinstance(nested, list):
            out.extend(_walk_panels(nested))
    return out


def _panel(panel: dict[str, Any]) -> dict[str, Any]:
    queries = []
    for target in panel.get("targets") or []:
        if not isinstance(target, dict):
            continue
        text = target.get("expr") or target.get("query") or target.get("rawSql") or target.get("expression")
        queries.append(
            {"ref": target.get("refId"), "query": clip(_text(text), 400), "datasource": _ds(target.get("datasource"))}
        )
    return {
        "id": panel.get("id"),
        "title": panel.get("title"),
        "type": panel.get("type"),
        "datasource": _ds(panel.get("datasource")),
        "queries": queries,
    }


def _ds(value: Any) -> str | None:
    if isinstance(value, dict):
        return value.get("uid") or value.get("type")
    return value if isinstance(value, str) else None


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def _absolute(client: GrafanaAPI, path: Any) -> str | None:
    if not path:
        return None
    text = str(path)
    return text if text.startswith("http") else f"{client.base_url}{text}"


# ----------------------------------------------------------------------------------------------------------
# Create from a template


def templates() -> list[str]:
    return sorted(p.name for p in TEMPLATES.glob("*.json"))


def load_template(name: str) -> dict[str, Any]:
    if "/" in name or "\\" in name or not name.endswith(".json"):
        raise SkillError("Grafana", f"{name!r} is not a template file name", f"Use one of: {', '.join(templates())}")
    path = TEMPLATES / name
    if not path.is_file():
        raise SkillError("Grafana", f"no template {name!r}", f"Use one of: {', '.join(templates())}")
    try:
        return json.loads(path.read_text())
    except ValueError as exc:
        raise SkillError("Grafana", f"template {name} is not valid JSON ({exc})") from None


def placeholders(template: dict[str, Any]) -> dict[str, str]:
    """Each ${DS_...} placeholder in the template -> the data-source family it stands for."""
    declared = {
        str(i.get("name")): str(i.get("pluginId") or "").lower()
        for i in template.get("__inputs") or []
        if isinstance(i, dict) and i.get("type") == "datasource"
    }
    found: dict[str, str] = {}
    for name in sorted(set(PLACEHOLDER.findall(json.dumps(template)))):
        family = declared.get(name) or KNOWN_PLACEHOLDERS.get(name, "")
        if family not in ("loki", "prometheus"):
            known = ", ".join("${" + k + "}" for k in KNOWN_PLACEHOLDERS)
            raise SkillError(
                "Grafana", f"the template uses an unknown data-source placeholder ${{{name}}}", f"Known: {known}"
            )
        found[name] = family
    return found


def fill(node: Any, uids: dict[str, tuple[str, str]]) -> Any:
    """Replace placeholders: a bare "datasource": "${DS_X}" becomes {"type", "uid"}; other strings get the uid."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            whole = PLACEHOLDER.fullmatch(value) if isinstance(value, str) else None
            if key == "datasource" and whole and whole.group(1) in uids:
                family, uid = uids[whole.group(1)]
                out[key] = {"type": family, "uid": uid}
            else:
                out[key] = fill(value, uids)
        return out
    if isinstance(node, list):
        return [fill(v, uids) for v in node]
    if isinstance(node, str):
        return PLACEHOLDER.sub(lambda m: uids[m.group(1)][1] if m.group(1) in uids else m.group(0), node)
    return node


async def _resolve_uid(client: GrafanaAPI, family: str, explicit: str | None) -> str:
    raw = await client.datasources_raw()
    name = "Loki" if family == "loki" else "Prometheus"
    uid = explicit or (client.loki_override if family == "loki" else client.prometheus_override)
    uid = uid or datasources.pick(raw, family)
    if not uid:
        flag = "--loki-uid" if family == "loki" else "--prometheus-uid"
        raise SkillError(
            "Grafana",
            f"no {name} data source, which the template needs",
            f"Add the {name} data source in Grafana (Connections → Data sources), or pass {flag}",
        )
    ds = datasources.find(raw, uid)
    if ds is None:
        raise SkillError(
            "Grafana",
            f"no data source with uid {uid!r}",
            "list_datasources shows the UIDs; a dashboard naming a missing UID shows No data",
        )
    if datasources.kind(ds) != family:
        raise SkillError("Grafana", f"data source {uid!r} is a {ds.get('type')} data source, not {name}")
    return uid


async def create_from_template(
    client: GrafanaAPI,
    title: str,
    template: str = "vercel-overview.json",
    *,
    loki_uid: str | None = None,
    prometheus_uid: str | None = None,
    folder_uid: str | None = None,
    selector: str | None = None,
) -> dict[str, Any]:
    """Post the template with real data-source UIDs; a dashboard with the same title is updated in place."""
    title = title.strip()
    if not title:
        raise SkillError("Grafana", "a dashboard needs a title")
    raw = await asyncio.to_thread(load_template, template)  # a file read: off the event loop
    explicit = {"loki": loki_uid, "prometheus": prometheus_uid}
    uids = {
        name: (family, await _resolve_uid(client, family, explicit[family]))
        for name, family in placeholders(raw).items()
    }
    dashboard = fill({k: v for k, v in copy.deepcopy(raw).items() if not k.startswith("__")}, uids)
    if selector is None and "DS_LOKI" in uids and _variable(dashboard, "selector") is not None:
        selector = await _discovered_selector(client, uids["DS_LOKI"][1])
    if selector:
        _set_variable(dashboard, "selector", selector)
    existing = await _same_title(client, title, folder_uid)
    dashboard.update(id=None, title=title, uid=existing["uid"] if existing else None)
    dashboard.pop("version", None)
    body: dict[str, Any] = {"dashboard": dashboard, "overwrite": bool(existing), "message": "sitrep: from " + template}
    folder = folder_uid or (existing or {}).get("folderUid")
    if folder:
        body["folderUid"] = folder
    saved = await client.request("POST", "/api/dashboards/db", json_body=body, idempotent=False)
    saved = saved if isinstance(saved, dict) else {}
    panels = [
        {"title": p.get("title"), "type": p.get("type"), "datasource_uid": _ds(p.get("datasource"))}
        for p in _walk_panels(dashboard.get("panels") or [])
    ]
    return {
        "status": "updated" if existing else "created",
        "title": title,
        "uid": saved.get("uid") or dashboard.get("uid"),
        "url": _absolute(client, saved.get("url")),
        "version": saved.get("version"),
        "template": template,
        "datasources": {name: uid for name, (_, uid) in uids.items()},
        "selector": _variable(dashboard, "selector"),
        "panels": panels,
    }


async def _same_title(client: GrafanaAPI, title: str, folder_uid: str | None) -> dict[str, Any] | None:
    body = await client.request("GET", "/api/search", params={"type": "dash-db", "query": title, "limit": "100"})
    hits = [h for h in body if isinstance(h, dict)] if isinstance(body, list) else []
    same = [h for h in hits if str(h.get("title") or "").casefold() == title.casefold() and h.get("uid")]
    if folder_uid is not None:
        same = [h for h in same if (h.get("folderUid") or "") == folder_uid] or same
    return same[0] if same else None


def _variables(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    return [v for v in (dashboard.get("templating") or {}).get("list") or [] if isinstance(v, dict)]


def _variable(dashboard: dict[str, Any], name: str) -> str | None:
    """The value of a textbox variable, None when the dashboard has no such variable."""
    for var in _variables(dashboard):
        if var.get("name") == name:
            return str((var.get("current") or {}).get("value") or var.get("query") or "")
    return None


def _set_variable(dashboard: dict[str, Any], name: str, value: str) -> None:
    for var in _variables(dashboard):
        if var.get("name") == name:
            var["query"] = value
            var["current"] = {"selected": False, "text": value, "value": value}
            var["options"] = [{"selected": True, "text": value, "value": value}]
            return
    raise SkillError("Grafana", f"the template has no {name!r} variable to set")


async def _discovered_selector(client: GrafanaAPI, uid: str) -> str | None:
    """A selector over the streams Loki has now (so panels work at once), or None to keep the template's."""
    try:
        return await loki.default_selector(client, uid, "24h")
    except SkillError:
        return None
