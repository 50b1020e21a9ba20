"""What the pull request adds besides the tracking calls: one initialisation module, and the SDK in package.json.

The module reads the project's API key from AMPLITUDE_API_KEY at start-up (the key never appears in the code) and
exports the helpers the edits call: `trackApiError(endpoint, status, err?)` and `trackAgentRun(agent, run)`,
which sends Agent Started, then Agent Completed, Agent Failed or Agent Timeout, and flushes before the
function returns, as serverless hosts need (https://amplitude.com/docs/sdks/analytics/node/node-js-sdk).

package.json is edited by position too: it is parsed (as a JavaScript expression, which JSON is) and the
dependency inserted in alphabetical order with the file's own indentation; the result must load as JSON and
differ from the original by that one dependency.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from skills.amplitude.instrument.syntax import parse, text, walk
from skills.amplitude.snippet import PACKAGE

if TYPE_CHECKING:
    from tree_sitter import Node

SDK_RANGE = "^1.5.0"
API_KEY_ENV = "AMPLITUDE_API_KEY"
MARKER = "Added by sitrep"
HELPERS = ("trackApiError", "trackAgentRun")

_TS = """// Amplitude for server code (Node.js runtime): one client, initialised once from {env}.
// {marker}: the tracking plan's events (Agent Started, Agent Completed, Agent Failed, Agent Timeout, API Error).
// https://amplitude.com/docs/sdks/analytics/node/node-js-sdk
import * as amplitude from '{package}';

const apiKey = process.env.{env};
if (apiKey) {{
  amplitude.init(apiKey{options});
}}

type Properties = Record<string, unknown>;

export interface AgentRun {{
  agentId?: unknown;
  agentType?: unknown;
  userId?: unknown;
  timeoutMs?: number;
}}

// Amplitude needs a user_id or a device_id (5+ characters) on every event.
function ids(userId: unknown): {{ user_id: string }} | {{ device_id: string }} {{
  return userId ? {{ user_id: String(userId) }} : {{ device_id: 'server-side' }};
}}

/** Queue one event; without {env}, nothing. Never throws: analytics must not break a request. */
export function trackEvent(name: string, properties: Properties, userId?: unknown): void {{
  if (!apiKey) return;
  try {{
    amplitude.track(name, properties, ids(userId));
  }} catch {{
    // ignored: see above
  }}
}}

/** Send what is queued: a serverless function may be frozen as soon as it answers. */
export async function flushEvents(): Promise<void> {{
  if (!apiKey) return;
  try {{
    await amplitude.flush().promise;
  }} catch {{
    // ignored: see above
  }}
}}

/** API Error: a route answered 4xx or 5xx. */
export async function trackApiError(endpoint: string, statusCode: number, err?: unknown): Promise<void> {{
  const errorType = err instanceof Error ? err.name : err === undefined ? 'HttpError' : 'Error';
  trackEvent('API Error', {{ endpoint, status_code: statusCode, error_type: errorType }});
  await flushEvents();
}}

function tokensOf(result: unknown): number | undefined {{
  const r = result as {{ tokensUsed?: number; usage?: {{ total_tokens?: number }} }} | null | undefined;
  return r?.tokensUsed ?? r?.usage?.total_tokens;
}}

/** Agent Started, then Agent Completed, or Agent Timeout (TimeoutError, AbortError) or Agent Failed. */
export async function trackAgentRun<T>(agent: AgentRun, run: () => T | PromiseLike<T>): Promise<T> {{
  const start = Date.now();
  const agentId = agent.agentId === undefined ? undefined : String(agent.agentId);
  const started = {{ agent_id: agentId, user_id: agent.userId, agent_type: agent.agentType }};
  trackEvent('Agent Started', started, agent.userId);
  try {{
    const result = await run();
    const done = {{ agent_id: agentId, duration_ms: Date.now() - start, tokens_used: tokensOf(result) }};
    trackEvent('Agent Completed', done, agent.userId);
    return result;
  }} catch (err) {{
    const name = err instanceof Error ? err.name : 'Error';
    if (name === 'TimeoutError' || name === 'AbortError') {{
      const timeout = {{ agent_id: agentId, duration_ms: Date.now() - start, timeout_limit: agent.timeoutMs }};
      trackEvent('Agent Timeout', timeout, agent.userId);
    }} else {{
      const message = (err instanceof Error ? err.message : String(err)).slice(0, 500);
      trackEvent('Agent Failed', {{ agent_id: agentId, error_type: name, error_message: message }}, agent.userId);
    }}
    throw err;
  }} finally {{
    await flushEvents();
  }}
}}
"""


def init_module(language: str, region: str = "us") -> str:
    """The module's text; `language` 'typescript' or 'javascript' (the same code without the types)."""
    options = ", { serverZone: 'EU' }" if region.lower() == "eu" else ""
    code = _TS.format(env=API_KEY_ENV, marker=MARKER, package=PACKAGE, options=options)
    return code if language != "javascript" else _strip_types(code)


