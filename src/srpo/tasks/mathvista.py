"""MathVista (testmini): the official layouts, the official prompt, and the official verdict.

Layouts:

- the GitHub release: `data/testmini.json` (an object keyed by `pid`) with images under `data/images/`, and
  the official prompts in `data/query.json` (pid → query), which `testmini.json` itself lacks. The loader
  reads `query.json` beside the data file (or `--data` may be the `data/` folder);
- the Hugging Face release (`AI4Math/MathVista`, Parquet): the same columns plus `query` and `decoded_image`.

Rows carry `question`, `choices`, `answer`, `question_type` (multi_choice | free_form), `answer_type` (text |
integer | float | list), `precision`, `unit` and `metadata` (category, context, grade, skills, task, source).
A row without its official prompt, or whose image is missing, is an error naming the row and the fix.

The official evaluation asks GPT-4 to extract the answer (with a few shortcuts first) and then normalises it
(`calculate_score.py`): for multiple choice, an extracted letter ("B", or "(B) …") maps to its option and any
other text goes to the option nearest by edit distance; integers are `int(float(x))` (12.7 → 12); floats are
rounded to `precision` decimals; lists are compared as written. The verdict is string equality with the gold.

Here the extraction is rules that read answers the way that GPT-4 extraction does: a box, an "answer is …"
phrase, a leading letter ("A) Yes"), an option named by its text ("No, it is not …"), a number stated as the
answer ("There are three people" → 3); what rules cannot read is, for multiple choice, the response's last
sentence, mapped to the nearest option as the official code maps any text. The normalisation is the
official one, reading numbers tolerantly (units and LaTeX dropped, as GPT-4 drops them). `--judge-model`
replaces the rules with an LLM extraction.

Lenient mode (`lenient=True`) keeps the sound reading where the official rules are plainly wrong: an answer
with no option in it scores wrong instead of taking the nearest option, and integers are not truncated.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

from srpo.data.files import DataError
from srpo.data.readers import read_samples
from srpo.data.sample import Sample
from srpo.grading import LETTERS, last_boxed, nearest_option, render_choices, strip_unit, to_number, unwrap
from srpo.grading.extract import answer_in_block, last_match
from srpo.grading.numbers import NUMBER_TOKEN, number_value
from srpo.tasks import register
from srpo.tasks.base import Task, Verdict, image_root_for, published_rows, require
from srpo.tasks.published import PublishedRow, published_row

_PAREN_LETTER = re.compile(r"\(([a-zA-Z])\)")
_LEADING_LETTER = re.compile(r"^\s*(?:\*\*)?\(?([A-Z])\)?(?:\*\*)?\s*[.:)]\s+\S")
_LETTER_PHRASE = re.compile(
    r"(?i:answer|option|choice)(?:\s+letter)?\s{0,3}(?:is|:|=)?\s{0,3}(?i:option\s{1,3})?\(?([A-Z])\)?(?![\w])"
)
_ANSWER_PHRASE = re.compile(
    r"(?i:answer)\s{0,3}(?:is|:)\s{0,3}:?\s{0,3}([^\n]{1,200}?)\s*(?:$|\n|\.(?=\s|$))", re.M
)
_STATED = re.compile(
    r"\b(?:is|are|was|were|be|equals|equal to|=|of)\s+(?:about\s+|approximately\s+|around\s+)?$", re.I
)
_BOLD = re.compile(r"\*\*([^*\n]{1,80})\*\*")
_REFUSAL = re.compile(
    r"\b(?:unable to|cannot|can't|can not|could not|impossible to|not possible to)\s+"
    r"(?:determine|provide|answer|calculate|view|see|process|tell|give)|\binsufficient information\b|"
    r"\bnot enough information\b|\bI apologi[sz]e\b",
    re.I,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def stated_number(text: str) -> str | None:
    """The number a response states as its answer: the last bold number ("**16 m**"); else, in the last
    sentence that has a number, the first one after its last "=", else the last one after "is / are / was",
    else its first number ("There are three algorithms …" → 3). None for a refusal ("I cannot determine …")."""
    tail = text[-4000:]
    if _REFUSAL.search(tail):
        return None
    bold = [m for m in _BOLD.finditer(tail) if NUMBER_TOKEN.search(m.group(1))]
    if bold:
        return number_value(NUMBER_TOKEN.search(bold[-1].group(1)).group())  # type: ignore[union-attr]
    for sentence in reversed(_sentences(tail)):
        numbers = list(NUMBER_TOKEN.finditer(sentence))
        if not numbers:
            continue
        equals = sentence.rfind("=")
        after = [m for m in numbers if m.start() > equals] if equals >= 0 else []
        if after:
            return number_value(after[0].group())
        stated = [m for m in numbers if _STATED.search(sentence[max(0, m.start() - 40) : m.start()])]
        if stated:  # "the width is 5 …, so the ratio is 1.25": the last statement concludes
            return number_value(stated[-1].group())
        return number_value(numbers[0].group())
    return None


def stated_list(text: str) -> str | None:
    """The numbers of the last sentence that has two or more, as a list ("2007 and 2009" → "[2007, 2009]")."""
    for sentence in reversed(_sentences(text[-4000:])):
        numbers = [number_value(m.group()) for m in NUMBER_TOKEN.finditer(sentence)]
        if len(numbers) >= 2:
            return "[" + ", ".join(numbers) + "]"
    return None


def _option_named(text: str, choices: list[str]) -> str | None:
    """The option a text names by its words: the one it starts with ("No, it is not …"), else the only
    option whose text appears in it as a phrase."""
    low = text.strip().lower().lstrip("*").strip()
    starts = [c for c in choices if c and re.match(re.escape(c.lower()) + r"(?![\w])", low)]
    if starts:
        return max(starts, key=len)
    inside = [
        c for c in choices if len(c) > 1 and re.search(r"(?<![\w])" + re.escape(c.lower()) + r"(?![\w])", low)
    ]
    return inside[0] if len(inside) == 1 else None


def _numeric_option(text: str, choices: list[str]) -> str | None:
    """The option whose value is the number the text states, when the options are numbers."""
    number = stated_number(text)
    if number is None:
        return None
    value = to_number(number)
    matches = [c for c in choices if to_number(c) is not None and to_number(c) == value]
    return matches[0] if len(matches) == 1 else None


def _precision(sample: Sample) -> int | None:
    p = sample.meta.get("precision")
    try:
        return None if p is None else int(float(p))
    except (TypeError, ValueError):
        return None


class MathVistaTask(Task):
    name = "mathvista"
    summary = "MathVista testmini: visual math QA; the official prompts, extraction and normalisation."
    groups = ("category", "task", "context", "grade")
    aliases = ("AI4Math/MathVista", "mathvista_testmini")

    # ------------------------------------------------------------------------------------------ reading

    def samples(self, path: str | os.PathLike) -> Iterator[Sample]:
        data = require(path)
        if data.is_dir() and (data / "testmini.json").is_file():
            data = data / "testmini.json"
        queries = _queries_beside(data)
        root: Path | None = None
        for s in read_samples(data, format="mathvista"):
            metadata = s.meta.get("metadata") if isinstance(s.meta.get("metadata"), dict) else {}
            for key in ("category", "task", "context", "grade", "source", "language"):
                if metadata.get(key) is not None:
                    s.meta.setdefault(key, metadata[key])
            s.meta.setdefault("category", "unknown")
            query = s.meta.get("query") or queries.get(s.id)
            if not isinstance(query, str) or not query.strip():
                raise DataError(
                    f"{data}: pid {s.id}: no official prompt (`query`). The GitHub release keeps the prompts in "
                    f"data/query.json: put it beside {data.name}, or read the Hugging Face files, which have a "
                    "`query` column"
                )
            s.meta["query"] = query
            if root is None:
                root = image_root_for(data, s.images)
            s.meta.setdefault("image_root", str(root))
            yield s

    def prompt(self, sample: Sample) -> str:
        """The official query; for a row read without one (outside this loader), its question and choices."""
        query = sample.meta.get("query")
        if isinstance(query, str) and query.strip():
            return query.strip()
        return "\n".join(p for p in (sample.question.strip(), render_choices(sample.choices)) if p)

    # ------------------------------------------------------------------------------------------ judging

    def read(self, text: str, *, block: bool = True, sample: Sample | None = None) -> str | None:
        if sample is None:
            return super().read(text, block=block, sample=sample)
        boxed = last_boxed(text)
        if boxed is not None and boxed.strip():
            return boxed.strip()
        if sample.meta.get("question_type") == "multi_choice" and sample.choices:
            return self._choice_extract(text, sample.choices, block)
        return self._value_extract(text, sample, block)

    def _choice_extract(self, text: str, choices: list[str], block: bool) -> str | None:
        tail = text[-4000:].replace("**", "")
        letters = LETTERS[: len(choices)]
        m = last_match(_LETTER_PHRASE, tail)
        if m:  # a letter past the options is kept: the official code maps it to its nearest option
            return m.group(1)
        m = _LEADING_LETTER.match(text)
        if m and m.group(1) in letters:
            # "A: No, it is not …": an option named by its words wins over the letter, as GPT-4 reads it
            return _option_named(text[m.end() - 1 :], choices) or m.group(1)
        m = last_match(_ANSWER_PHRASE, tail)
        if m:
            found = unwrap(m.group(1))
            named = _option_named(found, choices)
            return named or found
        stripped = unwrap(text)
        if stripped in letters or stripped in choices:
            return stripped
        m = last_match(_PAREN_LETTER, tail)
        if m and m.group(1).upper() in letters:
            return f"({m.group(1).upper()})"
        return _option_named(text, choices) or _numeric_option(text, choices)

    def fallback_extract(self, text: str, *, block: bool = True, sample: Sample | None = None) -> str | None:
        """Multiple choice, official mode: the last sentence, which the official code maps to its nearest
        option (what its GPT-4 extraction returns for a response that names no option)."""
        if self.lenient or sample is None or sample.meta.get("question_type") != "multi_choice":
            return None
        sentences = _sentences(text) if isinstance(text, str) else []
        return sentences[-1] if sentences else None

    def _value_extract(self, text: str, sample: Sample, block: bool) -> str | None:
        answer_type = sample.meta.get("answer_type")
        if answer_type == "list":
            found = super().read(text, block=block, sample=sample)
            if found is not None and found.strip().startswith("["):
                return found
            return stated_list(text) or found
        m = last_match(_ANSWER_PHRASE, text[-4000:].replace("**", ""))
        phrase = m.group(1) if m else None
        if phrase is not None:
            if to_number(strip_unit(phrase, sample.meta.get("unit"))) is not None:
                return phrase
            number = stated_number(phrase)
            if number is not None:
                return number
        if block:
            found = answer_in_block(text)
            if found is not None and to_number(strip_unit(found, sample.meta.get("unit"))) is not None:
                return found
        whole = unwrap(text)
        if to_number(strip_unit(whole, sample.meta.get("unit"))) is not None:
            return whole
        return stated_number(text)

    def score(self, extraction: str, sample: Sample) -> Verdict:
        prediction = self.normalise(extraction, sample)
        if prediction is None:
            return Verdict(None, False)
        return Verdict(prediction, prediction == sample.answer.strip())

    def normalise(self, extraction: str, sample: Sample) -> str | None:
        """The official normalisation of an extracted answer for this row (None: unreadable)."""
        text = str(extraction).strip()
        choices = sample.choices or []
        if sample.meta.get("question_type") == "multi_choice" and choices:
            if self.lenient and text in choices:  # officially, an option "(b)" is read as the letter B
                return text
            m = _PAREN_LETTER.search(text)
            letter = m.group(1).upper() if m else unwrap(text).rstrip(".").strip()
            if letter in LETTERS[: len(choices)]:
                return choices[LETTERS.index(letter)]
            if text in choices:
                return text
            if self.lenient:
                named = _option_named(text, choices)
                return named
            return nearest_option(text, choices)
        answer_type = sample.meta.get("answer_type")
        bare = strip_unit(text, sample.meta.get("unit"))
        if "=" in bare:  # "x = 5" → "5"
            bare = bare.rsplit("=", 1)[1].strip()
        if answer_type == "integer":
            value = to_number(bare)
            if value is None:
                return None
            if self.lenient and not float(value).is_integer():
                return str(value)
            return str(int(value))
        if answer_type == "float":
            value = to_number(bare)
            if value is None:
                return None
            precision = _precision(sample)
            return str(value) if precision is None else str(round(value, precision))
        if answer_type == "list":
            return _list_text(bare)
        return bare

    def read_results(self, path: str | os.PathLike) -> Iterator[PublishedRow]:
        """`results/<model>/output_<model>.json`: pid → row with `response`, `extraction`, `true_false`."""
        for location, row in published_rows(path, "MathVista"):
            row.setdefault("pid", row.get("_key"))  # a results object is keyed by pid
            yield published_row(
                location, row, id="pid", response="response", extraction="extraction", verdict="true_false"
            )


def _list_text(text: str) -> str:
    """A list answer as the gold spells lists: `[a, b]` (the official comparison is `str(extraction)`)."""
    from srpo.grading import to_list

    items = to_list(text)
    if not items:
        return text
    values = []
    for item in items:
        number = to_number(item)
        values.append(
            str(int(number))
            if number is not None and number.is_integer()
            else (str(number) if number is not None else item)
        )
    return "[" + ", ".join(values) + "]"


def _queries_beside(data: Path) -> dict[str, str]:
    """pid → official prompt from the release's `query.json` beside the data file, when there is one."""
    for candidate in (data.parent / "query.json", data.parent / "data" / "query.json"):
        if candidate.is_file():
            try:
                table = json.loads(candidate.read_text(encoding="utf-8"))
            except ValueError as e:
                raise DataError(
                    f"{candidate}: not valid JSON ({e}); replace it with the release's query.json"
                ) from None
            if not isinstance(table, dict):
                raise DataError(f"{candidate}: expected an object of pid → query")
            return {str(k): str(v) for k, v in table.items()}
    return {}


MATHVISTA = register(MathVistaTask())
