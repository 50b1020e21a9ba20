"""`python -m skills.github review <pr-url> [--print]`: one forced review with the app's own services."""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time

from skills.base import redact
from skills.github.gather import parse_pr_url


async def run_review(args: argparse.Namespace) -> int:
    from review.pipeline import review_pull
    from settings import Settings
    from skills.registry import default_factories
    from skills.services import Services
    from storage.services import open_storage

    found = parse_pr_url(args.url)
    assert found is not None
    repo, number = found
    secrets: list[str] = []
    try:
        settings = Settings.from_env()
        services = Services(
            settings=settings, storage=await open_storage(settings), skill_factories=default_factories()
        )
    except (ValueError, RuntimeError, OSError, sqlite3.Error) as exc:
        print(f"GitHub: {exc}", file=sys.stderr)
        return 1
    try:
        team = await services.teams.ensure_default()
        forced = f"cli:{time.time_ns()}"
        out = await review_pull(services, team, repo, number, source="cli", forced_by=forced, dry_run=args.print)
        secrets = await services.secrets()
        for skill in await services.skills_for(team):
            secrets += skill.secrets()
    finally:
        await services.close()
    if out.status == "printed":
        print(redact(out.body, secrets))
        return 0
    if out.status == "posted":
        print(f"Posted {out.url} ({out.inline} inline comments, {out.planner})")
        return 0
    print(redact(f"GitHub: {repo}#{number} not reviewed: {out.reason}", secrets), file=sys.stderr)
    return 1
