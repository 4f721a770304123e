"""Canonical text forms of answers: LaTeX delimiters and wrappers removed, spacing and symbols unified.

Pure string work, linear in the input, never raises.
"""

from __future__ import annotations

import re

from srpo.grading.boxed import BOX_COMMANDS, last_boxed

MAX_ANSWER_CHARS = 1000
"""Answers longer than this are compared as whitespace-normalised strings only."""

_DELIMS = (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]"))
_TEXT_CMD = re.compile(
    r"\\(?:text|textbf|textit|textrm|mathrm|mathbf|mathit|mbox|operatorname)\s*\{([^{}]{0,200})\}"
)
_SPACING = re.compile(r"\\[,;:! ]|\\(?:left|right|big|Big|bigg|Bigg)(?![A-Za-z])|~")
_DEGREE = re.compile(r"\^\s*\{?\s*\\circ\s*\}?|°|\\degree")
_ASSIGN = re.compile(r"[A-Za-z](?:_\{?\w{1,3}\}?)?\s*=\s*")
_MARKDOWN = re.compile(r"\*\*|__|`")
_WS = re.compile(r"\s+")
_WRAPPERS = re.compile(
    r"\\(?:boxed|fbox|text|textbf|textit|textrm|mathrm|mathbf|mathit|mbox|displaystyle)\s*\{([^{}]*)\}"
)


def squash(text: str) -> str:
    """Whitespace runs collapsed to one space, ends stripped."""
    return _WS.sub(" ", text).strip()


def strip_delimiters(text: str) -> str:
    """`text` without surrounding ``$…$``, ``$$…$$``, ``\\(…\\)``, ``\\[…\\]``, markdown bold or a final period
    (repeatedly, so ``**$x$.**`` → ``x``)."""
    s = text.strip()
    for _ in range(4):
        before = s
        s = s.strip("*").strip()
        for left, right in _DELIMS:
            if len(s) >= len(left) + len(right) and s.startswith(left) and s.endswith(right):
                s = s[len(left) : len(s) - len(right)].strip()
        s = s.rstrip(".").strip()
        if s == before:
            break
    return s


def unwrap(text: str) -> str:
    """`text` with single-level wrappers (``\\boxed{}``, ``\\text{}``, ``\\mathrm{}``, …), ``$…$`` and markdown
    emphasis removed: ``\\( \\text{G} \\)`` → ``G``, ``**C**`` → ``C``."""
    s = strip_delimiters(text if isinstance(text, str) else "")
    for _ in range(3):  # nested wrappers such as \boxed{\text{B}}
        new = _WRAPPERS.sub(r"\1", s)
        if new == s:
            break
        s = strip_delimiters(new)
    return _MARKDOWN.sub("", s).strip().strip("$").strip()


def normalize_answer(text: str) -> str:
    """Canonical form of an answer for comparison; '' for nothing.

    Strips surrounding ``$…$`` / ``\\(…\\)`` / ``\\[…\\]`` and a wrapping ``\\boxed{}``, ``\\text{}``-style
    wrappers, spacing commands, ``\\left``/``\\right``, degree marks, ``\\$`` signs, markdown emphasis, a
    leading ``x =``, trailing periods; rewrites ``\\dfrac``/``\\tfrac`` to ``\\frac`` and ``**`` to ``^``;
    collapses whitespace. Keeps case (``\\Pi`` is not ``\\pi``). Inputs over `MAX_ANSWER_CHARS` are only
    stripped.
    """
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    s = text.strip()
    if len(s) > MAX_ANSWER_CHARS:
        return s
    if s.startswith("**") and s.endswith("**") and len(s) > 4:  # markdown bold, not a power
        s = s[2:-2].strip()
    for _ in range(3):
        before = s
        for left, right in _DELIMS:
            if len(s) >= len(left) + len(right) and s.startswith(left) and s.endswith(right):
                s = s[len(left) : len(s) - len(right)].strip()
        if s.startswith(BOX_COMMANDS):
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
    s = squash(s)
    m = _ASSIGN.match(s)
    if m and m.end() < len(s) and "=" not in s[m.end() :]:
        s = s[m.end() :]
    if s.startswith("$") and not s.endswith("$"):
        s = s[1:]  # a currency sign
    return s.rstrip(".").strip()


def compact(normalised: str) -> str:
    """A normalised answer without spaces: the key exact comparisons use (``(1, 2)`` ~ ``(1,2)``)."""
    return normalised.replace(" ", "")


_PROSE = re.compile(r"[A-Za-z]{3,}[ ,]+[A-Za-z]{3,}")


def is_prose(text: str) -> bool:
    """Whether `text` reads as a sentence (two words of three letters or more) rather than a formula: no
    LaTeX command anywhere. A sentence is never an answer value, only something an answer is read from."""
    return "\\" not in text and bool(_PROSE.search(text))


def same_text(a: str, b: str) -> bool:
    """Equal after unwrapping, lower-casing and collapsing spaces."""
    return squash(unwrap(a).lower()) == squash(unwrap(b).lower())


def strip_unit(text: str, unit: str | None) -> str:
    """`text` unwrapped and without a trailing `unit` (also in ``\\text{}`` / ``\\mathrm{}`` form)."""
    s = unwrap(text)
    if unit:
        u = unit.strip()
        for form in (f"\\text{{{u}}}", f"\\mathrm{{{u}}}", f"\\text{{ {u}}}", f"\\ {u}", u):
            if u and s.endswith(form) and len(s) > len(form):
                s = s[: -len(form)].strip()
                break
    return s


def to_list(text: str | None) -> list[str] | None:
    """`"[1, 2, 3]"`, `"(1, 2)"` or `"1, 2, 3"` → `["1", "2", "3"]` (top-level commas only); None for nothing."""
    from srpo.grading.expressions import split_top_level

    if text is None:
        return None
    s = unwrap(str(text))
    if len(s) >= 2 and s[0] in "[(" and s[-1] in "])":
        s = s[1:-1]
    items = split_top_level(s, keep_empty=False)
    return [i.strip().strip("'\"") for i in items] or None
