"""`python -m review <pr-url> [--print]`: one forced review with the app's own services.

The review runs even for a head already reviewed, and is posted, or printed with --print. Errors are one line on
stderr (exit status 1; 2 for a URL that is not a pull request's), secrets redacted.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import time
from collections.abc import Sequence

from agent.services import Services
from review.gather import parse_pr_url
from review.pipeline import review_pull
from settings import Settings
from skills.base import redact
from skills.registry import default_factories
from storage.services import open_storage

PROG = "python -m review"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Review one pull request now.")
    parser.add_argument("url", help="https://github.com/owner/repo/pull/123")
    parser.add_argument("--print", action="store_true", help="print the review instead of posting it")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if parse_pr_url(args.url) is None:
        print(
            f"GitHub: {args.url!r} is not a pull request URL (https://github.com/owner/repo/pull/123)", file=sys.stderr
        )
        return 2
    try:
        return asyncio.run(run_review(args))
    except KeyboardInterrupt:
        return 130


async def run_review(args: argparse.Namespace) -> int:
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
        team = await services.storage.teams.ensure_default()
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
