"""The tracking snippet: the tracking plan's five events with their properties, and never a real key."""

from __future__ import annotations

from skills.amplitude.snippet import (
    API_KEY_PLACEHOLDER,
    INSTALL_COMMAND,
    RECOMMENDED_EVENTS,
    init_code,
    snippet_data,
    snippet_text,
)

TRACKING_PLAN = {
    "Agent Started": ["agent_id", "user_id", "agent_type"],
    "Agent Completed": ["agent_id", "duration_ms", "tokens_used"],
    "Agent Failed": ["agent_id", "error_type", "error_message"],
    "Agent Timeout": ["agent_id", "duration_ms", "timeout_limit"],
    "API Error": ["endpoint", "status_code", "error_type"],
}


def test_the_five_recommended_events_and_their_properties() -> None:
    assert {e.name: e.property_names for e in RECOMMENDED_EVENTS} == TRACKING_PLAN
    for event in RECOMMENDED_EVENTS:
        call = event.track_call()
        assert call.startswith(f"track('{event.name}', {{")
        assert all(f"{p}: " in call for p in event.property_names)


def test_install_init_and_placeholder() -> None:
    data = snippet_data()
    assert data["install"] == INSTALL_COMMAND == "npm install @amplitude/analytics-node"
    assert f"init('{API_KEY_PLACEHOLDER}');" in data["init"] and "serverZone" not in data["init"]
    assert "serverZone: 'EU'" in init_code("eu")
    assert [e["name"] for e in data["events"]] == list(TRACKING_PLAN)
    example = data["example"]
    for name in TRACKING_PLAN:
        assert f"track('{name}'" in example
    assert "await flush().promise" in example


def test_text_has_every_part() -> None:
    text = snippet_text("us")
    for part in ("npm install @amplitude/analytics-node", "init('<amplitude-api-key>')", "1. Install", "3. Track"):
        assert part in text
    for name, props in TRACKING_PLAN.items():
        assert f"{name}: when" in text and ", ".join(props) in text
