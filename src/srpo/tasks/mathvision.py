"""MathVision (MATH-V): competition problems with options A–E or free-form answers, levels and subjects.

Layout: the GitHub release's `data/test.jsonl` / `data/testmini.jsonl` with images in `images/` beside
`data/` (rows: `id`, `question` with `<image1>` placeholders, `options` (list, empty for free form),
`image`, `answer` (a letter for multiple choice), `solution`, `level` 1–5, `subject`), or the Hugging Face
Parquet files (`decoded_image` bytes). A row whose image is missing is an error naming it.

The official evaluation (`evaluation/evaluate.py`, all rules, no LLM) reads the answer from the response
like this, and so does this task: a response that ends in " C." or " (C).", or starts with "C" or "(C)" on
its own line, is that letter; a response whose text after its last "is " is a number is that number;
without a box, the text after the last "the final answer is" / "the answer is" / "the correct answer is" /
"the answer should be" (up to the end of its line and sentence); with several boxes, the last one. That
text is then cleaned as MATH-V's `find_math_answer` cleans it (the content of the box, the value after
"=" or "\\approx", LaTeX spacing, units such as "km" and "units", degree marks and dollars removed, `a/b`
written as a fraction, option letters lower-cased) and compared with `is_equal`: case-insensitive text
equality, else equal values when both sides evaluate to numbers (a ratio "2:3" as 2/3), rounded to 2
decimals. A multiple-choice
answer is right when it equals the gold letter or the gold option's text or value.

Lenient mode (`lenient=True`) judges the text by `srpo.grading.is_equivalent` instead (expressions with
variables by value, an option named by its text or value), for a sound reading of free-form answers.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from srpo.data.formats import image_refs
from srpo.data.sample import Sample
from srpo.grading import LETTERS, choice_letter, is_equivalent, render_choices, unwrap
from srpo.grading.expressions import constant_value
from srpo.tasks import register
from srpo.tasks.base import Task, Verdict, image_root_for, published_rows, rows_of
from srpo.tasks.published import PublishedRow, published_row

_FLAGS = ("the final answer is", "the answer is", "the correct answer is", "the answer should be")
_CLEAN = (
    (" ", ""),
    ("\\,", ""),
    ("∞", "\\infty"),
    ("+\\infty", "\\infty"),
    ("\\\\", "\\"),
    ("\n", ""),
    ("\\text", ""),
    ("\\mbox", ""),
    ("bmatrix", "pmatrix"),
    ("\\left", ""),
    ("\\right", ""),
    ("^{\\circ}", ""),
    ("^\\circ", ""),
    ("{m}^3", ""),
    ("m^3", ""),
    ("{units}", ""),
    ("units", ""),
    ("{km}", ""),
    ("km", ""),
)
_LETTER_MARKS = tuple((f"({c})", c) for c in "abcde") + tuple(("{" + c + "}", c) for c in "abcde")


def _is_float(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def official_answer(response: str) -> str:
    """The answer MATH-V's evaluation reads from a response (its extraction and cleaning, described in the
    module doc). Never raises."""
    s = response.strip()
    for c in "ABCDE":
        if s.endswith((f" {c}.", f" ({c}).")) or s.startswith((f"{c}\n", f"({c})\n", f"({c}) {c}\n")):
            s = c
    after_is = s.split("is ")[-1].rstrip(".")
    if _is_float(after_is):
        s = after_is
    if "oxed{" not in s:
        for flag in _FLAGS:
            for spelling in (flag, flag.replace("the", "The")):
                found = spelling in s
                s = s.split(spelling)[-1].strip()
                if found:
                    s = s.split("\n")[0].split(". ")[0]
    elif s.count("oxed{") > 1:
        s = "\\boxed{" + s.split("oxed{")[-1]
    return _letter_marks(clean_answer(s))


def _letter_marks(s: str) -> str:
    """ "(b)" / "{b}" → "b", and the final period and a leading colon dropped, as the official code does."""
    for mark, letter in _LETTER_MARKS:
        s = s.replace(mark, letter)
    return s.rstrip(".").lstrip(":").strip()


def clean_answer(text: str) -> str:
    """MATH-V's `find_math_answer`: lower-case; the box content; the value after "=" / "\\approx"; LaTeX
    formatting, units and dollars removed."""
    s = text.lower().replace("{}", "")
    # The official `re.findall('oxed{(.*)}', s)[-1]` (greedy, DOTALL): from the first "oxed{" to the last "}".
    start, end = s.find("oxed{"), s.rfind("}")
    ans = s[start + 5 : end] if start >= 0 and end >= start + 5 else s
    close, open_ = ans.find("}"), ans.find("{")
    if close != -1 and (open_ == -1 or close < open_):
        ans = ans.split("}")[0]
    ans = ans.split("=")[-1].split("\\approx")[-1]
    for old, new in _CLEAN:
        ans = ans.replace(old, new)
    return _strip_string(ans)


def _strip_string(s: str) -> str:
    for old, new in (
        ("\n", ""),
        ("\\!", ""),
        ("\\\\", "\\"),
        ("tfrac", "frac"),
        ("dfrac", "frac"),
        ("\\left", ""),
        ("\\right", ""),
        ("^{\\circ}", ""),
        ("^\\circ", ""),
        ("\\$", ""),
        ("$", ""),
    ):
        s = s.replace(old, new)
    s = s.split("\\text{ ")[0]
    s = s.replace("\\%", "").replace(" .", " 0.").replace("{.", "{0.")
    if not s:
        return s
    if s[0] == ".":
        s = "0" + s
    if len(s.split("=")) == 2:
        s = s.split("=")[-1]
    if len(s.split("\\approx")) == 2:
        s = s.split("\\approx")[-1]
    if "sqrt" in s:
        s = _fix_sqrt(s)
    s = s.replace(" ", "")
    if "sqrt" in s:
        s = _fix_fracs(s)
    if s == "0.5":
        s = "\\frac{1}{2}"
    return _fix_slash(s)


def _fix_sqrt(s: str) -> str:
    """`\\sqrt3` → `\\sqrt{3}`."""
    parts = s.split("\\sqrt")
    out = parts[0]
    for part in parts[1:]:
        out += "\\sqrt{" + part[0] + "}" + part[1:] if part and part[0] != "{" else "\\sqrt" + part
    return out


def _fix_fracs(s: str) -> str:
    """`\\frac12` → `\\frac{1}{2}` (the official code does this only when a square root is present)."""
    parts = s.split("\\frac")
    out = parts[0]
    for part in parts[1:]:
        out += "\\frac"
        if part and part[0] == "{":
            out += part
            continue
        if len(part) < 2:
            return s
        a, b, rest = part[0], part[1], part[2:]
        out += "{" + a + "}{" + b + "}" + rest if b != "{" else "{" + a + "}" + b + rest
    return out


def _fix_slash(s: str) -> str:
    """`3/4` (two integers) → `\\frac{3}{4}`."""
    parts = s.split("/")
    if len(parts) != 2:
        return s
    try:
        a, b = int(parts[0]), int(parts[1])
    except ValueError:
        return s
    return f"\\frac{{{a}}}{{{b}}}" if s == f"{a}/{b}" else s


def _tuple_text(s: str) -> str:
    """A tuple or list of numbers with each element rounded to 2 decimals (MATH-V's `eval_tuple`)."""
    if len(s) < 2 or (s[0], s[-1]) not in (("(", ")"), ("[", "]")):
        return s
    items = s[1:-1].split(",")
    if len(items) < 2:
        return s
    values = []
    for item in items:
        if "infty" in item or item in ("a", "-a"):
            values.append(item)
            continue
        v = constant_value(item)
        if v is None:
            return s
        values.append(str(round(v, 2)))
    return s[0] + ",".join(values) + s[-1]


def official_equal(answer: str, gold: str) -> bool:
    """MATH-V's `is_equal`: case-insensitive text, tuples element by element, else values rounded to 2
    decimals when both sides evaluate to numbers."""
    a, g = answer.lower(), gold.lower()
    if not a.replace(" ", "") or not g.replace(" ", ""):
        return False
    if a.strip() == g.strip():
        return True
    a, g = _tuple_text(a), _tuple_text(g)
    if a == g:
        return True
    va, vg = _value(a), _value(g)
    return va is not None and vg is not None and round(va, 2) == round(vg, 2)


def _value(s: str) -> float | None:
    """A constant's value; a ratio "2:3" reads as 2/3, as latex2sympy reads it."""
    s = unwrap(s).replace(" ", "")
    if s.count(":") == 1:
        s = "({})/({})".format(*s.split(":"))
    return constant_value(s)


class MathVisionTask(Task):
    name = "mathvision"
    summary = "MathVision (MATH-V): competition math, options A–E or free form; by subject and level."
    groups = ("category", "level")
    aliases = ("MathLLMs/MathVision", "math-v", "mathv", "mathvision_test", "mathvision_testmini")

    def samples(self, path: str | os.PathLike) -> Iterator[Sample]:
        root: Path | None = None
        for _, row in rows_of(path, "MathVision", ("id", "question", "answer")):
            options = [str(o) for o in (row.get("options") or [])]
            images = image_refs(row.get("decoded_image") or row.get("image"))
            if root is None and images:
                root = image_root_for(Path(path), images)
            sample = Sample(
                id=str(row["id"]),
                question=str(row["question"]),
                answer=str(row["answer"]),
                images=images,
                choices=options or None,
                rationale=row.get("solution") or None,
                meta={
                    "category": row.get("subject") or "unknown",
                    "level": f"level {row['level']}" if row.get("level") is not None else "unknown",
                    "image_root": str(root or image_root_for(Path(path), [])),
                },
            )
            yield sample

    def prompt(self, sample: Sample) -> str:
        question = sample.question.strip()
        if sample.choices:
            return f"{question}\n{render_choices(sample.choices)}\nAnswer with the option letter."
        return question

    def read(self, text: str, *, block: bool = True, sample: Sample | None = None) -> str | None:
        if self.lenient:
            return super().read(text, block=block, sample=sample)
        found = official_answer(text)
        return found or None

    def score(self, extraction: str, sample: Sample) -> Verdict:
        gold = sample.answer.strip()
        options = sample.choices or []
        letter = gold.upper() if len(gold) == 1 else ""
        gold_value = (
            options[LETTERS.index(letter)] if options and letter and letter in LETTERS[: len(options)] else ""
        )
        if self.lenient:
            pred = unwrap(extraction)
            if options:
                pred = choice_letter(pred, options) or pred
            return Verdict(pred, is_equivalent(extraction, gold, options or None))
        pred = _letter_marks(
            extraction.strip().lower() if len(extraction.strip()) <= 3 else extraction.strip()
        )
        correct = official_equal(pred, gold) or (bool(gold_value) and official_equal(pred, gold_value))
        return Verdict(pred.upper() if len(pred) == 1 and options else pred, correct)

    def read_results(self, path: str | os.PathLike) -> Iterator[PublishedRow]:
        """`outputs/<family>/<model>.jsonl`: `id`, `response`, `model_answer`, `correct`."""
        for location, row in published_rows(path, "MATH-V"):
            yield published_row(
                location, row, id="id", response="response", extraction="model_answer", verdict="correct"
            )


MATHVISION = register(MathVisionTask())
