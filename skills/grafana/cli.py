"""`python -m skills.grafana <command>`: readable tables by default, --json for scripts; errors are one line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from skills.base import ReadinessStatus, SkillError, redact
from skills.cli_support import cli_context, print_json, print_table
from skills.grafana.skill import GrafanaSkill, open_skill
from skills.grafana.timeutil import parse_duration

Handler = Callable[[GrafanaSkill, argparse.Namespace], Awaitable[int]]


def _duration(text: str) -> str:
    try:
        parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m skills.grafana", description="Grafana from the command line.")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=text, description=text, parents=[common])

    add("check", "diagnose the connection: token, Loki data source, whether logs are flowing")
    add("list-datasources", "data sources: name, type, UID")
    p = add("list-dashboards", "dashboards, optionally matching a title")
    p.add_argument("--query", default="", help="part of the title")
    p.add_argument("--limit", type=int, default=100)
    p = add("query-prometheus", "run PromQL (instant, or a range with --range)")
    p.add_argument("expr")
    p.add_argument("--range", type=_duration, help="e.g. 1h: a range query ending now")
    p.add_argument("--step", type=_duration, help="range step (widened to at most ~100 points)")
    p = add("query-loki", "run LogQL: log lines newest first, or numbers for a metric query")
    p.add_argument("query")
    p.add_argument("--since", type=_duration, default="1h")
    p.add_argument("--limit", type=int, default=100)
    p = add("labels", "Loki label names, or the values of one label")
    p.add_argument("name", nargs="?")
    p.add_argument("--since", type=_duration, default="1h")
    p = add("error-patterns", "error lines clustered into patterns with counts")
    p.add_argument("--since", type=_duration, default="12h")
    p.add_argument("--query", help='stream selector or log query, e.g. {source="lambda"}; default: every stream')
    p.add_argument("--top", type=int, default=20)
    add("get-alerts", "firing and pending Grafana-managed alerts")
    p = add("create-dashboard", "create (or update, same title) a dashboard from a template")
    p.add_argument("--title", required=True)
    p.add_argument("--template", default="vercel-overview.json")
    p.add_argument("--loki-uid")
    p.add_argument("--prometheus-uid")
    p.add_argument("--folder-uid")
    p.add_argument("--selector", help="Loki stream selector for the panels; default: discovered")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return asyncio.run(_run(args))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one line, never a traceback
        _fail(f"{type(exc).__name__}: {exc}" if not isinstance(exc, SkillError) else exc.one_line())
        return 1


async def _run(args: argparse.Namespace) -> int:
    async with cli_context() as ctx:
        skill = await open_skill(ctx)
        try:
            return await COMMANDS[args.command](skill, args)
        except SkillError as exc:
            _fail(redact(exc.one_line(), skill.secrets()))
            return 1
        finally:
            await skill.aclose()


def _fail(message: str) -> None:
    print("error: " + " ".join(message.split()), file=sys.stderr)


def _notes(result: dict[str, Any]) -> None:
    if result.get("hint"):
        print(f"note: {result['hint']}")
    if result.get("explore_url"):
        print(f"explore: {result['explore_url']}")


def labels_text(labels: dict[str, Any]) -> str:
    name = str(labels.get("__name__") or "")
    rest = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__")
    return f"{name}{{{rest}}}" if rest or not name else name


async def cmd_check(skill: GrafanaSkill, args: argparse.Namespace) -> int:
    info = await skill.check()
    row = info["readiness"]
    if args.json:
        print_json(info)
    else:
        print(f"Grafana: {row['status']}: {row['detail'] if row['status'] == 'ready' else row['missing']}")
        if row["status"] != "ready" and row["detail"]:
            print(f"  detail:    {row['detail']}")
        if row["next_step"]:
            print(f"  next step: {row['next_step']}")
        if info.get("version"):
            user = info.get("user") or {}
            who = " ".join(str(x) for x in (user.get("kind"), user.get("login")) if x) or "?"
            print(f"  grafana:   {info['version']} at {info['url']}, token is {who}")
            print(f"  loki uid:  {info.get('loki_uid') or '-'}; prometheus uid: {info.get('prometheus_uid') or '-'}")
    return 0 if row["status"] == ReadinessStatus.READY.value else 1


async def cmd_datasources(skill: GrafanaSkill, args: argparse.Namespace) -> int:
    rows = await skill.client.datasources()
    if args.json:
        print_json(rows)
    else:
        print_table(rows, ["name", "type", "uid", "default", "url"])
    return 0


async def cmd_dashboards(skill: GrafanaSkill, args: argparse.Namespace) -> int:
    result = await skill.client.search_dashboards(args.query, args.limit)
    if args.json:
        print_json(result)
        return 0
    print_table(result["dashboards"], ["title", "uid", "folder", "url"])
    _notes(result)
    return 0


def print_series(result: dict[str, Any]) -> None:
    if result.get("result_type") in ("scalar", "string"):
        print(f"value: {result.get('value')}")
    elif result.get("kind") == "instant" or result.get("result_type") == "vector":
        rows = [{"series": labels_text(s["labels"]), "value": s.get("value")} for s in result["series"]]
        print_table(rows, ["series", "value"])
    else:
        rows = [dict(s, series=labels_text(s["labels"])) for s in result["series"]]
        print_table(rows, ["series", "last", "min", "max", "avg", "points"])
    _notes(result)


async def cmd_prometheus(skill: GrafanaSkill, args: argparse.Namespace) -> int:
    result = await skill.client.query_prometheus(args.expr, since=args.range, step=args.step)
    if args.json:
        print_json(result)
    else:
        print_series(result)
    return 0


async def cmd_loki(skill: GrafanaSkill, args: argparse.Namespace) -> int:
    result = await skill.client.query_loki(args.query, args.since, limit=args.limit)
    if args.json:
        print_json(result)
    elif result.get("kind") == "metric":
        print_series(result)
    else:
        common = result.get("common_labels") or {}
        print(f"{result['lines_returned']} lines, newest first" + (f"; labels {labels_text(common)}" if common else ""))
        for line in result["lines"]:
            extra = f" {labels_text(line['labels'])}" if line.get("labels") else ""
            print(f"{line['time']}{extra}  {line['line']}")
        _notes(result)
    return 0


async def cmd_labels(skill: GrafanaSkill, args: argparse.Namespace) -> int:
    client = skill.client
    if args.name:
        result = await client.list_loki_label_values(args.name, args.since)
        key = "values"
    else:
        result = await client.list_loki_labels(args.since)
        key = "labels"
    if args.json:
        print_json(result)
        return 0
    print_table([{key[:-1]: v} for v in result[key]], [key[:-1]])
    _notes(result)
    return 0


async def cmd_patterns(skill: GrafanaSkill, args: argparse.Namespace) -> int:
    result = await skill.client.loki_error_patterns(args.query, args.since, top=args.top)
    if args.json:
        print_json(result)
        return 0
    print(f"{result.get('error_lines', 0)} error lines in the last {args.since}; query {result.get('query')}")
    for row in result["patterns"]:
        print(f"×{row['count']:<6} {row['pattern']}")
        if row.get("example") and row["example"] != row["pattern"]:
            print(f"        e.g. {row['example']}")
    _notes(result)
    return 0


async def cmd_alerts(skill: GrafanaSkill, args: argparse.Namespace) -> int:
    result = await skill.client.alerts()
    if args.json:
        print_json(result)
        return 0
    print(f"{result['firing']} firing, {result['pending']} pending of {result['rules_total']} rules")
    print_table(result["alerts"], ["state", "rule", "active_at", "instances", "summary"])
    _notes(result)
    return 0


async def cmd_create(skill: GrafanaSkill, args: argparse.Namespace) -> int:
    result = await skill.client.create_dashboard(
        args.title,
        args.template,
        loki_uid=args.loki_uid,
        prometheus_uid=args.prometheus_uid,
        folder_uid=args.folder_uid,
        selector=args.selector,
    )
    if args.json:
        print_json(result)
        return 0
    print(
        f'{result["status"].capitalize()} dashboard "{result["title"]}" (uid {result["uid"]}, '
        f"version {result['version']}): {result['url']}"
    )
    if result.get("selector"):
        print(f"log selector: {result['selector']}")
    print_table(result["panels"], ["title", "type", "datasource_uid"])
    return 0


COMMANDS: dict[str, Handler] = {
    "check": cmd_check,
    "list-datasources": cmd_datasources,
    "list-dashboards": cmd_dashboards,
    "query-prometheus": cmd_prometheus,
    "query-loki": cmd_loki,
    "labels": cmd_labels,
    "error-patterns": cmd_patterns,
    "get-alerts": cmd_alerts,
    "create-dashboard": cmd_create,
}
