"""`python -m skills.amplitude instrument --repo owner/name [--dry-run]`: the Home tab's Instrument button from a
terminal. Progress goes to stderr, the preview to stdout; without --dry-run the pull request is then opened (or
updated) and its URL printed. A refusal (fork, archived, permissions, not linked) is one line, nothing pushed."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from skills.amplitude.instrument.flow import open_pull_request, prepare
from skills.amplitude.instrument.publish import Refused
from skills.amplitude.instrument.render import preview_text
from skills.amplitude.skill import resolve_region
from skills.base import SkillContext, SkillError, redact
from skills.cli_support import print_json
from skills.github.skill import open_skill as open_github


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "instrument",
        parents=[common],
        help="open one pull request that sends the tracking plan's events from a linked repository",
    )
    p.add_argument("--repo", required=True, help="owner/name, one of the team's linked repositories")
    p.add_argument("--dry-run", action="store_true", help="show the preview; push nothing")


async def _progress(what: str, done: int, total: int) -> None:
    if not total or done == total:
        print(f"{what}{f': {done} of {total}' if total else '…'}", file=sys.stderr)


async def instrument(ctx: SkillContext, args: argparse.Namespace) -> int:
    """The exit status; an error is one line on stderr, the App's key and tokens redacted."""
    github = await open_github(ctx)
    try:
        if ctx.storage is None:
            raise SkillError("GitHub", "no database yet", "Run `make run` once and link GitHub from the Home tab")
        prepared = await prepare(github, args.repo, region=await resolve_region(ctx), progress=_progress)
        plan = prepared.plan
        if getattr(args, "json", False):
            points = [p.__dict__ for p in plan.points]
            print_json({"repo": plan.repo, "commit": plan.base_commit, "points": points, "files": plan.edited_files})
        else:
            print(preview_text(plan))
        if plan.empty or args.dry_run:
            return 0
        published = await open_pull_request(
            github, prepared, store=ctx.storage.instrumentation, team_id=ctx.team.id, actor="cli"
        )
        verb = "Opened" if published.opened else "Updated"
        print(f"{verb} {published.url} (branch {published.branch})")
        return 0
    except Refused as exc:
        print(redact(f"{exc.one_line()}. Nothing was pushed.", github.secrets()), file=sys.stderr)
        return 1
    except SkillError as exc:
        print(redact(exc.one_line(), github.secrets()), file=sys.stderr)
        return 1
    finally:
        await github.aclose()
