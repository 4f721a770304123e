"""Model backends shared by curation and evaluation.

- `settings.LLMSettings` — every knob, one field per flag; `options` turns them into the CLI flags.
- `backend` — the `Backend` interface and the registry (`openai`, `openai-sdk`, `azure`, `local`, `vllm`,
  `synthetic`, or your own).
- `engine` — the bounded, journaled request engine curation, evaluation and the judge run on.
- `client.LLMClient` — concurrency, rpm limit, timeout, retries with backoff + Retry-After, cache, usage,
  and stopping a run that cannot succeed.
- `openai_http` (lean aiohttp path), `openai_compat` (official client), `azure`, `local`, `vllm_offline`,
  `batching` — the backends; `failures` and `endpoints` are what the HTTP ones share.
- `images.ImageEncoder` — data URLs (encoded once), public URL prefix, file://, upload hook.
- `structured` — JSON-schema output, tolerant parsing, pydantic validation, bounded re-asks.
- `cache`, `usage`, `progress`, `retry`, `ratelimit`, `keys` — one concern each.
"""

from srpo.llm.client import LLMClient
from srpo.llm.request import ChatRequest, ChatResult, LLMError, RequestFailed
from srpo.llm.settings import LLMSettings

__all__ = ["ChatRequest", "ChatResult", "LLMClient", "LLMError", "LLMSettings", "RequestFailed"]
