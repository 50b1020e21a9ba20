"""What one parsed file offers the tracking plan: where a Next.js API route answers an error, which functions run
an agent, where an agent is called, and which of the plan's events the file already sends.

Routes (paths relative to the Next.js app's root): `app/**/route.{ts,js,…}` exports GET/POST/… handlers (a
function, an arrow function, or one wrapped in a call such as `withAuth(async (req) => …)`); `pages/api/**` has
a default-exported handler. A handler's error exits are the statements that end it with a status of 400 or more:
a `return` of a response built with `{ status: 4xx|5xx }`, a `res.status(4xx|5xx)…` call, and a `throw` no `try`
of the handler catches (Next.js answers 500). Nested functions are not the handler's.

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

from skills.amplitude.instrument.syntax import language_of, parse, text, walk
from skills.amplitude.snippet import EVENT_NAMES

if TYPE_CHECKING:
    from tree_sitter import Node

API_ERROR = "API Error"
AGENT_EVENTS = tuple(n for n in EVENT_NAMES if n.startswith("Agent "))
HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
FUNCTIONS = frozenset(
    {
        "function_declaration",
        "function_expression",
        "function",
        "arrow_function",
        "generator_function_declaration",
        "generator_function",
        "method_definition",
        "class_body",
    }
)
CONTAINERS = frozenset({"statement_block", "program", "switch_case", "switch_default"})
RUNNER_NAME = re.compile(r"^(?:run|execute|invoke|start|call)[A-Za-z0-9_]*Agent$")
AGENT_OBJECT = re.compile(r"agent", re.IGNORECASE)
AGENT_METHODS = frozenset({"run", "invoke", "execute"})
TRACK_CALLS = frozenset({"track", "trackEvent", "logEvent"})
HELPER_EVENTS = {"trackApiError": (API_ERROR,), "trackAgentRun": AGENT_EVENTS}
_EXT = r"\.(?:ts|tsx|js|jsx|mjs|cjs|mts|cts)$"
_APP_ROUTE = re.compile(r"^(?:src/)?app/(?P<route>(?:.+/)?)route" + _EXT)
_PAGES_API = re.compile(r"^(?:src/)?pages/(?P<route>api(?:/.+?)?)" + _EXT)


@dataclass(frozen=True)
class ErrorExit:
    """A statement that ends a route handler with an error status."""

    start: int
    end: int
    line: int
    status: int
    error: str | None  # the catch clause's parameter in scope, if any
    wrap: bool  # the statement is the body of an if/else/loop: it gets braces
    awaits: bool  # the handler is async: the tracking call is awaited
    throw: bool = False  # an uncaught throw (Next.js answers 500), not a response


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


def route_of(path: str) -> str | None:
    """The URL path a route file serves (dynamic segments kept: /api/agents/[id]/run); None for other files."""
    if m := _PAGES_API.match(path):
        route = m.group("route")
        return "/" + (route[: -len("/index")] if route.endswith("/index") else route)
    if m := _APP_ROUTE.match(path):
        segments = [s for s in m.group("route").strip("/").split("/") if s]
        segments = [s for s in segments if not (s.startswith("(") and s.endswith(")")) and not s.startswith("@")]
        return "/" + "/".join(segments)
    return None


def analyse(path: str, source: bytes, relative: str | None = None) -> FileFacts | None:
    """The facts of one source file (`relative`: its path inside the Next.js app, for the route); None when it is
    not TypeScript or JavaScript."""
    language = language_of(path)
    if language is None:
        return None
    tree = parse(source, language)
    root = tree.root_node
    facts = FileFacts(path, language, route=route_of(relative if relative is not None else path))
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
    for fn, name in _named_functions(root):
        if RUNNER_NAME.match(name) and _is_async(fn) and _block_body(fn) is not None:
            facts.runners.append(_runner(fn, name, source, timeout))
    if facts.route is not None:
        handlers = _route_handlers(root, app_router=_APP_ROUTE.match(relative or path) is not None)
        facts.handlers = [name for name, _ in handlers]
        for _, fn in handlers:
            facts.exits += _exits(fn)
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
        name = _last_name(callee)
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


def _last_name(node: Node | None) -> str:
    if node is None:
        return ""
    if node.type == "identifier":
        return text(node)
    if node.type == "member_expression":
        return text(node.child_by_field_name("property"))
    return ""


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


# -- functions ---------------------------------------------------------------------------------------------


def _is_async(fn: Node) -> bool:
    return any(c.type == "async" for c in fn.children)


def _block_body(fn: Node) -> Node | None:
    body = fn.child_by_field_name("body")
    return body if body is not None and body.type == "statement_block" else None


def _function_value(value: Node | None) -> Node | None:
    """A function, or the last function argument of a wrapping call (withAuth(async (req) => …))."""
    if value is None:
        return None
    if value.type in ("arrow_function", "function_expression", "function"):
        return value
    if value.type == "call_expression":
        args = value.child_by_field_name("arguments")
        fns = [a for a in (args.named_children if args is not None else []) if _function_value(a) is not None]
        return _function_value(fns[-1]) if fns else None
    return None


def _named_functions(root: Node) -> list[tuple[Node, str]]:
    """Top-level functions by name: declarations and `const name = function/arrow`, exported or not."""
    out: list[tuple[Node, str]] = []
    for child in root.named_children:
        decl = child.child_by_field_name("declaration") if child.type == "export_statement" else child
        if decl is None:
            continue
        if decl.type == "function_declaration":
            out.append((decl, text(decl.child_by_field_name("name"))))
        elif decl.type in ("lexical_declaration", "variable_declaration"):
            for d in decl.named_children:
                fn = _function_value(d.child_by_field_name("value")) if d.type == "variable_declarator" else None
                if fn is not None:
                    out.append((fn, text(d.child_by_field_name("name"))))
    return out


def _route_handlers(root: Node, *, app_router: bool) -> list[tuple[str, Node]]:
    named = dict((name, fn) for fn, name in _named_functions(root))
    out: list[tuple[str, Node]] = []
    for child in root.named_children:
        if child.type != "export_statement":
            continue
        default = any(c.type == "default" for c in child.children)
        decl = child.child_by_field_name("declaration")
        if app_router and decl is not None:
            if decl.type == "function_declaration" and text(decl.child_by_field_name("name")) in HTTP_METHODS:
                out.append((text(decl.child_by_field_name("name")), decl))
            elif decl.type == "lexical_declaration":
                for d in decl.named_children:
                    name = text(d.child_by_field_name("name")) if d.type == "variable_declarator" else ""
                    fn = _function_value(d.child_by_field_name("value")) if name in HTTP_METHODS else None
                    if fn is not None:
                        out.append((name, fn))
        elif not app_router and default:
            value = decl or child.child_by_field_name("value")
            fn = value if value is not None and value.type == "function_declaration" else _function_value(value)
            if fn is None and value is not None and value.type == "identifier":
                fn = named.get(text(value))
            if fn is not None:
                out.append(("default", fn))
    return out


def _runner(fn: Node, name: str, source: bytes, timeout: str | None) -> Runner:
    body = _block_body(fn)
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
        if prop in AGENT_METHODS and obj is not None and AGENT_OBJECT.search(_last_name(obj) or text(obj)):
            return text(callee)
        if RUNNER_NAME.match(prop):
            return text(callee)
    return None


# -- error exits -------------------------------------------------------------------------------------------


def _exits(fn: Node) -> list[ErrorExit]:
    body = _block_body(fn)
    if body is None:
        return []
    awaits = _is_async(fn)
    out: list[ErrorExit] = []
    for node in walk(body, lambda n: n is body or n.type not in FUNCTIONS):
        status: int | None = None
        if node.type == "return_statement":
            status = _status(node, pairs=True)
        elif node.type == "expression_statement":
            status = _status(node, pairs=False)
        elif node.type == "throw_statement" and not _caught(node, body):
            status = 500
        if status is None or status < 400:
            continue
        parent = node.parent
        wrap = parent is not None and parent.type not in CONTAINERS
        out.append(
            ErrorExit(
                node.start_byte,
                node.end_byte,
                node.start_point[0] + 1,
                status,
                _catch_param(node, body),
                wrap,
                awaits,
                throw=node.type == "throw_statement",
            )
        )
    return out


def _status(statement: Node, *, pairs: bool) -> int | None:
    """The first literal status in the statement: `{ status: 404 }` (returns only) or `x.status(500)`."""
    for n in walk(statement, lambda n: n is statement or n.type not in FUNCTIONS):
        if pairs and n.type == "pair" and text(n.child_by_field_name("key")).strip("'\"") == "status":
            value = n.child_by_field_name("value")
            if value is not None and value.type == "number":
                return _int(text(value))
        if n.type == "call_expression":
            callee = n.child_by_field_name("function")
            if callee is not None and callee.type == "member_expression":
                if text(callee.child_by_field_name("property")) in ("status", "sendStatus"):
                    args = n.child_by_field_name("arguments")
                    first = args.named_children[0] if args is not None and args.named_children else None
                    if first is not None and first.type == "number":
                        return _int(text(first))
    return None


def _int(literal: str) -> int | None:
    try:
        return int(float(literal.replace("_", "")))
    except ValueError:
        return None


def _caught(node: Node, body: Node) -> bool:
    """Whether a `try` of the handler (around `node`) catches what it throws."""
    child, parent = node, node.parent
    while parent is not None and child != body:
        if parent.type == "try_statement" and parent.child_by_field_name("body") == child:
            return parent.child_by_field_name("handler") is not None
        child, parent = parent, parent.parent
    return False


def _catch_param(node: Node, body: Node) -> str | None:
    parent = node.parent
    while parent is not None and parent != body:
        if parent.type == "catch_clause":
            param = parent.child_by_field_name("parameter")
            return text(param) if param is not None and param.type == "identifier" else None
        parent = parent.parent
    return None
