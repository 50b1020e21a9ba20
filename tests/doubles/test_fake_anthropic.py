"""The fake Messages API behaves as Anthropic documents it: prompt-cache accounting on exact prefixes, thinking
charged against max_tokens and signed, the parameters current models refuse. Driven through the real SDK."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anthropic
import pytest

from tests.fakes.anthropic import FakeAnthropic, Reply, text, tool_calls
from tests.fakes.anthropic_cache import tokens_of

MODEL = "claude-sonnet-5-5"
TOOLS = [
    {"name": f"tool_{i}", "description": "x" * 400, "input_schema": {"type": "object", "properties": {}}}
    for i in range(12)
]  # ~1,300 tokens: over Sonnet 5.5's 1,024-token minimum


@pytest.fixture
async def fake() -> AsyncIterator[FakeAnthropic]:
    async with FakeAnthropic(thinking_tokens=0) as model:
        yield model


def client(fake: FakeAnthropic) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(api_key=fake.api_key, base_url=fake.url, max_retries=0)


async def ask(fake: FakeAnthropic, **request: Any) -> Any:
    async with client(fake) as c:
        return await c.messages.create(**{"model": MODEL, "max_tokens": 4000, **request})


def cached_tools() -> list[dict[str, Any]]:
    return [*TOOLS[:-1], {**TOOLS[-1], "cache_control": {"type": "ephemeral"}}]


async def test_a_breakpoint_writes_its_prefix_once_and_the_same_prefix_is_read_after(fake: FakeAnthropic) -> None:
    tools_tokens = sum(tokens_of(t) for t in TOOLS)
    first = await ask(fake, tools=cached_tools(), messages=[{"role": "user", "content": "one"}])
    second = await ask(fake, tools=cached_tools(), messages=[{"role": "user", "content": "another question"}])
    assert (first.usage.cache_creation_input_tokens, first.usage.cache_read_input_tokens) == (tools_tokens, 0)
    assert (second.usage.cache_creation_input_tokens, second.usage.cache_read_input_tokens) == (0, tools_tokens)
    assert second.usage.input_tokens == tokens_of({"type": "text", "text": "another question"})
    # a different model has its own cache; a changed tool is another prefix
    other = await ask(fake, model="claude-opus-5-5", tools=cached_tools(), messages=[{"role": "user", "content": "x"}])
    assert other.usage.cache_read_input_tokens == 0 and other.usage.cache_creation_input_tokens == tools_tokens
    changed = [{**TOOLS[0], "description": "changed"}, *cached_tools()[1:]]
    moved = await ask(fake, tools=changed, messages=[{"role": "user", "content": "x"}])
    assert moved.usage.cache_read_input_tokens == 0


async def test_a_prefix_under_the_minimum_is_not_cached_and_entries_expire_after_five_minutes(
    fake: FakeAnthropic,
) -> None:
    short = [{"type": "text", "text": "short system prompt", "cache_control": {"type": "ephemeral"}}]
    for _ in range(2):
        reply = await ask(fake, system=short, messages=[{"role": "user", "content": "hi"}])
        assert (reply.usage.cache_creation_input_tokens, reply.usage.cache_read_input_tokens) == (0, 0)
    await ask(fake, tools=cached_tools(), messages=[{"role": "user", "content": "hi"}])
    fake.advance(299)
    assert (
        await ask(fake, tools=cached_tools(), messages=[{"role": "user", "content": "hi"}])
    ).usage.cache_read_input_tokens
    fake.advance(299)  # the read refreshed it
    assert (
        await ask(fake, tools=cached_tools(), messages=[{"role": "user", "content": "hi"}])
    ).usage.cache_read_input_tokens
    fake.advance(301)
    late = await ask(fake, tools=cached_tools(), messages=[{"role": "user", "content": "hi"}])
    assert late.usage.cache_read_input_tokens == 0 and late.usage.cache_creation_input_tokens > 0


async def test_automatic_caching_moves_the_breakpoint_with_the_conversation_within_20_blocks(
    fake: FakeAnthropic,
) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": "start"}]
    first = await ask(fake, tools=TOOLS, cache_control={"type": "ephemeral"}, messages=messages)
    assert first.usage.cache_creation_input_tokens == first.usage.input_tokens + first.usage.cache_creation_input_tokens
    messages += [{"role": "assistant", "content": "ok"}, {"role": "user", "content": "next"}]
    second = await ask(fake, tools=TOOLS, cache_control={"type": "ephemeral"}, messages=messages)
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
    # 21 new blocks: the last entry is out of the breakpoint's lookback, so everything is written again
    messages += [
        {"role": "assistant", "content": [{"type": "text", "text": f"part {i}"} for i in range(20)]},
        {"role": "user", "content": "and now"},
    ]
    third = await ask(fake, tools=TOOLS, cache_control={"type": "ephemeral"}, messages=messages)
    assert third.usage.cache_read_input_tokens == 0


async def test_at_most_four_breakpoints_and_none_on_empty_text(fake: FakeAnthropic) -> None:
    marked = [{"type": "text", "text": f"s{i}", "cache_control": {"type": "ephemeral"}} for i in range(5)]
    with pytest.raises(anthropic.BadRequestError, match="maximum of 4 blocks with cache_control"):
        await ask(fake, system=marked, messages=[{"role": "user", "content": "hi"}])
    empty = [{"type": "text", "text": "", "cache_control": {"type": "ephemeral"}}]
    with pytest.raises(anthropic.BadRequestError, match="empty text blocks"):
        await ask(fake, system=empty, messages=[{"role": "user", "content": "hi"}])


async def test_thinking_is_charged_against_max_tokens_and_a_cut_reply_continues_when_asked(
    fake: FakeAnthropic,
) -> None:
    fake.thinking_tokens = 1500
    fake.script(text("word " * 400))  # 500 tokens of text
    cut = await ask(fake, max_tokens=1800, messages=[{"role": "user", "content": "q"}])
    thinking, partial = cut.content
    assert thinking.type == "thinking" and thinking.signature and cut.stop_reason == "max_tokens"
    assert cut.usage.output_tokens == 1800 and len(partial.text) == 300 * 4
    rest = await ask(
        fake,
        max_tokens=1800,
        messages=[
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in cut.content]},
            {"role": "user", "content": "Go on from where you stopped."},
        ],
    )
    assert rest.stop_reason == "end_turn" and partial.text + rest.content[-1].text == "word " * 400
    # run out while thinking: no text at all; the same request with more room gets the whole reply
    fake.script(text("short"))
    starved = await ask(fake, max_tokens=1000, messages=[{"role": "user", "content": "r"}])
    assert [b.type for b in starved.content] == ["thinking"] and starved.stop_reason == "max_tokens"
    again = await ask(fake, max_tokens=4000, messages=[{"role": "user", "content": "r"}])
    assert again.content[-1].text == "short" and again.stop_reason == "end_turn"


async def test_effort_scales_thinking(fake: FakeAnthropic) -> None:
    fake.thinking_tokens = 1000
    fake.script(text("a"), text("a"))
    high = await ask(fake, messages=[{"role": "user", "content": "q"}])
    low = await ask(fake, output_config={"effort": "low"}, messages=[{"role": "user", "content": "q"}])
    assert (high.usage.output_tokens, low.usage.output_tokens) == (1000 + 1, 250 + 1)  # thinking + "a"


async def test_a_tool_turn_whose_thinking_block_was_dropped_or_edited_is_refused(fake: FakeAnthropic) -> None:
    fake.thinking_tokens = 200
    fake.script(tool_calls(("tool_0", {})), text("done"), text("done"))
    first = await ask(fake, tools=TOOLS, messages=[{"role": "user", "content": "q"}])
    _thinking, use = first.content
    result = {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "42"}]}
    kept = [b.model_dump(exclude_none=True) for b in first.content]
    dropped = [use.model_dump(exclude_none=True)]
    edited = [{**kept[0], "thinking": "something else"}, kept[1]]
    for content, message in ((dropped, "Expected `thinking`"), (edited, "Invalid `signature`")):
        with pytest.raises(anthropic.BadRequestError, match=message):
            await ask(
                fake,
                tools=TOOLS,
                messages=[{"role": "user", "content": "q"}, {"role": "assistant", "content": content}, result],
            )
    ok = await ask(
        fake, tools=TOOLS, messages=[{"role": "user", "content": "q"}, {"role": "assistant", "content": kept}, result]
    )
    assert ok.content[-1].text == "done"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"temperature": 0.2}, "sampling parameters are not supported"),
        ({"top_k": 5}, "sampling parameters are not supported"),
        ({"thinking": {"type": "enabled", "budget_tokens": 2000}}, "enabled is not supported"),
        ({"thinking": {"type": "disabled"}}, "between_tools"),
        ({"tool_choice": {"type": "any"}, "tools": TOOLS}, "forced tool use is not supported"),
        ({"output_config": {"effort": "extreme"}}, "output_config.effort"),
    ],
)
async def test_what_sonnet_5_5_refuses(fake: FakeAnthropic, extra: dict[str, Any], message: str) -> None:
    async with client(fake) as c:
        with pytest.raises(anthropic.BadRequestError, match=message):
            await c.messages.create(
                model=MODEL, max_tokens=1000, messages=[{"role": "user", "content": "q"}], extra_body=extra
            )


async def test_an_unknown_model_is_not_found_but_a_compatible_server_takes_any_name() -> None:
    async with FakeAnthropic() as fake:
        with pytest.raises(anthropic.NotFoundError):
            await ask(fake, model="claude-test", messages=[{"role": "user", "content": "q"}])
    async with FakeAnthropic(compatible=True) as fake:
        fake.script(Reply([{"type": "text", "text": "hello"}]))
        reply = await ask(fake, model="qwen3-coder:30b", messages=[{"role": "user", "content": "q"}])
        assert reply.content[0].text == "hello" and reply.usage.cache_read_input_tokens is None
