"""A Vercel drain body -> Loki lines: body formats, labels, timestamps, the push JSON and the signature."""

from __future__ import annotations

import json

from skills.vercel_drain.translate import labels_of, parse_body, push_body, signature_ok, to_lines
from tests.fakes.loki import parse_push
from tests.support.drain_support import DRAIN_SECRET, entry, ndjson, sign


def parsed(raw: bytes) -> tuple[list[dict], int]:
    entries, malformed = parse_body(raw)
    return [e for e, _ in entries], malformed


def test_a_json_array_an_object_and_ndjson_with_malformed_lines() -> None:
    items = [entry(1), entry(2)]
    assert parsed(json.dumps(items).encode()) == (items, 0)
    assert parsed(json.dumps(items[0]).encode()) == ([items[0]], 0)
    body = ndjson(items[:1]) + b"{not json\n[1,2]\n\xff\xfe\n\n" + ndjson(items[1:])
    assert parsed(body) == (items, 3)
    assert parsed(b"[1, {broken") == ([], 1)
    assert parsed(json.dumps([items[0], "text", 3]).encode()) == ([items[0]], 2)
    assert parsed(b"  \n") == ([], 0)
    assert parsed(ndjson(items[:1]) + b'{"a": 1} trailing\n1,2\n' + ndjson(items[1:])) == (items, 2)


def test_labels_are_few_and_never_request_paths_or_hosts() -> None:
    labels = dict(labels_of(entry(1, level="error", source="edge")))
    assert labels == {
        "service_name": "vercel",
        "source": "edge",
        "level": "error",
        "environment": "production",
        "project": "mochacare",
    }
    bare = dict(labels_of({"message": "x", "type": "stderr", "projectId": "prj_1", "source": "weird"}))
    assert bare == {"service_name": "vercel", "source": "other", "level": "error", "project": "prj_1"}
    assert dict(labels_of({"level": "WARN"}))["level"] == "warning"


def test_each_line_is_the_entry_itself_with_its_timestamp_in_ns() -> None:
    item = entry(7, ts_ms=1_767_000_000_123, message='Error: ünïcode "quoted"')
    sent = json.dumps(item)  # Vercel's own spacing
    (from_array,) = to_lines(parse_body(json.dumps([item]).encode())[0])
    from_ndjson, _ = to_lines(parse_body(f"{sent}\n{sent}\n".encode())[0])
    assert from_array.ns == from_ndjson.ns == 1_767_000_000_123_000_000
    assert json.loads(json.loads(from_array.literal)) == item
    assert json.loads(from_ndjson.literal) == sent  # an NDJSON line exactly as Vercel sent it


def test_push_body_is_loki_json_with_each_stream_sorted() -> None:
    items = [entry(3, ts_ms=3000), entry(1, ts_ms=1000), entry(2, ts_ms=2000, level="error"), entry(0, ts_ms=500)]
    streams = parse_push(push_body(to_lines([(i, None) for i in items])))  # the fake's own reading of Loki's format
    by_level = {labels["level"]: values for labels, values in streams}
    assert [ns for ns, _ in by_level["info"]] == [500_000_000, 1_000_000_000, 3_000_000_000]
    assert [json.loads(line)["id"] for _, line in by_level["error"]] == ["log-2"]


def test_signature_is_hmac_sha1_of_the_raw_body() -> None:
    body = ndjson([entry(1)])
    good = sign(body)["x-vercel-signature"]
    assert signature_ok(DRAIN_SECRET, body, good)
    assert signature_ok(DRAIN_SECRET, body, good.upper())
    assert not signature_ok(DRAIN_SECRET, body + b" ", good)
    assert not signature_ok("another-secret", body, good)
    assert not signature_ok(DRAIN_SECRET, body, None)
    assert not signature_ok(DRAIN_SECRET, body, "ü" * 40)
