"""Answer grading: pull the final answer out of model output and decide whether it matches the gold.

One module used by curation, the reward and evaluation alike. The public API is small:

- `extract_answer(text)`: the answer a response gives, or None.
- `is_equivalent(pred, gold, choices=None)`: whether two answers mean the same thing.
- `strip_boxed(text)` / `last_boxed(text)`: the content of the last ``\\boxed{}``.
- `normalize_answer(text)`: the canonical string form both sides are compared in.
- `choice_letter(answer, choices=None)`: the option letter an answer names.

Safety promises, relied on by the reward (which verl calls from a thread pool):

- Nothing here raises on any input; a comparison that cannot be decided is "not equivalent".
- Thread-safe: math-verify runs in its timeout-free mode (its signal-based timeouts only work in the main
  thread). Time is bounded instead by what we let reach it: short inputs only, no integrals/sums/limits,
  no exponent towers, small exponents and factorials (see `_safe_for_math_verify`). Everything else is
  compared by our own linear-time string and exact-number checks, which also run first, so math-verify is
  called only when they cannot decide. No call takes more than ~1 s, whatever the input.
- Scanning is linear in the input length: long texts are searched with `str.rfind` and bounded regexes.
"""

from __future__ import annotations

import functools
import logging
import math
import re
import string
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

__all__ = [
    "Choices",
    "choice_letter",
    "extract_answer",
    "is_equivalent",
    "last_boxed",
    "normalize_answer",
    "strip_boxed",
]

logger = logging.getLogger(__name__)

Choices = Sequence[str] | Mapping[str, str]
"""Options of a multiple-choice question: a list of option texts (A, B, C, … in order) or letter → text."""

MAX_ANSWER_CHARS = 1000
"""Answers longer than this are compared as whitespace-normalised strings only."""
MAX_MATH_VERIFY_CHARS = 160
"""Only answers up to this length (after normalisation) are handed to math-verify."""
MAX_BOXED_CHARS = 2000
"""A `\\boxed{` whose closing brace is further than this is treated as unclosed."""
TAIL_CHARS = 20000
"""Phrase patterns ("the answer is …", last number) look at this many trailing characters only."""
REL_TOL = 1e-6
"""Relative tolerance for numeric answers."""

# ---------------------------------------------------------------------------------------------- boxed


_BRACE = re.compile(r"\\[{}]|[{}]")
_BOXED_CMDS = ("\\boxed", "\\fbox")


def _braced_content(text: str, open_at: int) -> str | None:
    """Content of the brace group opening at `open_at`, or None if it does not close within the window."""
    depth = 0
    stop = min(len(text), open_at + MAX_BOXED_CHARS + 2)
    for m in _BRACE.finditer(text, open_at, stop):
        tok = m.group()
        if tok == "{":
            depth += 1
        elif tok == "}":
            depth -= 1
            if depth == 0:
                return text[open_at + 1 : m.start()]
    return None


def last_boxed(text: str) -> str | None:
    """Content of the last closed ``\\boxed{…}`` (or ``\\fbox{…}``, or ``\\boxed 5``) in `text`, else None.

    Nested braces are matched; escaped braces (``\\{``) do not count. A box whose closing brace is missing
    (or further than `MAX_BOXED_CHARS`) is skipped in favour of an earlier one. Bounded work per call.
    """
    if not isinstance(text, str):
        return None
    end = len(text)
    for _ in range(16):  # a few earlier boxes are worth trying; thousands of broken ones are not
        at = max(text.rfind(cmd, 0, end) for cmd in _BOXED_CMDS)
        if at < 0:
            return None
        cmd_len = 6 if text.startswith("\\boxed", at) else 5
        k = at + cmd_len
        while k < len(text) and k < at + cmd_len + 8 and text[k] in " \t":
            k += 1
        if k < len(text) and text[k] == "{":
            content = _braced_content(text, k)
            if content is not None:
                return content
        elif k > at + cmd_len and k < len(text):  # "\boxed 5": one token
            m = re.compile(r"[^\s$]{1,100}").match(text, k)
            if m:
                return m.group()
        end = at
    return None


def strip_boxed(text: str) -> str:
    """The content of the last ``\\boxed{}`` in `text` if it has one, else `text` stripped."""
    if not isinstance(text, str):
        return ""
    inner = last_boxed(text)
    return (inner if inner is not None else text).strip()


