"""What `answer` and `reflect` share besides the request engine (`srpo.llm.engine`, which streams the
records, journals each result or failure, and stops cleanly on Ctrl-C): the step report, shards, and the
reader statistics that journal malformed rows.

Crash-safety comes from `srpo.journal.Journal`: one flushed line per finished record, torn lines cut on
restart, finished ids skipped, failed ids retried by a rerun and listed once in `<out>.errors.jsonl`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from srpo.data.readers import ReadStats
from srpo.errors import RunFailed, exit_code_for
from srpo.journal import Journal
from srpo.llm.engine import RecordError, run_async, run_journaled, unique_ids
from srpo.llm.usage import Usage

__all__ = [
    "JournalingStats",
    "RecordError",
    "StepReport",
    "count_lines",
    "fresh_tokens",
    "in_shard",
    "parse_shard",
    "run_journaled",
    "run_step",
    "stopped_run",
    "unique_ids",
]

run_step = run_async


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
        if self.usage.endpoints:
            lines.append(f"  endpoints: {self.usage.endpoints}")
        if self.failed:
            lines.append(f"  failures are listed in {self.errors}; rerun the same command to retry them")
        lines += [f"  {k}: {v}" for k, v in self.extra.items()]
        return "\n".join(lines)

    @property
    def exit_code(self) -> int:
        """`srpo.errors` policy: 0 all done, 1 some records failed, 3 none succeeded (records finished by an
        earlier run count as succeeded)."""
        return exit_code_for(self.written + self.already_done, self.failed)


def stopped_run(report: StepReport, reason: str) -> RunFailed:
    """The error that ends a step the client stopped (key refused, no server): the reason, its fix, what
    was done, and that a rerun continues."""
    error = RunFailed(
        f"{report.step}: {reason}\n{report.summary()}\n  fix the cause and rerun the same command: finished "
        "records are kept and the rest are sent again"
    )
    error.report = report  # type: ignore[attr-defined]
    return error


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
