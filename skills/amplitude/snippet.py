"""The tracking snippet for the five recommended events: structured data, and text for the CLI and the modal.

Only a placeholder stands where the API key goes; a real key is never embedded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

API_KEY_PLACEHOLDER = "<amplitude-api-key>"
PACKAGE = "@amplitude/analytics-node"
INSTALL_COMMAND = f"npm install {PACKAGE}"
IDS_HELPER = (
    "// Amplitude needs a user_id or a device_id (5+ characters) on every event.\n"
    "const ids = (userId) => (userId ? { user_id: String(userId) } : { device_id: 'server-side' });"
)


@dataclass(frozen=True)
class RecommendedEvent:
    """An event to track: its name, when to fire it, and each property with an example JS expression."""

    name: str
    when: str
    properties: tuple[tuple[str, str], ...]

    @property
    def property_names(self) -> list[str]:
        return [p for p, _ in self.properties]

    def track_call(self) -> str:
        props = ", ".join(f"{p}: {expr}" for p, expr in self.properties)
        return f"track('{self.name}', {{ {props} }}, ids(userId));"


RECOMMENDED_EVENTS: tuple[RecommendedEvent, ...] = (
    RecommendedEvent(
        "Agent Started",
        "an agent invocation begins",
        (("agent_id", "agentId"), ("user_id", "userId"), ("agent_type", "agentType")),
    ),
    RecommendedEvent(
        "Agent Completed",
        "an agent finishes successfully",
        (("agent_id", "agentId"), ("duration_ms", "Date.now() - start"), ("tokens_used", "result.tokensUsed")),
    ),
    RecommendedEvent(
        "Agent Failed",
        "an agent errors or crashes",
        (("agent_id", "agentId"), ("error_type", "err.name"), ("error_message", "String(err.message).slice(0, 500)")),
    ),
    RecommendedEvent(
        "Agent Timeout",
        "an agent exceeds its time limit",
        (("agent_id", "agentId"), ("duration_ms", "Date.now() - start"), ("timeout_limit", "TIMEOUT_MS")),
    ),
    RecommendedEvent(
        "API Error",
        "any API route answers 4xx or 5xx",
        (("endpoint", "req.url"), ("status_code", "res.statusCode"), ("error_type", "err?.name ?? 'HttpError'")),
    ),
)
EVENT_NAMES = tuple(e.name for e in RECOMMENDED_EVENTS)


def _event(name: str) -> RecommendedEvent:
    return next(e for e in RECOMMENDED_EVENTS if e.name == name)


def init_code(region: str = "us") -> str:
    options = ", { serverZone: 'EU' }" if region.lower() == "eu" else ""
    return (
        f"import {{ init, track, flush }} from '{PACKAGE}';\n\n"
        f"// The project's API key (not the secret key); better still, read it from process.env.\n"
        f"init('{API_KEY_PLACEHOLDER}'{options});\n\n"
        f"{IDS_HELPER}"
    )


def agent_example() -> str:
    """A whole agent handler that fires the four agent events, and the API Error call for routes."""
    started, completed, failed, timeout, api_error = (_event(n).track_call() for n in EVENT_NAMES)
    return f"""const TIMEOUT_MS = 60_000;

function withTimeout(promise, ms) {{
  let timer;
  const expired = new Promise((_, reject) => {{
    const error = Object.assign(new Error(`agent exceeded ${{ms}} ms`), {{ name: 'TimeoutError' }});
    timer = setTimeout(() => reject(error), ms);
  }});
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}}

export async function runAgent(agentId, agentType, userId) {{
  const start = Date.now();
  {started}
  try {{
    const result = await withTimeout(executeAgent(agentId), TIMEOUT_MS);
    {completed}
    return result;
  }} catch (err) {{
    if (err.name === 'TimeoutError') {{
      {timeout}
    }} else {{
      {failed}
    }}
    throw err;
  }} finally {{
    await flush().promise; // serverless (Vercel): send before the function returns
  }}
}}

// In an API route, when the response is 4xx/5xx:
{api_error}"""


def snippet_data(region: str = "us") -> dict[str, Any]:
    """Everything the snippet shows, as plain data."""
    return {
        "package": PACKAGE,
        "install": INSTALL_COMMAND,
        "init": init_code(region),
        "events": [
            {"name": e.name, "when": e.when, "properties": e.property_names, "track": e.track_call()}
            for e in RECOMMENDED_EVENTS
        ],
        "example": agent_example(),
        "api_key_placeholder": API_KEY_PLACEHOLDER,
    }


def snippet_text(region: str = "us") -> str:
    """The snippet as plain text for a terminal."""
    lines = [
        "Amplitude has no events from the app yet. Add this to the Node.js app, deploy, and events arrive",
        "within seconds; `python -m skills.amplitude check` then reports them.",
        "",
        "1. Install the SDK",
        "",
        f"   {INSTALL_COMMAND}",
        "",
        "2. Initialise it once, at startup",
        "",
        _indent(init_code(region)),
        "",
        "3. Track the five recommended events",
        "",
    ]
    for e in RECOMMENDED_EVENTS:
        lines.append(f"   {e.name}: when {e.when}; properties {', '.join(e.property_names)}")
        lines.append(f"     {e.track_call()}")
    lines += ["", "4. Example: an agent handler with all five", "", _indent(agent_example()), ""]
    return "\n".join(lines)


def _indent(code: str, prefix: str = "   ") -> str:
    return "\n".join(prefix + line if line else "" for line in code.splitlines())
