"""The request engine every command that calls a model runs on: `curate answer`, `curate reflect`,
`eval run` and the LLM judge.

- `run_journaled` streams records through a bounded window: `max_in_flight` workers pull the next record
  from the input as they finish one, so memory holds that many records (and their encoded images), never
  the whole input. Each result is journaled the moment it is ready (`srpo.journal.Journal`: one flushed
  line, torn lines cut on restart, finished ids skipped, failed ids retried by a rerun), each failure goes
  to the errors file with its reason, and the progress line counts both.
- `map_bounded` is the same window without a journal, for work whose results are cached anyway (the judge).
- `run_async` runs a step's coroutine and, on Ctrl-C, says how to resume.

Requests themselves go through one `srpo.llm.client.LLMClient` per run (concurrency, rate limit, timeout,
retries with Retry-After, response cache, endpoint routing). When the client decides the run cannot succeed
(the key is refused, no server answers), the workers stop taking records and `RunStopped` ends the run;
records not started are neither done nor failed, so a rerun does them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Any, TypeVar

from srpo.data.images import ImageError
from srpo.journal import Journal
from srpo.llm.keys import redact
from srpo.llm.progress import Progress
from srpo.llm.request import RequestFailed, RunStopped
from srpo.llm.structured import StructuredOutputError

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class RecordError(ValueError):
    """A record that cannot be processed (bad row, missing field); the run goes on without it."""

    def __init__(self, message: str, id: str | None = None) -> None:
        super().__init__(message)
        self.id = id


RECORD_FAILURES = (RecordError, ImageError, RequestFailed, StructuredOutputError)
"""Failures of one record: journaled with their reason, and the run goes on."""

TRIM_EVERY = 128
"""Records between two returns of freed heap memory to the system (see `_heap_trimmer`)."""


def _heap_trimmer() -> Callable[[], None]:
    """A function that hands freed heap memory back to the system (glibc's `malloc_trim`; a no-op elsewhere).

    Each record allocates and frees a few ~130 KB buffers (the base64 image, the request body). glibc serves
    them from its heap once its mmap threshold has adapted, and the freed space, interleaved with long-lived
    small objects, is kept: measured, the peak RSS of `srpo eval run` grew 1.7× from 500 to 5,000 samples.
    Trimming every `TRIM_EVERY` records (~0.1 ms each time) keeps it flat."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return lambda: None
    return lambda: trim(0)


async def run_journaled(
    items: Iterable[Any],
    process: Callable[[Any], Awaitable[dict[str, Any]]],
    journal: Journal,
    progress: Progress,
    *,
    max_in_flight: int,
    step: str,
    complete: bool = True,
) -> None:
    """Run `process(item)` for every item (each has `.id`), at most `max_in_flight` at once; write each
    result to the journal as soon as it is ready, or its failure reason to the errors file. A result may
    carry `_tokens` (tokens paid for, for the progress line; not written). Closes `progress` when done,
    interrupted or failed. Raises `RunStopped` when the client stopped the run; a failure to write the
    journal (a full disk) ends the run at once, with nothing half-written. `complete`: the items are the
    whole input (not a shard), so once all are done the errors file holds exactly this run's failures."""
    stopped: list[str] = []
    trim = _heap_trimmer()
    finished = [0]

    async def one(item: Any) -> None:
        finished[0] += 1
        if finished[0] % TRIM_EVERY == 0:
            trim()
        try:
            record = await process(item)
        except RunStopped as e:
            stopped.append(e.reason)
            return
        except RECORD_FAILURES as e:
            journal.fail(item.id, redact(str(e)), step=step)
            progress.advance(ok=False)
            return
        except Exception as e:  # a bug must not sink a 10-hour run: record it and go on
            log.exception("record %s failed unexpectedly", item.id)
            journal.fail(item.id, redact(f"internal error: {type(e).__name__}: {e}"), step=step)
            progress.advance(ok=False)
            return
        tokens = int(record.pop("_tokens", 0))
        journal.write(record)
        progress.advance(ok=True, tokens=tokens)

    try:
        await _in_workers(items, one, max_in_flight, lambda: bool(stopped))
    finally:
        progress.close()
    if stopped:
        raise RunStopped(stopped[0])
    journal.complete = complete


def unique_ids(items: Iterable[Any], source: str | os.PathLike) -> Iterator[Any]:
    """`items` unchanged, but a UserError at the second record with an id already seen: two records under
    one id would collide in the journal (one result for both, a failure wiped by the other's success)."""
    from srpo.errors import UserError

    seen: set[str] = set()
    for item in items:
        rid = str(item.id)
        if rid in seen:
            raise UserError(
                f"{source}: the id {rid!r} appears more than once; every record needs its own id (rows without "
                "one get an id from their content, so these rows are identical): fix or remove the duplicate, "
                "then rerun (finished records are kept)"
            )
        seen.add(rid)
        yield item


async def map_bounded(items: Iterable[T], fn: Callable[[T], Awaitable[R]], max_in_flight: int) -> list[R]:
    """`[await fn(x) for x in items]`, in order, with at most `max_in_flight` running at once."""
    results: dict[int, R] = {}

    async def one(indexed: tuple[int, T]) -> None:
        results[indexed[0]] = await fn(indexed[1])

    await _in_workers(enumerate(items), one, max_in_flight, lambda: False)
    return [results[i] for i in range(len(results))]


async def _in_workers(
    items: Iterable[Any], one: Callable[[Any], Awaitable[None]], workers: int, stop: Callable[[], bool]
) -> None:
    """`workers` coroutines share one iterator: each takes the next item when it has finished its last
    (no task per item, no waiting on a growing set). The first exception cancels the others."""
    iterator = iter(items)

    async def worker() -> None:
        for item in iterator:  # next() runs to its end between awaits: workers never interleave inside it
            if stop():
                return
            await one(item)

    tasks = [asyncio.ensure_future(worker()) for _ in range(max(1, workers))]
    try:
        await asyncio.gather(*tasks)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)  # retrieved: no "exception never retrieved"


def run_async(main: Callable[[], Awaitable[T]], output: str | os.PathLike) -> T:
    """Run a step's coroutine; on Ctrl-C say how to resume and re-raise KeyboardInterrupt."""
    try:
        return asyncio.run(main())  # type: ignore[arg-type]
    except KeyboardInterrupt:
        print(
            f"\nInterrupted. Finished records are safe in {output}; rerun the same command to resume "
            "(finished ids are skipped).",
            file=sys.stderr,
        )
        raise