def _strip_types(code: str) -> str:
    replacements = [
        ("type Properties = Record<string, unknown>;\n\n", ""),
        (
            "export interface AgentRun {\n  agentId?: unknown;\n  agentType?: unknown;\n  userId?: unknown;\n"
            "  timeoutMs?: number;\n}\n\n",
            "",
        ),
        ("(userId: unknown): { user_id: string } | { device_id: string } {", "(userId) {"),
        ("(name: string, properties: Properties, userId?: unknown): void {", "(name, properties, userId) {"),
        ("flushEvents(): Promise<void> {", "flushEvents() {"),
        ("(endpoint: string, statusCode: number, err?: unknown): Promise<void> {", "(endpoint, statusCode, err) {"),
        ("function tokensOf(result: unknown): number | undefined {", "function tokensOf(result) {"),
        (
            "  const r = result as { tokensUsed?: number; usage?: { total_tokens?: number } } | null | undefined;",
            "  const r = result;",
        ),
        (
            "trackAgentRun<T>(agent: AgentRun, run: () => T | PromiseLike<T>): Promise<T> {",
            "trackAgentRun(agent, run) {",
        ),
    ]
    for old, new in replacements:
        assert old in code, old
        code = code.replace(old, new)
    return code


def is_ours(content: str) -> bool:
    return MARKER in content.split("\n", 3)[1] if content.count("\n") >= 2 else False


@dataclass(frozen=True)
class PackageEdit:
    after: str
    added: bool  # False: the SDK was already a dependency


class PackageJsonError(ValueError):
    pass


def add_dependency(content: str, package: str = PACKAGE, version: str = SDK_RANGE) -> PackageEdit:
    """package.json with `package` in "dependencies" (already there, or in devDependencies: unchanged)."""
    try:
        data = json.loads(content)
    except ValueError as exc:
        raise PackageJsonError(f"package.json is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise PackageJsonError("package.json is not a JSON object")
    for section in ("dependencies", "devDependencies"):
        if isinstance(data.get(section), dict) and package in data[section]:
            return PackageEdit(content, False)
    source = ("(" + content + ")").encode()
    root = parse(source, "javascript").root_node
    top = next((n for n in walk(root) if n.type == "object"), None)
    if top is None:
        raise PackageJsonError("package.json could not be read as one object")
    unit = _unit(content)
    entry = f'"{package}": "{version}"'
    deps = next((p for p in top.named_children if p.type == "pair" and _key(p) == "dependencies"), None)
    if deps is not None and (obj := deps.child_by_field_name("value")) is not None and obj.type == "object":
        pairs = [p for p in obj.named_children if p.type == "pair"]
        if not pairs:
            edit = (obj.start_byte, obj.end_byte, "{\n" + unit * 2 + entry + "\n" + unit + "}")
        else:
            later = next((p for p in pairs if _key(p) > package), None)
            if later is not None:
                lead = source[source.rfind(b"\n", 0, later.start_byte) + 1 : later.start_byte]
                sep = ",\n" + lead.decode() if not lead.strip() else ", "
                edit = (later.start_byte, later.start_byte, entry + sep)
            else:
                last = pairs[-1]
                lead = source[source.rfind(b"\n", 0, last.start_byte) + 1 : last.start_byte]
                sep = ",\n" + lead.decode() if not lead.strip() else ", "
                edit = (last.end_byte, last.end_byte, sep + entry)
    else:
        pairs = [p for p in top.named_children if p.type == "pair"]
        block = '"dependencies": {\n' + unit * 2 + entry + "\n" + unit + "}"
        if pairs:
            edit = (pairs[-1].end_byte, pairs[-1].end_byte, ",\n" + unit + block)
        else:
            edit = (top.start_byte, top.end_byte, "{\n" + unit + block + "\n}")
    start, end, new = edit
    out = (source[:start] + new.encode() + source[end:]).decode()[1:-1]
    expected = dict(data)
    expected["dependencies"] = {**(data.get("dependencies") or {}), package: version}
    if json.loads(out) != expected:
        raise PackageJsonError("the dependency could not be added by position")
    return PackageEdit(out, True)


def _key(pair: Node) -> str:
    key = pair.child_by_field_name("key")
    raw = text(key)
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    return value if isinstance(value, str) else raw


def _unit(content: str) -> str:
    for line in content.splitlines()[1:]:
        stripped = line.lstrip(" \t")
        if stripped and len(stripped) < len(line):
            lead = line[: len(line) - len(stripped)]
            return lead
    return "  "
