"""The `openai-sdk` backend: an OpenAI-compatible server through the official `openai` async client (the
`azure` backend builds on it). `--backend openai` does the same HTTP on a leaner path (`srpo.llm.openai_http`);
this one is there for servers or proxies that need what only the official client does.

The client's own retries are switched off: retries, backoff and Retry-After are handled once, for every
backend, in `srpo.llm.client`. Failures are described by `srpo.llm.failures`, like the lean path's, and
several `--base-url`s share `srpo.llm.endpoints` routing. The client runs on its aiohttp transport
(`openai[aiohttp]`; httpx is the fallback), and the body goes as ready JSON bytes, serialised once.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import openai

from srpo.llm.backend import Backend
from srpo.llm.endpoints import EndpointPool
from srpo.llm.failures import connection_error, parse_completion, status_error, timed_out
from srpo.llm.openai_http import OPENAI_API, api_key_for
from srpo.llm.request import ChatRequest, ChatResult, LLMError
from srpo.llm.settings import LLMSettings

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


class OpenAISDKBackend(Backend):
    """Subclasses (azure) set `self.model`, `self.key_env`, and build `self._clients` with `_pool_of`."""

    name = "openai-sdk"

    def __init__(self, settings: LLMSettings) -> None:
        if not settings.model:
            raise ValueError("--model is required for the openai backend (the model name the server serves)")
        self.model = settings.model
        key, self.key_env = api_key_for(settings)
        urls = [u.rstrip("/") for u in settings.base_url] or [OPENAI_API]
        self._pool_of(
            urls,
            settings,
            lambda url: openai.AsyncOpenAI(
                base_url=url,
                api_key=key or "EMPTY",  # the client insists on a key; self-hosted servers ignore it
                max_retries=0,
                timeout=settings.timeout,
                http_client=http_client(),
            ),
        )

    def _pool_of(self, urls: list[str], settings: LLMSettings, make: Any) -> None:
        self.pool = EndpointPool(urls)
        per_url = clients_per_url(settings.concurrency, len(urls))
        self._clients: dict[str, list[Any]] = {u: [make(u) for _ in range(per_url)] for u in urls}
        self._turn = 0

    async def complete(self, request: ChatRequest, timeout: float) -> ChatResult:
        content = request.body(self.model)
        with self.pool.serving() as ep:
            clients = self._clients[ep.url]
            self._turn += 1
            client = clients[self._turn % len(clients)]
            try:
                # The client's documented raw-request path: same auth, URLs and error classes as
                # `chat.completions.create`, without its per-request recursive transform of the messages.
                response = await client.post(
                    "/chat/completions", cast_to=object, content=content, options={"timeout": timeout}
                )
            except openai.APIStatusError as e:
                raise status_error(e.status_code, e.body, e.response.headers, ep.url, self.key_env) from None
            except openai.APITimeoutError as e:
                # The bridge to aiohttp reports a refused connection as a timeout: look at the cause.
                raise (
                    connection_error(e, ep.url, timeout) if e.__cause__ else timed_out(timeout, ep.url)
                ) from None
            except openai.APIConnectionError as e:
                raise connection_error(e, ep.url, timeout) from None
            except (ValueError, openai.APIResponseValidationError) as e:  # a 200 whose body is not JSON
                raise LLMError(
                    f"malformed response body: {type(e).__name__}: {e}", retryable=True, kind="server"
                ) from None
            return parse_completion(response)

    def endpoint_summary(self) -> str:
        return self.pool.summary()

    async def aclose(self) -> None:
        for clients in self._clients.values():
            for c in clients:
                await c.close()
