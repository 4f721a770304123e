"""The srpo synthetic set (`srpo data synth`): native srpo JSONL rows (`Sample.to_dict()`).

Rows: `id`, `question`, `answer` (an option letter for multiple choice), `images` (relative to the file's
folder), `choices` (option texts, not written into the question), `rationale` and `meta` {task,
category, …}. The prompt is curation's (`srpo.curate.prompts.question_text`). Scored by `srpo.grading.is_equivalent`, which maps option letters to option texts.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from srpo.data.readers import read_samples
from srpo.data.sample import Sample
from srpo.eval.benchmarks.base import (
    Benchmark,
    Verdict,
    default_extract,
    image_root_for,
    register,
    require,
)
from srpo.eval.normalise import LETTERS, option_letter, same_text, unwrap


def load(path: Path) -> Iterator[Sample]:
    root: Path | None = None
    for s in read_samples(require(path), format="srpo"):
        if root is None:
            root = image_root_for(Path(path), s.images)
        s.meta.setdefault("category", s.meta.get("task") or "unknown")
        s.meta.setdefault("task", "unknown")
        s.meta["image_root"] = str(root)
        yield s


def prompt(sample: Sample) -> str:
    # The same user text curation and training use (`srpo/prompts/answer.j2`), so that a model fine-tuned
    # on curated synthetic data is evaluated on the prompts it learned from.
    from srpo.curate.prompts import question_text

    return question_text(sample)


def score(extraction: str | None, sample: Sample) -> Verdict:
    if extraction is None or not extraction.strip():
        return Verdict(None, False)
    from srpo.grading import is_equivalent

    pred = unwrap(extraction)
    if sample.choices:
        letter = option_letter(pred, len(sample.choices))
        if letter is None:
            letter = next((LETTERS[i] for i, c in enumerate(sample.choices) if same_text(pred, c)), None)
        if letter is not None:
            pred = letter
    return Verdict(pred, is_equivalent(pred, sample.answer, choices=sample.choices))


BENCHMARK = register(
    Benchmark(
        name="synthetic",
        summary="The srpo synthetic set: charts, shapes, clocks, number lines; by category and task.",
        load=load,
        prompt=prompt,
        score=score,
        extract=default_extract,
        groups=("category", "task"),
    )
)
