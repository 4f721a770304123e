"""API keys: read from the environment only, checked, and scrubbed from every message we write.

A key is never a command-line argument (it would land in shell history and `ps`), never logged, never
stored in the cache, outputs or error files. Error texts from servers can echo request headers; every
reason we record passes through `redact`.
"""

from __future__ import annotations

import os

from srpo.errors import UserError

_KNOWN: set[str] = set()


def read_api_key(env_name: str) -> str | None:
    """The key in environment variable `env_name` (remembered for `redact`), or None when unset.

    Raises `UserError` for a key that cannot travel in an HTTP header — a line break (CR/LF, as a key file
    saved with Windows line endings leaves), another control character, or a non-ASCII character — so that
    the run stops before it starts, naming the variable, instead of failing every request."""
    value = os.environ.get(env_name)
    if not value:
        return None
    _KNOWN.add(value)
    if "\r" in value or "\n" in value:
        raise UserError(
            f"the API key in ${env_name} contains a line break (CR/LF); set it again without one "
            f"(e.g. export {env_name}=\"$(tr -d '\\r\\n' < keyfile)\")"
        )
    if not value.isascii() or not value.isprintable():
        raise UserError(
            f"the API key in ${env_name} contains a control or non-ASCII character; set it again as the "
            "provider shows it"
        )
    return value


def redact(text: str) -> str:
    """`text` with every API key read by this process replaced by `***`."""
    for secret in _KNOWN:
        if secret and secret in text:
            text = text.replace(secret, "***")
    return text
