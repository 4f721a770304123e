"""`LLMSettings`: every knob of a model backend and its client, one field per command-line flag.

The flags of `curate answer`, `curate reflect` and `eval run` are built from these fields
(`srpo.llm.options`): a field's docstring is its flag's help, so keep each one a short sentence."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class LLMSettings:
    """How to reach a model and how hard to push it. Field names are the flags (`base_url` → `--base-url`)."""

    backend: str = "openai"
    """Registered backend name (`srpo.llm.backend`); the flag's help lists them."""
    model: str | None = None
    """Model name on the server (azure: the deployment; local: a checkpoint folder)."""
    base_url: list[str] = field(default_factory=list)
    """Server URL, e.g. http://localhost:8000/v1; repeat for several (each request goes to the least busy,
    a failing one is rested). Default: the official OpenAI API."""
    api_key_env: str | None = None
    """Environment variable holding the API key (default OPENAI_API_KEY; azure: AZURE_OPENAI_API_KEY); a key
    is never a flag."""
    azure_endpoint: str | None = None
    """Azure OpenAI endpoint (default: $AZURE_OPENAI_ENDPOINT)."""
    api_version: str | None = None
    """Azure OpenAI API version (default: $OPENAI_API_VERSION)."""
    concurrency: int = 16
    """Requests in flight at once, over all endpoints."""
    rpm: float | None = None
    """Optional limit on requests started per minute."""
    timeout: float = 120.0
    """Seconds one request may take in all before it is abandoned (and retried)."""
    max_retries: int = 6
    """Retries per request on 429 / 5xx / timeouts / connection errors / malformed bodies (other 4xx:
    none)."""
    retry_base_delay: float = 0.5
    """First backoff in seconds; doubles on each retry, with jitter."""
    cache: str | None = None
    """SQLite response cache (default: srpo-llm-cache.sqlite beside the output)."""
    no_cache: bool = False
    """Bypass the response cache (neither read nor write it)."""
    price_in: float | None = None
    """Price per 1M prompt tokens, for the cost estimate."""
    price_out: float | None = None
    """Price per 1M completion tokens, for the cost estimate."""
    image_url_prefix: str | None = None
    """Send images as this public URL prefix + their path under the image root."""
    file_urls: bool = False
    """Send images as file:// URLs (vLLM with --allowed-local-media-path)."""
    upload_hook: str | None = None
    """`module:function` that uploads an image and returns its URL."""
    max_tokens: int | None = None
    """Cap on generated tokens per request (None: the server's default)."""
    top_p: float | None = None
    """Nucleus sampling parameter, passed through when set."""
    batch_size: int = 8
    """local and vllm backends: prompts generated together in one batch."""
    device: str | None = None
    """local backend: torch device (default: cuda when available, else cpu)."""
    progress: bool = True
    """Show the live progress line."""

    def sampling_params(self, temperature: float | None) -> dict[str, float | int]:
        """The request's sampling parameters: `temperature` plus the settings' caps, unset ones left out."""
        params = {"temperature": temperature, "max_tokens": self.max_tokens, "top_p": self.top_p}
        return {k: v for k, v in params.items() if v is not None}
