"""The `local` backend: in-process Hugging Face generation (no server), batched.

Used by the quickstart with the tiny model and by anyone without a server. Requests are queued and
generated together in batches of `--batch-size` (requests with the same sampling parameters only), in a
worker thread so the event loop keeps journaling. Images arrive as the data / file URLs the other backends
send and are decoded back to PIL images. Needs the `train` extra (torch, transformers).
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from PIL import Image

from srpo.llm.backend import Backend
from srpo.llm.request import ChatRequest, ChatResult, LLMError, Message
from srpo.llm.settings import LLMSettings


def to_local_messages(messages: list[Message]) -> tuple[list[dict[str, Any]], list[Image.Image]]:
    """OpenAI-style messages → chat-template messages with `{"type": "image"}` placeholders, plus the images
    in order. Raises LLMError (not retryable) for an image that cannot be decoded or fetched."""
    out: list[dict[str, Any]] = []
    images: list[Image.Image] = []
    for m in messages:
        content = m.get("content")
        if isinstance(content, str):
            out.append({"role": m["role"], "content": [{"type": "text", "text": content}]})
            continue
        parts = []
        for p in content or []:
            if p.get("type") == "image_url":
                images.append(_decode(p["image_url"]["url"]))
                parts.append({"type": "image"})
            elif p.get("type") == "text":
                parts.append({"type": "text", "text": p.get("text", "")})
        out.append({"role": m["role"], "content": parts})
    return out, images


def _decode(url: str) -> Image.Image:
    try:
        if url.startswith("data:"):
            data = base64.b64decode(url.partition(",")[2])
        elif url.startswith("file://"):
            data = Path(unquote(urlparse(url).path)).read_bytes()
        else:
            raise LLMError(
                f"local backend cannot fetch image URL {url[:80]!r}; use data or file URLs", retryable=False
            )
        im = Image.open(io.BytesIO(data))
        im.load()
        return im.convert("RGB")
    except LLMError:
        raise
    except Exception as e:
        raise LLMError(
            f"local backend: image cannot be decoded: {type(e).__name__}: {e}", retryable=False
        ) from None


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
        self.max_tokens = settings.max_tokens or 256
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
            await asyncio.sleep(0)  # let the requests issued in the same tick join the batch
            batch = [first]
            key = _params_key(first.request)
            held: list[_Job] = []
            while len(batch) < self.batch_size and not self._queue.empty():
                job = self._queue.get_nowait()
                (batch if _params_key(job.request) == key else held).append(job)
            for job in held:
                self._queue.put_nowait(job)
            try:
                results = await asyncio.to_thread(self._generate, [j.request for j in batch])
            except LLMError as e:
                results = [e] * len(batch)
            except Exception as e:  # e.g. out of memory: report it on every request of the batch
                results = [
                    LLMError(f"local generation failed: {type(e).__name__}: {e}", retryable=False)
                ] * len(batch)
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
            model = load_model(self.model).to(device).eval()
            self._loaded = (model, load_processor(self.model))
        return self._loaded

    def _generate(self, requests: list[ChatRequest]) -> list[ChatResult | LLMError]:
        model, processor = self._load()
        conversations, images, out = [], [], []
        ok_index = []
        for i, req in enumerate(requests):
            try:
                conv, ims = to_local_messages(req.messages)
            except LLMError as e:
                out.append(e)
                continue
            conversations.append(conv)
            images.append(ims)
            ok_index.append(i)
            out.append(None)
        if conversations:
            params = requests[ok_index[0]].params
            texts, prompt_lens, completion_lens = generate_texts(
                model,
                processor,
                conversations,
                images,
                max_new_tokens=int(params.get("max_tokens") or self.max_tokens),
                temperature=float(params.get("temperature", 1.0)),
                top_p=params.get("top_p"),
            )
            for i, text, p, c in zip(ok_index, texts, prompt_lens, completion_lens, strict=True):
                out[i] = ChatResult(text=text, finish_reason="stop", prompt_tokens=p, completion_tokens=c)
        return out  # type: ignore[return-value]

    async def aclose(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)


def _params_key(request: ChatRequest) -> str:
    return json.dumps(request.params, sort_keys=True, default=str)


def generate_texts(
    model: Any,
    processor: Any,
    conversations: list[list[dict[str, Any]]],
    images: list[list[Image.Image]],
    *,
    max_new_tokens: int,
    temperature: float,
    top_p: float | None,
) -> tuple[list[str], list[int], list[int]]:
    """Batched generation with the chat template; returns texts, prompt token counts, completion counts."""
    from srpo.models.generate import generate

    result = generate(
        model,
        processor,
        conversations,
        images,
        max_new_tokens=max_new_tokens,
        temperature=temperature,
        top_p=top_p,
    )
    return result.texts, result.prompt_tokens, result.completion_tokens
