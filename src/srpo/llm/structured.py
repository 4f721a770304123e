"""Structured (JSON) output from a chat model, validated with pydantic.

When the backend accepts it, the request carries `response_format` with the JSON schema of the pydantic
model; a server that refuses it (a 400 naming response_format / json_schema) is remembered and asked again
without. Either way the reply is parsed tolerantly — code fences, prose before or after the object — and
validated. An invalid reply is answered with one short re-ask that quotes the problem, at most
`max_reasks` times; then `StructuredOutputError`.
"""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from srpo.llm.client import LLMClient
from srpo.llm.request import ChatRequest, ChatResult, Message, RequestFailed

T = TypeVar("T", bound=BaseModel)

_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.S)
_MAX_STARTS = 64  # candidate '{' positions tried; bounds the work on hostile text


class StructuredOutputError(ValueError):
    """The model's reply could not be turned into the expected object, even after re-asking."""


def json_schema_format(model: type[BaseModel], name: str) -> dict[str, Any]:
    """An OpenAI `response_format` asking for JSON that matches `model` (strict mode)."""
    schema = model.model_json_schema()
    schema["additionalProperties"] = False
    schema["required"] = list(schema.get("properties", {}))
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}}


def parse_json_object(text: str) -> dict[str, Any]:
    """The first JSON object in `text`: the whole text, a fenced ```json block, or an object embedded in
    prose. Raises ValueError saying what was wrong. Bounded work on any input."""
    stripped = text.strip()
    candidates = [stripped] + [m.group(1).strip() for m in _FENCE.finditer(text)]
    for c in candidates:
        try:
            value = json.loads(c)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    decoder = json.JSONDecoder()
    start = text.find("{")
    tried = 0
    while start >= 0 and tried < _MAX_STARTS:
        tried += 1
        try:
            value, _ = decoder.raw_decode(text, start)
        except ValueError:
            value = None
        if isinstance(value, dict):
            return value
        start = text.find("{", start + 1)
    if not stripped:
        raise ValueError("the reply is empty")
    raise ValueError("no JSON object found in the reply")


def validate_reply(text: str, model: type[T]) -> T:
    """Parse and validate; ValueError with a short, quotable reason when the reply does not fit."""
    data = parse_json_object(text)
    try:
        return model.model_validate(data)
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(map(str, err['loc'])) or 'object'}: {err['msg']}" for err in e.errors()[:5]
        )
        raise ValueError(f"the JSON does not match the expected fields ({problems})") from None


async def chat_structured(
    client: LLMClient,
    messages: list[Message],
    model: type[T],
    *,
    name: str = "reply",
    params: dict[str, Any] | None = None,
    max_reasks: int = 2,
    context: dict[str, Any] | None = None,
) -> tuple[T, list[ChatResult]]:
    """Ask until the reply validates as `model`; returns it with every `ChatResult` paid for on the way.
    `context` travels with each request (`ChatRequest.context`). Raises `RequestFailed` (transport) or
    `StructuredOutputError` (content)."""
    params = dict(params or {})
    conversation = list(messages)
    results: list[ChatResult] = []
    keys = ", ".join(model.model_fields)
    for round_ in range(max_reasks + 1):
        result = await _ask(client, conversation, model, name, params, context)
        results.append(result)
        try:
            return validate_reply(result.text, model), results
        except ValueError as e:
            reason = str(e)
        if round_ == max_reasks:
            raise StructuredOutputError(f"invalid reply after {max_reasks + 1} tries: {reason}")
        conversation = conversation + [
            {"role": "assistant", "content": result.text},
            {
                "role": "user",
                "content": f"That reply could not be used: {reason}. Reply again with only one JSON object "
                f"with the keys {keys}, and nothing else.",
            },
        ]
    raise AssertionError("unreachable")


async def _ask(
    client: LLMClient,
    conversation: list[Message],
    model: type[BaseModel],
    name: str,
    params: dict[str, Any],
    context: dict[str, Any] | None,
) -> ChatResult:
    if client.backend.supports_json_schema:
        try:
            return await client.chat(
                ChatRequest(
                    conversation,
                    {**params, "response_format": json_schema_format(model, name)},
                    context=context,
                )
            )
        except RequestFailed as e:
            if e.status not in (400, 422) or not re.search(
                r"response_format|json_schema|schema", e.reason, re.I
            ):
                raise
            client.backend.supports_json_schema = False  # this server cannot do it: stop asking
    return await client.chat(ChatRequest(conversation, params, context=context))
