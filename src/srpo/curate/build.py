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
from typing import Any

from srpo.curate.prompts import LETTERS, question_text
from srpo.data.formats import GOLD_UNCLEAR
from srpo.data.images import ImageError, kind_of, resolve_image
from srpo.data.sample import Sample
from srpo.journal import iter_jsonl
from srpo.response import REFLECTION_SYSTEM_PROMPT, boxed, five_block_response

_TAGS = re.compile(r"</?(?:think|answer|reflection)>")


@dataclass
class BuildReport:
    """What `build` kept and dropped, and why."""

    output: Path
    kept_correct: int = 0
    kept_wrong: int = 0
    dropped: Counter = field(default_factory=Counter)

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
        return "\n".join(lines)


def final_answer_text(sample: Sample) -> str:
    """The gold answer as the final `<answer>` holds it: `\\boxed{gold}`; for multiple-choice with a gold
    given as option text, the option's letter."""
    gold = sample.answer.strip()
    if sample.choices and gold in sample.choices and not (len(gold) == 1 and gold.upper() in LETTERS):
        gold = LETTERS[sample.choices.index(gold)]
    return boxed(gold)


def first_attempt_blocks(attempt: dict[str, Any]) -> tuple[str, str]:
    """(first think, first answer) from a graded attempt, with any stray tags removed (they would break the
    five-block structure); empty think when there is nothing usable."""
    think = _TAGS.sub(" ", attempt.get("think") or "").strip()
    if not think:
        think = _TAGS.sub(" ", attempt.get("text") or "").strip()
    answer = _TAGS.sub(" ", attempt.get("answer") or "").strip()
    if not answer:
        pred = attempt.get("pred")
        answer = (
            boxed(_TAGS.sub(" ", pred).strip())
            if pred and _TAGS.sub(" ", pred).strip()
            else "I could not reach an answer."
        )
    return think, answer


def sft_row(
    sample: Sample,
    attempt: dict[str, Any],
    reflection: dict[str, Any],
    images: list[str],
    image_root: str | None,
) -> dict[str, Any]:
    """One SFT row (module doc) from a sample, its first attempt and the teacher's reflection."""
    think, first = first_attempt_blocks(attempt)
    second = (reflection.get("revised_reasoning") or "").strip() or (sample.rationale or "").strip()
    target = five_block_response(think, first, reflection["reflection"], second, final_answer_text(sample))
    user = [{"type": "image"} for _ in images] + [{"type": "text", "text": question_text(sample)}]
    return {
        "id": sample.id,
        "messages": [
            {"role": "system", "content": [{"type": "text", "text": REFLECTION_SYSTEM_PROMPT}]},
            {"role": "user", "content": user},
            {"role": "assistant", "content": [{"type": "text", "text": target}]},
        ],
        "images": images,
        "image_root": image_root,
        "answer": sample.answer,
        "choices": sample.choices,
        "first_correct": bool(attempt.get("correct")),
        "first_format_ok": bool(attempt.get("format_ok")),
    }


def resolved_images(sample: Sample, image_root: str | None) -> list[str]:
    """Local images as absolute confined paths (ImageError when missing/outside); others unchanged."""
    out = []
    for ref in sample.images:
        r = resolve_image(ref, image_root)
        out.append(str(r) if isinstance(r, Path) else (r if isinstance(r, str) else r.to_data_url()))
    return out


def build(
    answers: str | os.PathLike,
    reflections: str | os.PathLike,
    output: str | os.PathLike,
    *,
    correct_ratio: float = 0.3,
    max_samples: int | None = None,
    seed: int = 0,
    max_chars: int = 12000,
) -> BuildReport:
    """Write the SFT file (module doc) and return what was kept and dropped. `max_chars` bounds the target
    length (≈ 4096 tokens at ~3 characters per token)."""
    if not 0.0 <= correct_ratio <= 1.0:
        raise ValueError(f"--correct-ratio must be within [0, 1], got {correct_ratio}")
    report = BuildReport(Path(output))
    refl: dict[str, dict[str, Any]] = {}
    for r in iter_jsonl(reflections):
        if r.get("id") is not None and r.get("reflection"):
            refl[str(r["id"])] = r
    pools: dict[bool, list[dict[str, Any]]] = {True: [], False: []}
    seen: set[str] = set()
    for row in iter_jsonl(answers):
        rid = str(row.get("id"))
        reflection = refl.get(rid)
        if reflection is None:
            report.dropped["no reflection for the id"] += 1
            continue
        try:
            sample = Sample.from_dict(row["sample"])
            attempt = row["attempts"][int(reflection.get("attempt") or 0)]
        except (KeyError, IndexError, TypeError, ValueError):
            report.dropped["malformed answers row"] += 1
            continue
        if sample.meta.get(GOLD_UNCLEAR):
            report.dropped["gold answer not isolated (a target cannot end in it; see srpo data inspect)"] += 1
            continue
        try:
            images = resolved_images(sample, row.get("image_root"))
        except ImageError:
            report.dropped["image missing or outside the image root"] += 1
            continue
        key = _dedup_key(sample.question, images)
        if key in seen:
            report.dropped["duplicate (same image and question)"] += 1
            continue
        seen.add(key)
        if not first_attempt_blocks(attempt)[0]:
            report.dropped["empty first attempt"] += 1
            continue
        out = sft_row(sample, attempt, reflection, images, row.get("image_root"))
        if len(out["messages"][2]["content"][0]["text"]) > max_chars:
            report.dropped[f"longer than {max_chars} characters"] += 1
            continue
        pools[out["first_correct"]].append(out)

    chosen = _mix(pools[True], pools[False], correct_ratio, max_samples, random.Random(seed), report)
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(str(output) + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for r in chosen:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    os.replace(tmp, output)
    return report


def _mix(
    correct: list, wrong: list, ratio: float, max_samples: int | None, rng: random.Random, report: BuildReport
) -> list:
    correct.sort(key=lambda r: r["id"])  # answers arrive in completion order; make the draw order-free
    wrong.sort(key=lambda r: r["id"])
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
