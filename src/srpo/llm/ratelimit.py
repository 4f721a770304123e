"""An optional requests-per-minute limit shared by all requests of a run."""

from __future__ import annotations

import asyncio
import time


class RateLimiter:
    """Spaces request starts evenly so that at most `rpm` start in any minute (no bursts above the rate)."""

    def __init__(self, rpm: float) -> None:
        if rpm <= 0:
            raise ValueError(f"--rpm must be positive, got {rpm}")
        self.interval = 60.0 / rpm
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        """Return when the next request may start."""
        async with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            await asyncio.sleep(start - now)
