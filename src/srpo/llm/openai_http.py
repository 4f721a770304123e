"""The `openai` backend: any OpenAI-compatible chat-completions server (vLLM, SGLang, OpenAI, DashScope…)
over a lean HTTP path: the body serialised once with orjson, the answer parsed with orjson, and the HTTP done
by `srpo.llm.http1` for plain `http://` servers (a self-hosted cluster) or one aiohttp session for `https://`
(the official API, hosted providers). Several `--base-url`s are used through `srpo.llm.endpoints` (least in
flight, failing ones rested).

Why not the official client here: it costs about 1 ms of CPU per request with a 100 KB image on the bench
machine (`bench/curate.py`), more than everything else a curation record needs together, and at a few
hundred requests a second one event loop is then the limit, not the server; aiohttp costs ~0.3 ms, the
plain HTTP/1.1 path ~0.1 ms. The official client stays as `--backend openai-sdk` (and under `azure`); all
share `srpo.llm.failures`, so they retry the same faults and report them in the same words — the tests run
every path against the same faults.
"""

from __future__ import annotations

from typing import Any

import aiohttp

from srpo.llm.backend import Backend
from srpo.llm.endpoints import EndpointPool
from srpo.llm.failures import connection_error, parse_completion, status_error
from srpo.llm.http1 import HTTP1Endpoint
from srpo.llm.keys import read_api_key
from srpo.llm.request import ChatRequest, ChatResult
from srpo.llm.settings import LLMSettings

OPENAI_API = "https://api.openai.com/v1"
PLAIN_HTTP = True
"""Send `http://` requests through `srpo.llm.http1` (False: through aiohttp like `https://` ones)."""


def api_key_for(settings: LLMSettings, default_env: str = "OPENAI_API_KEY") -> tuple[str | None, str]:
    """The key (None when unset and a `--base-url` is given: self-hosted servers usually need none) and the
    name of the variable it came from. A missing key for the official API is a `ValueError`."""
    env = settings.api_key_env or default_env
    key = read_api_key(env)
    if key is None and not settings.base_url:
        raise ValueError(
            f"no API key: set the environment variable {env} (or name another with --api-key-env)"
        )
    if key is None and settings.api_key_env:
        raise ValueError(f"--api-key-env {env}: that environment variable is not set")
    return key, env


class OpenAIBackend(Backend):
    name = "openai"

    def __init__(self, settings: LLMSettings) -> None:
        if not settings.model:
            raise ValueError("--model is required for the openai backend (the model name the server serves)")
        self.model = settings.model
        key, self.key_env = api_key_for(settings)
        self.pool = EndpointPool([u.rstrip("/") for u in settings.base_url] or [OPENAI_API])
        self._headers = {"Content-Type": "application/json"}
        if key is not None:
            self._headers["Authorization"] = f"Bearer {key}"
        self._connect_timeout = min(settings.timeout, 30.0)
        self._session: aiohttp.ClientSession | None = None
        self._plain_clients: dict[str, HTTP1Endpoint | None] = {}

    def _open(self) -> aiohttp.ClientSession:
        # Created inside the running loop (a session belongs to one loop). No connection limit here: the
        # client's concurrency bound is the only one, and a second one would only queue requests unseen.
        connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300, keepalive_timeout=60)
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers=self._headers,
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=self._connect_timeout),
            skip_auto_headers=("User-Agent",),
        )
        return self._session

    def _plain(self, url: str) -> HTTP1Endpoint | None:
        """The plain-HTTP client of `url`, or None when it goes through aiohttp."""
        if url not in self._plain_clients:
            use = PLAIN_HTTP and url.startswith("http://")
            self._plain_clients[url] = (
                HTTP1Endpoint(url, self._headers, self._connect_timeout) if use else None
            )
        return self._plain_clients[url]

    async def _post(self, url: str, body: bytes) -> tuple[int, Any, bytes]:
        plain = self._plain(url)
        if plain is not None:
            response = await plain.post("/chat/completions", body)
            return response.status, response.headers, response.body
        session = self._session or self._open()
        try:
            async with session.post(url + "/chat/completions", data=body) as response:
                return response.status, response.headers, await response.read()
        except aiohttp.ClientResponseError as e:  # an answer aiohttp could not parse
            raise OSError(f"malformed HTTP answer: {e.message}") from None

    async def complete(self, request: ChatRequest, timeout: float) -> ChatResult:
        body = request.body(self.model)
        with self.pool.serving() as ep:
            try:
                status, headers, raw = await self._post(ep.url, body)
            except (aiohttp.ClientError, OSError) as e:  # TimeoutError is an OSError
                raise connection_error(e, ep.url, timeout) from None
            if status != 200:
                raise status_error(status, raw, headers, ep.url, self.key_env)
            return parse_completion(raw)

    def endpoint_summary(self) -> str:
        return self.pool.summary()

    async def aclose(self) -> None:
        for plain in self._plain_clients.values():
            if plain is not None:
                plain.close()
        if self._session is not None:
            await self._session.close()
            self._session = None
