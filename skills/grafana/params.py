"""The Grafana tools' parameter models: what the model may pass, validated before a handler runs."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from skills.grafana.loki import DEFAULT_LIMIT
from skills.grafana.timeutil import check_duration, to_datetime

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
