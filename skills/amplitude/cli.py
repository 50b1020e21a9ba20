"""`python -m skills.amplitude <command>`: the skill's tools and readiness from a terminal.

Readable tables by default, `--json` for the raw result; an error is one line on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sqlite3
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from settings import Settings
from skills.amplitude.instrument.cli import add_parser as add_instrument_parser
from skills.amplitude.instrument.cli import instrument
from skills.amplitude.skill import AmplitudeSkill, open_skill
from skills.amplitude.snippet import snippet_data, snippet_text
from skills.base import Readiness, SkillError, ToolInputError, redact
from skills.cli_support import cli_context, print_json, print_table

PROG = "python -m skills.amplitude"


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")
    parser = argparse.ArgumentParser(prog=PROG, description="Amplitude events, users and annotations.")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("check", parents=[common], help="readiness: keys, credentials, whether events arrive")
    p = sub.add_parser("list-events", parents=[common], help="event types with this week's volume")
    p.add_argument("--contains", help="only names containing this")
    p.add_argument("--limit", type=int, default=50)
    p = sub.add_parser("query-events", parents=[common], help="one event type over time, vs the previous window")
    p.add_argument("event", help="event type, e.g. 'Agent Failed'")
    _window_args(p, 7)
    p.add_argument("--interval", choices=("day", "hour", "week"), default="day")
    p.add_argument("--metric", choices=("totals", "uniques"), default="totals")
    p.add_argument("--group-by", action="append", default=[], metavar="PROP", help="split by a property (max 2)")
    p.add_argument("--where", action="append", default=[], metavar="PROP=VALUE", help="filter (PROP!=VALUE too)")
    p.add_argument("--top", type=int, default=10, help="at most this many labels")
    p = sub.add_parser("get-user-activity", parents=[common], help="a user's recent events, newest first")
    p.add_argument("user_id")
    p.add_argument("--limit", type=int, default=20)
    p = sub.add_parser("get-chart-annotations", parents=[common], help="releases and annotations in a window")
    _window_args(p, 30)
    p = sub.add_parser("snippet", parents=[common], help="the tracking code for the five recommended events")
    p.add_argument("--region", choices=("us", "eu"), help="default: AMPLITUDE_REGION")
    add_instrument_parser(sub, common)
    return parser


def _window_args(p: argparse.ArgumentParser, days: int) -> None:
    p.add_argument("--days", type=int, default=days, help=f"the last N days (default {days})")
    p.add_argument("--start", help="first day, YYYY-MM-DD (with --end)")
    p.add_argument("--end", help="last day, YYYY-MM-DD (with --start)")


def _window(args: argparse.Namespace) -> dict[str, Any]:
    window: dict[str, Any] = {"days": args.days}
    if args.start or args.end:
        window.update(start=args.start, end=args.end)
    return window


def parse_where(items: Sequence[str]) -> list[dict[str, Any]]:
    """'prop=value' and 'prop!=value' into filters; repeats of one prop and op are OR-ed."""
    filters: dict[tuple[str, str], list[str]] = {}
    for item in items:
        op = "is not" if "!=" in item else "is"
        prop, sep, value = item.partition("!=" if op == "is not" else "=")
        if not sep or not prop.strip():
            raise ToolInputError(f"--where {item!r}: expected PROP=VALUE or PROP!=VALUE")
        filters.setdefault((prop.strip(), op), []).append(value.strip())
    return [{"prop": p, "op": o, "values": v} for (p, o), v in filters.items()]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return asyncio.run(run(args))
    except KeyboardInterrupt:
        return 130


async def run(args: argparse.Namespace) -> int:
    secrets: list[str] = []
    try:
        if args.command == "snippet":
            return show_snippet(args)
        if args.command == "instrument":
            async with cli_context() as ctx:
                return await instrument(ctx, args)
        async with cli_context() as ctx:
            skill = await open_skill(ctx)
            secrets = skill.secrets()
            try:
                return await dispatch(skill, args)
            finally:
                await skill.aclose()
    except SkillError as exc:
        return fail(exc.one_line(), secrets)
    except ToolInputError as exc:
        return fail(f"Amplitude: {exc}", secrets)
    except (ValueError, RuntimeError, OSError, sqlite3.Error) as exc:  # settings, secret key, database
        return fail(f"Amplitude: {exc}", secrets)
    except Exception as exc:  # one line, never a traceback
        return fail(f"Amplitude: unexpected {type(exc).__name__}: {exc}", secrets)


def fail(message: str, secrets: Sequence[str]) -> int:
    print(redact(" ".join(message.split()), secrets), file=sys.stderr)
    return 1


def show_snippet(args: argparse.Namespace) -> int:
    region = args.region or Settings.from_env().amplitude_region
    if args.json:
        print_json(snippet_data(region))
    else:
        print(snippet_text(region))
    return 0


async def dispatch(skill: AmplitudeSkill, args: argparse.Namespace) -> int:
    if args.command == "check":
        row = await skill.readiness()
        if args.json:
            print_json(_readiness_dict(row))
        else:
            print_readiness(row)
        return 0 if row.ready else 1
    _ = skill.client  # raises the one-line "not configured" SkillError before any work
    tools = {t.name: t for t in skill.tools()}
    if args.command == "list-events":
        result = await tools["list_events"].call({"name_contains": args.contains, "limit": args.limit})
        printer = print_events
    elif args.command == "query-events":
        arguments = {
            "event_type": args.event,
            **_window(args),
            "interval": args.interval,
            "metric": args.metric,
            "group_by": args.group_by,
            "filters": parse_where(args.where),
            "top": args.top,
        }
        result = await tools["query_events"].call(arguments)
        printer = print_series
    elif args.command == "get-user-activity":
        result = await tools["get_user_activity"].call({"user_id": args.user_id, "limit": args.limit})
        printer = print_activity
    else:
        result = await tools["get_chart_annotations"].call(_window(args))
        printer = print_annotations
    if args.json:
        print_json(result)
    else:
        printer(result)
    return 0


def _readiness_dict(row: Readiness) -> dict[str, Any]:
    data = dataclasses.asdict(row)
    data["status"] = str(row.status)
    return data


def print_readiness(row: Readiness) -> None:
    print(f"{row.integration}: {row.status}")
    if not row.ready and row.missing:
        print(f"  missing: {row.missing}")
    if row.detail:
        print(f"  {row.detail}")
    print(f"  next: {row.next_step}")


def _footer(result: dict[str, Any]) -> None:
    if result.get("hint"):
        print(("(truncated) " if result.get("truncated") else "") + result["hint"])
    print(f"Open in Amplitude: {result['link']}")


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.1f}%"


def print_events(result: dict[str, Any]) -> None:
    print(f"{result['count']} event types, {result['events_this_week']:,} events this week")
    print_table(result["event_types"], ["name", "totals"])
    _footer(result)


def print_series(result: dict[str, Any]) -> None:
    w, pw = result["window"], result["previous_window"]
    print(
        f"{result['event_type']}: {result['total']:,} {result['metric']} per {result['interval']}, "
        f"{w['start']} to {w['end']} (previous {pw['days']} days: {result['previous_total']:,}, "
        f"{_pct(result['change_pct'])})"
    )
    for f in result.get("filters", []):
        print(f"filter: {f['prop']} {f['op']} {', '.join(f['values'])}")
    if result.get("group_by"):
        rows = [{**r, "change": _pct(r["change_pct"])} for r in result["series"]]
        print_table(rows, ["label", "total", "previous_total", "change"])
    elif result["series"]:
        values = result["series"][0].get("values", [])
        metric = result["metric"]
        buckets = _buckets(result, len(values))
        print_table([{"bucket": x, metric: v} for x, v in zip(buckets, values, strict=False)], ["bucket", metric])
    if result.get("note"):
        print(f"note: {result['note']}")
    _footer(result)


def _buckets(result: dict[str, Any], count: int) -> list[str]:
    if "x_values" in result:
        return result["x_values"]
    try:
        first = datetime.fromisoformat(result["x_first"])
    except (KeyError, ValueError):
        return [str(i) for i in range(count)]
    return [(first + timedelta(hours=i)).strftime("%Y-%m-%d %H:00") for i in range(count)]


def print_activity(result: dict[str, Any]) -> None:
    if not result["found"]:
        print(f"No Amplitude user matches {result['user_id']!r}: {result['hint']}")
        print(f"Open in Amplitude: {result['link']}")
        return
    user = result["user"]
    facts = ", ".join(f"{k} {user[k]}" for k in ("first_used", "last_used", "platform", "country") if k in user)
    print(
        f"user {result['user_id']} (Amplitude id {result['amplitude_id']}): {result['count']} events shown"
        + (f"; {facts}" if facts else "")
    )
    rows = [{**e, "properties": ", ".join(f"{k}={v}" for k, v in e["properties"].items())} for e in result["events"]]
    print_table(rows, ["time", "event_type", "properties"])
    _footer(result)


def print_annotations(result: dict[str, Any]) -> None:
    w = result["window"]
    print(f"{result['count']} annotations, {w['start']} to {w['end']} (from {result['source']})")
    print_table(result["annotations"], ["start", "label", "category", "details"])
    _footer(result)
