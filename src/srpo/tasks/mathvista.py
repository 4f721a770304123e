"""MathVista (testmini): the official layout and the official answer normalisation.

Layout: `testmini.json` (an object keyed by `pid`, from the GitHub release) with images under `images/`,
or the Hugging Face Parquet files (`decoded_image` bytes). Rows carry `question`, `query` (the official
prompt: hint, question and choices), `choices`, `answer`, `question_type` (multi_choice | free_form),
`answer_type` (text | integer | float | list), `precision`, `unit` and `metadata` (category, context,
grade, skills, task, source).

Normalisation, as in MathVista's `calculate_score.py`:

- multiple choice: a letter ("B", "(B) …") maps to its option; anything else goes to the option nearest
  by edit distance; the option text is compared with the gold option text;
- integer: `int(float(x))` (so "5.0" and "5.7" both become 5), compared with the gold integer;
- float: rounded to `precision` decimals, compared with the gold value rounded the same way;
- list: compared element by element, numbers as numbers.

Departures, both deliberate: a trailing `unit` ("5 cm" for unit "cm") is stripped before numbers are read,
and a response with no extractable answer scores wrong instead of being mapped to the option nearest to
the empty string.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

from srpo.data.readers import read_samples
from srpo.data.sample import Sample
from srpo.grading import (
    LETTERS,
    nearest_option,
    option_letter,
    render_choices,
    strip_unit,
    to_list,
    to_number,
)
from srpo.tasks import register
from srpo.tasks.base import (
    Task,
    Verdict,
    image_root_for,
    require,
)

_PAREN_LETTER = re.compile(r"\(([a-zA-Z])\)")


def _precision(sample: Sample) -> int | None:
    p = sample.meta.get("precision")
    try:
        return None if p is None else int(float(p))
    except (TypeError, ValueError):
        return None


def normalise(extraction: str | None, sample: Sample) -> str | None:
    """The official normalisation of an extracted answer for this row (None: unreadable)."""
    if extraction is None:
        return None
    text = str(extraction).strip()
    choices = sample.choices or []
    if sample.meta.get("question_type") == "multi_choice" and choices:
        m = _PAREN_LETTER.search(text)
        letter = m.group(1).upper() if m else option_letter(text, len(choices))
        if letter is not None and LETTERS.index(letter) < len(choices):
            return choices[LETTERS.index(letter)]
        if not text:
            return None
        return text if text in choices else nearest_option(text, choices)
    answer_type = sample.meta.get("answer_type")
    bare = strip_unit(text, sample.meta.get("unit"))
    if "=" in bare:  # "x = 5" → "5"
        bare = bare.rsplit("=", 1)[1].strip()
    if answer_type == "integer":
        value = to_number(bare)
        return None if value is None else str(int(value))
    if answer_type == "float":
        value = to_number(bare)
        if value is None:
            return None
        precision = _precision(sample)
        return str(value) if precision is None else str(round(value, precision))
    if answer_type == "list":
        items = to_list(bare)
        return None if items is None else "[" + ", ".join(items) + "]"
    return bare


def _same_list(pred: str, gold: str) -> bool:
    a, b = to_list(pred), to_list(gold)
    if a is None or b is None or len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        nx, ny = to_number(x), to_number(y)
        if nx is not None and ny is not None:
            if nx != ny:
                return False
        elif x.strip().lower() != y.strip().lower():
            return False
    return True


class MathVistaTask(Task):
    name = "mathvista"
    summary = (
        "MathVista testmini: visual math QA; official letter/nearest-option, integer, float, list rules."
    )
    groups = ("category", "task", "context", "grade")
    aliases = ("AI4Math/MathVista", "mathvista_testmini")

    def load(self, path: str | os.PathLike) -> Iterator[Sample]:
        root: Path | None = None
        for s in read_samples(require(path), format="mathvista"):
            metadata = s.meta.get("metadata") if isinstance(s.meta.get("metadata"), dict) else {}
            for key in ("category", "task", "context", "grade", "source", "language"):
                if metadata.get(key) is not None:
                    s.meta.setdefault(key, metadata[key])
            s.meta.setdefault("category", "unknown")
            if root is None:
                root = image_root_for(Path(path), s.images)
            s.meta.setdefault("image_root", str(root))
            yield s

    def prompt(self, sample: Sample) -> str:
        query = sample.meta.get("query")
        if isinstance(query, str) and query.strip() and query.strip() != "...":
            return query.strip()
        parts = [sample.question.strip(), render_choices(sample.choices)]
        return "\n".join(p for p in parts if p)

    def score(self, extraction: str | None, sample: Sample) -> Verdict:
        pred = normalise(extraction, sample)
        if pred is None:
            return Verdict(None, False)
        gold = sample.answer.strip()
        if pred == gold:
            return Verdict(pred, True)
        answer_type = sample.meta.get("answer_type")
        if sample.meta.get("question_type") == "multi_choice" and sample.choices:
            return Verdict(pred, False)
        if answer_type == "integer":
            g = to_number(gold)
            return Verdict(pred, g is not None and int(g) == int(pred))
        if answer_type == "float":
            g = to_number(gold)
            precision = _precision(sample)
            p = float(pred)
            if g is None:
                return Verdict(pred, False)
            if precision is None:
                return Verdict(pred, abs(g - p) <= 1e-9 * max(1.0, abs(g)))
            return Verdict(pred, round(g, precision) == round(p, precision))
        if answer_type == "list":
            return Verdict(pred, _same_list(pred, gold))
        return Verdict(pred, pred.strip().lower() == gold.lower())


MATHVISTA = register(MathVistaTask())
