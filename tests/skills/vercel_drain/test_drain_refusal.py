"""Reading a Loki 400: what it took, what it refused, and what its answer leaves unknown (Loki's own formats)."""

from __future__ import annotations

import json

from skills.vercel_drain.readiness import FLOWING, LOKI_REJECTING, assess
from skills.vercel_drain.refusal import REASON_CHARS, read_refusal
from skills.vercel_drain.status import RelayStatus
from tests.fakes.loki import grouped_errors
from tests.skills.vercel_drain.test_drain_readiness import NOW, config

INFO = '{level="info", service_name="vercel"}'
ERROR = '{level="error", service_name="vercel"}'


def body(**streams: int) -> bytes:
    """A push body with `n` lines in each named stream (level=<name>)."""
    doc = {
        "streams": [
            {"stream": {"service_name": "vercel", "level": level}, "values": [[str(i), "x"] for i in range(n)]}
            for level, n in streams.items()
        ]
    }
    return json.dumps(doc).encode()


def too_old(stream: str, second: int) -> str:
    return (
        f"entry for stream '{stream}' has timestamp too old: 2001-09-09T01:46:{second:02d}Z, "
        "oldest acceptable timestamp is: 2026-11-27T20:54:05Z"
    )


def test_one_distributor_error_without_a_count_is_one_line() -> None:
    refusal = read_refusal(too_old(INFO, 40) + "\n", body(info=5), 5)
    assert (refusal.refused, refusal.taken, refusal.unknown) == (1, 4, 0) and "too old" in refusal.reason


def test_grouped_errors_are_summed_whatever_their_order() -> None:
    long = (
        f"max entry size '262144' bytes exceeded for stream '{ERROR}' while adding an entry with length '300000' bytes"
    )
    messages = [too_old(INFO, 40), too_old(INFO, 40), too_old(INFO, 41), long]
    for order in (messages, messages[::-1]):
        refusal = read_refusal(grouped_errors(order), body(info=6, error=4), 10)
        assert (refusal.refused, refusal.taken, refusal.unknown) == (4, 6, 0)


def test_a_stream_error_refuses_every_line_of_that_stream_even_with_a_semicolon_inside() -> None:
    labels = f"entry for stream '{ERROR}' has 16 label names; limit 15"
    refusal = read_refusal(grouped_errors([labels, too_old(INFO, 40)]), body(info=3, error=4), 7)
    assert (refusal.refused, refusal.taken, refusal.unknown) == (5, 2, 0)


def test_an_unknown_message_among_known_ones_leaves_the_rest_unknown() -> None:
    refusal = read_refusal(grouped_errors([too_old(INFO, 40), "a reason Loki may add later"]), body(info=5), 5)
    assert (refusal.refused, refusal.taken, refusal.unknown) == (1, 0, 4) and refusal.readable


def test_a_message_in_no_known_format_counts_nothing() -> None:
    for message in ("", "snappy: corrupt input", "Bad Request", "error at least one label pair is required per stream"):
        refusal = read_refusal(message, body(info=3), 3)
        assert (refusal.refused, refusal.taken, refusal.unknown, refusal.readable) == (0, 0, 3, False), message


def test_the_ingesters_total_ignored_counts_its_stream_and_what_validation_dropped_before() -> None:
    reason = "entry too far behind, entry timestamp is: 2026-11-27T18:00:00Z, oldest acceptable timestamp is: X"
    named = "".join(
        f"entry with timestamp 2026-11-27 18:00:0{i} +0000 UTC ignored, reason: '{reason}',\n" for i in range(2)
    )
    message = named + f"user '123456', total ignored: 3 out of 5 for stream: {INFO}\n"
    # 7 info lines: validation dropped 2 before the ingester saw 5; it refused 3 and took 2. Error lines: unknown.
    refusal = read_refusal(message, body(info=7, error=4), 11)
    assert (refusal.refused, refusal.taken, refusal.unknown) == (5, 2, 4)
    assert refusal.reason.startswith("entry too far behind")


def test_a_stream_loki_renamed_is_counted_as_said_and_the_rest_unknown() -> None:
    sharded = '{__stream_shard__="1", level="info", service_name="vercel"}'
    message = f"user '123456', total ignored: 1 out of 2 for stream: {sharded}"
    refusal = read_refusal(message, body(info=4), 4)
    assert (refusal.refused, refusal.taken, refusal.unknown) == (1, 0, 3)


def test_the_reason_is_bounded() -> None:
    huge = grouped_errors([too_old(INFO * 40, s) for s in range(50)])
    refusal = read_refusal(huge, body(info=60), 60)
    assert refusal.refused == 50 and len(refusal.reason) <= REASON_CHARS


def test_the_readiness_row_tells_a_partial_refusal_and_a_whole_one() -> None:
    status = RelayStatus(last_request_at=NOW - 5)
    status.refused(read_refusal(too_old(INFO, 40), body(info=10), 10), now=NOW - 30)
    state = assess(config(), status, now=NOW)
    assert state.state == FLOWING and "Loki answered 400 at" in state.summary
    assert (
        "took 9 of 10 lines, refused 1: entry for stream" in state.summary
        and "(1 lines refused in all)" in state.summary
    )
    later = RelayStatus.from_document({**status.to_document(), "last_request_at": NOW + 7200})
    later.pushed(10, now=NOW + 7150)
    assert "400" not in assess(config(), later, now=NOW + 7200).summary  # an old partial refusal is not told forever
    status.refused(read_refusal("Bad Request", body(info=2), 2), now=NOW - 10)
    state = assess(config(), status, now=NOW)
    assert state.state == LOKI_REJECTING and "Loki answered 400" in state.summary
    assert "count unknown" in state.summary and "Bad Request" in state.summary and "2 of unknown fate" in state.summary
