"""The tracking-snippet modal stays inside Slack's limits and shows install, init and the five track calls."""

from __future__ import annotations

import json

from bot.blocks.limits import view_violations
from bot.blocks.snippet import snippet_modal
from skills.amplitude.snippet import RECOMMENDED_EVENTS


def _texts(view: dict) -> str:
    parts = []
    for block in view["blocks"]:
        if "text" in block:
            parts.append(block["text"]["text"])
        parts += [e.get("text", "") for e in block.get("elements", [])]
    return "\n".join(parts)


def test_modal_within_slack_limits() -> None:
    for region in ("us", "eu"):
        view = snippet_modal(region=region, status_line="no events in the last 7 days" * 20, private_metadata="T1")
        assert view["type"] == "modal"
        assert len(view["title"]["text"]) <= 24 and len(view["close"]["text"]) <= 24
        assert len(view["blocks"]) <= 100
        for block in view["blocks"]:
            if block["type"] == "section":
                assert 0 < len(block["text"]["text"]) <= 3000
            if block["type"] == "header":
                assert len(block["text"]["text"]) <= 150
        assert view_violations(view) == []
        json.dumps(view)


def test_modal_shows_install_init_and_every_event() -> None:
    view = snippet_modal()
    text = _texts(view)
    assert "npm install @amplitude/analytics-node" in text
    assert "init('&lt;amplitude-api-key&gt;')" in text  # mrkdwn-escaped placeholder, never a key
    for event in RECOMMENDED_EVENTS:
        assert f"*{event.name}*" in text and f"track('{event.name}'" in text
        assert all(f"`{p}`" in text for p in event.property_names)
    assert "serverZone" not in text and "serverZone: 'EU'" in _texts(snippet_modal(region="eu"))
    assert "=>" not in text and "=&gt;" in text  # every < and > escaped for mrkdwn
    assert view["callback_id"] == "amplitude_snippet"
    assert "private_metadata" not in view


def test_status_line_is_shown_first() -> None:
    view = snippet_modal(status_line="no events in the last 7 days")
    assert view["blocks"][0]["type"] == "context"
    assert view["blocks"][0]["elements"][0]["text"] == "no events in the last 7 days"
