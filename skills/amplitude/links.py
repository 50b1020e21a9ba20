"""Links back to Amplitude for every result.

Chart, user and annotation pages in Amplitude's web app need the organisation slug and project id, and the
Dashboard REST API returns neither; so every link is the analytics home of the project's region
(https://app.amplitude.com/analytics/ or https://app.eu.amplitude.com/analytics/), which opens the signed-in
user's organisation. The result also carries what to look at (event, window, user) so a reader can find it.
"""

from __future__ import annotations

APP_HOSTS = {"us": "https://app.amplitude.com", "eu": "https://app.eu.amplitude.com"}


def analytics_home(region: str) -> str:
    return f"{APP_HOSTS.get(region.lower(), APP_HOSTS['us'])}/analytics/"
