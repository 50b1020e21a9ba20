"""Shapes of JavaScript and TypeScript code that the instrumentation looks for: functions (declared, assigned, or
wrapped in a call such as `withAuth(async (req) => …)`), their bodies, and the name a call is made through."""

from __future__ import annotations

from typing import TYPE_CHECKING

from skills.amplitude.instrument.syntax import text

if TYPE_CHECKING:
    from tree_sitter import Node

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


def is_async(fn: Node) -> bool:
    return any(c.type == "async" for c in fn.children)


def block_body(fn: Node) -> Node | None:
    body = fn.child_by_field_name("body")
    return body if body is not None and body.type == "statement_block" else None


def function_value(value: Node | None) -> Node | None:
    """A function, or the last function argument of a wrapping call (withAuth(async (req) => …))."""
    if value is None:
        return None
    if value.type in ("arrow_function", "function_expression", "function"):
        return value
    if value.type == "call_expression":
        args = value.child_by_field_name("arguments")
        fns = [a for a in (args.named_children if args is not None else []) if function_value(a) is not None]
        return function_value(fns[-1]) if fns else None
    return None


def named_functions(root: Node) -> list[tuple[Node, str]]:
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
                fn = function_value(d.child_by_field_name("value")) if d.type == "variable_declarator" else None
                if fn is not None:
                    out.append((fn, text(d.child_by_field_name("name"))))
    return out


def last_name(node: Node | None) -> str:
    if node is None:
        return ""
    if node.type == "identifier":
        return text(node)
    if node.type == "member_expression":
        return text(node.child_by_field_name("property"))
    return ""
