"""Data sources: summaries for the reader, and which UID to use for Loki and Prometheus."""

from __future__ import annotations

from typing import Any

# Grafana plugin ids that speak each backend's HTTP API through the data-source proxy.
TYPES = {"loki": ("loki",), "prometheus": ("prometheus",)}


def kind(ds: dict[str, Any]) -> str | None:
    """'loki' or 'prometheus' for a data source of that family, else None."""
    ds_type = str(ds.get("type") or "").lower()
    for family, plugin_ids in TYPES.items():
        if ds_type in plugin_ids:
            return family
    return None


def summarize(raw: list[dict[str, Any]], ds_type: str | None = None) -> list[dict[str, Any]]:
    rows = [
        {
            "id": ds.get("id"),
            "uid": ds.get("uid"),
            "name": ds.get("name"),
            "type": ds.get("type"),
            "default": bool(ds.get("isDefault")),
            "url": ds.get("url") or None,
        }
        for ds in raw
    ]
    if ds_type:
        rows = [r for r in rows if str(r["type"]).lower() == ds_type.lower()]
    return rows


def pick(raw: list[dict[str, Any]], family: str) -> str | None:
    """The default data source of the family, else the first one; None when there is none."""
    candidates = [ds for ds in raw if kind(ds) == family and ds.get("uid")]
    if not candidates:
        return None
    for ds in candidates:
        if ds.get("isDefault"):
            return str(ds["uid"])
    return str(candidates[0]["uid"])


def find(raw: list[dict[str, Any]], uid: str) -> dict[str, Any] | None:
    return next((ds for ds in raw if ds.get("uid") == uid), None)
