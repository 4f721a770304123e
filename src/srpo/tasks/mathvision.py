"""MathVision (MATH-V): competition problems with options A–E or free-form answers, levels and subjects.

Layout: the GitHub release's `data/test.jsonl` / `data/testmini.jsonl` with images in `images/` beside
`data/` (rows: `id`, `question`, `options` (list, empty for free form), `image`, `answer`, `solution`,
`level` 1–5, `subject`), or the Hugging Face Parquet files (`decoded_image` bytes).

Scoring follows MATH-V's `is_equal`: with options, the option letter is compared (an answer that repeats
an option's text counts as its letter); without, case-insensitive string equality, then numbers within
1e-6, then symbolic equivalence (`srpo.grading.is_equivalent` in place of their latex2sympy + `eval`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from srpo.data.formats import image_refs
from srpo.data.sample import Sample
from srpo.grading import LETTERS, option_letter, render_choices, same_text, to_number, unwrap
from srpo.tasks import register
from srpo.tasks.base import (
    Task,
    Verdict,
    image_root_for,
    rows_of,
)


class MathVisionTask(Task):
    name = "mathvision"
    summary = "MathVision (MATH-V): competition math, options A–E or free form; by subject and level."
    groups = ("category", "level")
    aliases = ("MathLLMs/MathVision", "math-v", "mathv", "mathvision_test", "mathvision_testmini")

    def load(self, path: str | os.PathLike) -> Iterator[Sample]:
        root: Path | None = None
        for _, row in rows_of(path, "MathVision", ("id", "question", "answer")):
            options = [str(o) for o in (row.get("options") or [])]
            images = image_refs(row.get("decoded_image") or row.get("image"))
            if root is None and images:
                root = image_root_for(Path(path), images)
            yield Sample(
                id=str(row["id"]),
                question=str(row["question"]),
                answer=str(row["answer"]),
                images=images,
                choices=options or None,
                rationale=row.get("solution") or None,
                meta={
                    "category": row.get("subject") or "unknown",
                    "level": f"level {row['level']}" if row.get("level") is not None else "unknown",
                    "image_root": str(root or image_root_for(Path(path), [])),
                },
            )

    def prompt(self, sample: Sample) -> str:
        question = sample.question.strip()
        if sample.choices:
            return f"{question}\n{render_choices(sample.choices)}\nAnswer with the option letter."
        return question

    def score(self, extraction: str | None, sample: Sample) -> Verdict:
        if extraction is None or not extraction.strip():
            return Verdict(None, False)
        gold = sample.answer.strip()
        options = sample.choices or []
        if options:
            letter = option_letter(extraction, len(options))
            if letter is None:
                letter = next((LETTERS[i] for i, o in enumerate(options) if same_text(extraction, o)), None)
            if letter is None:
                return Verdict(unwrap(extraction), False)
            return Verdict(letter, letter == gold.upper())
        pred = unwrap(extraction)
        if pred.lower() == gold.lower():
            return Verdict(pred, True)
        a, b = to_number(pred), to_number(gold)
        if a is not None and b is not None:
            return Verdict(pred, abs(a - b) < 1e-6)
        from srpo.grading import is_equivalent

        return Verdict(pred, is_equivalent(pred, gold))


MATHVISION = register(MathVisionTask())
