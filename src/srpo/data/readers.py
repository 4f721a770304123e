"""`read_samples`: one streaming entry point from any supported file or folder to `Sample` records.

    for s in read_samples("data/train.jsonl"):                     # format detected per row
    for s in read_samples("raw.parquet", fields="question=q,answer=a,image=img")
    for s in read_samples("llava_cot.jsonl", format="llava-cot", skip_bad=True, stats=stats)

Bad rows raise `DataError` naming file, line and problem; with `skip_bad=True` they are counted in
`ReadStats` (with the first few reasons kept for the report) and reading goes on.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from srpo.data.files import DataError, iter_raw_rows
from srpo.data.formats import ROW_FORMATS, RowProblem, detect_format, from_fields, parse_field_mapping
from srpo.data.sample import Sample

log = logging.getLogger(__name__)

FORMATS = ("auto", *ROW_FORMATS)


@dataclass
class ReadStats:
    """What a read produced and what it skipped (and why, for the first `keep` problems)."""

    read: int = 0
    skipped: int = 0
    problems: list[str] = field(default_factory=list)
    keep: int = 20

    def skip(self, message: str) -> None:
        self.skipped += 1
        if len(self.problems) < self.keep:
            self.problems.append(message)
        log.warning("skipped %s", message)

    def summary(self) -> str:
        text = f"{self.read} read, {self.skipped} skipped"
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
) -> Iterator[Sample]:
    """Stream `Sample`s from `path`.

    `format` is a name from `FORMATS` ("auto" detects per row); `fields` maps our field names to the
    file's columns and overrides detection. `image_root` is not used to read images here (they are
    resolved lazily, see `srpo.data.images`), only recorded in `meta["image_root"]` when given.
    """
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    mapping = parse_field_mapping(fields)
    stats = stats if stats is not None else ReadStats()
    for raw in iter_raw_rows(path, split=split):
        try:
            sample = _convert(raw.row, raw.key, format, mapping)
        except (RowProblem, DataError) as e:
            message = str(e) if isinstance(e, DataError) else f"{raw.location}: {e}"
            if isinstance(e, RowProblem):
                message += _hint(format, mapping)
            if not skip_bad:
                raise DataError(message + " (or pass --skip-bad to skip such rows)") from None
            stats.skip(message)
            continue
        if image_root is not None:
            sample.meta.setdefault("image_root", str(image_root))
        stats.read += 1
        yield sample


def _convert(row: Any, key: str | None, format: str, mapping: dict[str, str]) -> Sample:
    if isinstance(row, DataError):
        raise row
    if not isinstance(row, dict):
        raise RowProblem(f"expected a JSON object per row, got {type(row).__name__}")
    if mapping:
        return from_fields(row, mapping, key)
    name = format if format != "auto" else detect_format(row)
    if name is None:
        raise RowProblem(f"cannot tell the row format from its keys {sorted(row)[:12]}")
    return ROW_FORMATS[name](row, key)


def _hint(format: str, mapping: dict[str, str]) -> str:
    if mapping:
        return "; check the --field mapping"
    return (
        f"; the format was {format!r} — pass --format ({', '.join(ROW_FORMATS)}) or map columns with "
        "--field question=COL,answer=COL,image=COL"
    )
