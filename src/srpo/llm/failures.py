"""What went wrong with a request, in words a user can act on — the same for every HTTP path.

Both ways of talking to a server (the lean aiohttp path of `srpo.llm.http` and the official client of
`srpo.llm.openai_compat`) turn their failures into an `LLMError` here, so both retry the same faults, report
them in the same words, and tell the engine which failures concern the whole run: a refused key ("auth")
and a server nobody can reach ("unreachable").
"""

from __future__ import annotations

import errno
import socket
import ssl
from typing import Any

import orjson

from srpo.llm.keys import redact
from srpo.llm.request import ChatResult, LLMError
from srpo.llm.retry import is_retryable_status, parse_retry_after

AUTH_STATUSES = (401, 403)


def status_error(status: int, body: bytes | Any, headers: Any, url: str, key_env: str | None) -> LLMError:
    """An HTTP error answer: its status, the server's message, whether to retry, its Retry-After."""
    message = _server_message(body)
    if status in AUTH_STATUSES:
        fix = f"check {key_env} / --api-key-env" if key_env else "check the API key"
        what = "refused the API key" if status == 401 else "denied permission"
        return LLMError(
            redact(f"HTTP {status}: {url} {what} ({message}); {fix}"),
            retryable=False,
            status=status,
            kind="auth",
        )
    return LLMError(
        redact(f"HTTP {status}: {message}"),
        retryable=is_retryable_status(status),
        status=status,
        retry_after=parse_retry_after(headers),
        kind="server" if status >= 500 else None,
    )


def connection_error(exc: BaseException, url: str, timeout: float | None = None) -> LLMError:
    """A request that got no HTTP answer: say which of refused / unknown host / TLS / reset / timeout it was
    (`timeout`: the per-request limit, for the message when that is what ran out)."""
    chain = list(_causes(exc))
    if any(_is_refused(e) for e in chain):
        return LLMError(
            f"connection refused by {url} (is the server running there, and is --base-url right?)",
            retryable=True,
            kind="unreachable",
        )
    if any(isinstance(e, socket.gaierror) for e in chain):
        return LLMError(
            f"cannot resolve the host of {url} (check --base-url)", retryable=True, kind="unreachable"
        )
    tls = next((e for e in chain if isinstance(e, ssl.SSLError)), None)
    if tls is not None:
        return LLMError(redact(f"TLS error talking to {url}: {tls}"), retryable=False, kind="unreachable")
    if any(isinstance(e, TimeoutError) for e in chain):
        if timeout is not None:
            return timed_out(timeout, url)
        return LLMError(
            f"no answer from {url} in time (connect or read timed out)", retryable=True, kind="timeout"
        )
    # The outermost exception that says something, past the official client's generic "Connection error."
    said = next((e for e in chain if str(e) and not type(e).__module__.startswith("openai")), chain[0])
    detail = f"{type(said).__name__}: {said}".rstrip(": ")
    return LLMError(
        redact(f"connection to {url} failed before an answer ({detail})"), retryable=True, kind="server"
    )


def timed_out(timeout: float, url: str | None) -> LLMError:
    """The request took longer than `--timeout` in all."""
    where = f" waiting for {url}" if url else ""
    return LLMError(
        f"timed out after {timeout:g}s{where} (raise --timeout for long answers)",
        retryable=True,
        kind="timeout",
    )


def parse_completion(raw: bytes | Any) -> ChatResult:
    """The text and usage of a chat.completion body (raw JSON bytes or an already parsed object); a
    retryable `LLMError` for a body that is not one (a proxy's HTML page, a truncated answer)."""
    if isinstance(raw, (bytes, bytearray, memoryview, str)):
        try:
            response = orjson.loads(raw)
        except orjson.JSONDecodeError as e:
            snippet = bytes(raw[:120]) if not isinstance(raw, str) else raw[:120].encode()
            raise LLMError(
                f"malformed response body (not JSON: {e}): {snippet!r}", retryable=True, kind="server"
            ) from None
    else:
        response = raw
    try:
        choice = response["choices"][0]
        text = choice["message"].get("content")
        finish = choice.get("finish_reason")
        usage = response.get("usage") or {}
        prompt_tokens = int(usage.get("prompt_tokens") or 0)
        completion_tokens = int(usage.get("completion_tokens") or 0)
    except (KeyError, IndexError, TypeError, AttributeError, ValueError):
        raise LLMError(
            f"malformed response body: not a chat completion: {str(response)[:200]}",
            retryable=True,
            kind="server",
        ) from None
    if not isinstance(text, str):
        raise LLMError(f"response has no text (finish_reason={finish})", retryable=finish != "content_filter")
    return ChatResult(text, finish, prompt_tokens, completion_tokens)


def _server_message(body: bytes | Any) -> str:
    """The `error.message` of an OpenAI-style error body, else its first characters."""
    parsed = body
    if isinstance(body, (bytes, bytearray)):
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            return bytes(body[:300]).decode("utf-8", "replace").strip() or "(empty body)"
    if isinstance(parsed, dict):
        inner = parsed.get("error")
        msg = (
            inner.get("message") if isinstance(inner, dict) else parsed.get("message") or parsed.get("detail")
        )
        if msg:
            return str(msg)[:500]
    return str(parsed)[:300]


def _causes(exc: BaseException):
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        yield e
        inner = getattr(e, "os_error", None)  # aiohttp's ClientConnectorError wraps the OSError here
        if isinstance(inner, BaseException) and id(inner) not in seen:
            yield inner
            seen.add(id(inner))
        e = e.__cause__ or e.__context__  # suppressed contexts too: they often hold the OS error


def _is_refused(e: BaseException) -> bool:
    if isinstance(e, ConnectionRefusedError):
        return True
    return isinstance(e, OSError) and e.errno == errno.ECONNREFUSED
