"""Several servers behind one backend: route each request to the one with the fewest in flight, rest one
that keeps failing, and count what each did.

A cluster of vLLM servers is rarely even: one is busier (longer answers), one restarts, one was never up.
Least-in-flight routing sends work where it finishes soonest. An endpoint that fails `fail_threshold` times
in a row (connection refused, timeout, 5xx) is rested — it gets no requests — for `rest_base` seconds,
doubling up to `rest_max` each time it fails again; after its rest it is probed with one request at a time
until one succeeds. The client retries the failed requests, which then go to the healthy endpoints, so a
dead server loses nothing. A request's own fault (a 4xx) says nothing about the endpoint.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from srpo.llm.request import LLMError

ENDPOINT_FAULTS = ("server", "unreachable", "timeout")
"""`LLMError.kind`s that count against the endpoint; any other error is the request's own fault."""


@dataclass
class Endpoint:
    """One server URL and what happened there."""

    url: str
    in_flight: int = 0
    ok: int = 0
    failed: int = 0
    """Requests that failed here for a reason of the endpoint's (not the request's)."""
    consecutive_failures: int = 0
    rests: int = 0
    """How many times it was rested."""
    rest_level: int = 0
    """Rests since its last success: each one twice as long as the one before."""
    rested_until: float = 0.0
    probing: bool = False
    """Coming back from a rest: one request at a time until one succeeds."""

    def summary(self) -> str:
        text = f"{self.url}: {self.ok} ok, {self.failed} failed"
        return text + (f", rested {self.rests}×" if self.rests else "")


class EndpointPool:
    """Pick an endpoint for each request and learn from the outcome. Single-threaded (one event loop)."""

    def __init__(
        self,
        urls: list[str],
        *,
        fail_threshold: int = 3,
        rest_base: float = 2.0,
        rest_max: float = 60.0,
        clock=time.monotonic,
    ) -> None:
        if not urls:
            raise ValueError("an endpoint pool needs at least one URL")
        self.endpoints = [Endpoint(u) for u in urls]
        self.fail_threshold = fail_threshold
        self.rest_base = rest_base
        self.rest_max = rest_max
        self._clock = clock
        self._turn = 0  # rotates ties, so equal endpoints share the load evenly

    def acquire(self) -> Endpoint:
        """The endpoint for the next request (counted in flight until `release`). Rested endpoints are
        skipped; when every endpoint is resting, the one whose rest ends first is tried."""
        now = self._clock()
        n = len(self.endpoints)
        best: Endpoint | None = None
        self._turn = (self._turn + 1) % n
        for i in range(n):
            ep = self.endpoints[(self._turn + i) % n]
            if ep.rested_until > now or (ep.probing and ep.in_flight > 0):
                continue
            if best is None or ep.in_flight < best.in_flight:
                best = ep
        if best is None:
            best = min(self.endpoints, key=lambda e: e.rested_until)
        best.in_flight += 1
        return best

    @contextmanager
    def serving(self) -> Iterator[Endpoint]:
        """An endpoint for one request, released with the outcome when the block ends: "ok" when it returns,
        "failed" on an `LLMError` of the endpoint's kind or a cancellation (the client's timeout: the
        endpoint was too slow), "neutral" on the request's own fault."""
        ep = self.acquire()
        outcome = "failed"
        try:
            yield ep
            outcome = "ok"
        except LLMError as e:
            if e.kind not in ENDPOINT_FAULTS:
                outcome = "neutral"
            raise
        finally:
            self.release(ep, outcome)

    def release(self, ep: Endpoint, outcome: str) -> None:
        """`outcome`: "ok", "failed" (the endpoint's fault: unreachable, timeout, 5xx) or "neutral" (the
        request's fault, or a busy signal such as 429)."""
        ep.in_flight -= 1
        if outcome == "ok":
            ep.ok += 1
            ep.consecutive_failures = 0
            ep.probing = False
            ep.rest_level = 0
            return
        if outcome != "failed":
            return
        ep.failed += 1
        ep.consecutive_failures += 1
        if ep.consecutive_failures >= self.fail_threshold and ep.rested_until <= self._clock():
            rest = min(self.rest_max, self.rest_base * 2 ** min(ep.rest_level, 16))
            ep.rests += 1
            ep.rest_level += 1
            ep.rested_until = self._clock() + rest
            ep.probing = True

    def summary(self) -> str | None:
        """The counts of each endpoint, for the run summary (None for a single endpoint: the request counts
        say it all)."""
        if len(self.endpoints) < 2:
            return None
        return "; ".join(ep.summary() for ep in self.endpoints)
