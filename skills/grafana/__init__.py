"""The Grafana skill: dashboards, PromQL, LogQL with label discovery and error patterns, alerts, dashboards
from templates; as agent tools (GrafanaSkill.tools) and as a CLI (python -m skills.grafana)."""

from skills.grafana.client import GrafanaClient
from skills.grafana.skill import GrafanaSkill, open_skill

__all__ = ["GrafanaClient", "GrafanaSkill", "open_skill"]
