"""The Home tab's Claude line: this week's calls by feature with an estimated cost, and today's tokens against the
team's daily budget (agent/usage.py measures them)."""

from __future__ import annotations

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock

from agent.usage import Spend

WHAT = (
    ("answers", "answer", "answers"),
    ("summaries", "report summary", "report summaries"),
    ("alerts", "alert investigation", "alert investigations"),
    ("reviews", "review", "reviews"),
)


def usage_line(spend: Spend) -> str:
    """ "this week: 212 answers, 3 alert investigations, ~$3.10" (the features with calls; answers always)."""
    parts = []
    for feature, one, many in WHAT:
        n = spend.calls(feature)
        if n or feature == "answers":
            parts.append(f"{n:,} {one if n == 1 else many}")
    span = "this week" if spend.days == 7 else f"the last {spend.days} days"
    return f"{span}: {', '.join(parts)}, ~${spend.cost:,.2f}"


def usage_blocks(spend: Spend, *, ready: bool) -> list:
    if not ready and not spend.features:
        text = "*Claude*: not set up, so the built-in planner answers (README: Claude and its providers)."
        return [SectionBlock(text=MarkdownTextObject(text=text))]
    notes = []
    if spend.budget is not None:
        notes.append(f"today {spend.today_tokens:,} of {spend.budget:,} tokens (`agents.daily_token_budget`)")
    else:
        notes.append(f"today {spend.today_tokens:,} tokens, no daily budget (`agents.daily_token_budget`)")
    if spend.unpriced:
        names = ", ".join(sorted(spend.unpriced))[:300]
        notes.append(f"no price for {names}: not in the estimate (SITREP_MODEL_PRICES)")
    notes.append("estimated from list prices")
    return [
        SectionBlock(text=MarkdownTextObject(text=f"*Claude*, {usage_line(spend)}")),
        ContextBlock(elements=[MarkdownTextObject(text=" · ".join(notes))]),
    ]
