"""A small numeric evaluator for the LaTeX most answers use, and the checks built on it.

Numbers, + - * / ^, \\frac, \\sqrt, \\pi, brackets, single-letter variables and implicit products are read.
Two expressions that evaluate to the same values at a few fixed irrational points are equal; different
values mean different expressions. This settles roots, pi and polynomials in microseconds, leaving
math-verify (milliseconds) for what it cannot read. Tuples, intervals and sets are compared element-wise.
"""

from __future__ import annotations

import math
import re
import string

from srpo.grading.mathverify import safe_for_math_verify
from srpo.grading.numbers import REL_TOL

_EXPR_TOKEN = re.compile(r"\s*(\d+(?:\.\d+)?|\.\d+|\\[A-Za-z]+|[A-Za-z]|[-+*/^(){}\[\]])")
# Each letter (but e and i, which are constants) gets a fixed value per point, the same on both sides.
_POINTS = tuple(
    {c: base + step * k for k, c in enumerate(c for c in string.ascii_letters if c not in "ei")}
    for base, step in ((0.5377, 0.3183), (-1.3077, 0.2719))
)
_ATOM_START = ("(", "{", "\\frac", "\\sqrt", "\\pi")


class _Unsupported(Exception):
    """The expression uses something the evaluator does not read; math-verify decides instead."""


def _expr_tokens(s: str) -> list[str]:
    tokens, at = [], 0
    s = s.rstrip()
    while at < len(s):
        m = _EXPR_TOKEN.match(s, at)
        if not m:
            raise _Unsupported
        tokens.append(m.group(1))
        at = m.end()
    return tokens


class _Evaluator:
    def __init__(self, tokens: list[str], env: dict[str, float]) -> None:
        self.tokens, self.at, self.env = tokens, 0, env

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        tok = self.peek()
        if tok is None or (expected is not None and tok != expected):
            raise _Unsupported
        self.at += 1
        return tok

    def parse(self) -> float:
        value = self.expr()
        if self.peek() is not None:
            raise _Unsupported
        return value

    def expr(self) -> float:
        value = self.term()
        while self.peek() in ("+", "-"):
            value = value + self.term() if self.take() == "+" else value - self.term()
        return value

    def term(self) -> float:
        value = self.unary()
        while True:
            tok = self.peek()
            if tok in ("*", "\\cdot", "\\times"):
                self.take()
                value *= self.unary()
            elif tok == "/":
                self.take()
                value /= self.unary()
            elif tok is not None and (
                tok[0].isdigit() or tok[0] == "." or tok.isalpha() or tok in _ATOM_START
            ):
                value *= self.power()  # implicit product: 2x, 3\sqrt{2}, (x+1)(x-1)
            else:
                return value

    def unary(self) -> float:
        if self.peek() in ("-", "+"):
            return -self.unary() if self.take() == "-" else self.unary()
        return self.power()

    def power(self) -> float:
        base = self.atom()
        if self.peek() == "^":
            self.take()
            exponent = self.group() if self.peek() == "{" else self.atom(single=True)
            value = base**exponent
            if isinstance(value, complex):
                raise _Unsupported
            return value
        return base

    def group(self) -> float:
        self.take("{")
        value = self.expr()
        self.take("}")
        return value

    def atom(self, single: bool = False) -> float:
        tok = self.take()
        if tok[0].isdigit() or tok[0] == ".":
            if single and len(tok) > 1:  # x^23 is x^2 · 3
                self.tokens[self.at - 1 : self.at] = [tok[0], tok[1:]]
                tok = tok[0]
            return float(tok)
        if tok.isalpha() and len(tok) == 1:
            if tok not in self.env:
                raise _Unsupported  # e and i are constants, not variables: leave them to math-verify
            return self.env[tok]
        if tok == "\\pi":
            return math.pi
        if tok == "\\frac":
            return self.group() / self.group()
        if tok == "\\sqrt":
            if self.peek() == "[":
                self.take()
                index = self.expr()
                self.take("]")
                radicand = self.group()
                if radicand < 0 or index == 0:
                    raise _Unsupported
                return radicand ** (1 / index)
            radicand = self.group()
            if radicand < 0:
                raise _Unsupported
            return math.sqrt(radicand)
        if tok in ("(", "{", "["):
            value = self.expr()
            self.take({"(": ")", "{": "}", "[": "]"}[tok])
            return value
        raise _Unsupported


def _numeric_values(s: str) -> list[float] | None:
    """Values of `s` at the fixed variable assignments, or None when it cannot be evaluated here."""
    if not safe_for_math_verify(s):
        return None
    try:
        tokens = _expr_tokens(s)
        values = []
        for point in _POINTS:
            value = _Evaluator(list(tokens), point).parse()
            if not math.isfinite(value):
                return None
            values.append(value)
        return values
    except (_Unsupported, ArithmeticError, ValueError, RecursionError, TypeError):
        return None


def numerically_equal(p: str, g: str) -> bool | None:
    """True/False when both sides evaluate at the same points; None when either cannot be evaluated."""
    pv, gv = _numeric_values(p), _numeric_values(g)
    if pv is None or gv is None:
        return None
    return all(math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-12) for a, b in zip(pv, gv, strict=True))


def split_top_level(s: str, sep: str = ",", keep_empty: bool = True) -> list[str]:
    """Split on `sep` outside (), [] and {}: `"(1,2), 3"` → `["(1,2)", "3"]`; parts stripped."""
    parts, depth, start = [], 0, 0
    for i, c in enumerate(s):
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth = max(0, depth - 1)
        elif c == sep and depth == 0:
            parts.append(s[start:i])
            start = i + 1
    parts.append(s[start:])
    stripped = [p.strip() for p in parts]
    return stripped if keep_empty else [p for p in stripped if p]


_BRACKETED = re.compile(r"(\\\{|[(\[])(.*)(\\\}|[)\]])", re.S)


def collections_equal(p: str, g: str) -> bool | None:
    """Tuples/intervals ``(a, b]`` (brackets and order matter) and sets ``\\{a, b\\}`` (order does not)
    whose elements the evaluator reads; None when either side is something else."""
    mp, mg = _BRACKETED.fullmatch(p), _BRACKETED.fullmatch(g)
    if not mp or not mg or "," not in mg.group(2) + mp.group(2):
        return None
    elements = []
    for m in (mp, mg):
        values = [_numeric_values(e) for e in split_top_level(m.group(2))]
        if any(v is None for v in values):
            return None
        elements.append(values)
    (pv, gv), is_set = elements, mg.group(1) == "\\{"
    if (mp.group(1), mp.group(3)) != (mg.group(1), mg.group(3)) or len(pv) != len(gv):
        return False

    def same(a: list[float], b: list[float]) -> bool:
        return all(math.isclose(x, y, rel_tol=REL_TOL, abs_tol=1e-12) for x, y in zip(a, b, strict=True))

    if is_set:
        return all(any(same(a, b) for b in gv) for a in pv) and all(any(same(a, b) for a in pv) for b in gv)
    return all(same(a, b) for a, b in zip(pv, gv, strict=True))


def constant_value(s: str) -> float | None:
    """The value of `s` when it is a constant expression the evaluator reads (``2\\sqrt{3}``,
    ``\\frac{\\pi}{2}``, ``1.5``), else None."""
    if not isinstance(s, str) or not s.strip():
        return None
    values = _numeric_values(s.strip())
    if values is None or not math.isclose(values[0], values[1], rel_tol=1e-12, abs_tol=1e-12):
        return None
    return values[0]
