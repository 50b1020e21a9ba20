"""Changes as one signal: GitHub pushes and Vercel deployments (the changes table) and Grafana annotations (read
live), for answers, reports, reviews and alert investigations: `recent_changes()` and the `recent_changes` tool."""

from skills.changes.jumps import Jump, find_jump, in_window, nearest_before
from skills.changes.recent import ChangeWindow, collect, recent_changes

__all__ = ["ChangeWindow", "Jump", "collect", "find_jump", "in_window", "nearest_before", "recent_changes"]
