"""The backend interface and the registry of backends by name.

A backend turns one `ChatRequest` into one `ChatResult`, raising `LLMError` (retryable or not) on failure.
Concurrency, retries, caching and accounting live in `srpo.llm.client`, the same for every backend. To add
a backend, write a class with `complete` and register it: `register_backend("name", factory, "what it is")`.
Every command that calls a model (`curate answer`, `curate reflect`, `eval run`, the judge) finds it there,
and `--backend`'s help lists it.
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
    cacheable: ClassVar[bool] = True
    """Whether answers may be kept in the response cache (not for a deterministic stand-in)."""
    model: str = ""
    key_env: str | None = None
    """The environment variable the API key came from, for the fix in an auth error."""
    supports_json_schema: bool = True
    """Whether `response_format={"type": "json_schema", ...}` may be sent; turned off at the first refusal."""

    async def complete(self, request: ChatRequest, timeout: float) -> ChatResult:
        raise NotImplementedError

    def endpoint_summary(self) -> str | None:
        """Per-endpoint counts for the run summary, for backends with endpoints."""
        return None

    async def aclose(self) -> None:
        return None


BackendFactory = Callable[[LLMSettings], Backend]

# Built-in backends are imported lazily (`local` pulls in torch, which `openai` users need not install):
# name → ("module:attribute", one line for --help).
_BUILTIN: dict[str, tuple[str, str]] = {
    "openai": (
        "srpo.llm.openai_http:OpenAIBackend",
        "any OpenAI-compatible server (vLLM, SGLang, OpenAI…), lean HTTP path",
    ),
    "openai-sdk": (
        "srpo.llm.openai_compat:OpenAISDKBackend",
        "the same through the official openai client",
    ),
    "azure": ("srpo.llm.azure:AzureBackend", "Azure OpenAI (official client)"),
    "local": ("srpo.llm.local:LocalBackend", "in-process transformers on a checkpoint folder"),
    "vllm": ("srpo.llm.vllm_offline:VLLMBackend", "vLLM's offline engine in this process (GPU)"),
    "synthetic": (
        "srpo.curate.synthetic:SyntheticTeacher",
        "deterministic teacher for the bundled synthetic data (curate reflect)",
    ),
}
_REGISTERED: dict[str, tuple[BackendFactory, str]] = {}


def register_backend(name: str, factory: BackendFactory, summary: str = "") -> None:
    """Make `--backend name` build its backend with `factory(settings)`."""
    _REGISTERED[name] = (factory, summary)


def backend_names() -> list[str]:
    return sorted({*_BUILTIN, *_REGISTERED})


def backend_help() -> str:
    """`name (what it is), …` for the `--backend` help text, from the registry."""
    summaries = {name: text for name, (_, text) in _BUILTIN.items()}
    summaries.update({name: text for name, (_, text) in _REGISTERED.items()})
    return "; ".join(f"{name}: {summaries[name]}" if summaries[name] else name for name in summaries)


def make_backend(settings: LLMSettings) -> Backend:
    """Build the backend named by `settings.backend`."""
    name = settings.backend
    if name in _REGISTERED:
        return _REGISTERED[name][0](settings)
    if name not in _BUILTIN:
        raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(backend_names())}")
    module, _, attr = _BUILTIN[name][0].partition(":")
    return getattr(importlib.import_module(module), attr)(settings)
