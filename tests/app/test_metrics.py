"""GET /metrics: the Prometheus text format, and the counters move after a mention and a report."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

import metrics
from bot.runtime import Runtime
from bot.web import bound_port, start_web
from reports.builder import ReportOptions, build_report
from reports.post import build_and_post
from reports.scheduler import ReportScheduler
from storage.audit import AuditLog
from storage.db import Database
from storage.jobs import Job, JobStore
from storage.teams import DEFAULT_TEAM_ID, TeamStore
from tests.fakes.anthropic import text
from tests.support.agent_world import mention, world

SLOT_OUTCOMES = ("claimed", "caught_up", "missed")


def samples(body: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


def total(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    want = set(labels.items())
    return sum(v for (n, ls), v in found.items() if n == name and want <= ls)


async def test_counters_move_after_a_mention_and_a_report(tmp_path: Path) -> None:
    async with world(tmp_path, key=True) as w:
        w.model.script(lambda req: text("All quiet: 0 errors."))
        w.services = replace(w.services, settings=w.services.settings.model_copy(update={"http_port": 0}))
        runner = await start_web(Runtime(w.services))
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{bound_port(runner)}") as http:
                first = await http.get("/metrics")
                assert first.status_code == 200
                assert first.headers["content-type"].startswith("text/plain")
                before = samples(first.text)

                await mention(w, "is anything on fire?")
                await mention(w, "and the error rate?")  # tools and the fixed prompt come from the cache now
                team = await w.services.team_for(None)
                await build_and_post(w.services, team, "C0REPORTS", poster=Runtime(w.services).poster())
                after = samples((await http.get("/metrics")).text)
        finally:
            await runner.cleanup()

    def moved(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert moved("sitrep_questions_total", source="mention", planner="claude") == 2
    assert moved("sitrep_answer_seconds_count", planner="claude") == 2
    for kind in ("cache_write", "cache_read", "output"):  # every input token of an answer goes through the cache
        assert moved("sitrep_model_tokens_total", feature="answers", kind=kind) > 0, kind
    for kind in ("input", "output"):  # a summary's prompt is under the minimum cacheable length
        assert moved("sitrep_model_tokens_total", feature="summaries", kind=kind) > 0, kind
    assert moved("sitrep_model_calls_total", feature="answers", cache="write") == 1
    assert moved("sitrep_model_calls_total", feature="answers", cache="hit") == 1
    assert moved("sitrep_model_cost_dollars_total", feature="answers") > 0
    assert moved("sitrep_reports_posted_total") == 1
    assert moved("sitrep_upstream_requests_total", integration="Grafana", status="200") > 0
    assert moved("sitrep_upstream_requests_total", integration="Amplitude", status="200") > 0
    assert total(after, "process_resident_memory_bytes") > 0


async def test_rate_limits_and_failed_sections_are_counted(tmp_path: Path) -> None:
    async with world(tmp_path, key=False, serve_slack=False) as w:
        w.grafana.fail_next(500, times=50)
        w.amplitude.inject_429(times=50, retry_after="0")
        before = samples(metrics.exposition()[0].decode())
        team = await w.services.team_for(None)
        report = await build_report(w.services, team, options=ReportOptions(use_model=False))
        after = samples(metrics.exposition()[0].decode())

    def moved(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert {s.title for s in report.sections if s.status == "failed"} == {"Grafana", "Amplitude"}
    assert moved("sitrep_report_sections_failed_total", integration="Grafana") == 1
    assert moved("sitrep_report_sections_failed_total", integration="Amplitude") == 1
    assert moved("sitrep_upstream_requests_total", integration="Grafana", status="500") > 0
    assert moved("sitrep_upstream_requests_total", integration="Amplitude", status="429") > 0
    assert moved("sitrep_upstream_rate_limited_total", integration="Amplitude") == moved(
        "sitrep_upstream_requests_total", integration="Amplitude", status="429"
    )


async def test_scheduler_slots_are_counted_claimed_caught_up_and_missed(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "slots.db")
    try:
        await TeamStore(db, AuditLog(db)).ensure_default()
        store = JobStore(db)
        await store.seed_defaults(DEFAULT_TEAM_ID, "C0ADZHLL76V", "America/Los_Angeles")

        async def run_job(job: Job, scheduled_for: datetime) -> str:
            return "1773068400.000001"

        now = datetime(2026, 3, 10, 16, 30, tzinfo=UTC)  # the morning slot 90 min ago (caught up), evening 13.5 h
        before = {o: metrics.value("sitrep_scheduler_slots_total", {"outcome": o}) for o in SLOT_OUTCOMES}
        await ReportScheduler(store, run_job, clock=lambda: now).catch_up()
        after = {o: metrics.value("sitrep_scheduler_slots_total", {"outcome": o}) for o in SLOT_OUTCOMES}
    finally:
        await db.close()
    assert {o: after[o] - before[o] for o in SLOT_OUTCOMES} == {"claimed": 1, "caught_up": 1, "missed": 1}
