"""The backend interface and the registry of backends by name.

A backend turns one `ChatRequest` into one `ChatResult`, raising `LLMError` (retryable or not) on failure.
Concurrency, retries, caching and accounting live in `srpo.llm.client`, the same for every backend. To add
a backend, write a class with `complete` and register it: `register_backend("name", factory)`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import ClassVar

from srpo.llm.request import ChatRequest, ChatResult
from srpo.llm.settings import LLMSettings


class Backend:
    """Base class: subclasses implement `complete` (and `aclose` when they hold connections)."""

    name: ClassVar[str] = "backend"
    enforce_timeout: ClassVar[bool] = True
    """Whether the client may abandon a request after `timeout` (not for in-process generation)."""
    model: str = ""
    supports_json_schema: bool = True
    """Whether `response_format={"type": "json_schema", ...}` may be sent; turned off at the first refusal."""

    async def complete(self, request: ChatRequest, timeout: float) -> ChatResult:
        raise NotImplementedError

    async def aclose(self) -> None:
        return None


BackendFactory = Callable[[LLMSettings], Backend]

# Built-in backends are imported lazily: `local` pulls in torch, which `openai` users need not install.
_BUILTIN: dict[str, str] = {
    "openai": "srpo.llm.openai_compat:OpenAIBackend",
    "azure": "srpo.llm.azure:AzureBackend",
    "local": "srpo.llm.local:LocalBackend",
}
_REGISTERED: dict[str, BackendFactory] = {}


def register_backend(name: str, factory: BackendFactory) -> None:
    """Make `--backend name` build its backend with `factory(settings)`."""
    _REGISTERED[name] = factory


def backend_names() -> list[str]:
    return sorted({*_BUILTIN, *_REGISTERED})


def make_backend(settings: LLMSettings) -> Backend:
    """Build the backend named by `settings.backend`."""
    name = settings.backend
    if name in _REGISTERED:
        return _REGISTERED[name](settings)
    if name not in _BUILTIN:
        raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(backend_names())}")
    module, _, attr = _BUILTIN[name].partition(":")
    return getattr(importlib.import_module(module), attr)(settings)
