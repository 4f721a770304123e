"""MathVerse (testmini): the official layout, six problem versions, multiple choice and free form.

Layout: `testmini.json`, a JSON array of rows with `sample_index` (the id), `problem_index`,
`problem_version` (Text Dominant, Text Lite, Text Only, Vision Intensive, Vision Dominant, Vision Only),
`question`, `image` (relative to the file's folder; "" for Text Only), `answer`, `question_type`
(multi-choice | free-form), `metadata` {split, source, subject, subfield} and the official prompts
`query_cot` / `query_wo`. Parquet files of the Hugging Face release read the same way.

Scoring: the official evaluation asks GPT-4 to extract and judge. The rules here are: multiple choice
compares option letters (an answer that repeats an option's text, as written in the question, counts as
that option's letter); free form uses `srpo.grading.is_equivalent` (math-verify with numeric tolerance).
Use `--judge-model` for the official LLM extraction.
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


class MathVerseTask(Task):
    name = "mathverse"
    summary = "MathVerse testmini: six problem versions; option letters, free form by math equivalence."
    groups = ("problem_version", "category", "subfield")
    aliases = ("AI4Math/MathVerse", "mathverse_testmini")

    def load(self, path: str | os.PathLike) -> Iterator[Sample]:
        root: Path | None = None
        for _, row in rows_of(path, "MathVerse", ("sample_index", "question", "answer")):
            metadata = row.get("metadata") or {}
            images = image_refs(row.get("decoded_image") or row.get("image"))
            if root is None and images:
                root = image_root_for(Path(path), images)
            yield Sample(
                id=str(row["sample_index"]),
                question=str(row["question"]),
                answer=str(row["answer"]),
                images=images,
                meta={
                    "question_type": row.get("question_type", "free-form"),
                    "problem_version": row.get("problem_version", "unknown"),
                    "problem_index": row.get("problem_index"),
                    "category": metadata.get("subject", "unknown"),
                    "subfield": metadata.get("subfield"),
                    "source": metadata.get("source"),
                    "query_cot": row.get("query_cot"),
                    "image_root": str(root or image_root_for(Path(path), [])),
                },
            )

    def prompt(self, sample: Sample) -> str:
        query = sample.meta.get("query_cot")
        return query.strip() if isinstance(query, str) and query.strip() else sample.question.strip()

    def score(self, extraction: str | None, sample: Sample) -> Verdict:
        if extraction is None or not extraction.strip():
            return Verdict(None, False)
        gold = sample.answer.strip()
        if sample.meta.get("question_type") == "multi-choice":
            letter = option_letter(extraction)
            if letter is None:
                for key, text in options_in_text(sample.question).items():
                    if same_text(extraction, text):
                        letter = key
                        break
            if letter is None:
                return Verdict(unwrap(extraction), False)
            return Verdict(letter, letter == (option_letter(gold) or gold.upper()))
        from srpo.grading import is_equivalent

        pred = unwrap(extraction)
        return Verdict(pred, same_text(pred, gold) or is_equivalent(pred, gold))


MATHVERSE = register(MathVerseTask())
