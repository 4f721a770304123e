"""MMMU-Pro: multi-discipline multiple choice with up to ten options, standard and vision settings.

Layout: the Hugging Face release's folders `standard (10 options)/`, `standard (4 options)/` and
`vision/`, each of `test-*.parquet` files; pass one folder or file. Standard rows: `id`, `question`
(with `<image 1>` placeholders), `options` (a Python-literal list in a string, or a list), `answer` (a
letter), `subject`, `topic_difficulty`, `img_type`, `image_1` … `image_7`. Vision rows: `id`, `image`
(a screenshot holding question and options), `options`, `answer`, `subject`.

Scoring, after MMMU's `parse_multi_choice_response`: the option letter of the answer ("B", "(B)", "B.",
"Answer: B"); failing that, the last "(X)" in the text; failing that, the option whose text the answer
repeats. The official code then guesses a random letter; here an answer with no option scores wrong.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator
from pathlib import Path

from srpo.data.files import DataError
from srpo.data.formats import image_refs
from srpo.data.sample import Sample
from srpo.grading import LETTERS, option_letter, render_choices, same_text, unwrap
from srpo.tasks import register
from srpo.tasks.base import (
    Task,
    Verdict,
    image_root_for,
    rows_of,
)

_PAREN = re.compile(r"\(([A-J])\)")


def _options(value: object, location: str) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str):
        try:
            parsed = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            parsed = None
        if isinstance(parsed, list):
            return [str(v) for v in parsed]
    raise DataError(f"{location}: 'options' must be a list or a string holding a Python list")


class MMMUProTask(Task):
    name = "mmmu_pro"
    summary = "MMMU-Pro: multi-discipline multiple choice (4/10 options, vision setting); option letters."
    groups = ("category", "setting", "difficulty")
    aliases = ("MMMU/MMMU_Pro", "mmmu-pro", "mmmu_pro_standard", "mmmu_pro_vision")

    def load(self, path: str | os.PathLike) -> Iterator[Sample]:
        root: Path | None = None
        for location, row in rows_of(path, "MMMU-Pro", ("id", "options", "answer")):
            vision = row.get("question") is None
            images = (
                image_refs(row.get("image"))
                if vision
                else image_refs(*(row.get(f"image_{k}") for k in range(1, 8)))
            )
            if root is None:
                root = image_root_for(Path(path), images)
            yield Sample(
                id=str(row["id"]),
                question="" if vision else str(row["question"]),
                answer=str(row["answer"]).strip(),
                images=images,
                choices=_options(row["options"], location),
                rationale=row.get("explanation") or None,
                meta={
                    "category": row.get("subject") or "unknown",
                    "setting": "vision" if vision else "standard",
                    "difficulty": row.get("topic_difficulty") or "unknown",
                    "image_root": str(root),
                },
            )

    def prompt(self, sample: Sample) -> str:
        if sample.meta.get("setting") == "vision":
            return (
                "The image shows a multiple-choice question and its options. Read it, solve it, and answer with "
                "the option letter."
            )
        return f"{sample.question.strip()}\n{render_choices(sample.choices)}\nAnswer with the option letter."

    def score(self, extraction: str | None, sample: Sample) -> Verdict:
        if extraction is None or not extraction.strip():
            return Verdict(None, False)
        options = sample.choices or []
        text = re.sub(r"^\s*(?:the\s+)?answer\s*(?:is)?\s*:?\s*", "", extraction.strip(), flags=re.I)
        letter = option_letter(text, len(options))
        if letter is None:
            found = [m for m in _PAREN.findall(text) if LETTERS.index(m) < len(options)]
            letter = found[-1] if found else None
        if letter is None:
            letter = next((LETTERS[i] for i, o in enumerate(options) if same_text(text, o)), None)
        if letter is None:
            return Verdict(unwrap(extraction), False)
        return Verdict(letter, letter == sample.answer.upper())


MMMU_PRO = register(MMMUProTask())
