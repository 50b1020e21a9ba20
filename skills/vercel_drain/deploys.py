"""Vercel deployments as changes, from the log drain: the first entry seen of a new `deploymentId` records one.

Every drain entry carries `deploymentId`, `projectId` (and often `projectName`), `source`, `host` and `timestamp`
(ms); `environment` is production or preview. A build line (`source: "build"`) comes from the deployment's own
build, and its `host` is the deployment's unique URL, so it gives the link; a runtime line's host is whatever the
request asked for (a custom domain), so it gives none. The deployment's time is the earliest entry seen of it.

Ids already recorded are remembered in memory (bounded), so the hot path writes nothing for the deployments it
has seen: one write per new deployment, and one more when its first build line follows a runtime line.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

from storage.changes import VERCEL, Change, ChangeStore

log = logging.getLogger(__name__)

REMEMBERED = 1000


def deployments(entries: list[tuple[dict[str, Any], str | None]]) -> dict[str, Change]:
    """deploymentId -> its change from these entries: the earliest time, the build line's host as the link."""
    found: dict[str, Change] = {}
    for entry, _ in entries:
        ref = entry.get("deploymentId")
        if not isinstance(ref, str) or not ref.strip():
            continue
        at = _time(entry.get("timestamp"))
        build = entry.get("source") == "build"
        host = entry.get("host") if isinstance(entry.get("host"), str) else ""
        url = f"https://{host}" if build and host else None
        seen = found.get(ref)
        if seen is not None and seen.at <= at and (seen.url or not url):
            continue
        project = _text(entry.get("projectName")) or _text(entry.get("projectId")) or "vercel"
        found[ref] = Change(
            VERCEL,
            project,
            ref.strip(),
            "deploy",
            min(at, seen.at) if seen else at,
            title=(host if build else "") or (seen.title if seen else ""),
            environment=_text(entry.get("environment")),
            branch=_text(entry.get("branch")),
            url=url or (seen.url if seen else None),
            via="drain",
        )
    return found


class DeployRecorder:
    def __init__(self, store: ChangeStore) -> None:
        self.store = store
        self._seen: OrderedDict[str, bool] = OrderedDict()  # deploymentId -> recorded with its link

    async def observe(self, entries: list[tuple[dict[str, Any], str | None]]) -> int:
        """Record the deployments these entries show for the first time; how many were new. Never raises: the
        drain's lines are relayed whether or not this works."""
        fresh = [c for ref, c in deployments(entries).items() if self._wanted(ref, c)]
        if not fresh:
            return 0
        try:
            new = await self.store.record(fresh)
        except Exception:
            log.exception("recording %d Vercel deployments failed", len(fresh))
            return 0
        for c in fresh:
            self._seen[c.ref] = c.url is not None
            self._seen.move_to_end(c.ref)
        while len(self._seen) > REMEMBERED:
            self._seen.popitem(last=False)
        return new

    def _wanted(self, ref: str, change: Change) -> bool:
        linked = self._seen.get(ref)
        return linked is None or (not linked and change.url is not None)


def _time(value: Any) -> datetime:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return datetime.fromtimestamp(value / 1000, UTC)
    if isinstance(value, str) and value.strip().isdigit():
        return datetime.fromtimestamp(int(value.strip()) / 1000, UTC)
    return datetime.now(UTC)


def _text(value: Any) -> str:
    return value.strip()[:100] if isinstance(value, str) else ""
