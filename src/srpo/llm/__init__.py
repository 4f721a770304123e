"""Model backends shared by curation and evaluation.

- `settings.LLMSettings` — every knob, one field per flag.
- `backend` — the `Backend` interface and the registry (`openai`, `azure`, `local`, or your own).
- `client.LLMClient` — concurrency, rpm limit, timeout, retries with backoff + Retry-After, cache, usage.
- `images.ImageEncoder` — data URLs (encoded once), public URL prefix, file://, upload hook.
- `structured` — JSON-schema output, tolerant parsing, pydantic validation, bounded re-asks.
- `cache`, `usage`, `progress`, `retry`, `ratelimit`, `keys` — one concern each.
- `fake_server.FakeChatServer` — a local OpenAI-compatible server with injected faults (tests, bench).
"""

from srpo.llm.client import LLMClient
from srpo.llm.request import ChatRequest, ChatResult, LLMError, RequestFailed
from srpo.llm.settings import LLMSettings

__all__ = ["ChatRequest", "ChatResult", "LLMClient", "LLMError", "LLMSettings", "RequestFailed"]
