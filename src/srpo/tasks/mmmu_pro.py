"""MMMU-Pro: multi-discipline multiple choice with up to ten options, standard and vision settings.

Layout: the Hugging Face release's folders `standard (10 options)/`, `standard (4 options)/` and
`vision/`, each of `test-*.parquet` files; pass one folder or file. Standard rows: `id`, `question`
(with `<image 1>` placeholders), `options` (a Python-literal list in a string, or a list; the "10 options"
set has 1 to 12), `answer` (a letter), `subject`, `topic_difficulty`, `img_type`, `image_1` … `image_7`.
Vision rows: `id`, `image` (a screenshot holding question and options), `options`, `answer`, `subject`.
The prompt is the official one: the question, the options as "A. …" lines, and the direct-answer
instruction (the vision setting: the instruction alone).

Scoring follows the official `mmmu-pro/evaluate.py`: after the last "Answer:", the one option letter that
occurs there; else MMMU's `parse_multi_choice_response` (letters written "(B)", then "B ", then "B.", then,
for a response of more than five words, options named by their text; the last one wins when several
occur). Where the official code then picks a random letter, this task finds no answer, which is wrong.
The verdict is letter equality with the gold. One departure: where the official parser would guess, a
`\\boxed{}` letter is read inside its box ("\\boxed{B}" has no letter the parser sees).
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from pathlib import Path

from srpo.data.files import DataError
from srpo.data.formats import image_refs
from srpo.data.sample import Sample
from srpo.grading import LETTERS, last_boxed, option_letter, unwrap
from srpo.tasks import register
from srpo.tasks.base import (
    Task,
    Verdict,
    image_root_for,
    published_rows,
    rows_of,
)
from srpo.tasks.published import PublishedRow, published_row

DIRECT = "Answer with the option letter from the given choices directly."
VISION_LAST_LINE = (
    " The last line of your response should be of the following format: 'Answer: $LETTER' (without quotes) "
    "where LETTER is one of options."
)


def _options(value: object, location: str) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str):
        try:
            parsed = ast.literal_eval(value)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):  # any unreadable text
            parsed = None
        if isinstance(parsed, list):
            return [str(v) for v in parsed]
    raise DataError(
        f"{location}: 'options' must be a list or a string holding a Python list (as MMMU-Pro's files store "
        "it, e.g. \"['4', '5']\"); fix the row or re-download the split"
    )


class MMMUProTask(Task):
    name = "mmmu_pro"
    summary = "MMMU-Pro: multi-discipline multiple choice (4/10 options, vision setting); option letters."
    groups = ("category", "setting", "difficulty")
    aliases = ("MMMU/MMMU_Pro", "mmmu-pro", "mmmu_pro_standard", "mmmu_pro_vision")

    def samples(self, path: str | os.PathLike) -> Iterator[Sample]:
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
            return f"{DIRECT}{VISION_LAST_LINE}"
        options = "\n".join(f"{LETTERS[i]}. {o}" for i, o in enumerate(sample.choices or []))
        return f"{sample.question.strip()}\n{options}\n{DIRECT}"

    def read(self, text: str, *, block: bool = True, sample: Sample | None = None) -> str | None:
        if sample is None or not sample.choices:
            return super().read(text, block=block, sample=sample)
        found = parse_choice(text.strip(), sample.choices)
        if found is None:  # a boxed letter is read inside its box (the official parser would guess)
            boxed = last_boxed(text)
            found = parse_choice(unwrap(boxed), sample.choices) if boxed and boxed.strip() else None
        return found

    def score(self, extraction: str, sample: Sample) -> Verdict:
        options = sample.choices or []
        letter = extraction.strip() if extraction.strip() in LETTERS[: len(options)] else None
        if letter is None:  # an extraction given from elsewhere (a judge): read it the same way
            letter = parse_choice(extraction, options) or option_letter(
                unwrap(extraction), len(options) or None
            )
        if letter is None:
            return Verdict(unwrap(extraction), False)
        return Verdict(letter, letter == sample.answer.strip().upper())

    def read_results(self, path: str | os.PathLike) -> Iterator[PublishedRow]:
        """`mmmu-pro/output/<model>_<setting>_<method>.jsonl`: the data row + `response` (a dict on an API
        error, read as no response), `pred_indexs`, `if_right`."""
        for location, row in published_rows(path, "MMMU-Pro"):
            yield published_row(
                location, row, id="id", response="response", extraction="pred_indexs", verdict="if_right"
            )


def parse_choice(response: str, options: list[str]) -> str | None:
    """The option letter a response gives, read as MMMU-Pro's evaluation reads it (module doc); None where
    the official code would guess at random."""
    letters = list(LETTERS[: len(options)])
    at = response.rfind("Answer:")
    if at != -1:
        after = response[at + len("Answer:") :].strip()
        named = [c for c in letters if c in after]
        if len(named) == 1:
            return named[0]
    text = response
    for char in ",.!?;:'":
        text = text.strip(char)
    text = f" {text} "
    for form in ("({})", "{} ", "{}."):
        found = [c for c in letters if form.format(c) in text]
        if found:
            if len(found) == 1:
                return found[0]
            probe = "({})" if form == "({})" else " {} "
            return max(found, key=lambda c: text.rfind(probe.format(c)))
    if len(text.split()) > 5:
        low = text.lower()
        named = [c for c, o in zip(letters, options, strict=False) if o.lower() in low]
        if named:
            return max(named, key=lambda c: low.rfind(options[letters.index(c)].lower()))
    return None


MMMU_PRO = register(MMMUProTask())
