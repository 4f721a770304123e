"""A row of a benchmark's published results file, as each task's `read_results` yields it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PublishedRow:
    """One row of a published results file: the response, the official extraction and verdict if stored."""

    id: str
    response: str
    extraction: str | None = None
    verdict: bool | None = None


def as_bool(value: Any) -> bool | None:
    """A stored verdict (True, "True", 1, "1", "Correct") as a bool; None when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return bool(value)
    return str(value).strip().lower() in ("true", "1", "yes", "correct")
