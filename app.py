"""sitrep: the entry point. Every command opens the app through its one composition root (bot/root.py).

python app.py            connect to Slack (both tokens set) or start the shell (neither set)
python app.py shell      the terminal adapter, even with tokens set
python app.py status     the integration readiness table
python app.py config get | config patch JSON
python app.py report     the status report on stdout (--print, the default) or posted to the report channel (--post)
python app.py db copy --to postgresql://…   copy every table of SITREP_DB into another, empty database
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence

from agent.formatting import usage_text
from bot.blocks.readiness import readiness_table_text
from bot.channels import CannotPost
from bot.readiness import readiness_table
from bot.root import opened
from bot.runtime import Runtime
from bot.shell import run_shell
from bot.slack_client import identity
from reports.builder import build_report
from reports.post import NO_CHANNEL, NO_TOKEN, ReportError, build_and_post, report_channel
from reports.render import report_text
from settings import Settings, SettingsError, StartupError
from storage.copy import CopyError, copy_database
from storage.db import Database, DatabaseUnavailable, safe_url
from storage.team_config import ConfigInvalid, unwrap_patch
from storage.teams import DEFAULT_TEAM_ID
from text.json_in import NotJSON, loads

EXIT_USAGE = 2
EXIT_FAILED = 1


class CommandError(StartupError):
    """A command cannot run as asked (a patch that is not JSON or not valid): one line, exit status 2."""


async def cmd_run(settings: Settings, force_shell: bool = False, stop: asyncio.Event | None = None) -> int:
    mode = "shell" if force_shell else settings.slack_mode
    if mode == "partial":
        have, missing = (
            ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN")
            if settings.slack_bot_token
            else ("SLACK_APP_TOKEN", "SLACK_BOT_TOKEN")
        )
        raise StartupError(
            f"{missing} is not set but {have} is: set both to connect to Slack (README, Slack app setup), "
            "or neither to use the terminal shell"
        )
    async with opened(settings) as runtime:
        if mode == "shell":
            return await run_shell(runtime)
        # lazy: Bolt, Socket Mode and the web server load only when connecting to Slack, not for the shell
        from bot.background import Background
        from bot.slack.run import serve

        background = Background(runtime)
        try:
            return await serve(runtime, stop=stop, before_connect=background.start_web, on_connected=background.start)
        finally:
            await background.stop()


async def cmd_status(settings: Settings) -> int:
    async with opened(settings) as runtime:
        if settings.slack_mode == "socket":
            runtime.slack_identity = await _verify_slack(runtime)
        team = await runtime.services.team_for(None)
        print(readiness_table_text(await readiness_table(runtime, team)))
        print("\n" + usage_text(await runtime.services.storage.conversations.usage(24)))
        return 0


async def _verify_slack(runtime: Runtime) -> dict | None:
    client = runtime.slack
    assert client is not None, "built whenever SLACK_BOT_TOKEN is set"
    found, problem = await identity(client)
    if problem:
        print(f"note: Slack did not accept SLACK_BOT_TOKEN ({problem})", file=sys.stderr)
    return found


async def cmd_config(settings: Settings, action: str, patch_text: str | None) -> int:
    async with opened(settings) as runtime:
        storage = runtime.services.storage
        if action == "get":
            team = await storage.teams.get(DEFAULT_TEAM_ID)
        else:
            raw = sys.stdin.read() if patch_text in (None, "-") else patch_text
            try:
                patch = loads(raw or "", what="the patch")
            except NotJSON as exc:
                raise CommandError(str(exc)) from None
            patch = unwrap_patch(patch)  # the admin API's envelope is accepted here too
            try:
                team = await storage.config.patch(DEFAULT_TEAM_ID, patch, actor="cli")
            except ConfigInvalid as exc:
                raise CommandError(f"config not changed: {exc}") from None
        print(json.dumps(team.config_document, indent=2, sort_keys=True))
        return 0


async def cmd_report(settings: Settings, post: bool) -> int:
    """Build the default team's report: print it (exit 0 even when sections fail), or post it (exit 1 if it cannot)."""
    async with opened(settings) as runtime:
        services = runtime.services
        team = await services.team_for(None)
        if not post:
            report = await build_report(services, team)
            print(report_text(report, await services.secrets()), end="")
            return 0
        channel = report_channel(settings, team)
        problem = NO_CHANNEL if not channel else NO_TOKEN if not settings.slack_bot_token else None
        if problem or not channel:
            print(f"sitrep: {problem}", file=sys.stderr)
            return EXIT_FAILED
        poster = runtime.poster()
        assert poster is not None, "built whenever SLACK_BOT_TOKEN is set"
        try:
            ts, report = await build_and_post(services, team, channel, poster=poster)
        except (ReportError, CannotPost) as exc:  # CannotPost: a channel sitrep is not in and cannot join
            print(f"sitrep: {exc}", file=sys.stderr)
            return EXIT_FAILED
        states = ", ".join(f"{s.title} {s.status.replace('_', ' ')}" for s in report.sections)
        print(f"posted {report.title} to {channel} (ts {ts}; {states})")
        return 0


