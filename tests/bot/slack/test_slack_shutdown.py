"""At shutdown `serve` closes the Socket Mode connection, then lets the answers under way (the Supervisor's
"answers" group) post, for up to half its 5 s; what is still going after that is counted in a warning."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

import bot.slack.replies as replies
from agent.question import Question
from agent.services import Services
from bot.dispatch import Answer
from bot.runtime import Runtime
from bot.slack.socket import AckingSocketModeHandler
from storage.services import open_storage
from tests.fakes.slack import FakeSlack
from tests.support.serving import served, slack_settings


@dataclass
class Serving:
    slack: FakeSlack
    stop: asyncio.Event
    task: asyncio.Task[int]
    closed: asyncio.Event  # the Socket Mode connection is closed: no new events from here on


@pytest.fixture
async def serving(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Serving]:
    closed = asyncio.Event()
    close = AckingSocketModeHandler.close_async

    async def close_and_say(self: AckingSocketModeHandler) -> None:
        await close(self)
        closed.set()

    monkeypatch.setattr(AckingSocketModeHandler, "close_async", close_and_say)
    async with FakeSlack() as slack:
        settings = slack_settings(env, slack)
        services = Services(settings=settings, storage=await open_storage(settings))
        async with served(services, slack, stop_within=10) as running:
            yield Serving(slack, running.stop, running.task, closed)


async def test_an_answer_under_way_at_shutdown_is_posted_before_serve_returns(
    serving: Serving, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = asyncio.Event()

    async def slow(_runtime: Runtime, _question: Question) -> Answer:
        started.set()
        await serving.closed.wait()  # still working when the connection is gone
        return Answer("the answer that was under way")

    monkeypatch.setattr(replies, "answer", slow)
    event = serving.slack.message_event("what is going on?")
    await serving.slack.wait_ack(await serving.slack.send_event(event))
    await started.wait()
    serving.stop.set()
    assert await asyncio.wait_for(serving.task, 10) == 0
    [post] = serving.slack.calls_to("chat.postMessage")
    assert post.args["thread_ts"] == event["ts"] and post.args["text"] == "the answer that was under way"


async def test_an_answer_still_going_after_the_grace_is_counted_in_a_warning(
    serving: Serving, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    started = asyncio.Event()

    async def stuck(_runtime: Runtime, _question: Question) -> Answer:
        started.set()
        await asyncio.Event().wait()  # never answers: the Supervisor cancels it when the app stops
        raise AssertionError("unreachable")

    monkeypatch.setattr(replies, "answer", stuck)
    await serving.slack.wait_ack(await serving.slack.send_event(serving.slack.message_event("anything?")))
    await started.wait()
    caplog.set_level(logging.WARNING, logger="bot.slack.run")
    serving.stop.set()
    assert await asyncio.wait_for(serving.task, 10) == 0
    assert "1 answer(s) were still being worked on at shutdown" in caplog.text
    assert serving.slack.calls_to("chat.postMessage") == []
