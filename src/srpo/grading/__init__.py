"""Answer grading: which answer a text gives, and whether it matches the gold. One package, used by
curation, the reward and evaluation alike (through `srpo.tasks`), one job per module:

- `boxed`: ``\\boxed{}`` contents (`last_boxed`, `boxed_contents`, `strip_boxed`);
- `extract`: the answer of an answer block (`answer_in_block`) or of a whole response (`extract_answer`);
- `normalize`: canonical text forms (`normalize_answer`, `unwrap`, `strip_unit`, `same_text`, `to_list`);
- `choices`: option letters and option lists (`LETTERS`, `letter_parts`, `option_letter`, `options_in_text`,
  `nearest_option`);
- `numbers`: exact numbers (`parse_number`, `to_number`, `numbers_equal`);
- `expressions`: a small numeric evaluator, tuples, intervals and sets;
- `mathverify`: math-verify behind a safety check;
- `equivalence`: `is_equivalent(pred, gold, choices)` and `choice_letter`.

Safety promises, relied on by the reward (which verl calls from a thread pool): nothing here raises on any
input (an undecidable comparison is "not equivalent"); thread-safe; every call is bounded in time (math-verify
only sees short, safe inputs); scanning is linear in the input length.
"""

from srpo.grading.boxed import boxed_contents, last_boxed, strip_boxed
from srpo.grading.choices import (
    LETTERS,
    Choices,
    letter_parts,
    nearest_option,
    option_letter,
    options,
    options_in_text,
    render_choices,
)
from srpo.grading.equivalence import choice_letter, clear_caches, is_equivalent, values_equal
from srpo.grading.expressions import split_top_level
from srpo.grading.extract import answer_in_block, extract_answer
from srpo.grading.normalize import normalize_answer, same_text, strip_unit, to_list, unwrap
from srpo.grading.numbers import parse_number, to_number

__all__ = [
    "LETTERS",
    "Choices",
    "answer_in_block",
    "boxed_contents",
    "choice_letter",
    "clear_caches",
    "extract_answer",
    "is_equivalent",
    "last_boxed",
    "letter_parts",
    "nearest_option",
    "normalize_answer",
    "option_letter",
    "options",
    "options_in_text",
    "parse_number",
    "render_choices",
    "same_text",
    "split_top_level",
    "strip_boxed",
    "strip_unit",
    "to_list",
    "to_number",
    "unwrap",
    "values_equal",
]
