r"""Documented answers the fake Grafana can give in place of evaluating a query: the rare but valid shapes of
Prometheus's and Loki's HTTP APIs, served through the data-source proxy exactly as the vendors write them.

    grafana.answer("/api/v1/query_range", matrix([series({"le": "+Inf"}, [(t, "NaN")])]))
    grafana.answer("/loki/api/v1/query_range", LOKI_SUCCESS_WITHOUT_DATA, query=r"^sum\(count_over_time")

Sources:
- Prometheus: https://prometheus.io/docs/prometheus/latest/querying/api/ ("Expression query result formats": a
  range query answers a matrix; an instant one a vector, a scalar `[<unix time>, "<value>"]` or a string; sample
  values are strings and may be "NaN", "+Inf" or "-Inf"; a series may carry no samples in the range).
- Loki: https://grafana.com/docs/loki/latest/reference/loki-http-api/ (query and query_range answer
  {"status": "success", "data": {"resultType": "vector" | "matrix" | "streams", "result": [...]}}; no streams
  is an empty result; a matrix series is {"metric": {...}, "values": [[<unix time>, "<value>"], ...]}).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from aiohttp import web


@dataclass
class Shape:
    """Answer requests whose path ends with `path` (and whose `query` parameter matches the regular expression
    `query`) with `body`."""

    path: str
    body: Any
    status: int = 200
    query: str = ""
    times: int | None = None  # None: every matching request

    def take(self, request: web.Request) -> web.Response | None:
        if self.times == 0 or not request.path.endswith(self.path):
            return None
        if self.query and re.search(self.query, request.query.get("query", "")) is None:
            return None
        if self.times is not None:
            self.times -= 1
        return web.json_response(self.body, status=self.status)


def answer(shapes: list[Shape], request: web.Request) -> web.Response | None:
    """The first shape that takes the request (the newest added wins), or None."""
    for shape in reversed(shapes):
        response = shape.take(request)
        if response is not None:
            return response
    return None


def success(data: Any) -> dict[str, Any]:
    return {"status": "success", "data": data}


def series(metric: dict[str, str], samples: list[tuple[float, str]]) -> dict[str, Any]:
    """One matrix series; its samples as Prometheus and Loki write them: [<unix time>, "<value string>"]."""
    return {"metric": dict(metric), "values": [[t, v] for t, v in samples]}


def matrix(result: list[dict[str, Any]]) -> dict[str, Any]:
    return success({"resultType": "matrix", "result": result})


def vector(result: list[tuple[dict[str, str], float, str]]) -> dict[str, Any]:
    return success({"resultType": "vector", "result": [{"metric": m, "value": [t, v]} for m, t, v in result]})


def scalar(at: float, value: str) -> dict[str, Any]:
    return success({"resultType": "scalar", "result": [at, value]})


def streams(result: list[dict[str, Any]]) -> dict[str, Any]:
    return success({"resultType": "streams", "result": result})


LOKI_SUCCESS_WITHOUT_DATA: dict[str, Any] = {"status": "success"}
NO_STREAMS = streams([])
EMPTY_MATRIX = matrix([])
SPECIAL_SAMPLES = ("NaN", "+Inf", "-Inf")
