"""A Grafana-managed rule's queries, as /api/prometheus/grafana/api/v1/rules gives them.

`query` is plain text: the `expr` of each data query joined by " | " (expressions such as reduce or math have no
`expr` and are left out), and the data-source UIDs come apart in `queriedDatasourceUIDs`, one per data query in
the same order. When no query has an `expr`, Grafana sends the JSON of the rule's model instead. LogQL itself
uses " | " between pipeline stages, so a piece that continues a log query is joined back to it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

SEPARATOR = " | "
EXPRESSION_UIDS = frozenset({"__expr__", "-100"})
# What can follow " | " inside one LogQL query: a parser or formatting stage, or a label filter.
_LOGQL_STAGE = re.compile(
    r"^(json|logfmt|unpack|pattern|regexp|line_format|label_format|unwrap|drop|keep|decolorize|distinct)\b"
    r"|^[A-Za-z_][A-Za-z0-9_]*\s*(=~|!~|==|!=|>=|<=|=|>|<)"
)
_REF = re.compile(r"\$\{?[A-Z][A-Za-z0-9_]*\}?")  # $A, ${B}: a server-side expression's reference to a query
_LOGQL_HINT = re.compile(r"\|[=~]|!~\s*\"|\|\s*(json|logfmt|pattern|regexp|line_format|label_format|unwrap)\b")


@dataclass(frozen=True)
class RuleQuery:
    expr: str
    uid: str = ""


def parse(raw: Any, uids: Any) -> list[RuleQuery]:
    """The rule's data queries with their data-source UIDs ("" where the pairing is not certain)."""
    if not raw:
        return []
    uid_list = [str(u) for u in uids if str(u) not in EXPRESSION_UIDS] if isinstance(uids, list) else []
    if isinstance(raw, list) or (isinstance(raw, str) and raw.lstrip().startswith("[")):
        return _from_model(raw)
    if not isinstance(raw, str):
        return []
    exprs = [p for p in _split(raw) if not _REF.search(p)]
    if len(exprs) == len(uid_list):
        return [RuleQuery(e, u) for e, u in zip(exprs, uid_list, strict=True)]
    if len(set(uid_list)) == 1:
        return [RuleQuery(e, uid_list[0]) for e in exprs]
    return [RuleQuery(e) for e in exprs]


def guess_type(expr: str) -> str:
    """loki or prometheus, from the query alone (when the data source list does not say)."""
    stripped = expr.lstrip()
    if _LOGQL_HINT.search(expr) or stripped.startswith("{") or re.search(r"\(\s*\{", expr):
        return "loki"
    return "prometheus"


def _split(text: str) -> list[str]:
    pieces: list[str] = []
    for piece in text.split(SEPARATOR):
        if pieces and (_open(pieces[-1]) or (_looks_logql(pieces[-1]) and _LOGQL_STAGE.match(piece.lstrip()))):
            pieces[-1] = f"{pieces[-1]}{SEPARATOR}{piece}"
        else:
            pieces.append(piece)
    return [p.strip() for p in pieces if p.strip()]


def _looks_logql(expr: str) -> bool:
    return guess_type(expr) == "loki"


def _open(expr: str) -> bool:
    """True while a bracket or a quoted string of `expr` is still open (the query goes on after " | ")."""
    depth, quote, escaped = 0, "", False
    for ch in expr:
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = ""
        elif ch in "\"'`":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
    return depth > 0 or bool(quote)


def _from_model(raw: Any) -> list[RuleQuery]:
    """The JSON list of the rule's model (older Grafana, or no query with an `expr`)."""
    try:
        items = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return []
    out = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or str(item.get("datasourceUid")) in EXPRESSION_UIDS:
            continue
        model = item.get("model") or {}
        expr = model.get("expr") if isinstance(model, dict) else None
        if isinstance(expr, str) and expr:
            out.append(RuleQuery(expr, str(item.get("datasourceUid") or "")))
    return out
