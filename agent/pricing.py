"""What Claude costs: a price table in $ per million tokens by model, and an estimate for tokens by kind.

The built-in table holds Anthropic's list prices (https://platform.claude.com/docs/en/about-claude/pricing);
SITREP_MODEL_PRICES adds or replaces rows ({"model": {"input": 2, "output": 10}}, cache_write and cache_read
optional), for another contract, another platform's prices, or a free self-hosted model ({"input": 0,
"output": 0}). A row's cache write defaults to 1.25 × input (the 5-minute cache) and its read to 0.1 × input.
A model id finds its row exactly, else by the longest row name it contains, so Bedrock's
"us.anthropic.claude-sonnet-5-5-v1:0" and Vertex AI's "claude-sonnet-5-5@20260901" price as claude-sonnet-5-5.
Estimates only: the invoice is the truth.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

CACHE_WRITE = 1.25  # × input, 5-minute cache writes
CACHE_READ = 0.1  # × input, cache reads


@dataclass(frozen=True)
class Price:
    input: float
    output: float
    cache_write: float
    cache_read: float

    @classmethod
    def of(cls, row: Mapping[str, float]) -> Price:
        given = float(row["input"])
        write = float(row.get("cache_write", given * CACHE_WRITE))
        return cls(given, float(row["output"]), write, float(row.get("cache_read", given * CACHE_READ)))


@dataclass(frozen=True)
class Tokens:
    """A call's (or a sum of calls') tokens by kind; input is the uncached rest."""

    input: int = 0
    cache_write: int = 0
    cache_read: int = 0
    output: int = 0

    def __add__(self, other: Tokens) -> Tokens:
        return Tokens(
            self.input + other.input,
            self.cache_write + other.cache_write,
            self.cache_read + other.cache_read,
            self.output + other.output,
        )

    @property
    def total_in(self) -> int:
        return self.input + self.cache_write + self.cache_read

    @property
    def total(self) -> int:
        return self.total_in + self.output


LIST_PRICES: dict[str, dict[str, float]] = {
    "claude-fable-5-1": {"input": 10, "output": 50},
    "claude-opus-5-5": {"input": 4, "output": 20},
    "claude-sonnet-5-5": {"input": 2, "output": 10},
    "claude-haiku-5-5": {"input": 0.10, "output": 0.50},
    "claude-opus-5": {"input": 5, "output": 25},
    "claude-sonnet-5": {"input": 2, "output": 10},
    "claude-opus-4-8": {"input": 5, "output": 25},
    "claude-opus-4-7": {"input": 5, "output": 25},
    "claude-opus-4-6": {"input": 5, "output": 25},
    "claude-sonnet-4-6": {"input": 3, "output": 15},
    "claude-opus-4-5": {"input": 5, "output": 25},
    "claude-sonnet-4-5": {"input": 3, "output": 15},
    "claude-haiku-4-5": {"input": 1, "output": 5},
    "claude-opus-4-1": {"input": 15, "output": 75},
    "claude-sonnet-4": {"input": 3, "output": 15},
    "claude-opus-4": {"input": 15, "output": 75},
}


class PriceTable:
    """The list prices with the configured rows over them."""

    def __init__(self, overrides: Mapping[str, Mapping[str, float]] | None = None) -> None:
        rows = {**LIST_PRICES, **(overrides or {})}
        self.rows = {name: Price.of(row) for name, row in rows.items()}

    def price(self, model: str) -> Price | None:
        if model in self.rows:
            return self.rows[model]
        matches = [name for name in self.rows if name in model]
        return self.rows[max(matches, key=len)] if matches else None

    def cost(self, model: str, tokens: Tokens) -> float | None:
        """Estimated dollars for `tokens` of `model`; None when the model has no price."""
        p = self.price(model)
        if p is None:
            return None
        dollars = (
            tokens.input * p.input
            + tokens.cache_write * p.cache_write
            + tokens.cache_read * p.cache_read
            + tokens.output * p.output
        )
        return dollars / 1_000_000
