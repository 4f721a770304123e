"""`srpo curate build`: assemble five-block SFT samples from answers + reflections.

Target = the policy's first attempt (its own `<think>` and `<answer>`; when the attempt is not in that
form, its raw text — tags removed — stands as the reasoning and its extracted answer as the answer), the
teacher's `<reflection>`, a second `<think>` (the teacher's revised reasoning, else the source's gold
rationale), and a final `<answer>` holding the gold answer in `\\boxed{}` (the option letter for
multiple-choice). The system prompt is `srpo.response.REFLECTION_SYSTEM_PROMPT`.

Correct-first and wrong-first samples are mixed at `correct_ratio` (deterministic per seed). When one kind
is short, all of it is used and the other fills up; the achieved ratio is reported. Duplicates (same
question + images) and samples longer than `max_chars` characters are dropped; every drop is counted by
reason.

Output row (JSONL, TRL "messages" layout; read by `srpo sft`)::

    {"id": str,
     "messages": [{"role": "system", "content": [{"type": "text", "text": str}]},
                  {"role": "user", "content": [{"type": "image"}, ..., {"type": "text", "text": str}]},
                  {"role": "assistant", "content": [{"type": "text", "text": five_block_target}]}],
     "images": [str, ...],        # one per {"type": "image"}, in order: absolute local paths (or URLs /
                                  # data URLs when the data had them)
     "image_root": str | None,    # the folder the local paths are confined to (srpo.data.images)
                                  # (`srpo.records.SFTRow`)
     "answer": str, "choices": [str] | None,
     "first_correct": bool, "first_format_ok": bool}
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from srpo.data.formats import GOLD_UNCLEAR
from srpo.data.images import ImageError, kind_of, resolved_refs
from srpo.data.sample import Sample
from srpo.errors import refuse_overwrite
from srpo.grading import LETTERS
from srpo.journal import write_jsonl_atomic
from srpo.records import AnswerRecord, Attempt, RecordStats, ReflectionRecord, SFTRow, read_records
from srpo.response import REFLECTION_SYSTEM_PROMPT, boxed, five_block_response
from srpo.tasks import get_task

_TAGS = re.compile(r"</?(?:think|answer|reflection)>")


@dataclass
class BuildReport:
    """What `build` kept and dropped, and why."""

    output: Path
    kept_correct: int = 0
    kept_wrong: int = 0
    dropped: Counter = field(default_factory=Counter)
    answers: RecordStats = field(default_factory=RecordStats)
    reflections: RecordStats = field(default_factory=RecordStats)

    @property
    def kept(self) -> int:
        return self.kept_correct + self.kept_wrong

    def summary(self) -> str:
        ratio = self.kept_correct / self.kept if self.kept else 0.0
        lines = [
            f"build: kept {self.kept} ({self.kept_correct} correct-first, {self.kept_wrong} wrong-first, "
            f"ratio {ratio:.2f}) → {self.output}"
        ]
        lines += [
            f"  dropped {n}: {reason}" for reason, n in sorted(self.dropped.items(), key=lambda x: -x[1])
        ]
        lines += [
            f"  {name}: {stats.summary()}"
            for name, stats in (("answers", self.answers), ("reflections", self.reflections))
        ]
        return "\n".join(lines)


def final_answer_text(sample: Sample) -> str:
    """The gold answer as the final `<answer>` holds it: `\\boxed{gold}`; for multiple-choice with a gold
    given as option text, the option's letter."""
    gold = sample.answer.strip()
    if sample.choices and gold in sample.choices and not (len(gold) == 1 and gold.upper() in LETTERS):
        gold = LETTERS[sample.choices.index(gold)]
    return boxed(gold)


def first_attempt_blocks(attempt: Attempt) -> tuple[str, str]:
    """(first think, first answer) from a graded attempt, with any stray tags removed (they would break the
    five-block structure); empty think when there is nothing usable."""
    think = _TAGS.sub(" ", attempt.think).strip() or _TAGS.sub(" ", attempt.text).strip()
    answer = _TAGS.sub(" ", attempt.answer).strip()
    if not answer:
        pred = _TAGS.sub(" ", attempt.pred or "").strip()
        answer = boxed(pred) if pred else "I could not reach an answer."
    return think, answer


def sft_row(record: AnswerRecord, reflection: ReflectionRecord, images: list[str]) -> SFTRow:
    """One SFT row (module doc) from an answers record, the attempt reflected on and the reflection."""
    sample, attempt = record.sample, record.attempts[reflection.attempt]
    think, first = first_attempt_blocks(attempt)
    second = reflection.revised_reasoning.strip() or (sample.rationale or "").strip()
    target = five_block_response(think, first, reflection.reflection, second, final_answer_text(sample))
    user_text = get_task(record.task).prompt(sample)
    user = [{"type": "image"} for _ in images] + [{"type": "text", "text": user_text}]
    return SFTRow(
        id=sample.id,
        messages=[
            {"role": "system", "content": [{"type": "text", "text": REFLECTION_SYSTEM_PROMPT}]},
            {"role": "user", "content": user},
            {"role": "assistant", "content": [{"type": "text", "text": target}]},
        ],
        images=images,
        image_root=record.image_root,
        answer=sample.answer,
        choices=sample.choices,
        first_correct=bool(attempt.correct),
        first_format_ok=attempt.format_ok,
    )


