"""`LLMClient`: what every backend shares — bounded concurrency, an optional requests-per-minute limit, a
per-request timeout, bounded retries with backoff honouring Retry-After, the response cache, token
accounting, and the judgement that a run cannot succeed.

    client = LLMClient(settings, cache_path=default_cache_path(output))
    result = await client.chat(ChatRequest(messages, {"temperature": 1.0}))   # or raises RequestFailed
    await client.aclose()

A run cannot succeed when the server refuses the API key (401/403: every request will be refused) or when no
server can be reached at all. After `STOP_AFTER` such failures (consecutive ones, for unreachable servers)
the client stops: every later `chat` raises `RunStopped` without sending anything, and the engine ends the
run with the reason and the fix instead of writing one error per remaining record.
"""

from __future__ import annotations

import asyncio
import os
import random

from srpo.llm.backend import Backend, make_backend
from srpo.llm.cache import ResponseCache
from srpo.llm.failures import timed_out
from srpo.llm.keys import redact
from srpo.llm.ratelimit import RateLimiter
from srpo.llm.request import ChatRequest, ChatResult, LLMError, RequestFailed, RunStopped
from srpo.llm.retry import RetryPolicy
from srpo.llm.settings import LLMSettings
from srpo.llm.usage import Usage

_timeout_scope = getattr(asyncio, "timeout", None)

STOP_AFTER = 3
"""Requests refused for their key (or, in a row, with no server reachable) before the run is stopped."""


class LLMClient:
    """Sends chat requests through a backend with every production safeguard. One per step and event loop."""

    def __init__(
        self,
        settings: LLMSettings,
        *,
        cache_path: str | os.PathLike | None = None,
        backend: Backend | None = None,
        seed: int | None = None,
    ) -> None:
        """`cache_path` is used unless `settings.cache` names another file or `settings.no_cache` is set."""
        if settings.concurrency < 1:
            raise ValueError(f"--concurrency must be at least 1, got {settings.concurrency}")
        if settings.max_retries < 0:
            raise ValueError(f"--max-retries must be 0 or more, got {settings.max_retries}")
        if settings.timeout <= 0:
            raise ValueError(f"--timeout must be positive, got {settings.timeout:g}")
        self.settings = settings
        self.backend = backend if backend is not None else make_backend(settings)
        path = settings.cache or cache_path
        use_cache = path is not None and not settings.no_cache and self.backend.cacheable
        self.cache = ResponseCache(path) if use_cache else None
        self.usage = Usage(price_in=settings.price_in, price_out=settings.price_out)
        self.policy = RetryPolicy(max_retries=settings.max_retries, base_delay=settings.retry_base_delay)
        # An in-process batched backend can only fill a batch with requests already in flight.
        slots = max(settings.concurrency, getattr(self.backend, "batch_size", 1))
        self._slots = asyncio.Semaphore(slots)
        self._limiter = RateLimiter(settings.rpm) if settings.rpm else None
        self._rng = random.Random(seed)
        self.stop_reason: str | None = None
        self._auth_refusals = 0
        self._unreachable_in_a_row = 0

    @property
    def model(self) -> str:
        return self.backend.model

    async def chat(self, request: ChatRequest) -> ChatResult:
        """The response to `request`, from the cache or the backend. Raises `RequestFailed` with a reason once
        the request failed for good: a non-retryable error, or `max_retries` retries used up; `RunStopped`
        once the run has been stopped (see the module doc)."""
        key = request.cache_key(self.backend.model) if self.cache is not None else None
        if key is not None:
            hit = self.cache.get(key)  # type: ignore[union-attr]
            if hit is not None:
                self.usage.add(hit)
                return hit
        attempts = 0
        while True:
            if self.stop_reason is not None:
                raise RunStopped(self.stop_reason)
            attempts += 1
            async with self._slots:
                if self.stop_reason is not None:  # stopped while this request waited for a slot
                    raise RunStopped(self.stop_reason)
                if self._limiter is not None:
                    await self._limiter.wait()
                try:
                    result = await self._once(request)
                except LLMError as e:
                    error = e
                else:
                    if key is not None:
                        self.cache.put(key, result)  # type: ignore[union-attr]
                    self.usage.add(result)
                    self._unreachable_in_a_row = 0
                    return result
            if not error.retryable or attempts > self.policy.max_retries:
                raise self._failed(error, attempts)
            self.usage.retries += 1
            # Wait outside the concurrency slot, so other requests keep the server busy meanwhile.
            await asyncio.sleep(self.policy.delay(attempts - 1, error.retry_after, self._rng))

    def _failed(self, error: LLMError, attempts: int) -> RequestFailed:
        """Count a request that failed for good; stop the run when it shows the run cannot succeed."""
        self.usage.failed += 1
        tail = "not retryable" if not error.retryable else f"gave up after {attempts} attempts"
        reason = redact(f"{error.reason} ({tail})")
        kind = error.kind if error.kind in ("auth", "unreachable") else None
        if kind == "auth":
            self._auth_refusals += 1
            if self._auth_refusals >= STOP_AFTER and self.stop_reason is None:
                self.stop_reason = (
                    f"stopped after {self._auth_refusals} requests were refused: {error.reason}"
                )
        elif kind == "unreachable":
            self._unreachable_in_a_row += 1
            if self._unreachable_in_a_row >= STOP_AFTER and self.stop_reason is None:
                self.stop_reason = f"stopped after {self._unreachable_in_a_row} requests in a row could not reach the model: {error.reason}"
        else:
            self._unreachable_in_a_row = 0
        return RequestFailed(reason, attempts, error.status, kind)

    async def _once(self, request: ChatRequest) -> ChatResult:
        timeout = self.settings.timeout
        if not self.backend.enforce_timeout:
            return await self.backend.complete(request, timeout)
        # The HTTP client's timeout applies per read; this one bounds the whole request.
        limit = timeout * 1.05 + 0.05
        try:
            if _timeout_scope is None:  # Python 3.10
                return await asyncio.wait_for(self.backend.complete(request, timeout), limit)
            async with _timeout_scope(limit):  # no extra task per request, unlike wait_for
                return await self.backend.complete(request, timeout)
        except asyncio.TimeoutError:
            raise timed_out(timeout, None) from None

    async def aclose(self) -> None:
        self.usage.endpoints = self.backend.endpoint_summary()
        await self.backend.aclose()
        if self.cache is not None:
            self.cache.close()
