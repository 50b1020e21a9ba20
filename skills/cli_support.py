"""Shared plumbing for the skills' command lines: settings, the default team's stored credentials, tables."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from settings import Settings
from skills.base import SkillContext
from storage.services import open_storage
from storage.team_config import TeamConfig
from storage.teams import DEFAULT_TEAM_ID, Team


@asynccontextmanager
async def cli_context(settings: Settings | None = None) -> AsyncIterator[SkillContext]:
    """A SkillContext for the default team. Reads stored credentials when the database exists, else env only."""
    settings = settings or Settings.from_env()
    if settings.db_path is not None and not settings.db_path.exists():
        team = Team(DEFAULT_TEAM_ID, "default", "Default team", None, TeamConfig())
        yield SkillContext(settings=settings, team=team, credentials=None)
        return
    storage = await open_storage(settings)
    try:
        team = await storage.teams.ensure_default()
        yield SkillContext(settings=settings, team=team, credentials=storage.credentials, storage=storage)
    finally:
        await storage.close()


def print_table(rows: Sequence[dict[str, Any]], columns: Sequence[str], out: Any = None) -> None:
    """A plain aligned table; empty input prints '(none)'."""
    out = out or sys.stdout
    if not rows:
        print("(none)", file=out)
        return
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip(), file=out)
    for r in cells:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip(), file=out)


def print_json(data: Any, out: Any = None) -> None:
    print(json.dumps(data, indent=2, default=str, ensure_ascii=False), file=out or sys.stdout)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(v) for v in value)
    text = str(value).replace("\n", " ")
    return text if len(text) <= 80 else text[:77] + "..."
