"""Answer normalisation shared by the benchmark scorers: option letters, numbers, lists, edit distance.

Everything here is pure, fast (no sympy, no regex backtracking on untrusted text) and never raises on
strange model output: a value that cannot be read comes back as None.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
MAX_COMPARE_CHARS = 400
"""Text longer than this is cut before edit distances are computed (cost is length × option length)."""

_WRAPPERS = re.compile(r"\\(?:boxed|text|textbf|mathrm|mathbf|fbox|displaystyle)\s*\{([^{}]*)\}")
_LETTER_FORMS = (
    re.compile(r"^\(?([A-Za-z])\)?$"),  # B, (B), B)
    re.compile(r"^\(?([A-Z])\)?\s*[.:：)]"),  # B. text, B: text, (B) text
    re.compile(r"^\(([A-Za-z])\)\s"),  # (b) text
    re.compile(r"^(?:option|choice|answer)\s*:?\s*\(?([A-Z])\)?(?:$|[\s.:)])", re.I),  # Option B
)
_NUMBER = re.compile(r"[-+−]?(?:\d+(?:,\d{3})+|\d*\.\d+|\d+)(?:[eE][-+]?\d+)?")
_FRAC = re.compile(r"^([-+−]?)\\[dt]?frac\s*\{\s*([^{}]+?)\s*\}\s*\{\s*([^{}]+?)\s*\}$")
_SLASH = re.compile(r"^([-+−]?\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)$")
_NOISE = re.compile(r"\\[,;!: ]|\\(?:left|right)|\$|\\%|%|\^\s*\{?\\circ\}?|°|\\degree|\\text\{\s*\}")


def unwrap(text: str) -> str:
    """Strip `\\boxed{}`, `\\text{}` and similar single-level wrappers, `$…$` and surrounding space."""
    s = text.strip()
    for _ in range(3):  # nested wrappers such as \boxed{\text{B}}
        new = _WRAPPERS.sub(r"\1", s)
        if new == s:
            break
        s = new
    return s.strip().strip("$").strip()


def option_letter(text: str | None, n_options: int | None = None) -> str | None:
    """The option letter `text` names ("B", "(B)", "B. 12", "B: cat", "Option B"), upper-cased, or None.

    With `n_options`, letters past the last option do not count. A bare lower-case letter counts; a word
    that merely starts with a capital ("A circle") does not.
    """
    if not text:
        return None
    s = unwrap(text)[:MAX_COMPARE_CHARS]
    for form in _LETTER_FORMS:
        m = form.match(s)
        if m:
            letter = m.group(1).upper()
            if n_options is None or LETTERS.index(letter) < n_options:
                return letter
            return None
    return None


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions, each costing 1)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def nearest_option(text: str, options: Sequence[str]) -> str:
    """The option with the smallest edit distance to `text` (the first one on ties). `options` is non-empty."""
    probe = text[:MAX_COMPARE_CHARS]
    best, best_d = options[0], math.inf
    for option in options:
        d = edit_distance(probe, str(option))
        if d < best_d:
            best, best_d = option, d
    return best


def strip_unit(text: str, unit: str | None) -> str:
    """`text` without a trailing `unit` (also in `\\text{}` / `\\mathrm{}` form) and LaTeX spacing."""
    s = unwrap(text)
    if unit:
        u = unit.strip()
        for form in (f"\\text{{{u}}}", f"\\mathrm{{{u}}}", f"\\text{{ {u}}}", u):
            if u and s.endswith(form):
                s = s[: -len(form)].strip()
                break
    return s


def to_number(text: str | None) -> float | None:
    """A number written as `12`, `-3.5`, `1,000`, `1e-3`, `\\frac{1}{2}`, `3/4`, `50%`, `30^\\circ`, `$5`,
    possibly followed by a short unit word (`5 cm`). None when `text` is not a single number."""
    if text is None:
        return None
    s = _NOISE.sub("", unwrap(str(text))).replace("−", "-").replace("\\!", "").strip()
    if not s or len(s) > 64:
        return None
    m = _FRAC.match(s)
    if m:
        num, den = _plain_number(m.group(2)), _plain_number(m.group(3))
        if num is None or not den:
            return None
        return (-1 if m.group(1) in "-−" and m.group(1) else 1) * num / den
    m = _SLASH.match(s)
    if m:
        den = float(m.group(2))
        return float(m.group(1)) / den if den else None
    value = _plain_number(s)
    if value is not None:
        return value
    # A number followed by a unit word: "5 cm", "12 apples" (not "5x" or "3 + 4").
    m = re.match(r"^([-+]?\d[\d,]*(?:\.\d+)?)\s*(?:\\text\{[^{}]*\}|[A-Za-z]{1,12}(?:\^?\d)?)$", s)
    if m:
        return _plain_number(m.group(1))
    return None


def _plain_number(s: str) -> float | None:
    s = s.strip().replace("−", "-")
    m = _NUMBER.fullmatch(s)
    if not m:
        return None
    try:
        value = float(s.replace(",", ""))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def split_top_level(text: str, sep: str = ",") -> list[str]:
    """Split on `sep` outside (), [] and {}: `"(1,2), 3"` → `["(1,2)", "3"]`. Empty parts are dropped."""
    parts: list[str] = []
    depth = 0
    start = 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        elif ch == sep and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def to_list(text: str | None) -> list[str] | None:
    """`"[1, 2, 3]"`, `"(1, 2)"` or `"1, 2, 3"` → `["1", "2", "3"]`; None for empty text."""
    if text is None:
        return None
    s = unwrap(str(text))
    if len(s) >= 2 and s[0] in "[(" and s[-1] in "])":
        s = s[1:-1]
    items = split_top_level(s)
    return [i.strip().strip("'\"") for i in items] or None


_INLINE_OPTION = re.compile(
    r"(?:^|\n|\s)\(?([A-H])\)?\s*[:：.．、)]\s*([^\n]*?)(?=\s+\(?[A-H]\)?\s*[:：.．、)]\s|\n|$)"
)


def options_in_text(question: str) -> dict[str, str]:
    """Options written into a question ("Choices:\\nA:5\\nB:6", "A. 3 B. 4"), as {letter: text}.

    Only a run of consecutive letters from A counts, so stray capitals in the question are not options.
    """
    found: dict[str, str] = {}
    for m in _INLINE_OPTION.finditer(question):
        letter = m.group(1)
        if letter == LETTERS[len(found)] and m.group(2).strip():
            found[letter] = m.group(2).strip()
    return found if len(found) >= 2 else {}


def same_text(a: str, b: str) -> bool:
    """Equal after unwrapping, lower-casing and collapsing spaces."""
    return " ".join(unwrap(a).lower().split()) == " ".join(unwrap(b).lower().split())


def boxed_contents(text: str) -> list[str]:
    """The contents of every `\\boxed{…}` (braces balanced), in order; an unclosed box is ignored."""
    out: list[str] = []
    start = text.find("\\boxed")
    while start >= 0:
        i = start + len("\\boxed")
        while i < len(text) and text[i] == " ":
            i += 1
        if i < len(text) and text[i] == "{":
            depth, j = 0, i
            while j < len(text):
                if text[j] == "{":
                    depth += 1
                elif text[j] == "}":
                    depth -= 1
                    if depth == 0:
                        out.append(text[i + 1 : j].strip())
                        break
                j += 1
            else:
                break
            start = text.find("\\boxed", j)
        else:
            start = text.find("\\boxed", i)
    return out
