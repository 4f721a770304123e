"""OlympiadBench: open-ended olympiad math and physics, single or multiple answers, units, tolerances.

Layout: the release's folder of subset files named like `OE_MM_maths_en_COMP.json` (OE = open-ended,
TP = theorem proving; MM = multimodal, TO = text only), each a JSON array of rows with `id`, `question`,
`context`, `final_answer` (a list; the first item is the reference), `is_multiple_answer`, `unit`,
`answer_type`, `error` (numeric tolerance, comma-separated per answer), `subject`, `subfield`,
`language` and images `image_1` … `image_5`; or a single such file; or the Parquet files of the Hugging
Face release. Theorem-proving problems cannot be scored automatically and are skipped (as in the
official judge).

Scoring follows the official `MathJudger`: all `\\boxed{}` contents of the answer form the prediction;
decorative symbols (`$`, `\\left`, `\\right`, `^\\circ`, `%`, …) are dropped; `x \\in S` keeps `S`;
answers are split on top-level commas, `\\pm` expands to both signs, and the predicted answers must pair
up one-to-one (in any order) with the reference answers. Two answers match when equal as text, or as
numbers within the tolerance (absolute, `error` or 1e-8, times 1.01; the reference ×100 and ÷100 count
too, for percentages), or as expressions (right-hand sides of `=`) by `srpo.grading.is_equivalent`.
A trailing `unit` is removed from the prediction.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

from srpo.data.files import DataError
from srpo.data.formats import image_refs
from srpo.data.sample import Sample
from srpo.grading import boxed_contents, split_top_level, strip_unit, to_number
from srpo.tasks import register
from srpo.tasks.base import (
    Task,
    Verdict,
    image_root_for,
    require,
    rows_of,
)

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
_ROMAN_WRAPPER = re.compile(r"\\(?:mathrm|mathbf)\{~?([^}]*)\}")
_FINAL_IS = re.compile(r"final answer is[:\s]*(.+)", re.I)
DEFAULT_TOLERANCE = 1e-8
_END_NOISE = "\n$,.:;^_=+`!@#%&*~，。 "
"""Characters stripped from both ends of an answer (a set, as `str.strip` reads it)."""


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(path.glob("*.json"))
        return files or [path]  # a Parquet folder: read it whole
    return [path]


def _article(kind: str) -> str:
    kind = str(kind).lower()
    return ("an " if kind[:1] in "aeiou" else "a ") + kind


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


def answers_match(gold: str, pred: str, tolerance: float) -> bool:
    """One reference answer against one predicted answer (both already cleaned)."""
    if gold == pred and gold:
        return True
    g, p = to_number(gold), to_number(pred)
    if g is not None and p is not None:
        return any(abs(r - p) <= tolerance * 1.01 for r in (g / 100, g, g * 100))
    if "=" in gold and "=" in pred:
        left_g, right_g = gold.split("=", 1)
        left_p, right_p = pred.split("=", 1)
        return _equivalent(left_g, left_p) and _equivalent(right_g, right_p)
    return _equivalent(gold.split("=")[-1], pred.split("=")[-1])


def _equivalent(a: str, b: str) -> bool:
    from srpo.grading import is_equivalent

    a, b = a.strip(), b.strip()
    return bool(a and b) and (a == b or is_equivalent(b, a))


class OlympiadBenchTask(Task):
    name = "olympiadbench"
    summary = "OlympiadBench: open-ended olympiad maths and physics; multiple answers, units, tolerances."
    groups = ("category", "subfield", "language")
    aliases = ("Hothan/OlympiadBench", "olympiad_bench")

    def load(self, path: str | os.PathLike) -> Iterator[Sample]:
        root = require(path)
        for file in _files(root):
            subset = file.stem if file.suffix == ".json" else ""
            if subset.startswith("TP_"):
                continue
            image_root: Path | None = None
            for location, row in rows_of(file, "OlympiadBench", ("id", "question", "final_answer")):
                if str(row.get("question_type", "")).lower().startswith("theorem"):
                    continue
                final = row["final_answer"]
                if not isinstance(final, list) or not final:
                    raise DataError(f"{location}: 'final_answer' must be a non-empty list of strings")
                images = image_refs(*(row.get(f"image_{k}") for k in range(1, 6)))
                if image_root is None and images:
                    image_root = image_root_for(file, images)
                question = str(row["question"])
                if row.get("context"):
                    question = f"{row['context']}\n{question}"
                yield Sample(
                    id=str(row["id"]),
                    question=question,
                    answer=str(final[0]),
                    images=images,
                    rationale="\n".join(row["solution"]) if isinstance(row.get("solution"), list) else None,
                    meta={
                        "category": row.get("subject") or "unknown",
                        "subfield": row.get("subfield") or "unknown",
                        "language": row.get("language") or "unknown",
                        "subset": subset or None,
                        "answer_type": row.get("answer_type"),
                        "is_multiple_answer": bool(row.get("is_multiple_answer")),
                        "unit": row.get("unit") or None,
                        "error": row.get("error") or None,
                        "image_root": str(image_root or image_root_for(file, [])),
                    },
                )

    def prompt(self, sample: Sample) -> str:
        subject = str(sample.meta.get("category", "")).lower() or "science"
        lines = [f"This is an open-ended {subject} competition problem.", sample.question.strip()]
        kind = sample.meta.get("answer_type")
        if sample.meta.get("is_multiple_answer"):
            lines.append(
                "The problem has several answers: put all of them in \\boxed{}, separated by commas."
                + (f" Each answer is {_article(kind)}." if kind else "")
            )
        elif kind:
            lines.append(f"The answer is {_article(kind)}. Put it in \\boxed{{}}.")
        else:
            lines.append("Put the final answer in \\boxed{}.")
        if sample.meta.get("unit"):
            lines.append(f"Do not write the unit ({sample.meta['unit']}) inside the box.")
        return "\n".join(lines)

    def extract(self, text: str, *, block: bool = True, sample: Sample | None = None) -> str | None:
        """All boxed answers joined by commas (several boxes = several answers), else "final answer is …",
        else the shared rules."""
        boxes = boxed_contents(text)
        if boxes:
            return ", ".join(boxes)
        found = _FINAL_IS.findall(text)
        if found:
            return found[-1].strip().rstrip(".")
        return super().extract(text, block=block, sample=sample)

    def score(self, extraction: str | None, sample: Sample) -> Verdict:
        if extraction is None or not extraction.strip():
            return Verdict(None, False)
        unit = sample.meta.get("unit")
        pred_items = [
            clean(strip_unit(p, unit)) for p in split_top_level(clean(extraction), keep_empty=False)
        ]
        gold_items = [clean(g) for g in split_top_level(clean(sample.answer), keep_empty=False)]
        prediction = ", ".join(pred_items)
        pred_items, gold_items = _expand_pm(pred_items), _expand_pm(gold_items)
        if not pred_items or len(pred_items) != len(gold_items):
            return Verdict(prediction, False)
        tolerances = _tolerances(sample.meta.get("error"), len(gold_items))
        remaining = list(pred_items)
        for gold, tolerance in zip(gold_items, tolerances, strict=False):
            match = next((p for p in remaining if answers_match(gold, p, tolerance)), None)
            if match is None:
                return Verdict(prediction, False)
            remaining.remove(match)
        return Verdict(prediction, True)


OLYMPIADBENCH = register(OlympiadBenchTask())
