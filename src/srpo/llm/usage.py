"""Token usage per step and an optional cost estimate from prices per million tokens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from srpo.llm.request import ChatResult


@dataclass
class Usage:
    """Counts for one step. Cached responses are counted apart: they cost nothing this time."""

    requests: int = 0
    cached: int = 0
    retries: int = 0
    failed: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    price_in: float | None = None
    """Price per 1M prompt tokens (any currency), or None for no cost estimate."""
    price_out: float | None = None
    """Price per 1M completion tokens."""
    endpoints: str | None = None
    """Per-endpoint counts (`srpo.llm.endpoints`), filled when the client closes."""

    def add(self, result: ChatResult) -> None:
        if result.cached:
            self.cached += 1
            return
        self.requests += 1
        self.prompt_tokens += result.prompt_tokens
        self.completion_tokens += result.completion_tokens

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def cost(self) -> float | None:
        """Estimated cost of the requests actually sent, when prices are given."""
        if self.price_in is None and self.price_out is None:
            return None
        return (
            self.prompt_tokens * (self.price_in or 0.0) + self.completion_tokens * (self.price_out or 0.0)
        ) / 1e6

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "requests": self.requests,
            "cached": self.cached,
            "retries": self.retries,
            "failed": self.failed,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
        }
        if self.cost is not None:
            d["cost"] = round(self.cost, 6)
        if self.endpoints:
            d["endpoints"] = self.endpoints
        return d

    def summary(self) -> str:
        text = (
            f"{self.requests} requests sent ({self.cached} from cache, {self.retries} retries, "
            f"{self.failed} failed), tokens in {self.prompt_tokens:,} / out {self.completion_tokens:,}"
        )
        if self.cost is not None:
            text += f", estimated cost {self.cost:.4f}"
        return text
