"""API keys: read from the environment only, and scrubbed from every message we write.

A key is never a command-line argument (it would land in shell history and `ps`), never logged, never
stored in the cache, outputs or error files. Error texts from servers can echo request headers; every
reason we record passes through `redact`.
"""

from __future__ import annotations

import os

_KNOWN: set[str] = set()


def read_api_key(env_name: str) -> str | None:
    """The key in environment variable `env_name` (remembered for `redact`), or None when unset."""
    value = os.environ.get(env_name)
    if value:
        _KNOWN.add(value)
    return value or None


def redact(text: str) -> str:
    """`text` with every API key read by this process replaced by `***`."""
    for secret in _KNOWN:
        if secret and secret in text:
            text = text.replace(secret, "***")
    return text
