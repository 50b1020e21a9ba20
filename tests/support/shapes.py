"""Hypothesis strategies for the answers the vendors document, empty and odd ones included, and a World that has the
fake Grafana (Prometheus, Loki, alerting) and the fake Amplitude give them to the report.

Amplitude (https://amplitude.com/docs/apis/analytics/dashboard-rest, event segmentation): `series` (one list of
values per series, values may be null), `seriesLabels` (strings, integers, `[<segment index>, "<value>"]`, "(none)"
for events without the grouped property; empty or shorter than `series`), `seriesCollapsed`, `seriesMeta` (for a
second event, `eventIndex`), `xValues`. Prometheus and Loki: tests/fakes/grafana_shapes.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from hypothesis import strategies as st

from tests.fakes import grafana_shapes as gs
from tests.fakes.amplitude import FakeAmplitude
from tests.fakes.grafana import FakeGrafana, default_datasources

NATURAL = "natural"  # the double evaluates the request from its data, as the vendor would

# -- Amplitude ---------------------------------------------------------------------------------------------

LABEL_TEXT = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJ/_-.: ", min_size=0, max_size=14)
labels = st.one_of(
    LABEL_TEXT,
    st.integers(-3, 2000),
    st.none(),
    st.just("(none)"),
    st.tuples(st.just(0), st.one_of(LABEL_TEXT, st.none(), st.just("(none)"))).map(list),
)
values = st.one_of(st.none(), st.integers(0, 5000), st.floats(0, 5000, allow_nan=False))


@st.composite
def segmentation(draw: st.DrawFn, days: list[str], *, events: int) -> dict[str, Any]:
    """One segmentation answer of `events` events (2: `e` and `e2`), in the documented structure."""
    count = draw(st.integers(0, 4))
    xs = draw(st.sampled_from([days, days, []]))
    series = [draw(st.lists(values, max_size=len(days))) for _ in range(count)]
    label_list = [draw(labels) for _ in range(count)]
    label_list = label_list[: draw(st.sampled_from([count, count, 0, max(0, count - 1)]))]  # [] and short ones too
    owners = [draw(st.integers(0, events - 1)) for _ in range(count)]
    data: dict[str, Any] = {
        "series": series,
        "seriesLabels": label_list,
        "seriesCollapsed": [[{"setId": "", "value": draw(st.one_of(st.none(), st.integers(0, 9999)))}] for _ in series],
        "xValues": xs,
    }
    if draw(st.booleans()):
        data["seriesMeta"] = [{"segmentIndex": 0, "eventIndex": owner} for owner in owners]
    return {"data": data}


# -- Grafana, Prometheus, Loki -----------------------------------------------------------------------------

times = st.floats(1.0e9, 2.0e9, allow_nan=False)
samples = st.lists(
    st.tuples(times, st.one_of(st.sampled_from(gs.SPECIAL_SAMPLES), st.integers(0, 10**6).map(str))), max_size=4
)
matrices = st.lists(
    st.builds(gs.series, st.fixed_dictionaries({}, optional={"le": st.sampled_from(["0.1", "1", "+Inf"])}), samples),
    max_size=3,
).map(gs.matrix)
loki_counts = st.one_of(
    st.just(NATURAL),
    st.just(gs.EMPTY_MATRIX),
    st.just(gs.LOKI_SUCCESS_WITHOUT_DATA),
    st.just(gs.matrix([gs.series({}, [])])),  # a matrix without values
    matrices,
)
loki_lines = st.sampled_from([NATURAL, gs.NO_STREAMS, gs.LOKI_SUCCESS_WITHOUT_DATA, gs.EMPTY_MATRIX])
label_lists = st.sampled_from([NATURAL, gs.success([]), gs.LOKI_SUCCESS_WITHOUT_DATA])
histograms = st.one_of(st.just(NATURAL), st.just(gs.EMPTY_MATRIX), matrices, times.map(lambda t: gs.scalar(t, "1")))
pattern_answers = st.sampled_from([NATURAL, "off", gs.success([])]) | st.lists(
    st.fixed_dictionaries(
        {"pattern": st.sampled_from(["level=error msg=<_>", "timeout <_>", ""]), "samples": samples.map(list)}
    ),
    max_size=2,
).map(gs.success)
# Which data sources Grafana has: both, one, none, or one removed after sitrep looked them up (while running).
DATASOURCES = ["both", "no prometheus", "no loki", "none", "prometheus removed", "loki removed"]


@dataclass
class World:
    """One draw of everything the report's upstreams answer."""

    datasources: str = "both"
    alert_rules: bool = True
    loki_labels: Any = NATURAL
    metric_names: Any = NATURAL
    counts: Any = NATURAL
    five_xx: Any = NATURAL
    lines: Any = NATURAL
    patterns: Any = NATURAL
    histogram: Any = NATURAL
    amplitude: dict[tuple[str, bool], Any] = field(default_factory=dict)  # (event, grouped) -> answer

    def grafana_before(self, grafana: FakeGrafana) -> None:
        """The double as it is when sitrep first looks (a data source "removed" is still there)."""
        grafana.shapes.clear()
        grafana.datasources = [d for d in default_datasources() if self._kept(d["type"], removed_too=False)]
        grafana.loki_patterns = self.patterns != "off"
        if not self.alert_rules:
            grafana.alert_groups = []
        for path, query, answer in (
            ("/loki/api/v1/labels", "", self.loki_labels),
            ("/api/v1/label/__name__/values", "", self.metric_names),
            ("/loki/api/v1/query_range", r"^\{", self.lines),
            ("/loki/api/v1/query_range", r"^sum\(count_over_time", self.counts),
            ("/loki/api/v1/query_range", r"5\\d\\d", self.five_xx),
            ("/api/v1/query_range", "", self.histogram),
            ("/loki/api/v1/patterns", "", self.patterns if self.patterns != "off" else NATURAL),
        ):
            if answer != NATURAL:
                grafana.answer(path, answer, query=query)

    def grafana_after(self, grafana: FakeGrafana) -> None:
        """The double when the report runs: a data source removed while sitrep ran is gone now."""
        grafana.datasources = [d for d in grafana.datasources if self._kept(d["type"], removed_too=True)]

    def _kept(self, kind: str, *, removed_too: bool) -> bool:
        gone = {"no prometheus": "prometheus", "no loki": "loki", "none": "*"}.get(self.datasources)
        if removed_too and self.datasources.endswith("removed"):
            gone = self.datasources.split()[0]
        return gone not in (kind, "*")

    def amplitude_answers(self, amp: FakeAmplitude) -> None:
        amp.answers.clear()
        for (event, grouped), body in self.amplitude.items():
            if body != NATURAL:
                amp.answer(body, event=event, grouped=grouped)


def days_of(today: date) -> list[str]:
    return [str(today - timedelta(days=13 - i)) for i in range(14)]


@st.composite
def worlds(draw: st.DrawFn, today: date) -> World:
    days = days_of(today)
    amplitude = {
        ("Agent Started", False): draw(st.just(NATURAL) | segmentation(days, events=2)),
        ("Agent Failed", False): draw(st.just(NATURAL) | segmentation(days, events=2)),
        ("Agent Failed", True): draw(st.just(NATURAL) | segmentation(days, events=1)),
        ("API Error", True): draw(st.just(NATURAL) | segmentation(days, events=1)),
    }
    return World(
        datasources=draw(st.sampled_from(DATASOURCES)),
        alert_rules=draw(st.booleans()),
        loki_labels=draw(label_lists),
        metric_names=draw(label_lists),
        counts=draw(loki_counts),
        five_xx=draw(loki_counts),
        lines=draw(loki_lines),
        patterns=draw(pattern_answers),
        histogram=draw(histograms),
        amplitude=amplitude,
    )
