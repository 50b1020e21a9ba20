"""Time as sitrep writes it: UTC ISO 8601 ending in Z. Stored times have milliseconds, so they sort as text and
match the database's own `NOW` (storage/sql.py); times sent to an API may drop them (`millis=False`)."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(when: datetime | float, *, millis: bool = True) -> str:
    """A datetime (naive: taken as UTC) or a Unix timestamp as UTC ISO 8601 with Z."""
    at = when if isinstance(when, datetime) else datetime.fromtimestamp(when, UTC)
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    return at.astimezone(UTC).isoformat(timespec="milliseconds" if millis else "seconds").replace("+00:00", "Z")


def parse(text: str) -> datetime:
    """Stored or ISO text (Z or an offset) as an aware UTC datetime; a naive one is taken as UTC."""
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)
