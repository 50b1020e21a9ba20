"""The fake Grafana's two data sources, shaped as `GET /api/datasources` answers on Grafana Cloud."""

from __future__ import annotations

from typing import Any

PROM_UID = "prom-uid"
LOKI_UID = "loki-uid"
LOKI_URL = "https://logs-prod-021.grafana.net"


def default_datasources() -> list[dict[str, Any]]:
    return [
        {
            "id": 1,
            "uid": PROM_UID,
            "orgId": 1,
            "name": "grafanacloud-mochacare-prom",
            "type": "prometheus",
            "typeName": "Prometheus",
            "access": "proxy",
            "url": "https://prometheus-prod-10-prod-us-west-0.grafana.net/api/prom",
            "basicAuth": True,
            "basicAuthUser": "654321",
            "isDefault": True,
            "jsonData": {},
            "readOnly": True,
        },
        {
            "id": 2,
            "uid": LOKI_UID,
            "orgId": 1,
            "name": "grafanacloud-mochacare-logs",
            "type": "loki",
            "typeName": "Loki",
            "access": "proxy",
            "url": LOKI_URL,
            "basicAuth": True,
            "basicAuthUser": "123456",
            "isDefault": False,
            "jsonData": {},
            "readOnly": True,
        },
    ]
