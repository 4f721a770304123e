"""When to try a failed request again, and how long to wait first.

Retried: 429, 5xx, timeouts, connection errors and unparseable bodies (`LLMError.retryable`). Not
retried: any other 4xx (a bad request stays bad) — it becomes an error record at once. Waits grow
exponentially with full jitter, and a server's `Retry-After` is honoured as a lower bound. The number of
attempts is always bounded.
"""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with exponential backoff and jitter."""

    max_retries: int = 6
    """Retries after the first attempt (so at most max_retries + 1 attempts)."""
    base_delay: float = 0.5
    """Wait before the first retry, before jitter (seconds); doubles each retry."""
    max_delay: float = 60.0
    """Ceiling on one computed backoff (seconds)."""
    max_retry_after: float = 300.0
    """Ceiling on a server-requested Retry-After (a broken server must not park us for a day)."""

    def delay(
        self, retry_index: int, retry_after: float | None = None, rng: random.Random | None = None
    ) -> float:
        """Seconds to wait before retry number `retry_index` (0-based): a uniformly jittered exponential
        backoff, but never less than the server's Retry-After."""
        rng = rng or random
        cap = min(self.max_delay, self.base_delay * (2**retry_index))
        wait = cap * (0.5 + 0.5 * rng.random())  # jitter in [cap/2, cap]: spreads a herd, keeps growth
        if retry_after is not None and retry_after > 0:
            wait = max(wait, min(retry_after, self.max_retry_after))
        return wait


def parse_retry_after(headers: object) -> float | None:
    """Seconds from `retry-after-ms` or `Retry-After` (seconds or an HTTP date); None when absent/bad."""
    get = getattr(headers, "get", None)
    if get is None:
        return None
    ms = get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def is_retryable_status(status: int) -> bool:
    """429 and 5xx are worth retrying; other 4xx are not."""
    return status == 429 or status >= 500 or status == 408
