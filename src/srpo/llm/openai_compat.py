"""The `openai` backend: any OpenAI-compatible chat-completions server (vLLM, SGLang, OpenAI, DashScope…)
through the official async client. Several `--base-url`s share the load round-robin.

The client's own retries are switched off: retries, backoff and Retry-After are handled once, for every
backend, in `srpo.llm.client`. Here every failure is classified into an `LLMError`.

Per-request CPU matters at a few hundred requests a second with 100 KB images, so: the client runs on the
aiohttp transport (`openai[aiohttp]`, several times cheaper per request than httpx; httpx is the fallback
when aiohttp is not installed), and the body is serialised here, once, with the base64 images spliced in
rather than escaped character by character by the JSON encoder.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
from typing import Any

import numpy as np
import openai

from srpo.llm.backend import Backend
from srpo.llm.keys import read_api_key, redact
from srpo.llm.request import ChatRequest, ChatResult, LLMError
from srpo.llm.retry import is_retryable_status, parse_retry_after
from srpo.llm.settings import LLMSettings

# Parameters the official client accepts by name; anything else (vLLM's top_k, …) goes in `extra_body`.
_NAMED_PARAMS = frozenset(
    {
        "temperature",
        "top_p",
        "max_tokens",
        "max_completion_tokens",
        "seed",
        "response_format",
        "stop",
        "n",
        "presence_penalty",
        "frequency_penalty",
        "reasoning_effort",
        "logprobs",
        "top_logprobs",
    }
)


CONNECTIONS_PER_CLIENT = 8
"""httpx fallback only: httpcore's pool scans all of its connections (a socket check each) on every
request, so one pool of 64 connections costs several ms of CPU per request; small pools keep that flat."""


def _aiohttp_installed() -> bool:
    """Whether `openai.DefaultAioHttpClient` can be built: the `openai[aiohttp]` extra is installed (openai
    3 vendors the httpx→aiohttp bridge; openai 1.x needs the `httpx_aiohttp` package)."""
    if not hasattr(openai, "DefaultAioHttpClient") or not _importable("aiohttp"):
        return False
    return _importable("openai._vendor.httpx_aiohttp") or _importable("httpx_aiohttp")


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:  # a parent package is missing
        return False


AIOHTTP = _aiohttp_installed()


def clients_per_url(concurrency: int, urls: int) -> int:
    """How many clients to open per base URL: one on aiohttp, whose pool hands out an idle connection without
    scanning the others; enough for pools of `CONNECTIONS_PER_CLIENT` on httpx."""
    if AIOHTTP:
        return 1
    return max(1, -(-concurrency // (CONNECTIONS_PER_CLIENT * urls)))


def http_client() -> Any:
    """The `http_client` to give `openai.AsyncOpenAI`: aiohttp's when installed, else None (its httpx)."""
    return openai.DefaultAioHttpClient() if AIOHTTP else None


class OpenAIBackend(Backend):
    name = "openai"

    def __init__(self, settings: LLMSettings) -> None:
        if not settings.model:
            raise ValueError("--model is required for the openai backend (the model name the server serves)")
        self.model = settings.model
        env = settings.api_key_env or "OPENAI_API_KEY"
        key = read_api_key(env)
        if key is None:
            if not settings.base_url:
                raise ValueError(
                    f"no API key: set the environment variable {env} (or name another with --api-key-env)"
                )
            key = "EMPTY"  # self-hosted servers (vLLM, SGLang) usually need none
        urls = settings.base_url or [None]
        per_url = clients_per_url(settings.concurrency, len(urls))
        self._clients = [self._make_client(url, key, settings) for _ in range(per_url) for url in urls]
        self._next = itertools.cycle(range(len(self._clients)))

    def _make_client(self, url: str | None, key: str, settings: LLMSettings) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(
            base_url=url, api_key=key, max_retries=0, timeout=settings.timeout, http_client=http_client()
        )

    async def complete(self, request: ChatRequest, timeout: float) -> ChatResult:
        client = self._clients[next(self._next)]
        body = {"model": self.model, "messages": request.messages}
        body.update((k, v) for k, v in request.params.items() if v is not None)
        try:
            content = json_body(body)
        except UnicodeEncodeError as e:  # e.g. a lone surrogate from a badly decoded dataset
            raise LLMError(f"request text is not valid Unicode: {e}", retryable=False) from None
        try:
            # The client's documented raw-request path: same auth, URLs and error classes as
            # `chat.completions.create`, without its per-request recursive transform of the messages (which
            # walks every content part and costs more CPU than the rest of a request together). The body
            # goes as ready JSON bytes (the client's default Content-Type is application/json).
            response = await client.post(
                "/chat/completions", cast_to=object, content=content, options={"timeout": timeout}
            )
        except openai.APIStatusError as e:
            status = e.status_code
            raise LLMError(
                redact(f"HTTP {status}: {_error_message(e)}"),
                retryable=is_retryable_status(status),
                status=status,
                retry_after=parse_retry_after(e.response.headers),
            ) from None
        except openai.APITimeoutError:
            raise LLMError(f"timed out after {timeout:g}s", retryable=True) from None
        except openai.APIConnectionError as e:
            cause = e.__cause__ or e
            raise LLMError(
                redact(f"connection error: {type(cause).__name__}: {cause}"), retryable=True
            ) from None
        except (ValueError, openai.APIResponseValidationError) as e:  # a 200 whose body is not valid JSON
            raise LLMError(
                redact(f"malformed response body: {type(e).__name__}: {e}"), retryable=True
            ) from None
        return _to_result(response)

    async def aclose(self) -> None:
        for c in self._clients:
            await c.close()


