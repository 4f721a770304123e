"""Token counting for the length term: a tokenizer's count when an engine gives one, else an approximation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

TokenCounter = Callable[[str], int]


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


class tokenizer_counter:  # noqa: N801 - used like a function; a class so that it pickles (TRL, Ray)
    """A counter from a Hugging Face tokenizer or processor: tokens of the text, no special tokens added."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = getattr(tokenizer, "tokenizer", None) or tokenizer  # a processor wraps its tokenizer

    def __call__(self, text: str) -> int:
        if not text:
            return 0
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])
