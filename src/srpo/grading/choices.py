"""Multiple choice: option letters in their many spellings, option lists, options written into a question,
and the nearest option by edit distance.

`letter_parts` is the one reader of letter forms ("B", "(b)", "B.", "B) 12", "(B) 12", "Option B",
"Answer: B", "\\text{B}", "**B**"); every scorer goes through it.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping, Sequence

from srpo.grading.normalize import MAX_ANSWER_CHARS, unwrap

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
"""Option letters, in order."""

Choices = Sequence[str] | Mapping[str, str]
"""Options of a multiple-choice question: a list of option texts (A, B, C, … in order) or letter → text."""

MAX_COMPARE_CHARS = 400
"""Text longer than this is cut before edit distances are computed (cost is length × option length)."""

_PAREN_FORM = re.compile(r"\(([A-Za-z])\)\s{0,3}(.*)", re.S)
_LETTER_FORM = re.compile(
    r"(?:(?i:option|choice|answer)\s{0,3}(?i:is)?\s{0,3}[:：]?\s{0,3})?"
    r"\(?([A-Za-z])\)?(?:\s{0,3}[.:：)．、]\s{0,3}(.*)|\s*)",
    re.S,
)


def letter_parts(answer: str) -> tuple[str, str] | None:
    """('B', rest) for 'B', '(b)', 'B.', 'B) 12', '(B) 12', 'B: cat', 'Option B', 'Answer: B', '\\text{B}';
    None when `answer` is not a letter form ('A circle' is not)."""
    if not isinstance(answer, str):
        return None
    s = unwrap(answer)
    if len(s) > MAX_ANSWER_CHARS:
        return None
    m = _PAREN_FORM.fullmatch(s) or _LETTER_FORM.fullmatch(s)
    if not m:
        return None
    return m.group(1).upper(), (m.group(2) or "").strip()


def option_letter(text: str | None, n_options: int | None = None) -> str | None:
    """The option letter `text` names, upper-cased, or None. With `n_options`, letters past the last option
    do not count."""
    if not text:
        return None
    parts = letter_parts(text[: MAX_COMPARE_CHARS * 2])
    if parts is None:
        return None
    letter = parts[0]
    if n_options is not None and LETTERS.index(letter) >= n_options:
        return None
    return letter


def options(choices: Choices | None) -> tuple[tuple[str, str], ...]:
    """Choices as ((letter, option text), …), with 'A. ' style prefixes removed from the texts."""
    if choices is None or isinstance(choices, (str, bytes)):
        return ()
    if isinstance(choices, Mapping):
        pairs = [(str(k).strip().strip("()").upper(), str(v)) for k, v in choices.items()]
    else:
        try:  # any iterable: a list, a tuple, a numpy array read from parquet
            pairs = [(LETTERS[i], str(v)) for i, v in enumerate(list(choices)[: len(LETTERS)])]
        except TypeError:
            return ()
    out = []
    for letter, option in pairs:
        parts = letter_parts(option)
        if parts and parts[0] == letter and parts[1]:
            option = parts[1]
        out.append((letter, option.strip()))
    return tuple(out)


_INLINE_OPTION = re.compile(
    r"(?:^|\n|\s)\(?([A-H])\)?[ \t]{0,3}[:：.．、)][ \t]{0,3}([^\n]{0,300}?)"
    r"(?=[ \t]{1,8}\(?[A-H]\)?[ \t]{0,3}[:：.．、)]\s|\n|$)"
)
"""An option written into a question; every repeat is bounded, so a long run of spaces costs linear time."""


@functools.lru_cache(maxsize=4096)
def _options_in_text(question: str) -> tuple[tuple[str, str], ...]:
    found: dict[str, str] = {}
    for m in _INLINE_OPTION.finditer(question[:20000]):
        letter = m.group(1)
        if letter == LETTERS[len(found)] and m.group(2).strip():
            found[letter] = m.group(2).strip()
    return tuple(found.items()) if len(found) >= 2 else ()


def options_in_text(question: str) -> dict[str, str]:
    """Options written into a question ("Choices:\\nA:5\\nB:6", "A. 3 B. 4"), as {letter: text}.

    Only a run of consecutive letters from A counts, so stray capitals in the question are not options.
    """
    if not isinstance(question, str):
        return {}
    return dict(_options_in_text(question))  # cached: the K completions of a prompt share one question


def render_choices(choices: Sequence[str] | None, style: str = "A. ") -> str:
    """`"Choices:\\nA. first\\nB. second"` (style "A. ") or `"(A) first"` (style "(A) "); "" without choices."""
    if not choices:
        return ""
    label = (lambda c: f"({c}) ") if style.startswith("(") else (lambda c: f"{c}. ")
    return "Choices:\n" + "\n".join(f"{label(LETTERS[i])}{c}" for i, c in enumerate(choices))


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
        d = edit_distance(probe, str(option)[:MAX_COMPARE_CHARS])
        if d < best_d:
            best, best_d = option, d
    return best
