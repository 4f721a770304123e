"""What goes into a chat request and what comes back, independent of the backend that serves it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import orjson

Message = dict[str, Any]
"""An OpenAI-style chat message: `{"role": ..., "content": str | [{"type": "text"|"image_url", ...}]}`."""


@dataclass
class ChatRequest:
    """One chat completion to make. `params` are sampling parameters passed through to the server
    (temperature, top_p, max_tokens, seed, response_format, …); `attempt` tells apart repeated samples of
    the same prompt, so the cache keeps K answers instead of one."""

    messages: list[Message]
    params: dict[str, Any] = field(default_factory=dict)
    attempt: int = 0
    image_keys: list[str] | None = None
    """Short stand-ins for the messages' images in the cache key, in order (`EncodedImage.key`: a digest of
    the bytes, computed once per image). Without them each image URL is hashed — 100 KB of base64 per
    request."""
    context: dict[str, Any] | None = None
    """What the request is about, for backends that answer from the data instead of a model (the
    `synthetic` teacher reads the sample and the attempt here). Never sent to a server, not in the cache key."""
    _body: tuple[str, bytes] | None = field(default=None, init=False, repr=False, compare=False)

    def body(self, model: str) -> bytes:
        """The chat-completions JSON body for `model`, serialised once (retries reuse it). Parameters set to
        None are left out. Raises `LLMError` (not retryable) for text that is not valid Unicode."""
        if self._body is not None and self._body[0] == model:
            return self._body[1]
        payload: dict[str, Any] = {"model": model, "messages": self.messages}
        payload.update((k, v) for k, v in self.params.items() if v is not None)
        try:
            data = orjson.dumps(payload)
        except TypeError as e:  # orjson: lone surrogates (a badly decoded dataset), unserialisable values
            raise LLMError(f"request cannot be sent as JSON: {e}", retryable=False) from None
        self._body = (model, data)
        return data

    def cache_key(self, model: str) -> str:
        """A digest of model + messages (images by `image_keys` when given) + sampling parameters + attempt."""
        h = hashlib.sha256(
            json.dumps([model, self.params, self.attempt], sort_keys=True, default=str).encode()
        )
        image_keys = iter(self.image_keys or ())
        # Walk the messages instead of JSON-encoding them: the base64 images make that the costliest step.
        for m in self.messages:
            h.update(b"\x00role\x00" + str(m.get("role")).encode())
            content = m.get("content")
            parts = [{"type": "text", "text": content}] if isinstance(content, str) else content or []
            for p in parts:
                h.update(b"\x00part\x00" + str(p.get("type")).encode() + b"\x00")
                if "image_url" in p:
                    stand_in = next(image_keys, None)
                    if stand_in is not None:
                        h.update(b"key\x00" + stand_in.encode())
                        continue
                    url = p["image_url"]
                    h.update(str(url.get("url") if isinstance(url, dict) else url).encode())
                else:
                    h.update(_part_json(p))
        return h.hexdigest()


_json_string = json.encoder.encode_basestring_ascii  # what json.dumps does to a str, without its overhead


def _part_json(part: dict[str, Any]) -> bytes:
    """`json.dumps(part, sort_keys=True, default=str)` — the same bytes, so cache keys stay as they were —
    written out directly for the common `{"type": "text", "text": str}` part (a third of the cost)."""
    text = part.get("text")
    if len(part) == 2 and part.get("type") == "text" and type(text) is str:
        return b'{"text": ' + _json_string(text).encode() + b', "type": "text"}'
    return json.dumps(part, sort_keys=True, default=str).encode()


@dataclass
class ChatResult:
    """The assistant's text, why generation stopped, and the token usage the server reported."""

    text: str
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "finish_reason": self.finish_reason,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], cached: bool = False) -> ChatResult:
        return cls(
            text=str(d.get("text") or ""),
            finish_reason=d.get("finish_reason"),
            prompt_tokens=int(d.get("prompt_tokens") or 0),
            completion_tokens=int(d.get("completion_tokens") or 0),
            cached=cached,
        )


class LLMError(Exception):
    """A request that failed. `retryable` says whether trying again may help; `retry_after` is the server's
    requested wait in seconds (from a Retry-After header), when it gave one."""

    def __init__(
        self,
        reason: str,
        *,
        retryable: bool,
        status: int | None = None,
        retry_after: float | None = None,
        kind: str | None = None,
    ):
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after
        self.kind = kind
        """"auth", "unreachable", "timeout", "server" (5xx, dropped connection, bad body) or None."""


class RequestFailed(Exception):
    """Raised by the client once a request has failed for good (not retryable, or out of retries).
    `kind` is "auth" (the key was refused: 401/403) or "unreachable" (no server answered: connection
    refused, unknown host) when the failure says something about the whole run, else None."""

    def __init__(self, reason: str, attempts: int, status: int | None = None, kind: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.attempts = attempts
        self.status = status
        self.kind = kind


class RunStopped(Exception):
    """The client refuses further requests: the run cannot succeed (the API key was refused, or no server
    can be reached). `reason` says what happened and what to fix."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
