"""Who holds a lease (a running report, the drain's unpushed lines): this process's owner id, and whether another
owner is gone.

An owner is "host:pid:nonce". On the same host a run whose pid no longer exists is gone at once (a process
killed mid-report); elsewhere, or when the pid was reused, a run is gone once its heartbeat is older than
LEASE_S. The scheduler renews the heartbeat every HEARTBEAT_S while the report runs.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import UTC, datetime

LEASE_S = 90.0
HEARTBEAT_S = 20.0
HOST = socket.gethostname()
OWNER = f"{HOST}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def owner_gone(
    owner: str | None,
    heartbeat_at: str | None,
    *,
    now: datetime | None = None,
    me: str = OWNER,
    lease_s: float = LEASE_S,
) -> bool:
    """Whether the holder of a lease (a running report run, the drain's unpushed lines) can no longer finish it.

    `me` is the asking holder (never gone to itself); `lease_s` how old a heartbeat may be. A process whose pid
    is reused (a container restarted with the same hostname) is told apart only by its heartbeat's age."""
    if not owner:
        return heartbeat_stale(heartbeat_at, now, lease_s)  # a row from before leases: only its age tells
    if owner == me:
        return False
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host == HOST and pid_text.isdigit() and not pid_alive(int(pid_text)):
        return True
    return heartbeat_stale(heartbeat_at, now, lease_s)


def heartbeat_stale(heartbeat_at: str | None, now: datetime | None = None, lease_s: float = LEASE_S) -> bool:
    if not heartbeat_at:
        return True
    beat = datetime.fromisoformat(heartbeat_at.replace("Z", "+00:00"))
    return ((now or datetime.now(UTC)) - beat).total_seconds() > lease_s
