"""A row of a benchmark's published results file, as each task's `read_results` yields it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from srpo.data.files import DataError


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


def published_row(
    location: str, row: Mapping[str, Any], *, id: str, response: str, extraction: str, verdict: str
) -> PublishedRow:
    """A `PublishedRow` from the fields a layout names (e.g. MATH-V's `id`, `response`, `model_answer`,
    `correct`). A response that is not text (MMMU-Pro stores an API error as a dict) is no response; a
    missing id is a DataError naming the row."""
    if row.get(id) is None:
        raise DataError(f"{location}: no `{id}`")
    text = row.get(response)
    stored = row.get(extraction)
    return PublishedRow(
        str(row[id]),
        text
        if isinstance(text, str)
        else ""
        if text is None or isinstance(text, (dict, list))
        else str(text),
        None if stored is None else str(stored),
        as_bool(row.get(verdict)),
    )
