"""Which answer a text gives: `answer_in_block` for the content of an `<answer>` block, `extract_answer` for a
whole response.

An answer block usually holds just the answer, so a short one is taken whole — ``(1, 2)``, ``$4 \\pi$``,
``B. 16.36%``, ``the square`` — after a ``\\boxed{}`` and an "answer is …" phrase, and before any
last-number reading. A whole response is read by the same phrases, then by its last ``<answer>`` block,
then, as a last resort, by its last number. Never raises; linear time.
"""

from __future__ import annotations

import re

from srpo.grading.boxed import last_boxed
from srpo.grading.normalize import is_prose

TAIL_CHARS = 20000
"""Phrase patterns ("the answer is …", last number) look at this many trailing characters only."""
SHORT_BLOCK_CHARS = 80
"""An answer block up to this long (one line) is the answer itself, unless it is a sentence with a number."""

# "answer is (B)", "Answer: B", "option B", "choice: (c)": a capital letter standing alone after the phrase.
_LETTER_PHRASE = re.compile(
    r"(?i:answer|option|choice)[ \t]{0,3}(?:is|:|=|：)?[ \t]{0,3}(?i:option[ \t]{1,3})?"
    r"\(?([A-J])\)?(?![A-Za-z0-9])(?![ \t]{1,3}[a-z])"
)
_ANSWER_PHRASE = re.compile(
    r"(?i:answer)[ \t]{0,3}(?:is|:|=|：)[ \t]{0,3}(?::[ \t]{0,3})?([^\n]{1,200}?)[ \t]*(?:$|\n|\.(?=\s|$))",
    re.M,
)
_LEADING_PHRASE = re.compile(
    r"^(?:so[, ]+|thus[, ]+|therefore[, ]+|hence[, ]+)?(?:the\s+)?(?:final\s+|correct\s+)?"
    r"(?:answer|option|choice)(?:\s+is)?\s*[:：]?\s*",
    re.I,
)
_LETTER_ALONE = re.compile(r"\(?([A-Za-z])\)?[.:]?")
_PAREN_LETTER = re.compile(r"\(([A-J])\)")
_NUMBER = re.compile(r"-?\d+(?:,\d{3})*(?:\.\d+)?(?:/\d+)?")
_MARKDOWN = re.compile(r"\*\*|__")


def last_match(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    """The last match of `pattern` in `text`, or None."""
    last = None
    for last in pattern.finditer(text):  # noqa: B007 - we want the last one
        pass
    return last


def _phrase_answer(text: str) -> str | None:
    """The answer stated by the last "answer is (B)" / "Answer: …" phrase in `text`, or None."""
    tail = _MARKDOWN.sub("", text[-TAIL_CHARS:])
    letter, phrase = last_match(_LETTER_PHRASE, tail), last_match(_ANSWER_PHRASE, tail)
    if letter and (phrase is None or letter.start() >= phrase.start()):  # the later statement wins
        return letter.group(1)
    if phrase:
        found = phrase.group(1).strip().strip("$").strip()
        if found:
            return found
    return letter.group(1) if letter else None


def _is_sentence_with_number(s: str) -> bool:
    return is_prose(s) and any(c.isdigit() for c in s)


def answer_in_block(text: str) -> str | None:
    """The answer an `<answer>` block states, or None for an empty block.

    In order: the last ``\\boxed{}``; an "answer is …" / "Answer: …" / "option B" phrase; the whole block
    when it is one short line (a leading "The answer is" and a final period dropped), unless it is a
    sentence around a number ("The area is 12 square units"); else the whole-response rules of
    `extract_answer`.
    """
    if not isinstance(text, str) or not text.strip():
        return None
    boxed = last_boxed(text)
    if boxed is not None and boxed.strip():
        return boxed.strip()
    found = _phrase_answer(text)
    if found is not None:
        return found
    s = _MARKDOWN.sub("", text).strip()
    s = _LEADING_PHRASE.sub("", s).strip().rstrip(".").strip()
    if s and len(s) <= SHORT_BLOCK_CHARS and "\n" not in s and not _is_sentence_with_number(s):
        return s
    return _unmarked_answer(text)


def _unmarked_answer(text: str) -> str | None:
    """Rules for text without box or phrase: a bare letter, the last "(B)", one short token, the last number."""
    s = text.strip()
    if not s:
        return None
    alone = _LETTER_ALONE.fullmatch(s)
    if alone:
        return alone.group(1).upper()
    tail = s[-TAIL_CHARS:]
    m = last_match(_PAREN_LETTER, tail)
    if m:
        return m.group(1)
    if len(s) <= 50 and not any(c.isspace() for c in s):
        return s
    m = last_match(_NUMBER, tail)
    return m.group() if m else None


def extract_answer(text: str) -> str | None:
    """The answer a whole response gives, or None when it states none.

    In order: the content of the last ``\\boxed{}`` (nested braces matched); else the last
    ``<answer>…</answer>`` block, read by `answer_in_block`; else an option letter stated as "answer is (B)",
    "Answer: B", "option B", or "the answer is …" up to the end of its sentence; else a bare letter
    response; else the last "(B)"; else the whole response when it is one short token; else the last number.
    Never raises; linear time.
    """
    if not isinstance(text, str) or not text.strip():
        return None
    boxed = last_boxed(text)
    if boxed is not None:
        return boxed.strip()
    close = text.rfind("</answer>")
    if close >= 0:
        open_ = text.rfind("<answer>", 0, close)
        if open_ >= 0:
            found = answer_in_block(text[open_ + len("<answer>") : close])
            if found is not None:
                return found
    found = _phrase_answer(text)
    if found is not None:
        return found
    return _unmarked_answer(text)