async def cmd_db_copy(settings: Settings, to: str) -> int:
    """Copy every table of SITREP_DB into `to` (migrated first, must be empty); one line per table."""
    if to == settings.database:
        raise CommandError("--to is SITREP_DB itself: give the new database")
    if settings.db_path is not None and not settings.db_path.exists():
        raise CommandError(f"SITREP_DB {settings.db_path} does not exist: nothing to copy")
    key_source = "SITREP_SECRET_KEY" if settings.secret_key else str(settings.key_file)
    try:
        source = await Database.open(settings.database)
        try:
            target = await Database.open(to)
        except BaseException:
            await source.close()
            raise
    except DatabaseUnavailable as exc:
        raise CommandError(str(exc)) from None
    try:
        print(f"copying {source.label} -> {target.label}")
        counts = await copy_database(source, target, progress=lambda t, n: print(f"  {t}: {n} rows"))
    except CopyError as exc:
        raise CommandError(f"nothing copied: {exc}") from None
    finally:
        await source.close()
        await target.close()
    print(f"copied {sum(counts.values())} rows in {len(counts)} tables.")
    print(
        f"Credentials are copied encrypted with the key from {key_source}: give every replica that key "
        f"(SITREP_SECRET_KEY), then set SITREP_DB={safe_url(to)}"
    )
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python app.py",
        description="sitrep, an SRE teammate in Slack. With SLACK_BOT_TOKEN and SLACK_APP_TOKEN it connects over "
        "Socket Mode; with neither it starts a terminal shell.",
    )
    p.add_argument("--verbose", "-v", action="store_true", help="log at debug level")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("run", help="connect to Slack, or the shell without tokens (the default)")
    sub.add_parser("shell", help="ask questions in the terminal, even with Slack tokens set")
    sub.add_parser("status", help="print the integration readiness table")
    config = sub.add_parser("config", help="read or change the team config (JSON Merge Patch)")
    config.add_argument("action", choices=["get", "patch"])
    config.add_argument("patch", nargs="?", help="the merge patch as JSON, or - for standard input")
    report = sub.add_parser("report", help="build the status report now: print it, or post it to the report channel")
    how = report.add_mutually_exclusive_group()
    how.add_argument("--print", dest="post", action="store_false", help="print it to stdout (the default)")
    how.add_argument("--post", dest="post", action="store_true", help="post it to the report channel")
    report.set_defaults(post=False)
    db = sub.add_parser("db", help="database tools: copy every table into another database (SQLite -> PostgreSQL)")
    db.add_argument("action", choices=["copy"])
    db.add_argument("--to", required=True, metavar="URL", help="the target: postgresql://user:pass@host/db (or a path)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    command = args.command or "run"
    quiet = command in ("status", "config", "report", "db") or (command in ("run", "shell") and _shell_mode(command))
    configure_logging(logging.DEBUG if args.verbose else (logging.WARNING if quiet else logging.INFO))
    try:
        settings = Settings.from_env()
        if command in ("run", "shell"):
            return asyncio.run(cmd_run(settings, force_shell=command == "shell"))
        if command == "status":
            return asyncio.run(cmd_status(settings))
        if command == "config":
            return asyncio.run(cmd_config(settings, args.action, args.patch))
        if command == "report":
            return asyncio.run(cmd_report(settings, post=args.post))
        if command == "db":
            return asyncio.run(cmd_db_copy(settings, args.to))
    except StartupError as exc:
        print(f"sitrep: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    return EXIT_USAGE


# Their debug lines carry raw Socket Mode payloads and request bodies: what a person typed into the credentials
# modal, a key pasted into a question; botocore's carry the signed headers (the AWS session token) and google.auth's
# the token exchange. Kept at INFO even with --verbose, so no secret reaches the log.
RAW_PAYLOAD_LOGGERS = ("slack_bolt", "slack_sdk", "aiosqlite", "botocore", "google.auth")


def configure_logging(level: int) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if level > logging.DEBUG:
        logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per upstream request otherwise
    else:
        for name in RAW_PAYLOAD_LOGGERS:
            logging.getLogger(name).setLevel(logging.INFO)


def _shell_mode(command: str) -> bool:
    if command == "shell":
        return True
    try:
        return Settings.from_env().slack_mode == "shell"
    except SettingsError:
        return False


if __name__ == "__main__":
    sys.exit(main())
