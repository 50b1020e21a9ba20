"""What one parsed file offers the tracking plan: where a Next.js API route answers an error, which functions run
an agent, where an agent is called, and which of the plan's events the file already sends.

Routes (paths relative to the Next.js app's root): `app/**/route.{ts,js,…}` exports GET/POST/… handlers (a
function, an arrow function, or one wrapped in a call such as `withAuth(async (req) => …)`); `pages/api/**` has
a default-exported handler; its error exits are found by exits.py.

Agent runners are async functions named like `runAgent`, `executeSupportAgent` (run|execute|invoke|start|call …
Agent); agent calls are awaited calls to such a name, or `agent.run|invoke|execute(…)`, whose function is not
defined in the scanned code (the runner, when it is, covers them).

Files marked 'use client', and files that export `runtime = 'edge'` (the Node SDK needs Node.js), are skipped with
the reason. Nothing here edits: the anchors are byte ranges for `edits.py`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from skills.amplitude.instrument.exits import ErrorExit, error_exits, route_handlers
from skills.amplitude.instrument.shapes import block_body, is_async, last_name, named_functions
from skills.amplitude.instrument.syntax import language_of, parse, text, walk
from skills.amplitude.snippet import EVENT_NAMES
from skills.nextjs import Route, route_for

if TYPE_CHECKING:
    from tree_sitter import Node

API_ERROR = "API Error"
AGENT_EVENTS = tuple(n for n in EVENT_NAMES if n.startswith("Agent "))
RUNNER_NAME = re.compile(r"^(?:run|execute|invoke|start|call)[A-Za-z0-9_]*Agent$")
AGENT_OBJECT = re.compile(r"agent", re.IGNORECASE)
AGENT_METHODS = frozenset({"run", "invoke", "execute"})
TRACK_CALLS = frozenset({"track", "trackEvent", "logEvent"})
HELPER_EVENTS = {"trackApiError": (API_ERROR,), "trackAgentRun": AGENT_EVENTS}


@dataclass(frozen=True)
class Runner:
    """An async function that runs an agent; its body gets wrapped in `trackAgentRun(…)`."""

    name: str
    line: int
    body_start: int  # the body's `{`
    body_end: int  # just after its `}`
    fn_line_start: int  # byte offset of the line the function starts on
    meta: tuple[tuple[str, str], ...]  # (agentId|agentType|userId|timeoutMs, JS expression)


@dataclass(frozen=True)
class AgentCall:
    """An awaited call to an agent defined elsewhere: the call gets wrapped in `trackAgentRun(…)`."""

    name: str
    line: int
    start: int
    end: int


@dataclass
class FileFacts:
    path: str
    language: str
    route: str | None = None  # /api/agents/[id]/run
    handlers: list[str] = field(default_factory=list)  # GET, POST, default
    exits: list[ErrorExit] = field(default_factory=list)
    runners: list[Runner] = field(default_factory=list)
    calls: list[AgentCall] = field(default_factory=list)
    called: list[tuple[str, int]] = field(default_factory=list)  # agent functions called (name, line)
    tracked: set[str] = field(default_factory=set)  # plan events the file already sends
    skipped: str = ""  # why the file gets no edit at all
    import_at: int = 0  # where an import line goes (after the last import / directives)
    commonjs: bool = False
    indent: str = "  "


def api_route(path: str) -> Route | None:
    """The API route a file serves (skills/nextjs.py: /api/agents/[id]/run, dynamic segments kept); None for pages
    and other files."""
    route = route_for(path)
    return route if route is not None and route.kind == "api" else None


def analyse(path: str, source: bytes, relative: str | None = None) -> FileFacts | None:
    """The facts of one source file (`relative`: its path inside the Next.js app, for the route); None when it is
    not TypeScript or JavaScript."""
    language = language_of(path)
    if language is None:
        return None
    tree = parse(source, language)
    root = tree.root_node
    route = api_route(relative if relative is not None else path)
    facts = FileFacts(path, language, route=route.path if route else None)
    facts.indent = _indent_unit(source)
    facts.import_at, facts.commonjs = _import_position(root, source)
    facts.tracked = tracked_in(root)
    if _directive(root, "use client"):
        facts.skipped = "a client component ('use client'): the Node SDK runs on the server only"
        return facts
    if _edge_runtime(root):
        facts.skipped = "runs on the Edge runtime: @amplitude/analytics-node needs the Node.js runtime"
        return facts
    timeout = _timeout_constant(root)
    for fn, name in named_functions(root):
        if RUNNER_NAME.match(name) and is_async(fn) and block_body(fn) is not None:
            facts.runners.append(_runner(fn, name, source, timeout))
    if route is not None:
        handlers = route_handlers(root, app_router=route.app_router)
        facts.handlers = [name for name, _ in handlers]
        for _, fn in handlers:
            facts.exits += error_exits(fn)
    defined = {r.name for r in facts.runners}
    for node in walk(root):
        callee = _agent_callee(node) if node.type == "call_expression" else None
        if callee and callee not in defined:
            line = node.start_point[0] + 1
            facts.called.append((callee, line))
            parent = node.parent
            if parent is not None and parent.type == "await_expression":
                facts.calls.append(AgentCall(callee, line, node.start_byte, node.end_byte))
    return facts


# -- what the file already sends ---------------------------------------------------------------------------


def tracked_in(node: Node) -> set[str]:
    """Plan events sent under `node`: track('Agent Started', …), amplitude.track(…), logEvent(…), and our helpers."""
    found: set[str] = set()
    for n in walk(node):
        if n.type != "call_expression":
            continue
        callee = n.child_by_field_name("function")
        name = last_name(callee)
        if name in HELPER_EVENTS:
            found.update(HELPER_EVENTS[name])
        elif name in TRACK_CALLS:
            args = n.child_by_field_name("arguments")
            first = args.named_children[0] if args is not None and args.named_children else None
            if first is not None and first.type in ("string", "template_string"):
                value = text(first)[1:-1]
                if value in EVENT_NAMES:
                    found.add(value)
    return found


# -- file layout -------------------------------------------------------------------------------------------


def _directive(root: Node, value: str) -> bool:
    for child in root.named_children:
        if child.type == "comment":
            continue
        if child.type != "expression_statement" or not child.named_children:
            return False
        literal = child.named_children[0]
        if literal.type != "string":
            return False
        if text(literal)[1:-1] == value:
            return True
    return False


def _edge_runtime(root: Node) -> bool:
    for child in root.named_children:
        decl = child.child_by_field_name("declaration") if child.type == "export_statement" else None
        if decl is None or decl.type != "lexical_declaration":
            continue
        for d in decl.named_children:
            if d.type == "variable_declarator" and text(d.child_by_field_name("name")) == "runtime":
                if text(d.child_by_field_name("value")).strip("'\"`") in ("edge", "experimental-edge"):
                    return True
    return False


def _import_position(root: Node, source: bytes) -> tuple[int, bool]:
    """After the line of the last top-level import (or the directives); and whether the file is CommonJS."""
    last = required = None
    directive_end = 0
    esm = False
    for child in root.named_children:
        if child.type == "import_statement":
            last, esm = child, True
        elif child.type == "export_statement":
            esm = True
        elif child.type in ("lexical_declaration", "variable_declaration") and b"require(" in (child.text or b""):
            required = child
        elif last is None and child.type == "expression_statement" and child.named_children:
            if child.named_children[0].type == "string" and directive_end == child.start_byte - _gap(source, child):
                directive_end = child.end_byte
    if last is None and required is not None:
        last = required
    anchor = last.end_byte if last is not None else directive_end
    if anchor:
        newline = source.find(b"\n", anchor)
        anchor = len(source) if newline < 0 else newline + 1
    commonjs = not esm and b"require(" in source
    return anchor, commonjs


def _gap(source: bytes, node: Node) -> int:
    """How much whitespace and comment precedes a directive (so only leading string statements count)."""
    before = source[: node.start_byte]
    stripped = re.sub(rb"(/\*.*?\*/|//[^\n]*|\s)+$", b"", before, flags=re.S)
    return len(before) - len(stripped)


def _indent_unit(source: bytes) -> str:
    for line in source.splitlines():
        stripped = line.lstrip(b" \t")
        if stripped and len(stripped) < len(line):
            lead = line[: len(line) - len(stripped)]
            return "\t" if lead.startswith(b"\t") else " " * min(len(lead), 4)
    return "  "


def _timeout_constant(root: Node) -> str | None:
    for child in root.named_children:
        decl = child.child_by_field_name("declaration") if child.type == "export_statement" else child
        if decl is None or decl.type != "lexical_declaration":
            continue
        for d in decl.named_children:
            name = text(d.child_by_field_name("name")) if d.type == "variable_declarator" else ""
            if name and "TIMEOUT" in name.upper() and (d.child_by_field_name("value") or d).type == "number":
                return name
    return None


def _runner(fn: Node, name: str, source: bytes, timeout: str | None) -> Runner:
    body = block_body(fn)
    assert body is not None
    params = _param_names(fn.child_by_field_name("parameters"))
    meta: list[tuple[str, str]] = []
    agent_id = _pick(params, r"agent_?id") or _pick(params, r"id")
    if agent_id:
        meta.append(("agentId", agent_id))
    meta.append(("agentType", _pick(params, r"agent_?type|type|kind") or f"'{name}'"))
    if user := _pick(params, r"user_?id|uid"):
        meta.append(("userId", user))
    if timeout:
        meta.append(("timeoutMs", timeout))
    start = fn.start_byte
    # an exported or `const x = async () =>` function starts its line earlier than the function node itself
    line_start = source.rfind(b"\n", 0, start) + 1
    return Runner(name, fn.start_point[0] + 1, body.start_byte, body.end_byte, line_start, tuple(meta))


def _pick(names: list[str], pattern: str) -> str | None:
    return next((n for n in names if re.fullmatch(pattern, n, re.IGNORECASE)), None)


def _param_names(params: Node | None) -> list[str]:
    names: list[str] = []
    for p in params.named_children if params is not None else []:
        node = p.child_by_field_name("pattern") if p.type in ("required_parameter", "optional_parameter") else p
        if node is not None and node.type == "assignment_pattern":
            node = node.child_by_field_name("left")
        if node is None:
            continue
        if node.type == "identifier":
            names.append(text(node))
        elif node.type == "object_pattern":
            for prop in node.named_children:
                if prop.type == "shorthand_property_identifier_pattern":
                    names.append(text(prop))
                elif prop.type == "object_assignment_pattern":
                    names.append(text(prop.child_by_field_name("left")))
                elif prop.type == "pair_pattern" and (v := prop.child_by_field_name("value")) is not None:
                    if v.type == "identifier":
                        names.append(text(v))
    return names


def _agent_callee(call: Node) -> str | None:
    callee = call.child_by_field_name("function")
    if callee is None:
        return None
    if callee.type == "identifier" and RUNNER_NAME.match(text(callee)):
        return text(callee)
    if callee.type == "member_expression":
        obj, prop = callee.child_by_field_name("object"), text(callee.child_by_field_name("property"))
        if prop in AGENT_METHODS and obj is not None and AGENT_OBJECT.search(last_name(obj) or text(obj)):
            return text(callee)
        if RUNNER_NAME.match(prop):
            return text(callee)
    return None
