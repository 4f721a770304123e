"""MathVerse (testmini): the official layout, six problem versions, multiple choice and free form.

Layout: `testmini.json` (3,940 rows: 788 problems × 5 versions) or `testmini_text_only.json` (788 rows), JSON
arrays of rows with `sample_index` (the id), `problem_index`, `problem_version` (Text Dominant, Text Lite,
Vision Intensive, Vision Dominant, Vision Only, Text Only), `question` (options written into it; empty for
Vision Only), `image` (relative to the file's folder; "" for Text Only), `answer`, `question_type`
(multi-choice | free-form), `metadata` {split, source, subject, subfield} and the official prompts
`query_wo` (direct answer: the leaderboard's) and `query_cot` (reason first). The Hugging Face release
(`AI4Math/MathVerse`, Parquet) adds `question_for_eval`, the full question the official judge reads. The
prompt is `query_cot`, as the SRPO authors evaluate (a reflecting model reasons); `query_wo` and
`question_for_eval` are kept in `meta`, and the LLM judge (`--judge-model`) reads `question_for_eval`.

Scoring: the official evaluation asks GPT to extract the answer and GPT to judge it against the gold
("consistent only when the model answer completely matches"; for free form, equal meaning). The rules here
read the answer as the default task does and judge: multiple choice by option letter (an answer naming an
option by its text counts as its letter; golds spelled `(C)`, as the option's text, or as two letters for
"choose 2" items are read as such); free form by `srpo.grading.is_equivalent` (the gold's mis-decoded
degree sign `掳` read as `°`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

from srpo.data.formats import image_refs
from srpo.data.sample import Sample
from srpo.grading import LETTERS, is_equivalent, option_letter, options_in_text, same_text, unwrap
from srpo.tasks import register
from srpo.tasks.base import (
    Task,
    Verdict,
    image_root_for,
    published_rows,
    rows_of,
)
from srpo.tasks.published import PublishedRow, published_row


class MathVerseTask(Task):
    name = "mathverse"
    summary = "MathVerse testmini: six problem versions; option letters, free form by math equivalence."
    groups = ("problem_version", "category", "subfield")
    aliases = ("AI4Math/MathVerse", "mathverse_testmini")

    def samples(self, path: str | os.PathLike) -> Iterator[Sample]:
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
                    "query_wo": row.get("query_wo"),
                    "question_for_eval": row.get("question_for_eval"),
                    "image_root": str(root or image_root_for(Path(path), [])),
                },
            )

    def prompt(self, sample: Sample) -> str:
        query = sample.meta.get("query_cot")
        return query.strip() if isinstance(query, str) and query.strip() else sample.question.strip()

    def judge_question(self, sample: Sample) -> str:
        return str(sample.meta.get("question_for_eval") or sample.question)

    def score(self, extraction: str, sample: Sample) -> Verdict:
        gold = sample.answer.replace("掳", "°").strip()
        if sample.meta.get("question_type") != "multi-choice":
            pred = unwrap(extraction).replace("掳", "°")
            return Verdict(pred, same_text(pred, gold) or is_equivalent(pred, gold))
        options = options_in_text(sample.question)
        gold_letters = _letters(gold, options)
        pred_letters = _letters(extraction, options)
        if not pred_letters:
            return Verdict(unwrap(extraction), bool(gold) and same_text(extraction, gold))
        prediction = ", ".join(sorted(pred_letters))
        return Verdict(prediction, pred_letters == gold_letters)

    def read_results(self, path: str | os.PathLike) -> Iterator[PublishedRow]:
        """The official output rows: the data row + `model_answer` (the response), `extraction` and
        `judgement` (0/1) after the two scoring steps."""
        for location, row in published_rows(path, "MathVerse"):
            yield published_row(
                location,
                row,
                id="sample_index",
                response="model_answer",
                extraction="extraction",
                verdict="judgement",
            )


_SEPARATORS = re.compile(r"\s*(?:,|;|&|\band\b|\s)\s*")


_LIST_LETTERS = LETTERS[:8]
"""Letters a MathVerse multi-letter gold uses: its questions have at most eight options."""


def _letter_list(s: str) -> set[str] | None:
    """{"C", "D"} for "C", "(C)", "C\\nD", "C, D", "C and D"; None when `s` is not only letters."""
    parts = [p.strip("()") for p in _SEPARATORS.split(s) if p]
    if (
        not parts
        or len(parts) > len(_LIST_LETTERS)
        or not all(len(p) == 1 and p in _LIST_LETTERS for p in parts)
    ):
        return None
    return set(parts)


def _letters(text: str, options: dict[str, str]) -> set[str]:
    """The option letters an answer names: "C", "(C)", "C\\nD", "C and D", or an option's text."""
    s = unwrap(text).strip()
    letters = _letter_list(s[:200])
    if letters is not None:
        return letters
    letter = option_letter(s, len(options) or None)
    if letter is not None:
        return {letter}
    for key, option in options.items():
        if same_text(s, option) or (option and is_equivalent(s, option)):
            return {key}
    return set()


MATHVERSE = register(MathVerseTask())
