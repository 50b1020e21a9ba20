"""The summary paragraph: the model's when every number in it is the report's, the template's otherwise."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from agent.services import Services
from reports.builder import build_report
from reports.model import Figure, Report, Section, failed
from reports.render import report_blocks, template_summary
from reports.summary import numbers_in, summarize, unknown_numbers
from settings import Settings
from storage.services import open_storage
from tests.fakes.anthropic import API_KEY, FakeAnthropic, ModelRequest, Reply, careless, text
from tests.fakes.grafana import FakeGrafana
from tests.support import report_data as rd
from tests.support.agent_world import HOSTILE_LINE

SECRET = "glsa_very_secret_token_42"
EXPLORE = "https://g.example/explore?panes=%7B%22from%22%3A%221771315200000%22%7D"


@pytest.fixture
async def model() -> AsyncIterator[FakeAnthropic]:
    async with FakeAnthropic() as fake:
        yield fake


@pytest.fixture
async def services(env: dict[str, str], model: FakeAnthropic) -> AsyncIterator[Services]:
    extra = {"ANTHROPIC_API_KEY": API_KEY, "ANTHROPIC_BASE_URL": model.url, "SITREP_MODEL": "claude-sonnet-5-5"}
    settings = Settings.from_env({**env, **extra, "GRAFANA_TOKEN": SECRET})
    svc = Services(settings=settings, storage=await open_storage(settings))
    yield svc
    await svc.close()


def report() -> Report:
    grafana = Section("grafana", "Grafana", window="last 12 h vs the 12 h before")
    grafana.figures = [
        Figure("5xx responses", 1234, 987, link=EXPLORE, link_label="Explore"),
        Figure("5xx rate", 3.48, 0.55, unit="%", link=EXPLORE, link_label="Explore"),
    ]
    grafana.lines = [f"note from a log line that carries {SECRET}"]
    amplitude = failed("amplitude", "Amplitude", "rate limit hit", "wait a few minutes")
    return Report("Status report", datetime(2026, 2, 17, 16, tzinfo=UTC), "UTC", [grafana, amplitude])


async def summary_of(services: Services, built: Report) -> tuple[str, str]:
    team = await services.team_for(None)
    return await summarize(services, team, built, secrets=await services.secrets())


def test_numbers_are_read_as_written_and_compared_canonically() -> None:
    assert numbers_in("1,234 errors, 3.480% and 25% of 12 h; p95 and 5xx are words.") == {"1234", "3.48", "25", "12"}
    assert numbers_in(f"see <{EXPLORE}|Explore> or Explore ({EXPLORE})") == set()
    allowed = numbers_in("1,234 vs 987, rate 3.48%")
    assert unknown_numbers("Errors rose to 1234 from 987 (3.48%).", allowed) == []
    assert unknown_numbers("Errors rose to about 1,200, a 25% jump.", allowed) == ["1,200", "25"]


async def test_the_model_paragraph_is_used_when_its_numbers_are_the_reports(
    services: Services, model: FakeAnthropic
) -> None:
    reply = (
        "Degraded: *5xx responses* rose to 1,234 from 987 and the 5xx rate is 3.48%; Amplitude could not be checked."
    )
    model.script(text(reply))
    assert await summary_of(services, report()) == (reply, "model")
    request = model.answered[0]
    assert request.body["model"] == "claude-sonnet-5-5" and "Do not change any number" in request.system
    sent = request.text()
    assert "1,234" in sent and SECRET not in sent and "g.example" not in sent  # no secrets, no links


@pytest.mark.parametrize(
    "reply",
    [
        "5xx responses rose to 1,243 from 987.",  # a changed number
        "Errors rose by 247 since yesterday.",  # a computed one
        "word " * 400,  # too long
    ],
)
async def test_any_other_paragraph_falls_back_to_the_template(
    services: Services, model: FakeAnthropic, reply: str
) -> None:
    model.script(text(reply))
    built = report()
    assert await summary_of(services, built) == (template_summary(built.sections), "template")
    assert len(model.answered) == 1


async def test_a_model_error_gives_the_template(services: Services, model: FakeAnthropic) -> None:
    for _ in range(3):
        model.fail_next(400, "invalid_request_error", "bad")
    built = report()
    assert await summary_of(services, built) == (template_summary(built.sections), "template")


async def test_without_a_key_the_model_is_not_asked(env: dict[str, str], model: FakeAnthropic) -> None:
    settings = Settings.from_env({**env, "ANTHROPIC_BASE_URL": model.url})
    svc = Services(settings=settings, storage=await open_storage(settings))
    try:
        text_, source = await summary_of(svc, report())
    finally:
        await svc.close()
    assert source == "template" and model.requests == []
    assert text_.startswith("Grafana, last 12 h vs the 12 h before: 1,234 5xx responses (▲ 25% vs 987)")


async def test_a_report_built_with_a_key_carries_the_models_checked_paragraph(
    env: dict[str, str], model: FakeAnthropic
) -> None:
    def reply(request: ModelRequest) -> Reply:
        found = re.search(r"\*5xx rate\*: \*([\d.]+%)\*", request.said(0))
        assert found, request.said(0)
        return text(f"Degraded: the 5xx rate is {found.group(1)}; Amplitude could not be checked.")

    model.script(reply)
    async with FakeGrafana() as grafana:
        rd.seed_logs(grafana, rd.default_logs(), datetime.now(UTC))
        extra = {"ANTHROPIC_API_KEY": API_KEY, "ANTHROPIC_BASE_URL": model.url, **rd.fake_env(grafana, None)}
        settings = Settings.from_env({**env, **extra})
        svc = Services(settings=settings, storage=await open_storage(settings), skill_factories=rd.report_factories())
        try:
            built = await build_report(svc, await svc.team_for(None))
        finally:
            await svc.supervisor.settle("discovery")
            await svc.close()
    assert built.summary_source == "model", built.summary
    assert built.summary.startswith("Degraded: the 5xx rate is ") and built.summary.endswith(
        "%; Amplitude could not be checked."
    )
    assert "summary by the model" in report_blocks(built)[1]["elements"][0]["text"]


async def test_a_careless_model_repeating_a_hostile_log_line_pings_no_one_and_disguises_no_link(
    services: Services, model: FakeAnthropic
) -> None:
    model.script(careless)
    built = report()
    built.sections[0].lines.append(HOSTILE_LINE)
    paragraph, source = await summary_of(services, built)
    (asked,) = model.answered
    facts = asked.said(0)
    assert facts.startswith('<data source="report">') and "<!channel>" in facts  # the log line, read as data
    assert source == "model" and "What the data says:" in paragraph
    for live in ("<!channel>", "<!here>", "<!everyone>", "<!subteam^", "<@UADMIN>", "|Grafana Explore>"):
        assert live not in paragraph, live
    assert "&lt;!channel&gt;" in paragraph and "<https://evil.example/login>" in paragraph
