"""`python -m skills.github <command>`: check | installations.

`check` prints the readiness row (exit 0 when ready); `installations` lists the App's installations (App JWT)
with their repositories. Errors are one line on stderr, exit status 1, secrets redacted. Reviewing one pull
request is `python -m review` (review/cli.py), above the skills.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
from collections.abc import Sequence

from skills.base import SkillError, redact
from skills.cli_support import cli_context, print_json, print_table
from skills.github.skill import GitHubSkill, open_skill

PROG = "python -m skills.github"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="The GitHub App from the command line.")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("check", help="readiness: App credentials, linked installation, routed repos, mode")
    sub.add_parser("installations", help="the App's installations and their repositories")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return asyncio.run(run(args))
    except KeyboardInterrupt:
        return 130


async def run(args: argparse.Namespace) -> int:
    secrets: list[str] = []
    try:
        async with cli_context() as ctx:
            skill = await open_skill(ctx)
            secrets = skill.secrets()
            try:
                if args.command == "check":
                    return await check(skill, args.json)
                return await installations(skill, args.json)
            finally:
                secrets = skill.secrets()
                await skill.aclose()
    except SkillError as exc:
        return fail(exc.one_line(), secrets)
    except (ValueError, RuntimeError, OSError, sqlite3.Error) as exc:
        return fail(f"GitHub: {exc}", secrets)
    except Exception as exc:  # one line, never a traceback
        return fail(f"GitHub: unexpected {type(exc).__name__}: {exc}", secrets)


def fail(message: str, secrets: Sequence[str]) -> int:
    print(redact(" ".join(message.split()), secrets), file=sys.stderr)
    return 1


async def check(skill: GitHubSkill, as_json: bool) -> int:
    row = await skill.readiness()
    if as_json:
        print_json(
            {"status": str(row.status), "missing": row.missing, "next_step": row.next_step, "detail": row.detail}
        )
    else:
        print(f"GitHub: {row.status}")
        if row.missing:
            print(f"  missing: {row.missing}")
        if row.detail:
            print(f"  {row.detail}")
        print(f"  next: {row.next_step}")
    return 0 if row.ready else 1


async def installations(skill: GitHubSkill, as_json: bool) -> int:
    rows = []
    for inst in await skill.client.installations():
        repos = [r["full_name"] for r in await skill.client.installation_repos(int(inst["id"]))]
        linked = skill.link is not None and skill.link.installation_id == inst["id"]
        rows.append(
            {
                "id": inst["id"],
                "account": (inst.get("account") or {}).get("login"),
                "linked": "yes" if linked else "",
                "repositories": repos,
            }
        )
    if as_json:
        print_json(rows)
    else:
        print_table(rows, ["id", "account", "linked", "repositories"])
        if skill.install_url():
            print(f"Install on another account: {skill.install_url()}")
    return 0
