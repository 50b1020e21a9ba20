"""Changes as one signal: GitHub pushes and Vercel deployments (the changes table) and Grafana annotations (read
live), for answers, reports, reviews and alert investigations: `recent_changes()` and the `recent_changes` tool."""

from skills.changes.recent import ChangeWindow, collect, nearest_before, recent_changes

__all__ = ["ChangeWindow", "collect", "nearest_before", "recent_changes"]
