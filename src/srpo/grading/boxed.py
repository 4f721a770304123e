"""`\\boxed{…}` contents: the last box of a text, every box of a text, and the brace matching they share.

Bounded work on any input: a box whose closing brace is further than `MAX_BOXED_CHARS` counts as unclosed,
and only a few unclosed boxes are stepped over before giving up.
"""

from __future__ import annotations

import re

MAX_BOXED_CHARS = 2000
"""A `\\boxed{` whose closing brace is further than this is treated as unclosed."""

BOX_COMMANDS = ("\\boxed", "\\fbox")

_BRACE = re.compile(r"\\[{}]|[{}]")
_BARE_TOKEN = re.compile(r"[^\s$]{1,100}")


def braced_content(text: str, open_at: int, limit: int = MAX_BOXED_CHARS) -> str | None:
    """Content of the brace group opening at `open_at`, or None if it does not close within `limit` chars.
    Escaped braces (``\\{``) do not count."""
    depth = 0
    stop = min(len(text), open_at + limit + 2)
    for m in _BRACE.finditer(text, open_at, stop):
        tok = m.group()
        if tok == "{":
            depth += 1
        elif tok == "}":
            depth -= 1
            if depth == 0:
                return text[open_at + 1 : m.start()]
    return None


def _box_at(text: str, at: int) -> tuple[str | None, int]:
    """(content, end) of the box command starting at `at`; content None when it is not a usable box."""
    cmd_len = 6 if text.startswith("\\boxed", at) else 5
    k = at + cmd_len
    while k < len(text) and k < at + cmd_len + 8 and text[k] in " \t":
        k += 1
    if k < len(text) and text[k] == "{":
        content = braced_content(text, k)
        if content is None:
            return None, k + 1
        return content, k + len(content) + 2
    if at + cmd_len < k < len(text):  # "\boxed 5": one token
        m = _BARE_TOKEN.match(text, k)
        if m:
            return m.group(), m.end()
    return None, k


def last_boxed(text: str) -> str | None:
    """Content of the last closed ``\\boxed{…}`` (or ``\\fbox{…}``, or ``\\boxed 5``) in `text`, else None.

    Nested braces are matched; escaped braces (``\\{``) do not count. A box whose closing brace is missing
    (or further than `MAX_BOXED_CHARS`) is skipped in favour of an earlier one. Bounded work per call.
    """
    if not isinstance(text, str):
        return None
    end = len(text)
    for _ in range(16):  # a few earlier boxes are worth trying; thousands of broken ones are not
        at = max(text.rfind(cmd, 0, end) for cmd in BOX_COMMANDS)
        if at < 0:
            return None
        content, _ = _box_at(text, at)
        if content is not None:
            return content
        end = at
    return None


def boxed_contents(text: str, max_boxes: int = 64) -> list[str]:
    """The contents of every closed box in `text`, in order (stripped); unclosed boxes are skipped."""
    out: list[str] = []
    if not isinstance(text, str):
        return out
    at = 0
    for _ in range(4 * max_boxes):  # bounded: thousands of unclosed boxes are not worth scanning
        if len(out) >= max_boxes:
            break
        starts = [i for i in (text.find(cmd, at) for cmd in BOX_COMMANDS) if i >= 0]
        if not starts:
            break
        start = min(starts)
        content, end = _box_at(text, start)
        if content is not None:
            out.append(content.strip())
        at = max(end, start + 1)
    return out


def strip_boxed(text: str) -> str:
    """The content of the last ``\\boxed{}`` in `text` if it has one, else `text` stripped."""
    if not isinstance(text, str):
        return ""
    inner = last_boxed(text)
    return (inner if inner is not None else text).strip()
