"""`read_samples`: one streaming entry point from any supported file, folder or Hub dataset to `Sample` records.

    for s in read_samples("data/train.jsonl"):                     # format detected per row
    for s in read_samples("raw.parquet", fields="question=q,answer=a,image=img")
    for s in read_samples("llava_cot.jsonl", format="llava-cot", skip_bad=True, stats=stats)
    for s in read_samples("AI4Math/MathVista", split="testmini")    # a Hugging Face dataset id

Bad rows raise `DataError` naming file, line and problem; with `skip_bad=True` they are counted in
`ReadStats` (with the first few reasons kept for the report) and reading goes on. A row with several
question/answer turns gives one sample per turn (`first_turn_only=True` keeps the first and counts the
rest); samples whose gold answer could not be isolated are counted and listed (see `srpo.data.formats`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

from srpo.data.files import DataError, iter_raw_rows
from srpo.data.formats import (
    GOLD_UNCLEAR,
    ROW_FORMATS,
    RowProblem,
    detect_format,
    from_fields,
    parse_field_mapping,
)
from srpo.data.sample import Sample

log = logging.getLogger(__name__)

FORMATS = ("auto", *ROW_FORMATS)
CLI_FLAGS = ("--skip-bad", "--format", "--field")
"""The options `srpo data inspect/convert` offer; pass the ones your command has as `hint_flags`."""


@dataclass
class ReadStats:
    """What a read produced and what it skipped (and why, for the first `keep` problems)."""

    read: int = 0
    """Samples produced."""
    skipped: int = 0
    """Rows skipped as malformed (only with `skip_bad`)."""
    problems: list[str] = field(default_factory=list)
    keep: int = 20
    rows: int = 0
    """Rows that produced samples."""
    extra_turns: int = 0
    """Samples beyond the first one of their row (multi-turn rows)."""
    dropped_turns: int = 0
    """Later turns not read because of `first_turn_only`."""
    gold_unclear: int = 0
    """Samples whose gold answer could not be isolated (`meta["gold_unclear"]`)."""
    unclear_ids: list[str] = field(default_factory=list)

    def skip(self, message: str) -> None:
        self.skipped += 1
        if len(self.problems) < self.keep:
            self.problems.append(message)
        log.warning("skipped %s", message)

    def count(self, samples: list[Sample], dropped: int) -> None:
        """Account for the samples of one row (and the turns `first_turn_only` dropped from it)."""
        self.rows += 1
        self.read += len(samples)
        self.extra_turns += max(len(samples) - 1, 0)
        self.dropped_turns += dropped
        for s in samples:
            if s.meta.get(GOLD_UNCLEAR):
                self.gold_unclear += 1
                if len(self.unclear_ids) < self.keep:
                    self.unclear_ids.append(s.id)

    def summary(self) -> str:
        text = f"{self.read} read, {self.skipped} skipped"
        if self.extra_turns:
            text += (
                f"; {self.extra_turns} of the samples are later turns of multi-turn rows ({self.rows} rows)"
            )
        if self.dropped_turns:
            text += f"; {self.dropped_turns} later turns dropped (first turn only)"
        if self.gold_unclear:
            shown = ", ".join(self.unclear_ids[:5]) + (", …" if self.gold_unclear > 5 else "")
            text += (
                f"; {self.gold_unclear} samples whose gold answer could not be isolated (meta.gold_unclear, "
                f"not graded): {shown}"
            )
        if self.problems:
            text += "; first problems:\n  " + "\n  ".join(self.problems)
        return text


def read_samples(
    path: str | os.PathLike,
    *,
    format: str = "auto",
    fields: str | dict[str, str] | None = None,
    image_root: str | os.PathLike | None = None,
    skip_bad: bool = False,
    stats: ReadStats | None = None,
    split: str | None = None,
    first_turn_only: bool = False,
    hint_flags: Collection[str] = (),
) -> Iterator[Sample]:
    """Stream `Sample`s from `path` (a file, a folder, or a Hugging Face dataset id; see `iter_raw_rows`).

    `format` is a name from `FORMATS` ("auto" detects per row); `fields` maps our field names to the
    file's columns and overrides detection. `image_root` is not used to read images here (they are
    resolved lazily, see `srpo.data.images`), only recorded in `meta["image_root"]` when given.
    `first_turn_only` reads only the first question/answer pair of multi-turn rows (the rest are counted
    in `stats.dropped_turns`). `hint_flags` are the command-line options the caller offers (from
    `CLI_FLAGS`); error messages suggest only those.
    """
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    mapping = parse_field_mapping(fields)
    stats = stats if stats is not None else ReadStats()
    for raw in iter_raw_rows(path, split=split):
        try:
            samples = convert_row(raw.row, raw.key, format, mapping)
        except (RowProblem, DataError) as e:
            message = str(e) if isinstance(e, DataError) else f"{raw.location}: {e}"
            if isinstance(e, RowProblem):
                message += _hint(format, mapping, hint_flags)
            if not skip_bad:
                if "--skip-bad" in hint_flags:
                    message += " (or pass --skip-bad to skip such rows)"
                raise DataError(message) from None
            stats.skip(message)
            continue
        dropped = 0
        if first_turn_only and len(samples) > 1:
            dropped, samples = len(samples) - 1, samples[:1]
        stats.count(samples, dropped)
        for sample in samples:
            if image_root is not None:
                sample.meta.setdefault("image_root", str(image_root))
            yield sample


def convert_row(
    row: Any, key: str | None = None, format: str = "auto", mapping: dict[str, str] | None = None
) -> list[Sample]:
    """The samples of one raw row, in the given (or detected) format. Raises `RowProblem` when the row does
    not fit, or the `DataError` a reader put in its place (a line that is not JSON, not UTF-8, …)."""
    if isinstance(row, DataError):
        raise row
    if not isinstance(row, dict):
        raise RowProblem(f"expected a JSON object per row, got {type(row).__name__}")
    name = None if mapping else (format if format != "auto" else detect_format(row))
    if not mapping and name is None:
        raise RowProblem(
            f"cannot tell the row format from its keys {sorted(map(str, row))[:12]} (srpo rows have 'question' "
            "and 'answer', LLaVA-CoT 'conversations', Mulberry 'messages', flat rows 'query')"
        )
    try:
        return [from_fields(row, mapping, key)] if mapping else ROW_FORMATS[name](row, key)
    except RowProblem:
        raise
    except (TypeError, ValueError, AttributeError, KeyError, IndexError) as e:
        # A row shaped unlike its format (a number where a list belongs, …) is that row's problem, not a crash.
        raise RowProblem(f"not a valid {name or 'mapped'} row ({type(e).__name__}: {e})") from None


def _hint(format: str, mapping: dict[str, str], flags: Collection[str]) -> str:
    if mapping:
        return "; check the --field mapping" if "--field" in flags else "; check the column mapping"
    offered = [f for f in ("--format", "--field") if f in flags]
    if not offered:
        return f"; read as {format!r} rows: fix the row, or check the file is in a layout docs/data.md lists"
    text = f"; the format was {format!r}"
    if "--format" in flags:
        text += f" — pass --format ({', '.join(ROW_FORMATS)})"
    if "--field" in flags:
        text += (
            " or" if "--format" in flags else " —"
        ) + " map columns with --field question=COL,answer=COL,image=COL"
    return text
