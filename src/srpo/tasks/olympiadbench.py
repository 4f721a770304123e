"""OlympiadBench: open-ended olympiad maths and physics, single or multiple answers, units, tolerances.

Layouts:

- the release (zip / GitHub): `data/{OE|TP}_{MM|TO}_{maths|physics}_{en|zh}_{COMP|CEE}.json` (OE = open-ended,
  TP = theorem proving, MM = multimodal, TO = text only), each a JSON array of rows, with images under
  `images/` referenced *inline* in the question or context as `<img_3362>` → `images/img_3362.jpg`. Subject
  and language come from the file name. Pass the folder (or `data/`, or one file);
- the Hugging Face release (`Hothan/OlympiadBench`, Parquet or `save_to_disk`), with `image_1` … `image_5`
  columns and `subject` / `language` columns.

Rows: `id`, `question`, `context` (physics problems share one), `final_answer` (a list; the official judge
compares its first item), `is_multiple_answer`, `unit`, `answer_type`, `error` (tolerance, comma-separated
per answer), `subfield`, `solution`. Theorem-proving problems cannot be scored automatically and are
skipped, as in the official judge. A row whose image is missing, or whose subject cannot be told from its
file or columns, is an error naming it.

Extraction follows the official `inference/judge.py`: the rest of the line after the last "So the final
answer is" ("所以最终答案是" in Chinese), else the whole text; in it, every `\\boxed{}` (several boxes are
several answers); without a box, the `$…$` spans of its last line; else the text itself. There is no
last-number guess: a response that never states an answer is wrong.

Comparison follows the official `MathJudger`: decorative symbols (`$`, `\\left`, `\\right`, `^\\circ`, `%`, …)
dropped and `x \\in S` read as `S`; answers split on top-level commas, `\\pm` expanded to both signs, and the
predicted answers paired one-to-one (in any order) with the reference answers. Two answers match when equal
as text, or as numbers within the tolerance (absolute: `error`, or 1e-8, times 1.01; the reference ×100 and
÷100 count too, for percentages), or as expressions (right-hand sides of `=`; `srpo.grading.is_equivalent`
in place of the official sympy). Units are not removed: the prompt asks for the unit outside the box, and the
official judge marks `0.64 N` against `0.64` wrong. Lenient mode (`lenient=True`) removes a trailing unit.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator
from pathlib import Path

from srpo.data.files import DataError
from srpo.data.formats import image_refs
from srpo.data.sample import Sample
from srpo.grading import (
    boxed_contents,
    is_equivalent,
    normalize_answer,
    split_top_level,
    strip_unit,
    to_number,
)
from srpo.grading.expressions import collections_equal, constant_value, numerically_equal
from srpo.grading.mathverify import math_verify_equal
from srpo.tasks import register
from srpo.tasks.base import Task, Verdict, published_rows, require, rows_of
from srpo.tasks.published import PublishedRow, published_row

_SYMBOLS = {
    "\\left": "",
    "\\right": "",
    "∶": ":",
    "，": ",",
    "$": "",
    "\\approx": "=",
    "\\simeq": "=",
    "\\sim": "=",
    "^\\prime": "'",
    "^{\\prime}": "'",
    "^\\circ": "",
    "\\%": "",  # not in the official map, which leaves "25\\" behind
    "%": "",
}
_ROMAN_WRAPPER = re.compile(r"\\(?:mathrm|mathbf)\{~?([^{}]{0,200})\}")
_FINAL = {"English": "So the final answer is", "Chinese": "所以最终答案是"}
_DOLLARS = re.compile(r"\$(.*?)\$")
_INLINE_IMAGE = re.compile(r"<img_(\d+)>")
_CJK = re.compile(r"[\u4e00-\u9fff]+")
DEFAULT_TOLERANCE = 1e-8
_END_NOISE = "\n$,.:;^_=+`!@#%&*~，。 "
"""Characters stripped from both ends of an answer (a set, as `str.strip` reads it)."""
SUBJECTS = {"maths": "Math", "physics": "Physics"}
LANGUAGES = {"en": "English", "zh": "Chinese"}


def _files(path: Path) -> list[Path]:
    if path.is_dir() and any(
        (path / f).exists() for f in ("dataset_info.json", "state.json", "dataset_dict.json")
    ):
        return [path]  # a Hugging Face save_to_disk folder: read it whole
    if path.is_dir():
        files = sorted(path.glob("*.json")) or sorted((path / "data").glob("*.json"))
        return files or [path]  # a Parquet or save_to_disk folder: read it whole
    return [path]


def _from_file_name(stem: str) -> dict[str, str]:
    """Subject and language from a release file name such as `OE_MM_maths_en_COMP`."""
    parts = stem.split("_")
    out = {}
    for part in parts:
        if part in SUBJECTS:
            out["subject"] = SUBJECTS[part]
        if part in LANGUAGES:
            out["language"] = LANGUAGES[part]
    return out


def final_answer_text(text: str, language: str = "English") -> str:
    """What the official judge reads: the rest of the line after the last final-answer phrase, else all."""
    phrase = _FINAL.get(language, _FINAL["English"])
    at = text.rfind(phrase)
    if at < 0 and language != "English":
        phrase = _FINAL["English"]
        at = text.rfind(phrase)
    if at < 0:
        return text
    return text[at + len(phrase) :].split("\n", 1)[0]


def read_answers(text: str) -> str | None:
    """The official preprocessing of a model's answer text: every box (joined by commas), else the `$…$`
    spans of its last line, else the text itself; None when there is nothing."""
    boxes = boxed_contents(text)
    if boxes:
        return ", ".join(boxes)
    lines = [line for line in text.strip().split("\n") if line.strip()]
    if lines:
        spans = [s for s in _DOLLARS.findall(lines[-1]) if s.strip()]
        if spans:
            return ", ".join(spans)
    return text.strip() or None


def clean(expression: str) -> str:
    """The official preprocessing of one side: symbols dropped, `x \\in S` → `S`, ends stripped."""
    s = expression
    if "\\in " in s:
        s = s.split("\\in ", 1)[1]
    for symbol, replacement in _SYMBOLS.items():
        s = s.replace(symbol, replacement)
    s = s.strip(_END_NOISE)
    return _ROMAN_WRAPPER.sub(r"\1", s)


def _expand_pm(items: list[str]) -> list[str]:
    out: list[str] = []
    for item in items:
        if "\\pm" in item:
            out += [item.replace("\\pm", "+"), item.replace("\\pm", "-")]
        else:
            out.append(item)
    return out


def _tolerances(error: object, n: int) -> list[float]:
    if error in (None, ""):
        return [DEFAULT_TOLERANCE] * n
    values = []
    for part in str(error).split(","):
        try:
            values.append(float(part) if part.strip() else DEFAULT_TOLERANCE)
        except ValueError:
            values.append(DEFAULT_TOLERANCE)
    return values * n if len(values) == 1 else values + [DEFAULT_TOLERANCE] * max(0, n - len(values))


def answers_match(gold: str, pred: str, tolerance: float, lenient: bool = False) -> bool:
    """One reference answer against one predicted answer (both already cleaned). Officially a number is
    what `float()` reads ("19.6 m/s" is not 19.6); `lenient` reads numbers with units too."""
    if gold == pred and gold:
        return True
    read = to_number if lenient else _float
    g, p = read(gold), read(pred)
    if g is not None and p is not None:
        return any(abs(r - p) <= tolerance * 1.01 for r in (g / 100, g, g * 100))
    same = _equivalent if lenient else _same_expression
    if "=" in gold and "=" in pred:
        left_g, right_g = gold.split("=", 1)
        left_p, right_p = pred.split("=", 1)
        return same(left_g, left_p) and same(right_g, right_p)
    return same(gold.split("=")[-1], pred.split("=")[-1])


def _float(s: str) -> float | None:
    """A number as the official judge reads one: `float()`, or a constant expression sympy evaluates
    (``\\frac{1}{4}``, ``2\\sqrt{3}``); None for anything with a symbol in it."""
    try:
        value = float(s)
    except ValueError:
        value = constant_value(normalize_answer(s))
    return value if value is not None and math.isfinite(value) else None


def _equivalent(a: str, b: str) -> bool:
    a, b = a.strip(), b.strip()
    return bool(a and b) and (a == b or is_equivalent(b, a))


def _same_expression(a: str, b: str) -> bool:
    """Equal as expressions, as sympy would judge them: by value at sample points (symbols stay symbols,
    so a unit is a factor, not noise), else by math-verify."""
    a, b = normalize_answer(a), normalize_answer(b)
    if not a or not b:
        return False
    if a.replace(" ", "") == b.replace(" ", ""):
        return True
    for check in (numerically_equal, collections_equal):
        decided = check(a, b)
        if decided is not None:
            return decided
    return math_verify_equal(a, b)


class OlympiadBenchTask(Task):
    name = "olympiadbench"
    summary = "OlympiadBench: open-ended olympiad maths and physics; multiple answers, units, tolerances."
    groups = ("category", "subfield", "language")
    aliases = ("Hothan/OlympiadBench", "olympiad_bench")

    # ------------------------------------------------------------------------------------------ reading

    def samples(self, path: str | os.PathLike) -> Iterator[Sample]:
        root = require(path)
        for file in _files(root):
            subset = file.stem if file.suffix == ".json" else ""
            if subset.startswith("TP_"):
                continue
            from_name = _from_file_name(subset)
            base = file.parent.parent if file.parent.name == "data" else file.parent
            for location, row in rows_of(file, "OlympiadBench", ("id", "question", "final_answer")):
                if str(row.get("question_type", "")).lower().startswith("theorem"):
                    continue
                yield self._sample(row, location, base, subset, from_name)

    def _sample(self, row: dict, location: str, base: Path, subset: str, from_name: dict) -> Sample:
        final = row["final_answer"]
        if not isinstance(final, list) or not final:
            raise DataError(f"{location}: 'final_answer' must be a non-empty list of strings")
        question = str(row["question"])
        context = row.get("context")
        if isinstance(context, str) and context.strip() and context.strip().lower() != "nan":
            question = f"{context}\n{question}"
        inline = [f"images/img_{n}.jpg" for n in _INLINE_IMAGE.findall(question)]
        images = list(dict.fromkeys(inline)) + image_refs(*(row.get(f"image_{k}") for k in range(1, 6)))
        subject = row.get("subject") or from_name.get("subject")
        if not subject:
            raise DataError(
                f"{location}: no subject: the row has no `subject` and the file name ({subset or 'a folder'}) "
                "does not say maths or physics; keep the release's file names (e.g. OE_MM_maths_en_COMP.json)"
            )
        sample = Sample(
            id=str(row["id"]),
            question=_INLINE_IMAGE.sub(
                lambda m: f"<image {inline.index(f'images/img_{m.group(1)}.jpg') + 1}>", question
            ),
            answer=str(final[0]),
            images=images,
            rationale="\n".join(row["solution"]) if isinstance(row.get("solution"), list) else None,
            meta={
                "category": subject,
                "subfield": row.get("subfield") or "unknown",
                "language": row.get("language") or from_name.get("language") or "English",
                "subset": subset or None,
                "answer_type": row.get("answer_type"),
                "is_multiple_answer": bool(row.get("is_multiple_answer")),
                "unit": row.get("unit") or None,
                "error": row.get("error") or None,
                "image_root": str(base.resolve()),
            },
        )
        return sample

    def prompt(self, sample: Sample) -> str:
        subject = str(sample.meta.get("category", "")).lower() or "science"
        kind = sample.meta.get("answer_type")
        several = sample.meta.get("is_multiple_answer")
        lines = [f"This is an open-ended {subject} problem from an international competition."]
        if several:
            lines.append(
                "It has several answers"
                + (f" ({_article(kind)} each)" if kind and "," not in str(kind) else "")
                + ": put all of them in \\boxed{}, separated by commas."
            )
        elif kind:
            lines.append(f"Its answer is {_article(kind)}.")
        lines.append(
            "Solve it from the information given, writing variables and formulas in LaTeX, and end with the "
            'sentence "So the final answer is \\boxed{ANSWER}."'
        )
        if sample.meta.get("unit"):
            lines.append(f"Give the unit ({sample.meta['unit']}) outside the box, not inside it.")
        return "\n".join(lines) + "\n" + sample.question.strip()

    # ------------------------------------------------------------------------------------------ judging

    def read(self, text: str, *, block: bool = True, sample: Sample | None = None) -> str | None:
        return read_answers(final_answer_text(text, _language(sample)))

    def boxed_answer(self, text: str, sample: Sample | None = None) -> str | None:
        """With `require_boxed`: the boxes of the final-answer line (several boxes are several answers)."""
        boxes = boxed_contents(final_answer_text(text, _language(sample)))
        return ", ".join(boxes) if boxes else None

    def score(self, extraction: str, sample: Sample) -> Verdict:
        unit = sample.meta.get("unit") if self.lenient else None
        pred_items = [
            clean(strip_unit(p, unit) if unit else p)
            for p in split_top_level(clean(extraction), keep_empty=False)
        ]
        gold_items = [clean(g) for g in split_top_level(clean(sample.answer), keep_empty=False)]
        prediction = ", ".join(pred_items)
        pred_items = [_CJK.sub("", p) for p in _expand_pm(pred_items)]
        gold_items = [_CJK.sub("", g) for g in _expand_pm(gold_items)]
        if not pred_items or len(pred_items) != len(gold_items):
            return Verdict(prediction, False)
        tolerances = _tolerances(sample.meta.get("error"), len(gold_items))
        remaining = list(pred_items)
        for gold, tolerance in zip(gold_items, tolerances, strict=False):
            match = next((p for p in remaining if answers_match(gold, p, tolerance, self.lenient)), None)
            if match is None:
                return Verdict(prediction, False)
            remaining.remove(match)
        return Verdict(prediction, True)

    def read_results(self, path: str | os.PathLike) -> Iterator[PublishedRow]:
        """`merged_result/<model>/<file>.json`: the data row + `model_output: {<model>: {raw_output, answer,
        correctness}}` (the first model of each row)."""
        for location, row in published_rows(path, "OlympiadBench"):
            outputs = row.get("model_output")
            if row.get("id") is None or not isinstance(outputs, dict) or not outputs:
                raise DataError(f"{location}: expected `id` and `model_output: {{model: {{raw_output, …}}}}`")
            output = next(iter(outputs.values()))
            output = {**output, "id": row["id"]} if isinstance(output, dict) else {"id": row["id"]}
            yield published_row(
                location, output, id="id", response="raw_output", extraction="answer", verdict="correctness"
            )


def _language(sample: Sample | None) -> str:
    return str(sample.meta.get("language", "English")) if sample is not None else "English"


def _article(kind: object) -> str:
    words = {
        "numerical": "numerical value",
        "expression": "expression",
        "equation": "equation",
        "interval": "interval",
    }
    text = words.get(str(kind).lower(), str(kind).lower())
    return ("an " if text[:1] in "aeiou" else "a ") + text


OLYMPIADBENCH = register(OlympiadBenchTask())
