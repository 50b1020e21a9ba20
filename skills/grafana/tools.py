"""The Grafana tools offered to the model: each a name, a description for the model, typed parameters, a handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

from skills.base import Tool, bounded
from skills.grafana import metric_search, subjects
from skills.grafana.loki import DEFAULT_LIMIT
from skills.grafana.timeutil import check_duration, to_datetime

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
UID = "Data source UID; omit to use the team's default (list_datasources shows the UIDs)"


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Since(_Params):
    @field_validator("since", "step", check_fields=False)
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        return check_duration(value)


START = "Range start, RFC 3339 (e.g. 2026-08-02T13:15:00Z); with end, instead of since"
END = "Range end, RFC 3339; default now"


class _Range(_Since):
    start: str | None = Field(None, description=START)
    end: str | None = Field(None, description=END)

    @field_validator("start", "end")
    @classmethod
    def _time(cls, value: str | None) -> str | None:
        if value is not None:
            to_datetime(value)
        return value


class NoParams(_Params):
    pass


class ListDatasources(_Params):
    type: str | None = Field(None, description="Only this type, e.g. loki or prometheus")


class SearchDashboards(_Params):
    query: str = Field("", description="Part of the dashboard title; empty lists all")
    limit: int = Field(50, ge=1, le=500)


class GetDashboard(_Params):
    uid: str = Field(..., min_length=1, description="Dashboard UID from search_dashboards")


class QueryPrometheus(_Range):
    expr: str = Field(..., min_length=1, description="PromQL, e.g. sum by (job) (rate(http_requests_total[5m]))")
    since: str | None = Field(None, description="Range ending now, e.g. 1h or 24h; omit for an instant query (now)")
    step: str | None = Field(None, description="Range step, e.g. 1m; widened so the range has at most ~100 points")
    datasource_uid: str | None = Field(None, description=UID)


class ListMetricNames(_Params):
    search: str | None = Field(None, description="Case-insensitive part of the name (or a regex), e.g. http_request")
    datasource_uid: str | None = Field(None, description=UID)


class ListLabelValues(_Params):
    label: str | None = Field(None, description="Label name, e.g. job; omit to list the label names")
    match: str | None = Field(None, description='Only series matching this selector, e.g. up{job="api"}')
    datasource_uid: str | None = Field(None, description=UID)


class QueryLoki(_Range):
    query: str = Field(
        ...,
        min_length=1,
        description='LogQL: a log query like {source="lambda"} |= "error", or a metric query like '
        'sum by (level) (count_over_time({source="lambda"}[5m]))',
    )
    since: str = Field("1h", description="Range ending now, e.g. 15m, 1h, 24h")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=1000, description="Most log lines to return (newest first)")
    direction: Literal["backward", "forward"] = Field("backward", description="backward = newest first")
    step: str | None = Field(
        None, description="Metric query resolution, e.g. 10m; widened so the range has at most ~100 points"
    )
    datasource_uid: str | None = Field(None, description=UID)


class ListLokiLabels(_Since):
    since: str = Field("1h", description="Look at streams of this recent range")
    datasource_uid: str | None = Field(None, description=UID)


class ListLokiLabelValues(_Since):
    label: str = Field(..., min_length=1, description="Label name from list_loki_labels")
    since: str = Field("1h", description="Look at streams of this recent range")
    selector: str | None = Field(None, description='Only streams matching this selector, e.g. {source="lambda"}')
    datasource_uid: str | None = Field(None, description=UID)


class LokiErrorPatterns(_Range):
    query: str | None = Field(
        None,
        description="Stream selector (error filter added) or a full log query; omit to scan every stream",
    )
    since: str = Field("12h", description="Range ending now")
    top: int = Field(20, ge=1, le=50, description="Most patterns to return")
    datasource_uid: str | None = Field(None, description=UID)


class ResolveSubject(_Range):
    name: str = Field(..., min_length=2, max_length=200, description="A service, app, pod or namespace name as asked")
    since: str = Field("24h", description="Look at streams and series of this recent range")
    kind: str | None = Field(None, description="Preferred label when the question says, e.g. pod or namespace")


class FindMetrics(_Params):
    keyword: str = Field(..., min_length=2, max_length=100, description="e.g. cpu, memory, lag, queue, restarts")
    limit: int = Field(30, ge=1, le=100)
    datasource_uid: str | None = Field(None, description=UID)


class CreateDashboard(_Params):
    title: str = Field(..., min_length=1, max_length=200, description="Dashboard title; an existing one is updated")
    template: str = Field("vercel-overview.json", description="Template file name in skills/grafana/templates")
    loki_uid: str | None = Field(None, description="Loki data source UID; omit to use the default Loki")
    prometheus_uid: str | None = Field(None, description="Prometheus data source UID, if the template needs one")
    folder_uid: str | None = Field(None, description="Folder UID; omit for the General folder")
    selector: str | None = Field(None, description="Loki stream selector for the panels; omit to discover one")


class ToolHost(Protocol):
    """What the tools need of GrafanaSkill (skill.py builds them, so they do not import it back)."""

    @property
    def client(self) -> GrafanaClient: ...

    async def check(self) -> dict[str, Any]: ...


def build_tools(skill: ToolHost) -> list[Tool]:
    def c() -> GrafanaClient:
        return skill.client

    def tool(
        name: str,
        description: str,
        params: type[BaseModel],
        handler: Callable[[Any], Awaitable[Any]],
        read_only: bool = True,
    ) -> Tool:
        return Tool(name, description, params, handler, skill="grafana", read_only=read_only)

    async def check(_: NoParams) -> dict[str, Any]:
        return await skill.check()

    async def list_datasources(p: ListDatasources) -> dict[str, Any]:
        rows = await c().datasources(p.type)
        if not rows:
            what = "no data sources" + (f" of type {p.type}" if p.type else "")
            return {"datasources": [], "total": 0, "empty": True, "hint": f"{what}; add them in Grafana"}
        return bounded({"total": len(rows)}, "datasources", rows, hint="too many to show: pass a type")

    async def query_prometheus(p: QueryPrometheus) -> dict[str, Any]:
        since = p.since if p.start is None else None
        return await c().query_prometheus(
            p.expr, start=p.start, end=p.end, since=since, step=p.step, uid=p.datasource_uid
        )

    async def query_loki(p: QueryLoki) -> dict[str, Any]:
        since = p.since if p.start is None else None
        return await c().query_loki(
            p.query,
            since,
            start=p.start,
            end=p.end,
            limit=p.limit,
            direction=p.direction,
            step=p.step,
            uid=p.datasource_uid,
        )

    async def error_patterns(p: LokiErrorPatterns) -> dict[str, Any]:
        return await c().loki_error_patterns(
            p.query, p.since, start=p.start, end=p.end, top=p.top, uid=p.datasource_uid
        )

    async def resolve_subject(p: ResolveSubject) -> dict[str, Any]:
        prefer = KINDS.get(p.kind.lower(), (p.kind,)) if p.kind else ()
        return await subjects.resolve(c(), p.name, since=p.since, start=p.start, end=p.end, prefer=prefer)

    async def find_metrics(p: FindMetrics) -> dict[str, Any]:
        return await metric_search.find(c(), p.keyword, limit=p.limit, uid=p.datasource_uid)

    async def create(p: CreateDashboard) -> dict[str, Any]:
        return await c().create_dashboard(
            p.title,
            p.template,
            loki_uid=p.loki_uid,
            prometheus_uid=p.prometheus_uid,
            folder_uid=p.folder_uid,
            selector=p.selector,
        )

    return [
        tool(
            "check",
            "Is Grafana reachable and ready: version, who the token is, data sources, whether logs "
            "are flowing (with the next step when not). Use first when other Grafana tools fail.",
            NoParams,
            check,
        ),
        tool(
            "list_datasources",
            "Grafana data sources as id, uid, name, type, default. Use to find the UID of "
            "the Loki or Prometheus data source for the other tools.",
            ListDatasources,
            list_datasources,
        ),
        tool(
            "search_dashboards",
            "Find dashboards by title: uid, title, folder, tags, url.",
            SearchDashboards,
            lambda p: c().search_dashboards(p.query, p.limit),
        ),
        tool(
            "get_dashboard",
            "One dashboard summarised: its panels with their queries and data sources, and its "
            "variables (not the raw JSON). Get the uid from search_dashboards.",
            GetDashboard,
            lambda p: c().get_dashboard(p.uid),
        ),
        tool(
            "query_prometheus",
            "Run PromQL. Without since: an instant query (value per series now). With since: a "
            "range query summarised per series (last, min, max, avg; values when few). Results carry an "
            "explore_url to cite. Use list_metric_names and list_label_values first instead of guessing names.",
            QueryPrometheus,
            query_prometheus,
        ),
        tool(
            "list_metric_names",
            "Prometheus metric names, optionally filtered by a substring.",
            ListMetricNames,
            lambda p: c().list_metric_names(p.search, uid=p.datasource_uid),
        ),
        tool(
            "list_label_values",
            "Prometheus label names (no label given) or the values of one label, optionally "
            "only on series matching a selector.",
            ListLabelValues,
            lambda p: c().list_label_values(p.label, p.match, uid=p.datasource_uid),
        ),
        tool(
            "query_loki",
            "Run LogQL over the logs (the Vercel log drain). A log query returns lines newest first "
            "(limit default 100); a metric query (count_over_time, rate, sum by) returns numbers per series. "
            "Results carry an explore_url. Call list_loki_labels first: never guess labels. For 'what errors "
            "are happening' prefer loki_error_patterns.",
            QueryLoki,
            query_loki,
        ),
        tool(
            "list_loki_labels",
            "Loki label names seen in a recent range: what a stream selector can use.",
            ListLokiLabels,
            lambda p: c().list_loki_labels(p.since, uid=p.datasource_uid),
        ),
        tool(
            "list_loki_label_values",
            "Values of one Loki label in a recent range, e.g. the sources or hosts.",
            ListLokiLabelValues,
            lambda p: c().list_loki_label_values(p.label, p.since, p.selector, uid=p.datasource_uid),
        ),
        tool(
            "loki_error_patterns",
            "Summarise errors: error-ish log lines (error, exception, fail, timeout, 5xx) "
            "clustered into templates with variable parts as <*> (Loki's own patterns where its samples cover the "
            "range), each "
            "with its count over the whole range, most frequent first. The best first call for 'what is failing'.",
            LokiErrorPatterns,
            error_patterns,
        ),
        tool(
            "get_alerts",
            "Firing and pending Grafana-managed alerts with their rule, labels, summary, since when, and query.",
            NoParams,
            lambda _: c().alerts(),
        ),
        tool(
            "resolve_subject",
            "Which label values carry a name from the question (a service, app, pod, namespace): Loki and "
            "Prometheus workload labels (service_name, app, job, namespace, pod, container, source) are listed "
            "and matched. Returns the Loki selector and the PromQL matcher to scope queries with, or found=false: "
            "then say the name matched nothing instead of widening silently. Call it before any scoped query.",
            ResolveSubject,
            resolve_subject,
        ),
        tool(
            "find_metrics",
            "Prometheus metrics whose name or help text mentions a keyword (cpu, memory, lag, queue, "
            "connections, restarts…), each with its type (counter, gauge, histogram) and help text. Use before "
            "writing PromQL for a general metrics question: rate() counters, read gauges as they are.",
            FindMetrics,
            find_metrics,
        ),
        tool(
            "create_dashboard",
            "Create a dashboard from a template (default vercel-overview.json: Error Count, "
            "Error Rate, Log Stream, Request Summary over Loki) with the instance's real data-source UIDs. A "
            "dashboard with the same title is updated, not copied. Changes Grafana.",
            CreateDashboard,
            create,
            read_only=False,
        ),
    ]
