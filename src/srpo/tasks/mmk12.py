"""MMK12: K-12 multimodal maths, physics, chemistry and biology questions (MM-Eureka's evaluation set).

Layouts:

- the Hugging Face release (`FanqingM/MMK12`), `data/test-*.parquet` (or a `save_to_disk` folder, or JSONL
  exported from it): `id`, `subject`, `question` (options written into it as "A. …" lines), `answer` (an
  option letter) and `image` (`{bytes, path}`): 2,000 test items, 500 per subject;
- the SRPO authors' (and MM-Eureka's) `k12.json`: a JSON array of `{id, question, answer, image_path}`
  with images under `images/` — 500 fill-in-the-blank *maths* items, free-form answers, no `subject` key.
  Its rows get the category `math` (that file holds maths only); a row of another layout without a
  subject is an error, as is a missing image.

Scoring: the official evaluation asks GPT-4o whether the solution matches the correct answer ("ignore
formatting"). The rules here: an option-letter gold is compared with the predicted letter (an answer that
names an option by its text or value counts as its letter); any other gold by `srpo.grading.is_equivalent`;
an answer spelled exactly as the gold (a sentence, several lines) is right.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from srpo.data.files import DataError
from srpo.data.formats import image_refs
from srpo.data.sample import Sample
from srpo.grading import (
    LETTERS,
    choice_letter,
    is_equivalent,
    option_letter,
    options_in_text,
    same_text,
    unwrap,
)
from srpo.tasks import register
from srpo.tasks.base import Task, Verdict, image_root_for, rows_of

_GOLD_LETTERS = LETTERS[:8]
"""MMK12's multiple-choice golds: its questions have at most eight options."""


def _gold_letter(sample: Sample) -> str | None:
    gold = sample.answer.strip()
    return gold.upper() if len(gold) == 1 and gold.upper() in _GOLD_LETTERS else None


class MMK12Task(Task):
    name = "mmk12"
    summary = "MMK12: K-12 maths/physics/chemistry/biology; option letters or math equivalence, by subject."
    groups = ("category",)
    aliases = ("FanqingM/MMK12", "k12")

    def samples(self, path: str | os.PathLike) -> Iterator[Sample]:
        root: Path | None = None
        for location, row in rows_of(path, "MMK12", ("id", "question", "answer")):
            images = image_refs(row.get("image") or row.get("images") or row.get("image_path"))
            subject = row.get("subject")
            if not subject:
                if "image_path" not in row:
                    raise DataError(
                        f"{location}: no `subject`; MMK12 rows carry one (the Hugging Face release), and only "
                        "the SRPO authors' k12.json (rows with `image_path`) may omit it"
                    )
                subject = "math"  # k12.json: the 500 maths fill-in-the-blank items
            if root is None:
                root = image_root_for(Path(path), images)
            sample = Sample(
                id=str(row["id"]),
                question=str(row["question"]),
                answer=str(row["answer"]),
                images=images,
                meta={"category": str(subject), "image_root": str(root)},
            )
            yield sample

    def prompt(self, sample: Sample) -> str:
        return sample.question.strip()

    def score(self, extraction: str, sample: Sample) -> Verdict:
        gold_letter = _gold_letter(sample)
        if gold_letter is not None:
            options = options_in_text(sample.question)
            letter = option_letter(extraction) or choice_letter(unwrap(extraction), options or None)
            if letter is None:
                return Verdict(unwrap(extraction), False)
            return Verdict(letter, letter == gold_letter)
        pred = unwrap(extraction)
        return Verdict(pred, same_text(pred, sample.answer) or is_equivalent(pred, sample.answer))


MMK12 = register(MMK12Task())
