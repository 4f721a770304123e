"""Whether two answers mean the same thing: `is_equivalent(pred, gold, choices)`.

Cheapest checks first: exact text, words case-insensitively, exact numbers, the numeric evaluator, tuples
and sets; math-verify last, and only on inputs that are safe for it. Option letters are compared as letters,
and a letter against an option's text (or value) when the options are known.
"""

from __future__ import annotations

import functools
import logging
import math
import re
from fractions import Fraction

from srpo.grading.choices import Choices, letter_parts, options
from srpo.grading.expressions import collections_equal, numerically_equal
from srpo.grading.mathverify import math_verify_equal, mv_parse
from srpo.grading.normalize import MAX_ANSWER_CHARS, compact, is_prose, normalize_answer, squash
from srpo.grading.numbers import numbers_equal, parse_number

logger = logging.getLogger(__name__)

_PLAIN_WORDS = re.compile(r"[A-Za-z][A-Za-z ,'-]*")


def values_equal(p: str, g: str) -> bool:
    """Two normalised, non-empty answers: exact, then case-folded words, then numbers, then math-verify."""
    if compact(p) == compact(g):
        return True
    if _PLAIN_WORDS.fullmatch(p) and _PLAIN_WORDS.fullmatch(g):
        return compact(p).casefold() == compact(g).casefold()
    pn, gn = parse_number(p), parse_number(g)
    if pn is not None and gn is not None:
        return numbers_equal(pn, gn)
    if is_prose(p):
        return False  # a sentence is not a formula
    for cheap_check in (numerically_equal, collections_equal):
        decided = cheap_check(p, g)
        if decided is not None:
            return decided
    for number, other in ((gn, p), (pn, g)):
        if number is not None and "\\" not in other and not any(c.isdigit() for c in other):
            return False  # a number never equals something with neither digits nor LaTeX
    return math_verify_equal(p, g)


def _option_for(answer: str, opts: tuple[tuple[str, str], ...]) -> str | None:
    """The letter of the option whose text equals `answer` (normalised), else of the one equal in value."""
    key = compact(normalize_answer(answer))
    if not key:
        return None
    for letter, option in opts:
        if compact(normalize_answer(option)) == key:
            return letter
    normalised = normalize_answer(answer)
    matches = [
        letter for letter, option in opts if (o := normalize_answer(option)) and values_equal(normalised, o)
    ]
    return matches[0] if len(matches) == 1 else None


@functools.lru_cache(maxsize=16384)
def _equivalent_cached(pred: str, gold: str, opts: tuple[tuple[str, str], ...]) -> bool:
    g = normalize_answer(gold)
    p = normalize_answer(pred)
    if not g or not p:
        return False
    by_letter = dict(opts)
    gold_parts = letter_parts(gold)
    gold_letter = gold_parts[0] if gold_parts else (_option_for(gold, opts) if opts else None)
    if gold_letter is not None:
        pred_parts = letter_parts(pred)
        if pred_parts is not None:
            return pred_parts[0] == gold_letter
        gold_text = normalize_answer(by_letter.get(gold_letter) or (gold_parts[1] if gold_parts else ""))
        return bool(gold_text) and values_equal(p, gold_text)
    pred_parts = letter_parts(pred)
    if pred_parts is not None:  # "B", or "B) 12": judge the option's text against the gold text
        letter, rest = pred_parts
        option = normalize_answer(by_letter.get(letter) or rest)
        if option:
            return values_equal(option, g)
    return values_equal(p, g)


def _as_text(x: object) -> str:
    if isinstance(x, str):
        return x
    if x is None or isinstance(x, bool):
        return ""
    if isinstance(x, (int, Fraction)):
        return str(x)
    if isinstance(x, float):
        return repr(x) if math.isfinite(x) else ""
    return ""


def is_equivalent(pred: str, gold: str, choices: Choices | None = None) -> bool:
    """Whether the answer `pred` means the same as the gold answer `gold`.

    Both are answers, not whole responses (use `extract_answer` first). Compared after `normalize_answer`:
    exact text; words case-insensitively; numbers exactly or within a relative 1e-6 (fractions, decimals,
    thousands separators, percent, scientific notation, a trailing unit word); tuples, intervals and sets
    element by element; option letters case-insensitively, and a letter against the option's text or value
    when `choices` are given; then math-verify for LaTeX and expressions (``\\frac``, ``\\sqrt``, ``\\pi``,
    polynomials, ``x = 3``) when the inputs are safe for it. An empty or unparseable gold never matches.
    Never raises; thread-safe; bounded time.
    """
    try:
        p, g = _as_text(pred), _as_text(gold)
        if not p.strip() or not g.strip():
            return False
        if len(p) > MAX_ANSWER_CHARS or len(g) > MAX_ANSWER_CHARS:
            return squash(p) == squash(g)
        return _equivalent_cached(p, g, options(choices))
    except Exception:  # a grading bug must not crash a training run; it counts as "not equivalent"
        logger.warning("grading failed; counted as not equivalent", exc_info=True)
        return False


def choice_letter(answer: str, choices: Choices | None = None) -> str | None:
    """The option letter (upper case) that `answer` names, or None.

    A letter form counts on its own ('B', '(b)', 'B.', 'B) 12', 'Option B'); with `choices`, an answer
    whose text (after normalisation) or value equals exactly one option's names that option too.
    """
    try:
        parts = letter_parts(answer)
        if parts:
            return parts[0]
        opts = options(choices)
        return _option_for(answer, opts) if opts and isinstance(answer, str) else None
    except Exception:
        logger.warning("choice_letter failed; no letter", exc_info=True)
        return None


def clear_caches() -> None:
    """Forget cached verdicts and math-verify parses (benchmarks and thread tests measure cold work)."""
    _equivalent_cached.cache_clear()
    mv_parse.cache_clear()
