"""A response cache in SQLite, so a rerun never pays for the same request twice.

Keyed by `ChatRequest.cache_key(model)`: model, messages (images included), sampling parameters and the
attempt index. Only the response (text, finish reason, token counts) is stored — never request headers,
so never an API key. Several processes (shards) may share one file.

Writes are batched: one transaction per `FLUSH_ROWS` rows or `FLUSH_SECONDS`, whichever comes first (a
commit per row cost ~0.1 ms of CPU per request). A killed run loses at most those last rows — harmless:
the journal, not the cache, says what is done, and a lost row is only a request paid again.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import orjson

from srpo.llm.request import ChatResult

CACHE_FILE_NAME = "srpo-llm-cache.sqlite"
FLUSH_ROWS = 256
FLUSH_SECONDS = 2.0


def default_cache_path(output: str | os.PathLike) -> Path:
    """The cache beside an output file: one per folder, shared by the steps and shards writing there."""
    return Path(output).resolve().parent / CACHE_FILE_NAME


class ResponseCache:
    """get/put of `ChatResult`s by key. Puts are visible to `get` at once and reach the file in batches."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path), timeout=60, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        self._pending: dict[str, str] = {}
        self._last_flush = time.monotonic()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> ChatResult | None:
        value = self._pending.get(key)
        if value is None:
            row = self._db.execute("SELECT value FROM responses WHERE key = ?", (key,)).fetchone()
            value = row[0] if row is not None else None
        if value is None:
            self.misses += 1
            return None
        try:
            result = ChatResult.from_dict(orjson.loads(value), cached=True)
        except (ValueError, TypeError):
            self.misses += 1
            return None
        self.hits += 1
        return result

    def put(self, key: str, result: ChatResult) -> None:
        self._pending[key] = orjson.dumps(result.to_dict()).decode()
        if len(self._pending) >= FLUSH_ROWS or time.monotonic() - self._last_flush >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Write the pending rows in one transaction."""
        self._last_flush = time.monotonic()
        if not self._pending:
            return
        rows, self._pending = list(self._pending.items()), {}
        with self._db:  # BEGIN … COMMIT (ROLLBACK on error)
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO responses (key, value) VALUES (?, ?)", rows)

    def __len__(self) -> int:
        self.flush()
        return int(self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def close(self) -> None:
        self.flush()
        self._db.close()
