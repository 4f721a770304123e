"""MMK12: K-12 multimodal maths, physics, chemistry and biology questions (MM-Eureka's evaluation set).

Layout: the Hugging Face release, `data/test-*.parquet` (or a `save_to_disk` folder, or JSONL exported
from it) with `id`, `question` (options, when any, are written into the question), `answer` (an option
letter or a value), `subject` and `image` (`{bytes, path}`).

Scoring, as MM-Eureka's: an option-letter reference is compared with the predicted option letter (an
answer that repeats an option's text counts as its letter); any other reference by math equivalence
(`srpo.grading.is_equivalent`, math-verify with numeric tolerance).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from srpo.data.formats import image_refs
from srpo.data.sample import Sample
from srpo.grading import option_letter, options_in_text, same_text, unwrap
from srpo.tasks import register
from srpo.tasks.base import (
    Task,
    Verdict,
    image_root_for,
    rows_of,
)


def _gold_letter(sample: Sample) -> str | None:
    gold = sample.answer.strip()
    return gold.upper() if len(gold) == 1 and gold.upper() in "ABCDEFGH" else None


class MMK12Task(Task):
    name = "mmk12"
    summary = "MMK12: K-12 maths/physics/chemistry/biology; option letters or math equivalence, by subject."
    groups = ("category",)
    aliases = ("FanqingM/MMK12", "k12")

    def load(self, path: str | os.PathLike) -> Iterator[Sample]:
        root: Path | None = None
        for _, row in rows_of(path, "MMK12", ("id", "question", "answer")):
            images = image_refs(row.get("image") or row.get("images"))
            if root is None:
                root = image_root_for(Path(path), images)
            yield Sample(
                id=str(row["id"]),
                question=str(row["question"]),
                answer=str(row["answer"]),
                images=images,
                meta={"category": row.get("subject") or "unknown", "image_root": str(root)},
            )

    def prompt(self, sample: Sample) -> str:
        return sample.question.strip()

    def score(self, extraction: str | None, sample: Sample) -> Verdict:
        if extraction is None or not extraction.strip():
            return Verdict(None, False)
        gold_letter = _gold_letter(sample)
        if gold_letter is not None:
            letter = option_letter(extraction)
            if letter is None:
                options = options_in_text(sample.question)
                letter = next((k for k, text in options.items() if same_text(extraction, text)), None)
            if letter is None:
                return Verdict(unwrap(extraction), False)
            return Verdict(letter, letter == gold_letter)
        from srpo.grading import is_equivalent

        pred = unwrap(extraction)
        return Verdict(pred, same_text(pred, sample.answer) or is_equivalent(pred, sample.answer))


MMK12 = register(MMK12Task())
