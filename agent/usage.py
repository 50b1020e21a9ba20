"""What Claude costs a team: each use recorded with its tokens by kind, the daily token budget, the week's spend.

Every call is a row of the answers table (storage/conversations.py) with its source: the answers' own (mention,
dm, command, shortcut, shell), summary or report, alert, review. Days are the team's (its time zone's midnight).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from typing import TYPE_CHECKING

import metrics
from agent.loop import LoopResult
from agent.model_client import feature_of, prices
from agent.pricing import Tokens
from agent.prompt import team_now
from storage.conversations import AnswerRecord, SpendRow

if TYPE_CHECKING:
    from agent.services import Services
    from storage.teams import Team

log = logging.getLogger(__name__)
FEATURES = ("answers", "summaries", "alerts", "reviews")


async def record(
    services: Services, team: Team, source: str, question: str, answer: str, result: LoopResult, started: float
) -> None:
    """One use's row (no thread memory: summaries, alerts and reviews are not follow-up material)."""
    row = AnswerRecord(
        team_id=team.id,
        source=source,
        question=question,
        answer=answer,
        planner="claude",
        usage=result.usage(),
        duration_ms=int((time.monotonic() - started) * 1000),
    )
    try:
        await services.storage.conversations.record(row, remember=False)
    except Exception:  # the work is done; only its record is lost
        log.exception("recording the usage of a %s failed", source)


def since(services: Services, team: Team, days: int = 0) -> str:
    """The team's midnight `days` ago (0: today's), as the answers table's UTC text."""
    midnight = team_now(services, team).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days)
    return midnight.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


async def tokens_today(services: Services, team: Team) -> int:
    return sum(s.tokens for s in await services.storage.conversations.spend(team.id, since(services, team)))


async def over_budget(services: Services, team: Team, feature: str) -> str | None:
    """Why Claude may not be asked now (the team's daily token budget is spent), or None."""
    budget = team.config.agents.daily_token_budget
    if budget is None:
        return None
    used = await tokens_today(services, team)
    if used < budget:
        return None
    metrics.MODEL_BUDGET_REFUSALS.labels(feature=feature).inc()
    return (
        f"today's Claude budget for this team is spent ({used:,} of {budget:,} tokens, `agents.daily_token_budget`); "
        "it starts again at midnight"
    )


@dataclass(frozen=True)
class FeatureSpend:
    calls: int = 0
    tokens: int = 0
    cost: float = 0.0


@dataclass
class Spend:
    """A span's Claude use for the Home tab: by feature, with an estimated cost."""

    days: int
    features: dict[str, FeatureSpend] = field(default_factory=dict)
    unpriced: set[str] = field(default_factory=set)  # models with no price: their cost is not in the total
    today_tokens: int = 0
    budget: int | None = None

    @property
    def cost(self) -> float:
        return sum(f.cost for f in self.features.values())

    def calls(self, feature: str) -> int:
        return self.features.get(feature, FeatureSpend()).calls


async def spend(services: Services, team: Team, days: int = 7) -> Spend:
    """The last `days` days (today included) and today's tokens against the budget."""
    table = prices(services.settings)
    out = Spend(days, budget=team.config.agents.daily_token_budget)
    store = services.storage.conversations
    for row in await store.spend(team.id, since(services, team, days - 1)):
        feature = feature_of(row.source)
        cost = table.cost(row.model, _tokens(row))
        if cost is None:
            out.unpriced.add(row.model)
        was = out.features.get(feature, FeatureSpend())
        out.features[feature] = FeatureSpend(was.calls + row.answers, was.tokens + row.tokens, was.cost + (cost or 0))
    out.today_tokens = sum(s.tokens for s in await store.spend(team.id, since(services, team)))
    return out


def _tokens(row: SpendRow) -> Tokens:
    return Tokens(row.input, row.cache_write, row.cache_read, row.output)
