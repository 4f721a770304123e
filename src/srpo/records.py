"""The records the pipeline writes and reads back, typed, in one place: curation's answers and reflections,
the SFT rows `curate build` writes, and evaluation's score rows.

Each record converts to and from its JSONL line once (`to_dict` / `from_dict`), and `read_records` reads a file
of them with errors that name the file, the line and the fix: a line that is not valid JSON, not UTF-8, or not
the record it should be is an error — or, with `skip_bad`, a counted skip listed in the summary. Nothing is
dropped silently. A torn last line (a run killed mid-write) is skipped and counted.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from srpo.data.files import DataError
from srpo.data.sample import Sample


class RecordProblem(ValueError):
    """A line that does not fit its record type; `read_records` adds the file and line."""


def _need(d: dict[str, Any], key: str, types: type | tuple[type, ...], what: str) -> Any:
    if key not in d or d[key] is None:
        raise RecordProblem(f"missing {what} (`{key}`)")
    if not isinstance(d[key], types):
        raise RecordProblem(f"`{key}` must be {what}, got {type(d[key]).__name__}")
    return d[key]


# ------------------------------------------------------------------------------------------ curation


@dataclass
class Attempt:
    """One policy attempt, graded (`srpo curate answer`)."""

    text: str
    """The full response."""
    think: str = ""
    """Content of the first `<think>` block ("" when none)."""
    answer: str = ""
    """Content of the first `<answer>` block ("" when none)."""
    pred: str | None = None
    """The answer the task extracted."""
    correct: bool | None = None
    """The task's verdict; None when the gold could not be isolated (not graded)."""
    format_ok: bool = False
    """Exactly one `<think>` then one `<answer>` block."""
    finish_reason: str | None = None
    completion_tokens: int = 0

    @classmethod
    def from_dict(cls, d: Any) -> Attempt:
        if not isinstance(d, dict):
            raise RecordProblem("an attempt must be a JSON object")
        correct = d.get("correct")
        if correct is not None and not isinstance(correct, bool):
            raise RecordProblem("`correct` must be true, false or null")
        tokens = d.get("completion_tokens") or 0
        if isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 0:
            raise RecordProblem("`completion_tokens` must be a non-negative integer")
        return cls(
            text=str(d.get("text") or ""),
            think=str(d.get("think") or ""),
            answer=str(d.get("answer") or ""),
            pred=None if d.get("pred") is None else str(d["pred"]),
            correct=correct,
            format_ok=bool(d.get("format_ok")),
            finish_reason=d.get("finish_reason"),
            completion_tokens=tokens,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class AnswerRecord:
    """One line of `answers.jsonl`: a sample and the policy's graded attempts at it. The sample's image root
    (the folder its relative image paths live in) is `sample.meta["image_root"]`."""

    kind: ClassVar[str] = "answers"

    id: str
    sample: Sample
    attempts: list[Attempt]
    pass_rate: float | None
    """Correct attempts / attempts; None when they were not graded."""
    model: str = ""
    task: str = "math"
    """The task that judged the attempts (`srpo.tasks`)."""

    @property
    def image_root(self) -> str | None:
        root = self.sample.meta.get("image_root")
        return str(root) if root else None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AnswerRecord:
        raw_sample = _need(d, "sample", dict, "the sample")
        try:
            sample = Sample.from_dict(raw_sample)
        except (KeyError, TypeError, ValueError) as e:
            raise RecordProblem(f"`sample` is not a srpo sample ({type(e).__name__}: {e})") from None
        if raw_sample.get("answer") is None:
            raise RecordProblem("the sample has no gold `answer`")
        if d.get("image_root") and not sample.meta.get("image_root"):
            sample.meta["image_root"] = d["image_root"]  # files written before srpo 0.2 kept it here
        attempts = [Attempt.from_dict(a) for a in _need(d, "attempts", list, "a list of attempts")]
        if not attempts:
            raise RecordProblem("`attempts` is empty")
        rate = d.get("pass_rate")
        if rate is not None and (
            isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.0 <= rate <= 1.0
        ):
            raise RecordProblem("`pass_rate` must be a number from 0 to 1, or null")
        return cls(
            id=str(_need(d, "id", (str, int), "an id")),
            sample=sample,
            attempts=attempts,
            pass_rate=None if rate is None else float(rate),
            model=str(d.get("model") or ""),
            task=str(d.get("task") or "math"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "sample": self.sample.to_dict(),
            "model": self.model,
            "task": self.task,
            "attempts": [a.to_dict() for a in self.attempts],
            "pass_rate": self.pass_rate,
        }


@dataclass
class ReflectionRecord:
    """One line of `reflections.jsonl`: the teacher's reflection on one attempt (`srpo curate reflect`)."""

    kind: ClassVar[str] = "reflections"

    id: str
    reflection: str
    revised_reasoning: str = ""
    attempt: int = 0
    """Which attempt of the answers row was reflected on."""
    first_correct: bool = False
    teacher: str = ""

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ReflectionRecord:
        reflection = _need(d, "reflection", str, "the reflection text")
        if not reflection.strip():
            raise RecordProblem("`reflection` is empty")
        attempt = d.get("attempt") or 0
        if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 0:
            raise RecordProblem("`attempt` must be a non-negative integer")
        return cls(
            id=str(_need(d, "id", (str, int), "an id")),
            reflection=reflection,
            revised_reasoning=str(d.get("revised_reasoning") or ""),
            attempt=attempt,
            first_correct=bool(d.get("first_correct")),
            teacher=str(d.get("teacher") or ""),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------------------------------------- SFT


@dataclass
class SFTRow:
    """One line of `sft.jsonl` (`srpo curate build`): a TRL conversational row. `messages` hold typed content
    parts — `{"type": "text", "text": …}` and one `{"type": "image"}` per image, before the user's text — and
    stay in that form through export and training; `images` are absolute local paths (or URLs / data URLs),
    confined to `image_root`."""

    kind: ClassVar[str] = "SFT"

    id: str
    messages: list[dict[str, Any]]
    images: list[str] = field(default_factory=list)
    image_root: str | None = None
    answer: str = ""
    choices: list[str] | None = None
    first_correct: bool = False
    first_format_ok: bool = False

    def text_of(self, role: str) -> str:
        """The text of the first message with `role` (its text parts joined)."""
        for m in self.messages:
            if m.get("role") == role:
                return message_text(m.get("content"))
        return ""

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SFTRow:
        messages = _need(d, "messages", list, "a list of messages")
        roles = [m.get("role") if isinstance(m, dict) else None for m in messages]
        if None in roles or "assistant" not in roles or "user" not in roles:
            raise RecordProblem(
                "`messages` must be {role, content} objects with a user and an assistant turn"
            )
        images = d.get("images") or []
        if not isinstance(images, list) or not all(isinstance(i, str) for i in images):
            raise RecordProblem("`images` must be a list of paths or URLs")
        choices = d.get("choices")
        if choices is not None and not (
            isinstance(choices, list) and all(isinstance(c, str) for c in choices)
        ):
            raise RecordProblem("`choices` must be a list of option texts, or null")
        return cls(
            id=str(_need(d, "id", (str, int), "an id")),
            messages=messages,
            images=list(images),
            image_root=d.get("image_root"),
            answer=str(d.get("answer") or ""),
            choices=list(choices) if choices else None,
            first_correct=bool(d.get("first_correct")),
            first_format_ok=bool(d.get("first_format_ok")),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def message_text(content: Any) -> str:
    """A message's text: the string itself, or its text parts joined."""
    if isinstance(content, str):
        return content
    return "".join(
        str(p.get("text") or "") for p in content or [] if isinstance(p, dict) and p.get("type") == "text"
    )


# ----------------------------------------------------------------------------------------- evaluation


@dataclass
class ScoreRow:
    """One line of `scores.jsonl` (`srpo eval score` / `eval run`): how a response was read and judged."""

    id: str
    prediction: str | None
    correct: bool
    first_prediction: str | None
    first_correct: bool
    answer: str
    extraction: str | None
    extracted_by: str | None
    """"rules", "judge", "fallback", "given", or None when nothing was found."""
    first_extraction: str | None
    attempts: int
    format_ok: bool
    response_tokens: int
    reflection_tokens: int
    tokens_after_first_answer: int
    groups: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ------------------------------------------------------------------------------------------- reading

R = TypeVar("R", AnswerRecord, ReflectionRecord, SFTRow)


@dataclass
class RecordStats:
    """What `read_records` skipped, and why (the first few reasons)."""

    read: int = 0
    skipped: int = 0
    torn: int = 0
    """A last line without its newline: a run stopped mid-write (skipped)."""
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"{self.read} read"]
        if self.skipped:
            parts.append(f"{self.skipped} bad lines skipped (first: {'; '.join(self.problems[:3])})")
        if self.torn:
            parts.append("an unfinished last line skipped (the run that wrote it was stopped)")
        return ", ".join(parts)


def record_lines(path: str | os.PathLike, cls: type[R]) -> Iterator[tuple[int, R | RecordProblem]]:
    """(line number, record or the problem with that line) for every non-empty line of a JSONL file of
    `cls` records; a torn last line (a run killed mid-write) is left out."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: no such {cls.kind} file")
    with p.open("rb") as f:
        for n, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as e:
                    raise RecordProblem(f"not UTF-8 text (byte {e.start})") from None
                try:
                    row = json.loads(text)
                except json.JSONDecodeError as e:
                    if not raw.endswith(b"\n"):
                        yield n, TornLine("an unfinished last line (the run that wrote it was stopped)")
                        continue
                    raise RecordProblem(f"invalid JSON ({e.msg})") from None
                if not isinstance(row, dict):
                    raise RecordProblem("expected a JSON object")
                yield n, cls.from_dict(row)
            except RecordProblem as e:
                yield n, e


class TornLine(RecordProblem):
    """A last line without its newline: a run stopped mid-write; skipped, never an error."""


def read_records(
    path: str | os.PathLike, cls: type[R], *, skip_bad: bool = False, stats: RecordStats | None = None
) -> Iterator[R]:
    """The records of a JSONL file written by srpo. A bad line raises DataError naming the file, the line and
    what is wrong, unless `skip_bad` (then it is counted in `stats`)."""
    stats = stats if stats is not None else RecordStats()
    for n, item in record_lines(path, cls):
        if isinstance(item, TornLine):
            stats.torn += 1
            continue
        if isinstance(item, RecordProblem):
            message = f"{path}:{n}: not a valid {cls.kind} record: {item}"
            if not skip_bad:
                raise DataError(f"{message}; fix or remove the line, or pass --skip-bad")
            stats.skipped += 1
            if len(stats.problems) < 20:
                stats.problems.append(message)
            continue
        stats.read += 1
        yield item