# -------------------------------------------------------------------------------------------- extract

_LETTER_ALONE = re.compile(r"\(?([A-Za-z])\)?[.:]?")
# "answer is (B)", "Answer: B", "option B", "choice: (c)": a capital letter standing alone after the phrase.
_LETTER_PHRASE = re.compile(
    r"(?i:answer|option|choice)[ \t]{0,3}(?:is|:|=|：)?[ \t]{0,3}(?i:option[ \t]{1,3})?"
    r"\(?([A-J])\)?(?![A-Za-z0-9])(?![ \t]{1,3}[a-z])"
)
_ANSWER_PHRASE = re.compile(
    r"(?i:answer)[ \t]{0,3}(?:is|:|=|：)[ \t]{0,3}(?::[ \t]{0,3})?([^\n]{1,200}?)[ \t]*(?:$|\n|\.(?=\s|$))",
    re.M,
)
_PAREN_LETTER = re.compile(r"\(([A-J])\)")
_NUMBER = re.compile(r"-?\d+(?:,\d{3})*(?:\.\d+)?(?:/\d+)?")


def _last_match(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    last = None
    for last in pattern.finditer(text):  # noqa: B007 - we want the last one
        pass
    return last


def _answer_in(span: str, whole_ok: bool) -> str | None:
    """The answer stated in `span` by phrase patterns; `whole_ok`: a short span may be the answer itself."""
    s = span.strip()
    if not s:
        return None
    if _LETTER_ALONE.fullmatch(s):
        return _LETTER_ALONE.fullmatch(s).group(1).upper()  # type: ignore[union-attr]
    tail = s[-TAIL_CHARS:]
    m = _last_match(_LETTER_PHRASE, tail)
    if m:
        return m.group(1)
    m = _last_match(_ANSWER_PHRASE, tail)
    if m:
        found = m.group(1).strip().strip("$").strip()
        if found:
            return found
    if whole_ok and len(s) <= 200:
        return s
    m = _last_match(_PAREN_LETTER, tail)
    if m:
        return m.group(1)
    if len(s) <= 50 and not any(c.isspace() for c in s):
        return s
    m = _last_match(_NUMBER, tail)
    return m.group() if m else None


def extract_answer(text: str) -> str | None:
    """The answer a response gives, or None when it states none.

    In order: the content of the last ``\\boxed{}`` (nested braces matched); else the content of the last
    ``<answer>…</answer>`` block (its option letter or "answer is …" phrase if it has one, else the whole
    block when short); else an option letter stated as "answer is (B)", "Answer: B", "option B" or a bare
    letter response; else "the answer is …" up to the end of its sentence; else the last "(B)"; else the
    whole response when it is one short token; else the last number. Never raises; linear time.
    """
    if not isinstance(text, str) or not text.strip():
        return None
    boxed_answer = last_boxed(text)
    if boxed_answer is not None:
        return boxed_answer.strip()
    close = text.rfind("</answer>")
    if close >= 0:
        open_ = text.rfind("<answer>", 0, close)
        if open_ >= 0:
            found = _answer_in(text[open_ + len("<answer>") : close], whole_ok=True)
            if found is not None:
                return found
    return _answer_in(text, whole_ok=False)


# ------------------------------------------------------------------------------------------ normalise

_DELIMS = (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]"))
_TEXT_CMD = re.compile(r"\\(?:text|textbf|textit|mathrm|mathbf|mbox|operatorname)\s*\{([^{}]{0,200})\}")
_SPACING = re.compile(r"\\[,;:! ]|\\(?:left|right|big|Big|bigg|Bigg)(?![A-Za-z])|~")
_DEGREE = re.compile(r"\^\s*\{?\s*\\circ\s*\}?|°|\\degree")
_ASSIGN = re.compile(r"[A-Za-z](?:_\{?\w{1,3}\}?)?\s*=\s*")
_WS = re.compile(r"\s+")


def normalize_answer(text: str) -> str:
    """Canonical form of an answer for comparison; '' for nothing.

    Strips surrounding ``$…$`` / ``\\(…\\)`` / ``\\[…\\]`` and a wrapping ``\\boxed{}``, ``\\text{}``-style
    wrappers, spacing commands, ``\\left``/``\\right``, degree marks, ``\\$`` signs, a leading ``x =``,
    trailing periods; rewrites ``\\dfrac``/``\\tfrac`` to ``\\frac`` and ``**`` to ``^``; collapses
    whitespace. Keeps case (``\\Pi`` is not ``\\pi``). Inputs over `MAX_ANSWER_CHARS` are only stripped.
    """
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    s = text.strip()
    if len(s) > MAX_ANSWER_CHARS:
        return s
    for _ in range(3):
        before = s
        for left, right in _DELIMS:
            if len(s) >= len(left) + len(right) and s.startswith(left) and s.endswith(right):
                s = s[len(left) : len(s) - len(right)].strip()
        if s.startswith(_BOXED_CMDS):
            inner = last_boxed(s)
            if inner is not None and s.endswith("}"):
                s = inner.strip()
        s = s.rstrip(".").strip()
        if s == before:
            break
    s = s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac").replace("**", "^")
    s = s.replace("\u2212", "-").replace("\u00d7", "\\times ").replace("\u03c0", "\\pi ")
    s = s.replace("\\%", "%").replace("\\$", "").replace("\\displaystyle", "")
    s = _TEXT_CMD.sub(lambda m: m.group(1), s)
    s = _SPACING.sub(" ", s)
    s = _DEGREE.sub("", s)
    s = _WS.sub(" ", s).strip()
    m = _ASSIGN.match(s)
    if m and m.end() < len(s) and "=" not in s[m.end() :]:
        s = s[m.end() :]
    if s.startswith("$") and not s.endswith("$"):
        s = s[1:]  # a currency sign
    return s.rstrip(".").strip()


def _key(normalised: str) -> str:
    return normalised.replace(" ", "")


# ------------------------------------------------------------------------------------------- choices

_LETTER_FORM = re.compile(r"(?i:option|choice)?\s{0,3}\(?([A-Za-z])\)?(?:\s{0,3}[.:)]\s{0,3}(.*)|\s*)", re.S)
_PAREN_FORM = re.compile(r"\(([A-Za-z])\)\s{0,3}(.*)", re.S)


def _letter_parts(answer: str) -> tuple[str, str] | None:
    """('B', rest) for 'B', '(b)', 'B.', 'B) 12', '(B) 12', 'Option B'; None when not a letter form."""
    s = answer.strip().strip("$").strip()
    if len(s) > MAX_ANSWER_CHARS:
        return None
    m = _PAREN_FORM.fullmatch(s) or _LETTER_FORM.fullmatch(s)
    if not m:
        return None
    return m.group(1).upper(), (m.group(2) or "").strip()


def _options(choices: Choices | None) -> tuple[tuple[str, str], ...]:
    """Choices as ((letter, option text), …), with 'A. ' style prefixes removed from the texts."""
    if choices is None or isinstance(choices, (str, bytes)):
        return ()
    if isinstance(choices, Mapping):
        pairs = [(str(k).strip().strip("()").upper(), str(v)) for k, v in choices.items()]
    else:
        try:  # any iterable: a list, a tuple, a numpy array read from parquet
            pairs = [(chr(ord("A") + i), str(v)) for i, v in enumerate(list(choices)[:26])]
        except TypeError:
            return ()
    out = []
    for letter, option in pairs:
        parts = _letter_parts(option)
        if parts and parts[0] == letter and parts[1]:
            option = parts[1]
        out.append((letter, option.strip()))
    return tuple(out)


def choice_letter(answer: str, choices: Choices | None = None) -> str | None:
    """The option letter (upper case) that `answer` names, or None.

    A letter form counts on its own ('B', '(b)', 'B.', 'B) 12', 'Option B'); with `choices`, an answer
    whose text equals one option's text (after normalisation) names that option too.
    """
    if not isinstance(answer, str):
        return None
    parts = _letter_parts(answer)
    if parts:
        return parts[0]
    key = _key(normalize_answer(answer))
    if not key:
        return None
    for letter, option in _options(choices):
        if _key(normalize_answer(option)) == key:
            return letter
    return None


# -------------------------------------------------------------------------------------------- numbers

_NUM = r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|[-+]?\.\d+"
_NUMBER_FORMS = [
    re.compile(rf"(?P<a>{_NUM})"),
    re.compile(rf"(?P<a>{_NUM})\s*/\s*(?P<b>{_NUM})"),
    re.compile(rf"(?P<sign>[-+]?)\\frac\s*\{{\s*(?P<a>{_NUM})\s*\}}\s*\{{\s*(?P<b>{_NUM})\s*\}}"),
    re.compile(r"(?P<sign>[-+]?)\\frac\s*(?P<a>\d)\s*(?P<b>\d)"),
    re.compile(rf"(?P<a>{_NUM})\s*(?:\\times|\\cdot|\*|x)\s*10\s*\^\s*\{{?\s*(?P<e>[-+]?\d{{1,3}})\s*\}}?"),
    re.compile(rf"(?P<a>{_NUM})[eE](?P<e>[-+]?\d{{1,3}})"),
]
_UNIT_TAIL = re.compile(r"\s*([A-Za-z][A-Za-z. ]{0,29}?)\s*(?:\^\s*\{?[23]\}?|²|³)?")
_NOT_UNITS = {"pi", "i", "e", "x", "y", "z", "n", "k", "a", "b", "c", "d", "r", "t", "or", "and", "sqrt"}


def _to_fraction(num: str) -> Fraction:
    return Fraction(num.replace(",", "").replace("+", ""))


def _to_number(s: str) -> tuple[Fraction, bool] | None:
    """(value, is_percent) when `s` is a plain number — integer, decimal, a/b, \\frac{a}{b}, a×10^e,
    optionally followed by % or a unit word — else None. Exact (Fractions); never evaluates big powers."""
    s = s.strip()
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
            if not u or u.group(1).strip().lower() in _NOT_UNITS:
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
        return value, percent
    return None


def _close(a: Fraction, b: Fraction) -> bool:
    if a == b:
        return True
    return abs(a - b) <= REL_TOL * max(abs(a), abs(b))


def _numbers_equal(p: tuple[Fraction, bool], g: tuple[Fraction, bool]) -> bool:
    (pv, pp), (gv, gp) = p, g
    if pp == gp:
        return _close(pv, gv)
    # one side has a percent sign: 50% and 0.5 agree, so do 50% and 50
    return _close(pv, gv) or (_close(pv / 100, gv) if pp else _close(pv, gv / 100))


# --------------------------------------------------------------------------------------- math-verify

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


def _safe_for_math_verify(s: str) -> bool:
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
            inner = _braced_content(s, m.start(1))
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
def _mv_parse(s: str) -> tuple[Any, ...]:
    """math-verify's parse of one answer (cached: the gold is parsed once for all responses)."""
    mv = _math_verify()
    try:
        return tuple(mv.parse(f"${s}$", parsing_timeout=None))
    except Exception:  # math-verify should not raise with raise_on_error=False; be sure
        logger.debug("math-verify could not parse %r", s[:80], exc_info=True)
        return ()


def _mv_equal(pred: str, gold: str) -> bool:
    if not (_safe_for_math_verify(pred) and _safe_for_math_verify(gold)):
        return False
    g = _mv_parse(gold)
    if not g:
        return False
    p = _mv_parse(pred)
    if not p:
        return False
    try:
        return bool(_math_verify().verify(list(g), list(p), timeout_seconds=None))
    except Exception:
        logger.debug("math-verify could not compare %r and %r", pred[:80], gold[:80], exc_info=True)
        return False


# ------------------------------------------------------------------------------ numeric evaluation
# A small evaluator for the LaTeX most answers use (numbers, + - * / ^, \frac, \sqrt, \pi, brackets,
# single-letter variables, implicit products). Two expressions that evaluate to the same values at a few
# fixed irrational points are equal; different values mean different expressions. This settles roots,
# pi and polynomials in microseconds, leaving math-verify (milliseconds) for what it cannot read.

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
    if not _safe_for_math_verify(s):
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


def _numerically_equal(p: str, g: str) -> bool | None:
    """True/False when both sides evaluate at the same points; None when either cannot be evaluated."""
    pv, gv = _numeric_values(p), _numeric_values(g)
    if pv is None or gv is None:
        return None
    return all(math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-12) for a, b in zip(pv, gv, strict=True))


