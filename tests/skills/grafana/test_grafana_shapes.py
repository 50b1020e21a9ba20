"""The agent's Prometheus and Loki tools read every documented answer shape (tests/fakes/grafana_shapes.py): a
scalar, an empty result, series without samples, "NaN"/"+Inf"/"-Inf" samples, {"status": "success"} without data,
no streams. A number is a number or says what it is (the string), never a crash or an invented value."""

from __future__ import annotations

import json
import math
import time
from typing import Any

import pytest

from skills.base import SkillError
from skills.grafana.client import GrafanaClient
from tests.fakes import grafana_shapes as gs
from tests.fakes.grafana import FakeGrafana

NOW = time.time()
SHAPES: dict[str, Any] = {
    "scalar": gs.scalar(NOW, "42"),
    "NaN scalar": gs.scalar(NOW, "NaN"),
    "empty vector": gs.vector([]),
    "special samples": gs.vector([({"job": "a"}, NOW, s) for s in gs.SPECIAL_SAMPLES]),
    "empty matrix": gs.EMPTY_MATRIX,
    "series without samples": gs.matrix([gs.series({"job": "a"}, [])]),
    "special matrix": gs.matrix([gs.series({"job": "a"}, [(NOW - 60, "+Inf"), (NOW, "NaN")])]),
}


def numbers_ok(value: Any) -> bool:
    """Every number in the result is finite (a non-finite sample stays its string), and it is valid JSON."""
    json.dumps(value, allow_nan=False)
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(numbers_ok(v) for v in value.values())
    if isinstance(value, list):
        return all(numbers_ok(v) for v in value)
    return True


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("kind", ["instant", "range"])
async def test_prometheus_answers_of_every_documented_shape(
    grafana: FakeGrafana, client: GrafanaClient, shape: str, kind: str
) -> None:
    grafana.answer("/api/v1/query" if kind == "instant" else "/api/v1/query_range", SHAPES[shape])
    result = await client.query_prometheus("up", since=None if kind == "instant" else "1h")
    assert numbers_ok(result), result
    if shape == "scalar":
        assert result["result_type"] == "scalar" and result["value"] == 42
    if shape == "NaN scalar":
        assert result["value"] == "NaN"
    if shape in ("empty vector", "empty matrix"):
        assert result["series_total"] == 0 and result["empty"] is True


@pytest.mark.parametrize(
    "body", [gs.LOKI_SUCCESS_WITHOUT_DATA, gs.NO_STREAMS, gs.matrix([gs.series({}, [])]), gs.EMPTY_MATRIX]
)
async def test_loki_answers_of_every_documented_shape(grafana: FakeGrafana, client: GrafanaClient, body: Any) -> None:
    grafana.answer("/loki/api/v1/query_range", body)
    if "data" not in body:  # {"status": "success"} alone: said plainly, not a KeyError
        with pytest.raises(SkillError) as caught:
            await client.query_loki('{source="lambda"}')
        assert "without a data object" in caught.value.message
        return
    result = await client.query_loki('{source="lambda"}')
    assert numbers_ok(result) and result.get("empty") is True, result
