"""TypeScript and JavaScript through tree-sitter: the grammar for a path, a parse, and where a parse failed.

The grammars (PyPI `tree-sitter`, `tree-sitter-typescript`, `tree-sitter-javascript`) are imported at the first
parse, not when the app starts. Trees are byte-addressed: every position here is a byte offset into UTF-8.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tree_sitter import Node, Tree

EXTENSIONS = {".ts": "typescript", ".mts": "typescript", ".cts": "typescript", ".tsx": "tsx"}
EXTENSIONS.update({ext: "javascript" for ext in (".js", ".jsx", ".mjs", ".cjs")})


def language_of(path: str) -> str | None:
    """'typescript', 'tsx' or 'javascript' for a source path; None for anything else (and for .d.ts)."""
    if path.endswith(".d.ts"):
        return None
    dot = path.rfind(".")
    return EXTENSIONS.get(path[dot:].lower()) if dot >= 0 else None


@functools.cache
def _parser(language: str) -> Any:
    # lazy load: the grammars are native modules, imported on the first parse only
    import tree_sitter
    import tree_sitter_javascript
    import tree_sitter_typescript

    grammar = {
        "typescript": tree_sitter_typescript.language_typescript,
        "tsx": tree_sitter_typescript.language_tsx,
        "javascript": tree_sitter_javascript.language,
    }[language]()
    return tree_sitter.Parser(tree_sitter.Language(grammar))


def parse(source: bytes, language: str) -> Tree:
    return _parser(language).parse(source)


@dataclass(frozen=True)
class SyntaxProblem:
    line: int  # 1-based
    column: int  # 1-based
    what: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.what}"


def problems(tree: Tree, limit: int = 5) -> list[SyntaxProblem]:
    """Where the parse failed (ERROR and MISSING nodes), first `limit` of them; empty for a clean parse."""
    if not tree.root_node.has_error:
        return []
    found: list[SyntaxProblem] = []
    for node in walk(tree.root_node, lambda n: n.has_error):
        if node.is_missing or node.type == "ERROR":
            row, col = node.start_point
            what = f"missing {node.type}" if node.is_missing else "unexpected text"
            found.append(SyntaxProblem(row + 1, col + 1, what))
            if len(found) >= limit:
                break
    return found or [SyntaxProblem(1, 1, "the file does not parse")]


def check(source: bytes, language: str) -> list[SyntaxProblem]:
    """The problems of a fresh parse of `source`: empty when it parses without an error."""
    return problems(parse(source, language))


def walk(node: Node, descend: Any = None) -> Iterator[Node]:
    """Every node under `node` (itself first), depth first in source order; `descend(n)` False skips n's subtree."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if descend is None or descend(current):
            stack.extend(reversed(current.children))


def text(node: Node | None) -> str:
    return node.text.decode("utf-8", "replace") if node is not None and node.text is not None else ""