def build(
    answers: str | os.PathLike,
    reflections: str | os.PathLike,
    output: str | os.PathLike,
    *,
    correct_ratio: float = 0.3,
    max_samples: int | None = None,
    seed: int = 0,
    max_chars: int = 12000,
    skip_bad: bool = False,
) -> BuildReport:
    """Write the SFT file (module doc) and return what was kept and dropped. `max_chars` bounds the target
    length (≈ 4096 tokens at ~3 characters per token). A bad line in `answers` or `reflections` is an error
    naming it, unless `skip_bad` (then it is counted)."""
    if not 0.0 <= correct_ratio <= 1.0:
        raise ValueError(f"--correct-ratio must be within [0, 1], got {correct_ratio}")
    refuse_overwrite(output, answers=answers, reflections=reflections)
    report = BuildReport(Path(output))
    refl: dict[str, ReflectionRecord] = {
        r.id: r
        for r in read_records(reflections, ReflectionRecord, skip_bad=skip_bad, stats=report.reflections)
    }
    pools: dict[bool, list[SFTRow]] = {True: [], False: []}
    seen: set[str] = set()
    for record in read_records(answers, AnswerRecord, skip_bad=skip_bad, stats=report.answers):
        reflection = refl.get(record.id)
        if reflection is None:
            report.dropped["no reflection for the id"] += 1
            continue
        if reflection.attempt >= len(record.attempts):
            report.dropped["the reflection names an attempt the answers row does not have"] += 1
            continue
        sample = record.sample
        if sample.meta.get(GOLD_UNCLEAR):
            report.dropped["gold answer not isolated (a target cannot end in it; see srpo data inspect)"] += 1
            continue
        if not sample.answer.strip():
            report.dropped["empty gold answer"] += 1
            continue
        try:
            images = resolved_refs(sample.images, sample.meta.get("image_root"))
        except ImageError:
            report.dropped["image missing or outside the image root"] += 1
            continue
        if not first_attempt_blocks(record.attempts[reflection.attempt])[0]:
            report.dropped["empty first attempt"] += 1
            continue
        row = sft_row(record, reflection, images)
        if len(row.text_of("assistant")) > max_chars:
            report.dropped[f"longer than {max_chars} characters"] += 1
            continue
        key = _dedup_key(sample.question, images)  # only a kept row makes later copies duplicates
        if key in seen:
            report.dropped["duplicate (same image and question)"] += 1
            continue
        seen.add(key)
        pools[row.first_correct].append(row)

    chosen = _mix(pools[True], pools[False], correct_ratio, max_samples, random.Random(seed), report)
    write_jsonl_atomic(output, (r.to_dict() for r in chosen))
    return report


def _mix(
    correct: list, wrong: list, ratio: float, max_samples: int | None, rng: random.Random, report: BuildReport
) -> list:
    correct.sort(key=lambda r: r.id)  # answers arrive in completion order; make the draw order-free
    wrong.sort(key=lambda r: r.id)
    total = len(correct) + len(wrong)
    if max_samples is not None:
        n = min(max_samples, total)
    else:
        limits = [
            len(correct) / ratio if ratio > 0 else float("inf"),
            len(wrong) / (1 - ratio) if ratio < 1 else float("inf"),
        ]
        n = int(min(limits) + 1e-9)
        if n == 0:
            n = total  # one kind is missing entirely: keep what there is rather than nothing
    n_correct = min(round(n * ratio), len(correct))
    n_wrong = min(n - n_correct, len(wrong))
    n_correct = min(len(correct), n - n_wrong)
    report.kept_correct, report.kept_wrong = n_correct, n_wrong
    if len(correct) > n_correct:
        report.dropped["over the correct-first quota"] += len(correct) - n_correct
    if len(wrong) > n_wrong:
        report.dropped["over the wrong-first quota"] += len(wrong) - n_wrong
    chosen = rng.sample(correct, n_correct) + rng.sample(wrong, n_wrong)
    rng.shuffle(chosen)
    return chosen


def _dedup_key(question: str, images: list[str]) -> str:
    norm = " ".join(question.lower().split())
    refs = [hashlib.sha1(i.encode()).hexdigest() if kind_of(i) == "data" else i for i in images]
    return hashlib.sha1(json.dumps([norm, refs]).encode()).hexdigest()
