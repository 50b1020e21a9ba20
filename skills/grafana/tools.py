"""The agent's Grafana tools: each handler declared beside its parameter model (skills/grafana/params.py) and
read-only hint; results are plain data, bounded to ~8 KB."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from skills.base import Tool, ToolSpec
from skills.grafana import metric_search, subjects
from skills.grafana.params import (
    CreateDashboard,
    FindMetrics,
    GetDashboard,
    ListDatasources,
    ListLabelValues,
    ListLokiLabels,
    ListLokiLabelValues,
    ListMetricNames,
    LokiErrorPatterns,
    NoParams,
    QueryLoki,
    QueryPrometheus,
    ResolveSubject,
    SearchDashboards,
)
from skills.results import bounded

if TYPE_CHECKING:
    from skills.grafana.client import GrafanaClient

KINDS = {
    "service": ("service_name", "app", "job"),
    "app": ("app", "service_name"),
    "pod": ("pod",),
    "namespace": ("namespace",),
    "container": ("container",),
    "job": ("job",),
}


class ToolHost(Protocol):
    """What the tools need of GrafanaSkill (skill.py builds them, so they do not import it back)."""

    @property
    def client(self) -> GrafanaClient: ...

    async def check(self) -> dict[str, Any]: ...


async def check(skill: ToolHost, _: NoParams) -> dict[str, Any]:
    return await skill.check()


async def list_datasources(skill: ToolHost, p: ListDatasources) -> dict[str, Any]:
    rows = await skill.client.datasources(p.type)
    if not rows:
        what = "no data sources" + (f" of type {p.type}" if p.type else "")
        return {"datasources": [], "total": 0, "empty": True, "hint": f"{what}; add them in Grafana"}
    return bounded({"total": len(rows)}, "datasources", rows, hint="too many to show: pass a type")


async def search_dashboards(skill: ToolHost, p: SearchDashboards) -> Any:
    return await skill.client.search_dashboards(p.query, p.limit)


async def get_dashboard(skill: ToolHost, p: GetDashboard) -> Any:
    return await skill.client.get_dashboard(p.uid)


async def query_prometheus(skill: ToolHost, p: QueryPrometheus) -> dict[str, Any]:
    since = p.since if p.start is None else None
    return await skill.client.query_prometheus(
        p.expr, start=p.start, end=p.end, since=since, step=p.step, uid=p.datasource_uid
    )


async def list_metric_names(skill: ToolHost, p: ListMetricNames) -> Any:
    return await skill.client.list_metric_names(p.search, uid=p.datasource_uid)


async def list_label_values(skill: ToolHost, p: ListLabelValues) -> Any:
    return await skill.client.list_label_values(p.label, p.match, uid=p.datasource_uid)


async def query_loki(skill: ToolHost, p: QueryLoki) -> dict[str, Any]:
    since = p.since if p.start is None else None
    return await skill.client.query_loki(
        p.query,
        since,
        start=p.start,
        end=p.end,
        limit=p.limit,
        direction=p.direction,
        step=p.step,
        uid=p.datasource_uid,
    )


async def list_loki_labels(skill: ToolHost, p: ListLokiLabels) -> Any:
    return await skill.client.list_loki_labels(p.since, uid=p.datasource_uid)


async def list_loki_label_values(skill: ToolHost, p: ListLokiLabelValues) -> Any:
    return await skill.client.list_loki_label_values(p.label, p.since, p.selector, uid=p.datasource_uid)


async def error_patterns(skill: ToolHost, p: LokiErrorPatterns) -> dict[str, Any]:
    return await skill.client.loki_error_patterns(
        p.query, p.since, start=p.start, end=p.end, top=p.top, uid=p.datasource_uid
    )


async def get_alerts(skill: ToolHost, _: NoParams) -> Any:
    return await skill.client.alerts()


async def resolve_subject(skill: ToolHost, p: ResolveSubject) -> dict[str, Any]:
    prefer = KINDS.get(p.kind.lower(), (p.kind,)) if p.kind else ()
    return await subjects.resolve(skill.client, p.name, since=p.since, start=p.start, end=p.end, prefer=prefer)


async def find_metrics(skill: ToolHost, p: FindMetrics) -> dict[str, Any]:
    return await metric_search.find(skill.client, p.keyword, limit=p.limit, uid=p.datasource_uid)


async def create_dashboard(skill: ToolHost, p: CreateDashboard) -> dict[str, Any]:
    return await skill.client.create_dashboard(
        p.title,
        p.template,
        loki_uid=p.loki_uid,
        prometheus_uid=p.prometheus_uid,
        folder_uid=p.folder_uid,
        selector=p.selector,
    )


TOOLS: tuple[ToolSpec[ToolHost], ...] = (
    ToolSpec(
        "check",
        "Is Grafana reachable and ready: version, who the token is, data sources, whether logs "
        "are flowing (with the next step when not). Use first when other Grafana tools fail.",
        NoParams,
        check,
    ),
    ToolSpec(
        "list_datasources",
        "Grafana data sources as id, uid, name, type, default. Use to find the UID of "
        "the Loki or Prometheus data source for the other tools.",
        ListDatasources,
        list_datasources,
    ),
    ToolSpec(
        "search_dashboards",
        "Find dashboards by title: uid, title, folder, tags, url.",
        SearchDashboards,
        search_dashboards,
    ),
    ToolSpec(
        "get_dashboard",
        "One dashboard summarised: its panels with their queries and data sources, and its "
        "variables (not the raw JSON). Get the uid from search_dashboards.",
        GetDashboard,
        get_dashboard,
    ),
    ToolSpec(
        "query_prometheus",
        "Run PromQL. Without since: an instant query (value per series now). With since: a "
        "range query summarised per series (last, min, max, avg; values when few). Results carry an "
        "explore_url to cite. Use list_metric_names and list_label_values first instead of guessing names.",
        QueryPrometheus,
        query_prometheus,
    ),
    ToolSpec(
        "list_metric_names",
        "Prometheus metric names, optionally filtered by a substring.",
        ListMetricNames,
        list_metric_names,
    ),
    ToolSpec(
        "list_label_values",
        "Prometheus label names (no label given) or the values of one label, optionally "
        "only on series matching a selector.",
        ListLabelValues,
        list_label_values,
    ),
    ToolSpec(
        "query_loki",
        "Run LogQL over the logs (the Vercel log drain). A log query returns lines newest first "
        "(limit default 100); a metric query (count_over_time, rate, sum by) returns numbers per series. "
        "Results carry an explore_url. Call list_loki_labels first: never guess labels. For 'what errors "
        "are happening' prefer loki_error_patterns.",
        QueryLoki,
        query_loki,
    ),
    ToolSpec(
        "list_loki_labels",
        "Loki label names seen in a recent range: what a stream selector can use.",
        ListLokiLabels,
        list_loki_labels,
    ),
    ToolSpec(
        "list_loki_label_values",
        "Values of one Loki label in a recent range, e.g. the sources or hosts.",
        ListLokiLabelValues,
        list_loki_label_values,
    ),
    ToolSpec(
        "loki_error_patterns",
        "Summarise errors: error-ish log lines (error, exception, fail, timeout, 5xx) "
        "clustered into templates with variable parts as <*> (Loki's own patterns where its samples cover the "
        "range), each "
        "with its count over the whole range, most frequent first. The best first call for 'what is failing'.",
        LokiErrorPatterns,
        error_patterns,
    ),
    ToolSpec(
        "get_alerts",
        "Firing and pending Grafana-managed alerts with their rule, labels, summary, since when, and query.",
        NoParams,
        get_alerts,
    ),
    ToolSpec(
        "resolve_subject",
        "Which label values carry a name from the question (a service, app, pod, namespace): Loki and "
        "Prometheus workload labels (service_name, app, job, namespace, pod, container, source) are listed "
        "and matched. Returns the Loki selector and the PromQL matcher to scope queries with, or found=false: "
        "then say the name matched nothing instead of widening silently. Call it before any scoped query.",
        ResolveSubject,
        resolve_subject,
    ),
    ToolSpec(
        "find_metrics",
        "Prometheus metrics whose name or help text mentions a keyword (cpu, memory, lag, queue, "
        "connections, restarts…), each with its type (counter, gauge, histogram) and help text. Use before "
        "writing PromQL for a general metrics question: rate() counters, read gauges as they are.",
        FindMetrics,
        find_metrics,
    ),
    ToolSpec(
        "create_dashboard",
        "Create a dashboard from a template (default vercel-overview.json: Error Count, "
        "Error Rate, Log Stream, Request Summary over Loki) with the instance's real data-source UIDs. A "
        "dashboard with the same title is updated, not copied. Changes Grafana.",
        CreateDashboard,
        create_dashboard,
        read_only=False,
    ),
)


def build_tools(skill: ToolHost) -> list[Tool]:
    """The Grafana tools, bound to one skill (its client is read at each call)."""
    return [spec.bind("grafana", skill) for spec in TOOLS]
