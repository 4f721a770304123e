"""The `openai` backend: any OpenAI-compatible chat-completions server (vLLM, SGLang, OpenAI, DashScope…)
through the official async client. Several `--base-url`s share the load round-robin.

The client's own retries are switched off: retries, backoff and Retry-After are handled once, for every
backend, in `srpo.llm.client`. Here every failure is classified into an `LLMError`.
"""

from __future__ import annotations

import itertools
from typing import Any

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
        # httpcore's pool scans all of its connections (a socket check each) on every request, so one pool of
        # 64 connections costs several ms of CPU per request; small pools of ~8 keep that flat.
        per_url = max(1, -(-settings.concurrency // (CONNECTIONS_PER_CLIENT * len(urls))))
        self._clients = [self._make_client(url, key, settings) for _ in range(per_url) for url in urls]
        self._next = itertools.cycle(range(len(self._clients)))

    def _make_client(self, url: str | None, key: str, settings: LLMSettings) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(base_url=url, api_key=key, max_retries=0, timeout=settings.timeout)

    async def complete(self, request: ChatRequest, timeout: float) -> ChatResult:
        client = self._clients[next(self._next)]
        body = {"model": self.model, "messages": request.messages}
        body.update((k, v) for k, v in request.params.items() if v is not None)
        try:
            # The client's documented raw-request path: same auth, URLs and error classes as
            # `chat.completions.create`, without its per-request recursive transform of the messages (which
            # walks every content part and costs more CPU than the rest of a request together).
            response = await client.post(
                "/chat/completions", cast_to=object, body=body, options={"timeout": timeout}
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
