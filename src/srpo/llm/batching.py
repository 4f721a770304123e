"""In-process generation in batches, shared by the `local` (transformers) and `vllm` (offline engine)
backends.

Requests are queued and generated together, up to `batch_size` at a time (only requests with the same
sampling parameters share a batch), in a worker thread, so the event loop keeps journaling while the model
works. Each sample is its own unit of failure: every request's images are decoded in full before its
batch is formed (a truncated file fails its own request, not the batch), and when a batch still fails as a
whole its requests are generated one by one, so only the one that cannot be generated fails.

A model that cannot be loaded fails every request with the same reason, marked "unreachable": the client
then stops the run after the first few (`srpo.llm.client`) instead of failing every record.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from srpo.llm.backend import Backend
from srpo.llm.request import ChatRequest, ChatResult, LLMError


@dataclass
class _Job:
    request: ChatRequest
    future: asyncio.Future


class BatchedBackend(Backend):
    """Subclasses implement `load()` (once, in the worker thread), `prepare(request)` (check one request's
    inputs; raise to fail it alone) and `generate(prepared, requests)` (one result per request, in order)."""

    enforce_timeout = False  # a generate call in a thread cannot be abandoned half-way
    supports_json_schema = False

    def __init__(self, batch_size: int) -> None:
        self.batch_size = max(1, batch_size)
        self._queue: asyncio.Queue[_Job] | None = None
        self._worker: asyncio.Task | None = None
        self._load_error: LLMError | None = None
        self._loaded = False

    def load(self) -> None:
        raise NotImplementedError

    def prepare(self, request: ChatRequest) -> Any:
        raise NotImplementedError

    def generate(self, prepared: list[Any], requests: list[ChatRequest]) -> list[ChatResult]:
        raise NotImplementedError

    async def complete(self, request: ChatRequest, timeout: float) -> ChatResult:
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._worker = asyncio.create_task(self._work())
        future = asyncio.get_running_loop().create_future()
        await self._queue.put(_Job(request, future))
        return await future

    async def _work(self) -> None:
        assert self._queue is not None
        while True:
            first = await self._queue.get()
            await asyncio.sleep(0)  # let requests issued in the same tick join this batch
            batch, held = [first], []
            key = _params_key(first.request)
            while len(batch) < self.batch_size and not self._queue.empty():
                job = self._queue.get_nowait()
                (batch if _params_key(job.request) == key else held).append(job)
            for job in held:
                self._queue.put_nowait(job)
            results = await asyncio.to_thread(self._run_batch, [j.request for j in batch])
            for job, r in zip(batch, results, strict=True):
                if job.future.done():
                    continue
                if isinstance(r, BaseException):
                    job.future.set_exception(r)
                else:
                    job.future.set_result(r)

    def _run_batch(self, requests: list[ChatRequest]) -> list[ChatResult | LLMError]:
        """One result or error per request (runs in the worker thread; never raises)."""
        if not self._loaded and self._load_error is None:
            try:
                self.load()
                self._loaded = True
            except Exception as e:
                self._load_error = LLMError(
                    f"cannot load the model: {type(e).__name__}: {e}", retryable=False, kind="unreachable"
                )
        if self._load_error is not None:
            return [self._load_error] * len(requests)
        out: list[ChatResult | LLMError | None] = [None] * len(requests)
        ready: list[int] = []
        prepared: list[Any] = []
        for i, r in enumerate(requests):
            try:
                prepared.append(self.prepare(r))
                ready.append(i)
            except Exception as e:  # an image that does not decode, an unsupported item: this request only
                out[i] = LLMError(
                    f"cannot use this request's input: {type(e).__name__}: {e}", retryable=False
                )
        for i, result in zip(
            ready, self._generate_isolated(prepared, [requests[i] for i in ready]), strict=True
        ):
            out[i] = result
        return out  # type: ignore[return-value]

    def _generate_isolated(
        self, prepared: list[Any], requests: list[ChatRequest]
    ) -> list[ChatResult | LLMError]:
        if not requests:
            return []
        try:
            return list(self.generate(prepared, requests))
        except Exception as e:
            if len(requests) == 1:
                return [LLMError(f"local generation failed: {type(e).__name__}: {e}", retryable=False)]
        # The batch failed as a whole: find the request(s) that cannot be generated, one at a time.
        return [self._generate_isolated([p], [r])[0] for p, r in zip(prepared, requests, strict=True)]

    async def aclose(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)


def _params_key(request: ChatRequest) -> str:
    return json.dumps(request.params, sort_keys=True, default=str)
