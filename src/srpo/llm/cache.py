"""A response cache in SQLite, so a rerun never pays for the same request twice.

Keyed by `ChatRequest.cache_key(model)`: model, messages (images included), sampling parameters and the
attempt index. Only the response (text, finish reason, token counts) is stored — never request headers,
so never an API key. Several processes (shards) may share one file.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from srpo.llm.request import ChatResult

CACHE_FILE_NAME = "srpo-llm-cache.sqlite"


def default_cache_path(output: str | os.PathLike) -> Path:
    """The cache beside an output file: one per folder, shared by the steps and shards writing there."""
    return Path(output).resolve().parent / CACHE_FILE_NAME


class ResponseCache:
    """get/put of `ChatResult`s by key. Writes are committed at once (a killed run keeps what it paid for)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path), timeout=60, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> ChatResult | None:
        row = self._db.execute("SELECT value FROM responses WHERE key = ?", (key,)).fetchone()
        if row is None:
            self.misses += 1
            return None
        try:
            result = ChatResult.from_dict(json.loads(row[0]), cached=True)
        except (ValueError, TypeError):
            self.misses += 1
            return None
        self.hits += 1
        return result

    def put(self, key: str, result: ChatResult) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO responses (key, value) VALUES (?, ?)",
            (key, json.dumps(result.to_dict(), ensure_ascii=False)),
        )

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def close(self) -> None:
        self._db.close()
