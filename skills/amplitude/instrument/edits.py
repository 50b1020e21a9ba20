"""Edits by parsed position: byte-range replacements built from the anchors of points.py, applied in one pass, and
the re-parse check every edited file must pass.

A tracking call lands before the statement it is about: on a line of its own with that statement's indentation
when the statement starts its line, inline otherwise (`{try{…}catch(e){trackApiError(…); res.status(500)…}`), and
inside new braces when the statement is the body of an `if`/`else`/loop without them, so the condition still
guards both. An agent runner's body moves into `return trackAgentRun({…}, async () => { … });`, re-indented one
level except for lines inside a multi-line template literal, whose text must not change.
"""

from __future__ import annotations

from dataclasses import dataclass

from skills.amplitude.instrument.exits import ErrorExit
from skills.amplitude.instrument.points import AgentCall, FileFacts, Runner
from skills.amplitude.instrument.syntax import SyntaxProblem, check, parse, walk


@dataclass(frozen=True)
class Edit:
    start: int
    end: int
    text: str


class EditConflict(ValueError):
    """Two edits of one file overlap."""


def apply(source: bytes, edits: list[Edit]) -> bytes:
    """The source with every edit made; insertions at one offset keep their order, before a replacement there."""
    ordered = sorted(enumerate(edits), key=lambda p: (p[1].start, p[1].end != p[1].start, p[0]))
    out: list[bytes] = []
    at = 0
    for _, e in ordered:
        if e.start < at or e.end < e.start or e.end > len(source):
            raise EditConflict(f"edits overlap at byte {e.start}")
        out += [source[at : e.start], e.text.encode()]
        at = e.end
    out.append(source[at:])
    return b"".join(out)


def _line_start(source: bytes, offset: int) -> int:
    return source.rfind(b"\n", 0, offset) + 1


def _leading(source: bytes, offset: int) -> bytes:
    """What precedes `offset` on its line."""
    return source[_line_start(source, offset) : offset]


def api_error_call(endpoint: str, exit_: ErrorExit) -> str:
    args = [f"'{endpoint}'", str(exit_.status)] + ([exit_.error] if exit_.error else [])
    return f"{'await' if exit_.awaits else 'void'} trackApiError({', '.join(args)});"


def exit_edit(source: bytes, endpoint: str, exit_: ErrorExit) -> Edit:
    call = api_error_call(endpoint, exit_)
    statement = source[exit_.start : exit_.end].decode()
    if exit_.wrap:
        return Edit(exit_.start, exit_.end, f"{{ {call} {statement} }}")
    lead = _leading(source, exit_.start)
    if not lead.strip():
        return Edit(exit_.start - len(lead), exit_.start - len(lead), f"{lead.decode()}{call}\n")
    return Edit(exit_.start, exit_.start, f"{call} ")


def runner_meta(runner: Runner) -> str:
    return "{ " + ", ".join(f"{k}: {v}" if k != v else k for k, v in runner.meta) + " }"


def runner_edits(source: bytes, language: str, runner: Runner, indent: str) -> list[Edit]:
    open_, close = runner.body_start, runner.body_end - 1  # the `{` and the `}`
    head = f"return trackAgentRun({runner_meta(runner)}, async () => {{"
    after_open = source[open_ + 1 : source.find(b"\n", open_) if b"\n" in source[open_:close] else close]
    before_close = _leading(source, close)
    if after_open.strip() or before_close.strip():  # a body on one line, or braces sharing lines with code
        space = "" if source[close - 1 : close] in (b" ", b"\t") else " "
        return [Edit(open_ + 1, open_ + 1, f" {head}"), Edit(close, close, f"{space}}}); ")]
    base = source[runner.fn_line_start : runner.fn_line_start + _indent_len(source, runner.fn_line_start)].decode()
    inner = base + indent
    edits = [Edit(open_ + 1, open_ + 1, f"\n{inner}{head}")]
    frozen = _multiline_strings(source, language, open_, close)
    line = source.find(b"\n", open_) + 1
    while 0 < line < close - len(before_close):
        end = source.find(b"\n", line)
        end = len(source) if end < 0 else end
        if source[line:end].strip() and not any(s < line < e for s, e in frozen):
            edits.append(Edit(line, line, indent))
        line = end + 1
    close_line = close - len(before_close)
    edits.append(Edit(close_line, close_line, f"{inner}}});\n"))
    return edits


def _indent_len(source: bytes, line_start: int) -> int:
    n = line_start
    while n < len(source) and source[n : n + 1] in (b" ", b"\t"):
        n += 1
    return n - line_start


def _multiline_strings(source: bytes, language: str, start: int, end: int) -> list[tuple[int, int]]:
    tree = parse(source, language)
    spans = []
    for node in walk(tree.root_node, lambda n: n.end_byte >= start and n.start_byte <= end):
        if node.type in ("template_string", "string") and b"\n" in source[node.start_byte : node.end_byte]:
            spans.append((node.start_byte, node.end_byte))
    return spans


def call_edit(source: bytes, call: AgentCall) -> Edit:
    expression = source[call.start : call.end].decode()
    return Edit(call.start, call.end, f"trackAgentRun({{ agentType: '{call.name}' }}, () => {expression})")


def import_edit(facts: FileFacts, specifier: str, names: list[str], source: bytes) -> Edit:
    joined = ", ".join(sorted(names))
    if facts.commonjs:
        line = f"const {{ {joined} }} = require('{specifier}');\n"
    else:
        line = f"import {{ {joined} }} from '{specifier}';\n"
    at = facts.import_at
    if at and source[at - 1 : at] != b"\n":
        line = "\n" + line
    elif at == 0 and source.startswith(b"#!"):
        at = source.find(b"\n") + 1
    return Edit(at, at, line)


def verify(source: bytes, language: str) -> list[SyntaxProblem]:
    """The problems of a fresh parse: every edited file must come back with none before anything is pushed."""
    return check(source, language)
