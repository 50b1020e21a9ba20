"""A route handler's error exits: the statements that end it with a status of 400 or more. A `return` of a
response built with `{ status: 4xx|5xx }`, a `res.status(4xx|5xx)…` call, and a `throw` no `try` of the handler
catches (Next.js answers 500). Nested functions are not the handler's. Handlers: app-router `route` files export
GET/POST/…; pages-router API files export one default handler."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from skills.amplitude.instrument.shapes import (
    CONTAINERS,
    FUNCTIONS,
    block_body,
    function_value,
    is_async,
    named_functions,
)
from skills.amplitude.instrument.syntax import text, walk

if TYPE_CHECKING:
    from tree_sitter import Node

HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})


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


def route_handlers(root: Node, *, app_router: bool) -> list[tuple[str, Node]]:
    named = dict((name, fn) for fn, name in named_functions(root))
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
                    fn = function_value(d.child_by_field_name("value")) if name in HTTP_METHODS else None
                    if fn is not None:
                        out.append((name, fn))
        elif not app_router and default:
            value = decl or child.child_by_field_name("value")
            fn = value if value is not None and value.type == "function_declaration" else function_value(value)
            if fn is None and value is not None and value.type == "identifier":
                fn = named.get(text(value))
            if fn is not None:
                out.append(("default", fn))
    return out


def error_exits(fn: Node) -> list[ErrorExit]:
    body = block_body(fn)
    if body is None:
        return []
    awaits = is_async(fn)
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
