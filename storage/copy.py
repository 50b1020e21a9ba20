"""Copy every table of one sitrep database into another, empty one: SQLite -> PostgreSQL (or back).

Both are migrated first, so the target has the same tables; rows keep their ids (identity columns then continue
after the largest), credentials stay encrypted with the same key. The copy is one transaction on the target:
it lands whole or not at all.
"""

from __future__ import annotations

from collections.abc import Callable

from storage.db import Database

SKIPPED = ("schema_migrations",)  # the target's own record of the migrations it applied


class CopyError(RuntimeError):
    """The copy cannot be made as asked (a target with data, a schema the target lacks)."""


async def copy_database(
    source: Database, target: Database, *, progress: Callable[[str, int], None] | None = None
) -> dict[str, int]:
    """Rows copied per table, in copy order. Raises CopyError and changes nothing when the target is not empty."""
    tables = [t for t in await source.tables() if t not in SKIPPED]
    known = set(await target.tables())
    missing = [t for t in tables if t not in known]
    if missing:
        raise CopyError(f"{target.label} has no table {', '.join(missing)}: is it an older sitrep's database?")
    filled = [t for t in tables if await target.fetchone(f'SELECT 1 FROM "{t}" LIMIT 1') is not None]
    if filled:
        raise CopyError(f"{target.label} already holds data (in {', '.join(filled)}): copy into an empty database")
    counts: dict[str, int] = {}
    async with target.bulk_load() as conn:
        for table in tables:
            rows = await source.fetchall(f'SELECT * FROM "{table}"')
            if rows:
                columns = list(rows[0].keys())
                names = ", ".join(f'"{c}"' for c in columns)
                marks = ", ".join("?" for _ in columns)
                await conn.executemany(
                    f'INSERT INTO "{table}" ({names}) VALUES ({marks})', [tuple(r[c] for c in columns) for r in rows]
                )
            await target.reset_ids(conn, table)
            counts[table] = len(rows)
            if progress is not None:
                progress(table, len(rows))
    for table, expected in counts.items():
        row = await target.fetchone(f'SELECT COUNT(*) AS n FROM "{table}"')
        if row is None or row["n"] != expected:
            raise CopyError(f"{table}: {expected} rows read but {row['n'] if row else 0} in {target.label}")
    return counts
