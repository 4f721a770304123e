"""Crash-safe, resumable JSONL output for every long-running step (curation, evaluation).

Results are appended one JSON line per record and flushed as they arrive, so a process killed at any
moment loses at most the line it was writing. On reopening, a truncated last line is cut off (that
record is simply redone), ids already present are reported as done, and failures live in
`<output>.errors.jsonl` with their reason. Records that failed before are retried by a rerun; the errors
file is compacted so that, after a run finishes, every id is in exactly one of the two files.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from srpo.errors import UserError


def errors_path_for(output: str | os.PathLike) -> Path:
    """`out.jsonl` → `out.errors.jsonl`."""
    p = Path(output)
    stem = p.name[: -len(".jsonl")] if p.name.endswith(".jsonl") else p.name
    return p.with_name(stem + ".errors.jsonl")


def iter_jsonl(path: str | os.PathLike) -> Iterator[dict[str, Any]]:
    """The JSON objects on complete lines of a journal file; a torn last line (no newline, bad JSON) and any
    line that is not a JSON object (a hand edit) are skipped."""
    p = Path(path)
    if not p.exists():
        return
    with p.open("rb") as f:
        for raw in f:
            if not raw.endswith(b"\n"):
                return  # torn write from a killed process
            line = raw.strip()
            if not line:
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(row, dict):
                yield row


class Journal:
    """Append-only results file plus errors file, keyed by `key` (default "id").

    Use as a context manager::

        with Journal("out.jsonl") as j:
            for s in samples:
                if s.id in j.done:
                    continue
                j.write({"id": s.id, ...})      # or j.fail(s.id, "reason")
    """

    def __init__(self, path: str | os.PathLike, key: str = "id", fsync: bool = False) -> None:
        self.path = Path(path)
        self.errors_path = errors_path_for(self.path)
        self.key = key
        self.fsync = fsync
        require_file_path(self.path)
        require_file_path(self.errors_path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _cut_torn_tail(self.path)
        _cut_torn_tail(self.errors_path)
        self.done: set[str] = {str(r[key]) for r in iter_jsonl(self.path) if key in r}
        self.previous_errors: dict[str, dict[str, Any]] = {}
        for r in iter_jsonl(self.errors_path):
            if key in r and str(r[key]) not in self.done:
                self.previous_errors[str(r[key])] = r
        self.written = 0
        self.failed = 0
        self.complete = False
        """Set by the caller once every record of the input was attempted in this session (not sharded, not
        interrupted): the errors file then holds exactly this session's failures, so an entry for a row that
        was since fixed (or removed) does not linger."""
        self._failed_now: set[str] = set()
        self._out = self.path.open("a", encoding="utf-8")
        try:
            self._err = self.errors_path.open("a", encoding="utf-8")
        except BaseException:
            self._out.close()  # the journal never opened: leave no handle behind
            raise

    def write(self, record: dict[str, Any]) -> None:
        """Append one finished record (it must carry the key)."""
        rid = str(record[self.key])
        self._append(self._out, record)
        self.done.add(rid)
        self.written += 1

    def fail(self, rid: str, reason: str, **extra: Any) -> None:
        """Record that `rid` failed, with a reason a user can act on."""
        self._append(self._err, {self.key: rid, "error": reason, **extra})
        self._failed_now.add(str(rid))
        self.failed += 1

    def _append(self, f, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False)
        try:
            line.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate from a model or a bad decode: keep it, escaped
            line = json.dumps(record, ensure_ascii=True)
        try:
            f.write(line + "\n")
            f.flush()
            if self.fsync:
                os.fsync(f.fileno())
        except OSError as e:  # a full disk: the message names the file (the record is not counted done)
            e.filename = e.filename or f.name
            raise

    def close(self) -> None:
        """Close both files and compact the errors file: the last error per id, none for done ids, and — after
        a complete session — none for ids that did not fail in it."""
        if self._out.closed:
            return
        for f in (self._out, self._err):
            # a write that failed has already raised; its unflushed tail is a torn line the rerun cuts
            with contextlib.suppress(OSError):
                f.close()
        compact_errors(
            self.errors_path, self.done, self.key, only=self._failed_now if self.complete else None
        )

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def compact_errors(errors_path: Path, done: set[str], key: str = "id", only: set[str] | None = None) -> None:
    """Rewrite the errors file atomically: one line per failed id (the latest), none for done ids; with
    `only`, none for ids outside it either."""
    if not errors_path.exists():
        return
    latest: dict[str, dict[str, Any]] = {}
    for r in iter_jsonl(errors_path):
        rid = str(r.get(key))
        if key in r and rid not in done and (only is None or rid in only):
            latest[rid] = r
    tmp = errors_path.with_name(errors_path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for r in latest.values():
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, errors_path)
    if not latest:
        errors_path.unlink(missing_ok=True)


def require_file_path(path: Path) -> None:
    """UserError unless `path` is a regular file or does not exist yet: an output is never a folder, and a
    device or pipe (e.g. /dev/null) is never truncated, renamed over or journaled into."""
    if path.is_dir():
        raise UserError(f"{path}: is a folder, not a file; give a file path such as {path / 'out.jsonl'}")
    if path.exists() and not path.is_file():
        raise UserError(f"{path}: is not a regular file (a device or pipe); give a file path")


def _cut_torn_tail(path: Path) -> None:
    """Truncate a file back to its last newline (a killed writer may leave half a line)."""
    if not path.exists():
        return
    with path.open("rb+") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        if size == 0:
            return
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return
        # Walk back to the previous newline in chunks.
        pos = size
        while pos > 0:
            step = min(65536, pos)
            f.seek(pos - step)
            chunk = f.read(step)
            nl = chunk.rfind(b"\n")
            if nl >= 0:
                f.truncate(pos - step + nl + 1)
                return
            pos -= step
        f.truncate(0)


@contextlib.contextmanager
def replaced_atomically(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary path beside `path` to write the whole file to; renamed into place when the block ends
    without error, removed when it fails. Readers see the old file or the whole new one, never half."""
    p = Path(path)
    require_file_path(p)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    try:
        yield tmp
        os.replace(tmp, p)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_jsonl_atomic(path: str | os.PathLike, rows: Iterable[dict[str, Any]]) -> Path:
    """Write `rows` as JSONL, atomically (`replaced_atomically`)."""
    with replaced_atomically(path) as tmp, tmp.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return Path(path)
