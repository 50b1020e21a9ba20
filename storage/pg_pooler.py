"""SITREP_DB through a connection pooler in transaction mode (PgBouncer, Supabase's, Neon's...).

Such a pooler lends a server connection for one transaction (or one statement outside a transaction) and then to
another client, so nothing may outlive a transaction: no named prepared statements (asyncpg's statement cache), no
session advisory locks, no session settings. `?pgbouncer=true` on the URL says a pooler is there (Prisma's
spelling); it is taken off before the URL reaches asyncpg, which would send it to the server as a setting.

Without the flag, a URL on a transaction pooler's well-known port (PgBouncer's 6432, Supabase's 6543) or host
(Neon's `-pooler` endpoints) counts as pooled, and `?pgbouncer=false` says it is not. The guess errs the safe way:
pooled mode is one round trip per statement slower, never wrong. There is no probe: through a pooler a connection
talks to PostgreSQL, not to the pooler (`SHOW pool_mode` exists only on PgBouncer's admin console).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

FLAG = "pgbouncer"
POOLER_PORTS = {6432: "PgBouncer's default port", 6543: "Supabase's transaction pooler port"}
NEON_POOLER = "-pooler"  # Neon: the endpoint id with -pooler, e.g. ep-cool-darkness-123456-pooler.<region>.neon.tech
_YES = ("true", "1", "yes", "on")
_NO = ("false", "0", "no", "off")


class BadPoolerFlag(ValueError):
    """`pgbouncer=` with something other than true or false."""


@dataclass(frozen=True)
class PoolerChoice:
    dsn: str  # the URL without the flag: what asyncpg gets
    pooled: bool
    reason: str  # why, for the log line


def pooler_choice(url: str) -> PoolerChoice:
    """Whether `url` goes through a transaction pooler, and the URL to connect with."""
    base, sep, query = url.partition("?")
    kept: list[str] = []
    said: list[str] = []
    for item in query.split("&") if query else []:
        key, _, value = item.partition("=")
        if unquote(key).strip().lower() == FLAG:
            said.append(unquote(value).strip().lower())
        else:
            kept.append(item)
    dsn = base + (sep + "&".join(kept) if kept else "")
    if said:
        value = said[-1]
        if value not in _YES + _NO:
            raise BadPoolerFlag(f"SITREP_DB: {FLAG}={value!r} is neither true nor false")
        return PoolerChoice(dsn, value in _YES, f"{FLAG}={value} in SITREP_DB")
    for host, port in _hosts(base, kept):
        if port in POOLER_PORTS:
            return PoolerChoice(dsn, True, f"port {port}, {POOLER_PORTS[port]} (say {FLAG}=false if it is not)")
        if host.split(".", 1)[0].endswith(NEON_POOLER):
            return PoolerChoice(dsn, True, f"{host} is a Neon pooler endpoint (say {FLAG}=false if it is not)")
    return PoolerChoice(dsn, False, "a direct connection")


def _hosts(base: str, query: list[str]) -> list[tuple[str, int]]:
    """Each host:port of the URL (several, comma-separated, for a fallback list; a `port=` parameter applies to
    hosts without their own)."""
    netloc = base.partition("://")[2].partition("/")[0].rpartition("@")[2]
    default = 5432
    for item in query:
        key, _, value = item.partition("=")
        if unquote(key).lower() == "port" and unquote(value).split(",")[0].strip().isdigit():
            default = int(unquote(value).split(",")[0])
    found = []
    for entry in netloc.split(","):
        host, port = entry, ""
        if entry.startswith("["):  # [ipv6]:port
            host, _, rest = entry[1:].partition("]")
            port = rest.removeprefix(":")
        elif ":" in entry:
            host, _, port = entry.rpartition(":")
        found.append((unquote(host).lower(), int(port) if port.isdigit() else default))
    return found
