"""math-verify, called safely: only on short inputs that cannot start an unbounded computation.

math-verify runs in its timeout-free mode (its signal-based timeouts only work in the main thread, and verl
scores in a thread pool). Time is bounded instead by what may reach it (`safe_for_math_verify`): short
inputs, no integrals/sums/limits, no exponent towers, small exponents and factorials. math-verify is imported
on first use, so `import srpo.grading` stays light.
"""

from __future__ import annotations

import functools
import logging
import re
from typing import Any

from srpo.grading.boxed import braced_content

logger = logging.getLogger(__name__)

MAX_MATH_VERIFY_CHARS = 160
"""Only answers up to this length (after normalisation) are handed to math-verify."""

_FORBIDDEN = re.compile(
    r"\\(?:int|iint|iiint|oint|sum|prod|lim|limsup|liminf|infty|partial|det|begin|matrix|Gamma|zeta)"
    r"|!\s*!|\)\s*!|\}\s*!|\d{4,}\s*!|\d{13,}"
)
_POWER = re.compile(r"\^\s*(\{|\\?[A-Za-z]+|[-+]?\d+(?:\.\d+)?|.)")
_DIGITS = re.compile(r"\d{1,12}")
_COMMAND = re.compile(r"\\[A-Za-z]+")


def _group_start(text: str) -> int:
    """Index of the bracket opening the group that closes at the end of `text` (0 if unbalanced)."""
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        if text[i] in ")}]":
            depth += 1
        elif text[i] in "({[":
            depth -= 1
            if depth == 0:
                return i
    return 0


def safe_for_math_verify(s: str) -> bool:
    """Whether math-verify can be given `s` without risking an unbounded computation.

    Refuses long strings, deep nesting, integrals/sums/limits, exponent towers, exponents over 999 (over
    16 when a variable is present or the base is a bracketed group), factorials of big numbers or of groups.
    """
    if len(s) > MAX_MATH_VERIFY_CHARS or s.count("^") > 6 or _FORBIDDEN.search(s):
        return False
    depth = 0
    for c in s:
        if c in "{([":
            depth += 1
            if depth > 8:
                return False
        elif c in "})]":
            depth -= 1
    has_variable = re.search(r"[A-Za-z]", _COMMAND.sub("", s)) is not None
    for m in _POWER.finditer(s):
        tok = m.group(1)
        if tok == "{":
            inner = braced_content(s, m.start(1))
            if inner is None or "^" in inner:
                return False
            exponent, end = inner, m.start(1) + len(inner) + 2
        else:
            exponent, end = tok, m.end()
        if s[end:].lstrip().startswith("^"):
            return False  # a^b^c
        before = s[: m.start()].rstrip()
        group_base = before.endswith((")", "}", "]"))
        if group_base and "^" in before[_group_start(before) :]:
            return False  # (a^b)^c: towers in disguise
        limit = 16 if (has_variable or group_base) else 999
        if any(int(d) > limit for d in _DIGITS.findall(exponent)):
            return False
    return True


def _silence_math_verify_warning() -> None:
    """math-verify warns once that its timeout is off; we bound time ourselves (see module doc)."""

    class _DropTimeoutNotice(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            return "Timeout is disabled" not in record.getMessage()

    for name in ("math_verify.parser", "math_verify.grader"):
        logging.getLogger(name).addFilter(_DropTimeoutNotice())


@functools.lru_cache(maxsize=1)
def _math_verify() -> Any:
    import math_verify  # imported on first use: keeps `import srpo.grading` light

    _silence_math_verify_warning()
    return math_verify


@functools.lru_cache(maxsize=8192)
def mv_parse(s: str) -> tuple[Any, ...]:
    """math-verify's parse of one answer (cached: the gold is parsed once for all responses)."""
    mv = _math_verify()
    try:
        return tuple(mv.parse(f"${s}$", parsing_timeout=None))
    except Exception:  # math-verify should not raise with raise_on_error=False; be sure
        logger.debug("math-verify could not parse %r", s[:80], exc_info=True)
        return ()


def math_verify_equal(pred: str, gold: str) -> bool:
    """math-verify's verdict on two normalised answers; False when either is unsafe or unparseable."""
    if not (safe_for_math_verify(pred) and safe_for_math_verify(gold)):
        return False
    g = mv_parse(gold)
    if not g:
        return False
    p = mv_parse(pred)
    if not p:
        return False
    try:
        return bool(_math_verify().verify(list(g), list(p), timeout_seconds=None))
    except Exception:
        logger.debug("math-verify could not compare %r and %r", pred[:80], gold[:80], exc_info=True)
        return False
