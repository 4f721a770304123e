"""The `local` backend: in-process Hugging Face generation (no server), batched.

Used by the quickstart with the tiny model and by anyone without a server. Requests are queued and
generated together, up to `--batch-size` at a time (only requests with the same sampling parameters share a
batch), by `srpo.models.generate.generate` in a worker thread, so the event loop keeps journaling while the
model works. Vision tokens are suppressed there. Each batch is seeded from its own requests (their messages
and attempt indexes), so the K attempts of a question differ from each other and a rerun reproduces them.
Needs the `train` extra (torch, transformers).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from srpo.llm.backend import Backend
from srpo.llm.request import ChatRequest, ChatResult, LLMError
from srpo.llm.settings import LLMSettings


@dataclass
class _Job:
    request: ChatRequest
    future: asyncio.Future


class LocalBackend(Backend):
    name = "local"
    enforce_timeout = False  # a generate call in a thread cannot be abandoned half-way
    supports_json_schema = False

    def __init__(self, settings: LLMSettings) -> None:
        if not settings.model:
            raise ValueError("--model is required for the local backend: a checkpoint folder (or hub id)")
        self.model = settings.model
        self.batch_size = max(1, settings.batch_size)
        self.device = settings.device
        self.max_tokens = settings.max_tokens or 512
        self._loaded: tuple[Any, Any] | None = None
        self._queue: asyncio.Queue[_Job] | None = None
        self._worker: asyncio.Task | None = None

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
            try:
                results: list[Any] = await asyncio.to_thread(self._generate, [j.request for j in batch])
            except Exception as e:  # a bad image, out of memory…: every request of the batch gets the reason
                error = LLMError(f"local generation failed: {type(e).__name__}: {e}", retryable=False)
                results = [error] * len(batch)
            for job, r in zip(batch, results, strict=True):
                if job.future.done():
                    continue
                if isinstance(r, BaseException):
                    job.future.set_exception(r)
                else:
                    job.future.set_result(r)

    def _load(self) -> tuple[Any, Any]:
        if self._loaded is None:
            import torch

            from srpo.models.loading import load_model, load_processor

            device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
            self._loaded = (load_model(self.model).to(device).eval(), load_processor(self.model))
        return self._loaded

    def _generate(self, requests: list[ChatRequest]) -> list[ChatResult]:
        from srpo.models.generate import generate

        model, processor = self._load()
        params = requests[0].params
        outputs = generate(
            model,
            processor,
            [r.messages for r in requests],
            max_new_tokens=int(params.get("max_tokens") or self.max_tokens),
            temperature=float(params.get("temperature", 1.0)),
            top_p=float(params.get("top_p") or 1.0),
            seed=_batch_seed(requests),
            batch_size=len(requests),
        )
        return [
            ChatResult(g.text, g.finish_reason, g.prompt_tokens, g.completion_tokens)
            for g in (samples[0] for samples in outputs)
        ]

    async def aclose(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)


def _params_key(request: ChatRequest) -> str:
    return json.dumps(request.params, sort_keys=True, default=str)


def _batch_seed(requests: list[ChatRequest]) -> int:
    h = hashlib.sha256()
    for r in requests:
        h.update(r.cache_key("local").encode())
    return int.from_bytes(h.digest()[:4], "big")
