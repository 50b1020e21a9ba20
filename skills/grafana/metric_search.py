"""Find Prometheus metrics by keyword: names (GET /api/v1/label/__name__/values) with their type and help text
(GET /api/v1/metadata), both through Grafana's data-source proxy.

    found = await find(client, "memory")   # {"metrics": [{"name", "type", "help", "unit"}, ...], ...}

A keyword is widened with its usual spellings (memory -> mem, rss, heap, working_set) and matched against names
and help texts; a histogram's _bucket/_sum/_count series are one metric with its base name's metadata.
"""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Any

from skills.results import bounded

if TYPE_CHECKING:
    from skills.grafana.api import GrafanaAPI

SYNONYMS: dict[str, tuple[str, ...]] = {
    "cpu": ("cpu",),
    "memory": ("memory", "mem_", "_mem", "rss", "heap", "working_set"),
    "mem": ("memory", "mem_", "_mem", "rss", "heap", "working_set"),
    "ram": ("memory", "mem_", "rss"),
    "disk": ("disk", "filesystem", "fs_"),
    "network": ("network", "net_", "receive_bytes", "transmit_bytes"),
    "lag": ("lag", "offset_lag", "behind"),
    "queue": ("queue", "backlog", "pending", "waiting"),
    "connections": ("connection", "conns", "_conn"),
    "connection": ("connection", "conns", "_conn"),
    "restarts": ("restart",),
    "restart": ("restart",),
    "restarted": ("restart",),
    "restarting": ("restart",),
    "requests": ("requests", "request_total", "http_requests"),
    "throughput": ("requests", "request_total", "ops", "throughput"),
    "latency": ("duration", "latency", "response_time"),
    "errors": ("error", "failed", "failure"),
    "goroutines": ("goroutine",),
    "threads": ("thread",),
    "gc": ("gc_",),
    "uptime": ("uptime", "start_time"),
    "files": ("fds", "file_descriptors", "open_files"),
}
_SUFFIXES = ("_bucket", "_sum", "_count", "_created", "_total")
TYPE_RANK = {"counter": 0, "gauge": 0, "histogram": 1, "summary": 1, "unknown": 2}


def needles(keyword: str) -> tuple[str, ...]:
    words = [w for w in re.split(r"[\s,]+", keyword.lower().strip()) if w]
    out: list[str] = []
    for w in words:
        out += SYNONYMS.get(w, (w,))
    return tuple(dict.fromkeys(out))


def base_name(name: str, metadata: dict[str, Any]) -> str:
    """The metric a series name belongs to: foo_bucket -> foo when foo is a histogram in the metadata."""
    if name in metadata:
        return name
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and name[: -len(suffix)] in metadata:
            return name[: -len(suffix)]
    return name


async def find(client: GrafanaAPI, keyword: str, *, limit: int = 30, uid: str | None = None) -> dict[str, Any]:
    """Metrics whose name or help text contains the keyword (or a usual spelling of it), best first."""
    ds_uid = await client.require_uid("prometheus", uid)
    names, metadata = await catalog(client, ds_uid)
    wanted = needles(keyword)
    rows: dict[str, dict[str, Any]] = {}
    for name in names:
        base = base_name(name, metadata)
        meta = metadata.get(base) or {}
        help_text = str(meta.get("help") or "")
        in_name = any(n in name.lower() for n in wanted)
        in_help = any(re.search(rf"\b{re.escape(n.strip('_'))}", help_text.lower()) for n in wanted)
        if not (in_name or in_help):
            continue
        row = rows.setdefault(
            base,
            {"name": base, "type": meta.get("type") or _guess_type(name), "help": help_text, "unit": meta.get("unit")},
        )
        row.setdefault("series_names", [])
        if name != base:
            row["series_names"].append(name)
        row["_score"] = min(row.get("_score", 9), 0 if in_name else 1)
    ranked = sorted(rows.values(), key=lambda r: (r.pop("_score"), TYPE_RANK.get(r["type"], 2), len(r["name"])))
    for r in ranked:
        if not r["series_names"]:
            del r["series_names"]
        if not r.get("unit"):
            r.pop("unit", None)
    envelope: dict[str, Any] = {
        "keyword": keyword,
        "searched": list(wanted),
        "datasource_uid": ds_uid,
        "total_metrics": len(names),
        "matched": len(ranked),
    }
    if not ranked:
        hint = (
            "nothing is sending metrics to this data source yet"
            if not names
            else f"no metric name or help text mentions {', '.join(wanted)}; list_metric_names shows every name"
        )
        return dict(envelope, metrics=[], truncated=False, empty=True, hint=hint)
    return bounded(envelope, "metrics", ranked[:limit], hint="too many metrics: use a more specific keyword")


async def catalog(client: GrafanaAPI, uid: str) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """Every metric name (from the team's discovery cache) and the metadata, asked at once."""
    names, meta_body = await asyncio.gather(
        client.discovery.metric_names(uid=uid),
        client.proxy(uid, "api/v1/metadata", None, upstream="Prometheus"),
    )
    return list(names), _metadata(meta_body)


def _guess_type(name: str) -> str:
    if name.endswith("_bucket"):
        return "histogram"
    if name.endswith("_total"):
        return "counter"
    return "unknown"


def _metadata(body: Any) -> dict[str, dict[str, Any]]:
    """{"data": {"metric": [{"type", "help", "unit"}, ...]}} -> {metric: first entry}."""
    data = body.get("data") if isinstance(body, dict) else None
    out: dict[str, dict[str, Any]] = {}
    if isinstance(data, dict):
        for name, entries in data.items():
            if isinstance(entries, list) and entries and isinstance(entries[0], dict):
                out[str(name)] = entries[0]
    return out


def _strings(body: Any) -> list[str]:
    data = body.get("data") if isinstance(body, dict) else None
    return [str(v) for v in data] if isinstance(data, list) else []