def _split_top_level(s: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, c in enumerate(s):
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append(s[start:i])
            start = i + 1
    parts.append(s[start:])
    return [p.strip() for p in parts]


_BRACKETED = re.compile(r"(\\\{|[(\[])(.*)(\\\}|[)\]])", re.S)


def _collections_equal(p: str, g: str) -> bool | None:
    """Tuples/intervals ``(a, b]`` (brackets and order matter) and sets ``\\{a, b\\}`` (order does not)
    whose elements the evaluator reads; None when either side is something else."""
    mp, mg = _BRACKETED.fullmatch(p), _BRACKETED.fullmatch(g)
    if not mp or not mg or "," not in mg.group(2) + mp.group(2):
        return None
    elements = []
    for m in (mp, mg):
        values = [_numeric_values(e) for e in _split_top_level(m.group(2))]
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


# ---------------------------------------------------------------------------------------- equivalence

_PLAIN_WORDS = re.compile(r"[A-Za-z][A-Za-z ,'-]*")
_PROSE = re.compile(r"[A-Za-z]{3,}[ ,]+[A-Za-z]{3,}")


def _values_equal(p: str, g: str) -> bool:
    """Both normalised and non-empty: exact, then case-folded words, then numbers, then math-verify."""
    if _key(p) == _key(g):
        return True
    if _PLAIN_WORDS.fullmatch(p) and _PLAIN_WORDS.fullmatch(g):
        return _key(p).casefold() == _key(g).casefold()
    pn, gn = _to_number(p), _to_number(g)
    if pn is not None and gn is not None:
        return _numbers_equal(pn, gn)
    if "\\" not in p and _PROSE.search(p):
        return False  # a sentence is not a formula
    for cheap_check in (_numerically_equal, _collections_equal):
        decided = cheap_check(p, g)
        if decided is not None:
            return decided
    for number, other in ((gn, p), (pn, g)):
        if number is not None and "\\" not in other and not any(c.isdigit() for c in other):
            return False  # a number never equals something with neither digits nor LaTeX
    return _mv_equal(p, g)


@functools.lru_cache(maxsize=16384)
def _equivalent_cached(pred: str, gold: str, options: tuple[tuple[str, str], ...]) -> bool:
    g = normalize_answer(gold)
    p = normalize_answer(pred)
    if not g or not p:
        return False
    by_letter = dict(options)
    gold_parts = _letter_parts(gold)
    gold_letter = gold_parts[0] if gold_parts else choice_letter(gold, options and by_letter)
    if gold_letter is not None:
        pred_parts = _letter_parts(pred)
        if pred_parts is not None:
            return pred_parts[0] == gold_letter
        gold_text = by_letter.get(gold_letter) or (gold_parts[1] if gold_parts else "")
        gold_text = normalize_answer(gold_text)
        return bool(gold_text) and _values_equal(p, gold_text)
    pred_parts = _letter_parts(pred)
    if pred_parts is not None:  # "B", or "B) 12": judge the option's text against the gold text
        letter, rest = pred_parts
        option = normalize_answer(by_letter.get(letter) or rest)
        if option:
            return _values_equal(option, g)
    return _values_equal(p, g)


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

    Both are answers, not whole responses (use `extract_answer` or `strip_boxed` first). Compared after
    `normalize_answer`: exact text; words case-insensitively; numbers exactly or within a relative 1e-6
    (fractions, decimals, thousands separators, percent, scientific notation, a trailing unit word);
    option letters case-insensitively, and a letter against the option's text when `choices` are given;
    then math-verify for LaTeX and expressions (``\\frac``, ``\\sqrt``, ``\\pi``, polynomials, sets,
    intervals, ``x = 3``) when the inputs are safe for it. An empty or unparseable gold never matches.
    Never raises; thread-safe; bounded time (see the module doc).
    """
    try:
        p, g = _as_text(pred), _as_text(gold)
        if not p.strip() or not g.strip():
            return False
        if len(p) > MAX_ANSWER_CHARS or len(g) > MAX_ANSWER_CHARS:
            return _WS.sub(" ", p).strip() == _WS.sub(" ", g).strip()
        return _equivalent_cached(p, g, _options(choices))
    except Exception:  # a grading bug must not crash a training run; it counts as "not equivalent"
        logger.warning("grading failed; counted as not equivalent", exc_info=True)
        return False
