"""What a question is about, read without any upstream: names, codes, paths, terms, PromQL, grouping, outside
systems, and the line filters they become."""

from __future__ import annotations

import pytest

from agent.rules.subject import describe_filters, line_filters, subject_of


@pytest.mark.parametrize(
    ("question", "names"),
    [
        ("Troubleshoot 503 errors in the api-server service", ("api-server",)),
        ("Find 'query failed' in the logs of checkout", ("checkout",)),
        ("why did the front-end stop working?", ("front-end",)),
        ("were there issues with the scheduler?", ("scheduler",)),
        ("payments had problems this morning, what happened?", ("payments",)),
        ("memory usage of robusta-runner over the last 24 hours", ("robusta-runner",)),
        ("logs for pod checkout-7d9f8-abcde", ("checkout-7d9f8-abcde",)),
        ("how much memory does the scheduler use?", ("scheduler",)),
        ("show error logs from the last 15 minutes", ()),
        ("what's the error rate?", ()),
        ("why are agents failing since this morning?", ()),
        ("any 5xx in the last 500 lines", ()),
    ],
)
def test_names(question: str, names: tuple[str, ...]) -> None:
    assert subject_of(question).names == names


def test_codes_paths_terms_and_their_filters() -> None:
    s = subject_of("""any 5xx or 404 on /api/orders with "Deadline exceeded" in the last 500 lines?""")
    assert s.codes == ("5xx", "404") and s.paths == ("/api/orders",) and s.terms == ("Deadline exceeded",)
    assert line_filters(s) == [
        "|~ `\\b5\\d\\d\\b`",
        "|~ `\\b404\\b`",
        "|= `/api/orders`",
        "|~ `(?i)Deadline exceeded`",
    ]
    assert describe_filters(s) == 'with 5xx, 404, /api/orders and "Deadline exceeded"'
    assert subject_of("p95 over 500 ms for 30 minutes").codes == ()
    assert subject_of("a term with (parens) and a.dot: 'a.b (c)'").terms == ("a.b (c)",)
    assert line_filters(subject_of("find 'a.b (c)'")) == ["|~ `(?i)a\\.b \\(c\\)`"]


def test_backticks_hold_promql_or_a_term() -> None:
    assert subject_of("run `sum by (pod) (rate(x_total[5m]))`").promql == "sum by (pod) (rate(x_total[5m]))"
    assert subject_of("graph `container_memory_working_set_bytes`").promql == "container_memory_working_set_bytes"
    plain = subject_of("grep `timeout` in the logs")
    assert plain.promql is None and plain.terms == ("timeout",)


@pytest.mark.parametrize(
    ("question", "system"),
    [
        ("my AWS Lambda has high latency", "AWS Lambda"),
        ("is our RDS database slow?", "AWS RDS"),
        ("BigQuery job failures yesterday", "GCP BigQuery"),
        ("what does datadog say about checkout?", "Datadog"),
        ("lambda errors today", None),  # Vercel's functions are source=lambda in the drain
        ("errors in checkout", None),
    ],
)
def test_outside_systems(question: str, system: str | None) -> None:
    assert subject_of(question).external == system


def test_grouping() -> None:
    assert subject_of("Show me CPU per namespace").group_by == "namespace"
    assert subject_of("which pods restarted the most").group_by == "pod"
    assert subject_of("memory by container").group_by == "container"
    assert subject_of("memory of checkout").group_by is None
