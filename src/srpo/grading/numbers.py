"""Numbers written as answers: `12`, `-3.5`, `1,000`, `3/4`, `\\frac{1}{2}`, `1.5\\times10^{3}`, `1e-3`, `50%`,
`12 cm` — read exactly (as fractions), never by evaluating big powers.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import NamedTuple

from srpo.grading.normalize import unwrap

REL_TOL = 1e-6
"""Relative tolerance for numeric answers."""

_NUM = r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|[-+]?\.\d+"
_NUMBER_FORMS = [
    re.compile(rf"(?P<a>{_NUM})"),
    re.compile(rf"(?P<a>{_NUM})\s*/\s*(?P<b>{_NUM})"),
    re.compile(rf"(?P<sign>[-+]?)\\[dt]?frac\s*\{{\s*(?P<a>{_NUM})\s*\}}\s*\{{\s*(?P<b>{_NUM})\s*\}}"),
    re.compile(r"(?P<sign>[-+]?)\\[dt]?frac\s*(?P<a>\d)\s*(?P<b>\d)"),
    re.compile(rf"(?P<a>{_NUM})\s*(?:\\times|\\cdot|\*|x)\s*10\s*\^\s*\{{?\s*(?P<e>[-+]?\d{{1,3}})\s*\}}?"),
    re.compile(rf"(?P<a>{_NUM})[eE](?P<e>[-+]?\d{{1,3}})"),
]
_UNIT_TAIL = re.compile(r"(\s*)([A-Za-z][A-Za-z./ ]{0,29}?)\s*(?:\^\s*\{?[23]\}?|²|³)?")
_NOT_UNITS = {"pi", "i", "e", "x", "y", "z", "n", "k", "a", "b", "c", "d", "r", "t", "or", "and", "sqrt"}
UNIT_SYMBOLS = frozenset(
    [
        "m",
        "cm",
        "mm",
        "km",
        "um",
        "nm",
        "g",
        "kg",
        "mg",
        "s",
        "ms",
        "min",
        "h",
        "hr",
        "l",
        "ml",
        "n",
        "kn",
        "j",
        "kj",
        "w",
        "kw",
        "v",
        "mv",
        "a",
        "ma",
        "hz",
        "khz",
        "pa",
        "kpa",
        "mol",
        "k",
        "rad",
        "deg",
        "ft",
        "in",
        "yd",
        "mi",
        "lb",
        "oz",
    ]
)
"""Short unit symbols a number may carry with or without a space ("12cm", "5 kg", "9.8 m/s")."""


def _is_unit(tail: str, spaced: bool) -> bool:
    """Whether the letters after a number are a unit ("cm", "m/s", "apples") rather than variables ("2xy",
    "4 pi r"): symbols from `UNIT_SYMBOLS`, or — after a space — words of three or more letters."""
    tokens = [t for t in re.split(r"[ ./]+", tail.strip().lower()) if t]
    if not tokens:
        return False
    for t in tokens:
        if t in UNIT_SYMBOLS:
            continue
        if not spaced or len(t) < 3 or t in _NOT_UNITS:
            return False
    return True


_NOISE = re.compile(r"\\[,;!: ]|\\(?:left|right)(?![A-Za-z])|\\%|\^\s*\{?\s*\\circ\s*\}?|°|\\degree|\\\$")


class Number(NamedTuple):
    """An exact number, and whether it was written with a percent sign."""

    value: Fraction
    percent: bool


def _to_fraction(num: str) -> Fraction:
    return Fraction(num.replace(",", "").replace("+", ""))


def parse_number(s: str) -> Number | None:
    """The number `s` is — an integer, decimal, a/b, \\frac{a}{b}, a×10^e, optionally followed by % or a unit
    word — else None. Exact; never evaluates big powers."""
    if not isinstance(s, str):
        return None
    s = s.strip().replace("\u2212", "-")
    if not s or len(s) > 100:
        return None
    percent = False
    if s.endswith("%"):
        percent, s = True, s[:-1].strip()
    if not s:
        return None
    for form in _NUMBER_FORMS:
        m = form.match(s)
        if not m:
            continue
        tail = s[m.end() :]
        if tail:
            if percent:
                continue
            u = _UNIT_TAIL.fullmatch(tail)
            if not u or not _is_unit(u.group(2), spaced=bool(u.group(1))):
                continue
        g = m.groupdict()
        try:
            value = _to_fraction(g["a"])
            if g.get("b") is not None:
                den = _to_fraction(g["b"])
                if den == 0:
                    return None
                value /= den
            if g.get("e") is not None:
                value *= Fraction(10) ** int(g["e"])
            if g.get("sign") == "-":
                value = -value
        except (ValueError, ZeroDivisionError, OverflowError):
            return None
        return Number(value, percent)
    return None


def to_number(text: str | None) -> float | None:
    """A number as a float from answer text that may carry LaTeX noise: ``$5``, ``30^\\circ``, ``50\\%``,
    ``\\text{12}``, ``5 cm``. The percent sign is dropped (``50%`` → 50.0). None when `text` is not one number."""
    if text is None:
        return None
    s = _NOISE.sub("", unwrap(str(text))).replace("$", "").strip()
    if len(s) > 64:
        return None
    n = parse_number(s)
    if n is None:
        return None
    try:
        value = float(n.value)
    except OverflowError:  # 1e999: exact as a fraction, but not a float
        return None
    return value if math.isfinite(value) else None


def close(a: Fraction | float, b: Fraction | float, rel_tol: float = REL_TOL) -> bool:
    """Equal, or within a relative `rel_tol` of each other."""
    if a == b:
        return True
    if isinstance(a, Fraction) and isinstance(b, Fraction):  # exact: no float overflow on 1e400
        return abs(a - b) <= Fraction(rel_tol) * max(abs(a), abs(b))
    return abs(a - b) <= rel_tol * max(abs(a), abs(b))


def numbers_equal(p: Number, g: Number) -> bool:
    """Equal within `REL_TOL`; with a percent sign on one side only, 50% matches both 0.5 and 50."""
    if p.percent == g.percent:
        return close(p.value, g.value)
    return close(p.value, g.value) or (
        close(p.value / 100, g.value) if p.percent else close(p.value, g.value / 100)
    )


_WORDS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
]
NUMBER_WORDS = {w: i for i, w in enumerate(_WORDS)} | {
    w: 10 * i
    for i, w in enumerate(["_", "_", "_", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"])
    if i >= 3
}
"""English number words a model may answer with ("There are three people"), and their values."""
NUMBER_TOKEN = re.compile(
    r"(?<![\w.])-?\d+(?:\.\d+)?/\d+(?:\.\d+)?(?![\w/])|(?<![\w.])-?\d+(?:,\d{3})*(?:\.\d+)?(?![\w])|\b(?i:"
    + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
    + r")\b"
)
"""A number in running text: digits (not part of a word) or a number word."""


def number_value(token: str) -> str:
    """A `NUMBER_TOKEN` match as digits ("three" → "3", "1,200" → "1200")."""
    word = NUMBER_WORDS.get(token.lower())
    return str(word) if word is not None else token.replace(",", "")
