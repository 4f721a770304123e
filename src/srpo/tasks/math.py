"""The default task: generic math and multiple-choice data in any supported row format.

Rows are read by `srpo.data.readers.read_samples` (srpo rows, LLaVA-CoT, Mulberry, flat, MathVista-like, or a
`--field` mapping). The prompt is curation's (`srpo/prompts/answer.j2`: the question, then lettered choices).
Answers are judged by `srpo.grading.is_equivalent`: numbers, LaTeX and expressions by value, tuples and sets
element-wise, option letters as letters, and a letter against its option's text or value — with the
options from `choices`, or written into the question ("A. 3 B. 4").

A row whose gold the reader could not isolate (`meta["gold_unclear"]`, e.g. a conclusion sentence) is never
graded against that sentence: every answer to it scores wrong, and curation reports such rows.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from srpo.data.sample import Sample
from srpo.grading import choice_letter, is_equivalent, options_in_text, unwrap
from srpo.tasks import register
from srpo.tasks.base import Task, Verdict, image_root_for

GOLD_UNCLEAR = "gold_unclear"
"""`Sample.meta` flag set by readers when the gold answer could not be isolated from its sentence."""


def sample_choices(sample: Sample) -> list[str] | dict[str, str] | None:
    """The options of a sample: its `choices`, else options written into its question, else None."""
    return sample.choices or options_in_text(sample.question) or None


class MathTask(Task):
    name = "math"
    summary = "Generic math and multiple-choice data (any row format): answers judged by value."
    groups = ("category",)
    aliases = ("default", "srpo", "generic")

    def samples(self, path: str | os.PathLike) -> Iterator[Sample]:
        from srpo.data.readers import read_samples

        root = None
        for s in read_samples(path):
            if root is None:
                root = str(image_root_for(Path(path), s.images))
            s.meta.setdefault("image_root", root)
            s.meta.setdefault("category", s.meta.get("category") or "unknown")
            yield s

    def score(self, extraction: str, sample: Sample) -> Verdict:
        choices = sample_choices(sample)
        pred = unwrap(extraction)
        if choices:
            pred = choice_letter(pred, choices) or pred
        if sample.meta.get(GOLD_UNCLEAR):
            return Verdict(pred, False)
        return Verdict(pred, is_equivalent(extraction, sample.answer, choices))


MATH = register(MathTask())
