"""The loop `answer` and `reflect` share: stream records, keep a bounded number in flight, journal every
result or failure as it arrives, show progress, and stop cleanly on Ctrl-C.

Crash-safety comes from `srpo.journal.Journal`: one flushed line per finished record, torn lines cut on
restart, finished ids skipped, failed ids retried by a rerun and listed once in `<out>.errors.jsonl`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from srpo.data.images import ImageError
from srpo.data.readers import ReadStats
from srpo.journal import Journal
from srpo.llm.keys import redact
from srpo.llm.progress import Progress
from srpo.llm.request import RequestFailed
from srpo.llm.structured import StructuredOutputError
from srpo.llm.usage import Usage

log = logging.getLogger(__name__)


class RecordError(ValueError):
    """A record that cannot be processed (bad row, missing field); the run goes on without it."""

    def __init__(self, message: str, id: str | None = None) -> None:
        super().__init__(message)
        self.id = id


@dataclass
class StepReport:
    """What a step did: counts, token usage and where its files are."""

    step: str
    output: Path
    errors: Path
    written: int = 0
    failed: int = 0
    already_done: int = 0
    usage: Usage = field(default_factory=Usage)
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        lines = [
            f"{self.step}: {self.written} written, {self.failed} failed, {self.already_done} already done "
            f"→ {self.output}",
            f"  usage: {self.usage.summary()}",
        ]
        if self.failed:
            lines.append(f"  failures are listed in {self.errors}; rerun the same command to retry them")
        lines += [f"  {k}: {v}" for k, v in self.extra.items()]
        return "\n".join(lines)


class JournalingStats(ReadStats):
    """Reader statistics that also journal each skipped (malformed) row as a per-record error."""

    def __init__(self, journal: Journal) -> None:
        super().__init__()
        self._journal = journal

    def skip(self, message: str) -> None:
        super().skip(message)
        location = message.split(": ", 1)[0]
        self._journal.fail(f"row:{location}", message, step="read")


def parse_shard(shard: str | None) -> tuple[int, int] | None:
    """`"i/n"` → (i, n) with 0 <= i < n."""
    if not shard:
        return None
    try:
        i, n = (int(x) for x in shard.split("/"))
    except ValueError:
        raise ValueError(f"--shard {shard!r}: write i/n, e.g. 0/4") from None
    if n < 1 or not 0 <= i < n:
        raise ValueError(f"--shard {shard!r}: need 0 <= i < n")
    return i, n


def in_shard(record_id: str, shard: tuple[int, int] | None) -> bool:
    """Shards split by a hash of the id, so membership does not depend on file order."""
    if shard is None:
        return True
    digest = hashlib.blake2b(record_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shard[1] == shard[0]


def fresh_tokens(results: Iterable[Any]) -> int:
    """Tokens actually paid for by a record's requests (cache hits cost nothing), for the progress line."""
    return sum(r.prompt_tokens + r.completion_tokens for r in results if not r.cached)


async def run_journaled(
    items: Iterable[Any],
    process: Callable[[Any], Awaitable[dict[str, Any]]],
    journal: Journal,
    progress: Progress,
    *,
    max_in_flight: int,
    step: str,
) -> None:
    """Run `process(item)` for every item (each has `.id`), at most `max_in_flight` at once; write each
    result to the journal as soon as it is ready, or its failure reason to the errors file. Closes
    `progress` when done, interrupted or failed."""
    pending: set[asyncio.Task] = set()

    async def one(item: Any) -> None:
        try:
            record = await process(item)
        except (RecordError, ImageError, RequestFailed, StructuredOutputError) as e:
            journal.fail(item.id, redact(str(e)), step=step)
            progress.advance(ok=False)
            return
        except Exception as e:  # a bug must not sink a 10-hour run: record it and go on
            log.exception("record %s failed unexpectedly", item.id)
            journal.fail(item.id, redact(f"internal error: {type(e).__name__}: {e}"), step=step)
            progress.advance(ok=False)
            return
        tokens = int(record.pop("_tokens", 0))  # set by `process` with `fresh_tokens`
        journal.write(record)
        progress.advance(ok=True, tokens=tokens)

    try:
        for item in items:
            while len(pending) >= max_in_flight:
                _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            pending.add(asyncio.create_task(one(item)))
        if pending:
            await asyncio.wait(pending)
    finally:
        for t in pending:
            t.cancel()
        progress.close()


def run_step(main: Callable[[], Awaitable[StepReport]], output: str | os.PathLike) -> StepReport:
    """Run an async step; on Ctrl-C say how to resume and re-raise KeyboardInterrupt."""
    try:
        return asyncio.run(main())
    except KeyboardInterrupt:
        print(
            f"\nInterrupted. Finished records are safe in {output}; rerun the same command to resume "
            "(finished ids are skipped).",
            file=sys.stderr,
        )
        raise


def count_lines(path: str | os.PathLike) -> int | None:
    """Lines in a JSONL file (a fast byte count), for the progress total; None for other inputs."""
    p = Path(path)
    if not p.is_file() or not p.name.endswith(".jsonl"):
        return None
    n = 0
    with p.open("rb") as f:
        while chunk := f.read(1 << 20):
            n += chunk.count(b"\n")
    return n