_SPLICE_MIN_CHARS = 4096
_MARK = "\x00srpo-spliced-url\x00"
_MARK_JSON = json.dumps(_MARK)  # how the encoder writes the marker: '"\\u0000srpo-spliced-url\\u0000"'


def json_body(body: dict[str, Any]) -> bytes:
    """`body` as compact UTF-8 JSON, the same bytes `json.dumps` would give (up to escaping choices).

    Long image URLs (base64 data URLs: ~133 KB for a 100 KB image) that need no escaping are not passed
    through the JSON encoder, which examines a string one character at a time, twice — about 0.5 ms per
    request on the 2-core bench machine. They are replaced by a marker, the rest is encoded, and the URLs
    are spliced back in as they are."""
    spliced: list[str] = []

    def swap(part: Any) -> Any:
        url = part.get("image_url") if isinstance(part, dict) else None
        target = url.get("url") if isinstance(url, dict) else url
        if not isinstance(target, str) or len(target) < _SPLICE_MIN_CHARS or not _needs_no_escaping(target):
            return part
        spliced.append(target)
        inner = {**url, "url": _MARK} if isinstance(url, dict) else _MARK
        return {**part, "image_url": inner}

    messages = [
        {**m, "content": [swap(p) for p in m["content"]]} if isinstance(m.get("content"), list) else m
        for m in body.get("messages") or []
    ]
    text = json.dumps({**body, "messages": messages}, ensure_ascii=False, separators=(",", ":"))
    if not spliced:
        return text.encode()
    pieces = text.split(_MARK_JSON)
    if len(pieces) != len(spliced) + 1:  # not expected (quotes inside JSON strings are escaped); a guard
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    out = [pieces[0].encode()]
    for url, piece in zip(spliced, pieces[1:], strict=True):
        out += (b'"', url.encode("ascii"), b'"', piece.encode())
    return b"".join(out)


def _needs_no_escaping(s: str) -> bool:
    """Whether `s` can stand in a JSON string as it is: ASCII, no quote, no backslash, no control character.
    (numpy checks the last over 133 KB in ~20 µs; `str.isprintable` would take ~0.5 ms.)"""
    if not s.isascii() or '"' in s or "\\" in s:
        return False
    return int(np.frombuffer(s.encode("ascii"), dtype=np.uint8).min()) >= 0x20


def _error_message(e: openai.APIStatusError) -> str:
    body: Any = e.body
    if isinstance(body, dict):
        inner = body.get("error")
        msg = inner.get("message") if isinstance(inner, dict) else body.get("message")
        if msg:
            return str(msg)[:500]
    return str(e.message)[:500]


def _to_result(response: Any) -> ChatResult:
    """The text and usage of a chat.completion JSON body; LLMError when it is not one."""
    try:
        choice = response["choices"][0]
        text = choice["message"].get("content")
        finish = choice.get("finish_reason")
        usage = response.get("usage") or {}
        prompt_tokens = int(usage.get("prompt_tokens") or 0)
        completion_tokens = int(usage.get("completion_tokens") or 0)
    except (KeyError, IndexError, TypeError, AttributeError, ValueError):
        raise LLMError(
            f"malformed response body: not a chat completion: {str(response)[:200]}", retryable=True
        ) from None
    if not isinstance(text, str):
        raise LLMError(f"response has no text (finish_reason={finish})", retryable=finish != "content_filter")
    return ChatResult(text, finish, prompt_tokens, completion_tokens)
