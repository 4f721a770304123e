"""`srpo curate answer`: the policy answers each question K times in `<think>/<answer>` form; every attempt
is graded against the gold answer.

Output row (`srpo.records.AnswerRecord`; one per input record, JSONL, appended as records finish — not in
input order)::

    {"id": str,
     "sample": Sample.to_dict(),             # the input record as read (image refs as in the data), with
                                             # meta.image_root: the folder its relative image paths live in
     "model": str,                           # the policy model
     "task": str,                            # the task that judged the attempts (srpo.tasks)
     "attempts": [{"text": str,              # the full response
                   "think": str,             # content of the first <think> block ("" when none)
                   "answer": str,            # content of the first <answer> block ("" when none)
                   "pred": str | None,       # the answer the task extracted (first <answer> block, else
                                             # the whole response)
                   "correct": bool | None,   # the task's verdict (srpo.tasks: the reward's and eval's
                                             # judge); None when the gold could not be isolated
                   "format_ok": bool,        # exactly one non-empty <think> then one <answer> block
                   "finish_reason": str | None, "completion_tokens": int}, ...],
     "pass_rate": float | None}              # correct attempts / K (None: not graded)

Failures (image missing or outside the root, malformed row, request failed for good) go to
`<out>.errors.jsonl` as `{"id", "error", "step"}`; malformed rows get the id `row:<file>:<line>`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from srpo.curate.prompts import question_text
from srpo.curate.runner import (
    JournalingStats,
    StepReport,
    count_lines,
    fresh_tokens,
    in_shard,
    parse_shard,
    run_journaled,
    run_step,
    stopped_run,
    unique_ids,
)
from srpo.data.formats import GOLD_UNCLEAR
from srpo.data.images import default_image_root
from srpo.data.readers import read_samples
from srpo.data.sample import Sample
from srpo.journal import Journal
from srpo.llm.cache import default_cache_path
from srpo.llm.client import LLMClient
from srpo.llm.images import ImageEncoder
from srpo.llm.progress import Progress
from srpo.llm.request import ChatRequest, ChatResult, Message, RunStopped
from srpo.llm.settings import LLMSettings
from srpo.records import AnswerRecord, Attempt
from srpo.response import ATTEMPT_SYSTEM_PROMPT, parse_response
from srpo.tasks import DEFAULT_TASK, Task, get_task


def chat_messages(system: str, user_text: str, image_urls: list[str]) -> list[Message]:
    """OpenAI-style messages: a system turn, then one user turn with the images first and the text last."""
    content: list[dict[str, Any]] = [{"type": "image_url", "image_url": {"url": u}} for u in image_urls]
    content.append({"type": "text", "text": user_text})
    return [{"role": "system", "content": system}, {"role": "user", "content": content}]


def grade_attempt(text: str, sample: Sample, task: Task | None = None) -> Attempt:
    """Split a response into think/answer and judge it with the task (the default task when None): the
    first answer block, or the whole response when it has none; `correct` is None (ungraded) for a sample
    whose gold the reader could not isolate (`meta["gold_unclear"]`). Never raises."""
    task = task or get_task(DEFAULT_TASK)
    parsed = parse_response(text)
    thinks, answers = parsed.of("think"), parsed.of("answer")
    verdict = (
        task.judge(answers[0].content, sample, block=True)
        if answers
        else task.judge(text, sample, block=False)
    )
    return Attempt(
        text=text,
        think=thinks[0].content.strip() if thinks else "",
        answer=answers[0].content.strip() if answers else "",
        pred=verdict.extraction,
        # the reader could not isolate the gold from its sentence: never graded against it
        correct=None if sample.meta.get(GOLD_UNCLEAR) else verdict.correct,
        format_ok=parsed.is_two_block,
    )


def answer(
    input: str | os.PathLike,
    output: str | os.PathLike,
    *,
    image_root: str | os.PathLike | None = None,
    samples: int = 1,
    temperature: float = 1.0,
    shard: str | None = None,
    prompt: str | os.PathLike | None = None,
    format: str = "auto",
    field: str | None = None,
    task: str = DEFAULT_TASK,
    llm: LLMSettings | None = None,
    progress_every: float = 30.0,
) -> StepReport:
    """Have the policy answer every record of `input` `samples` times and grade each attempt; append one row
    per record to `output` (see the module doc). `task` (a `srpo.tasks` name) judges the attempts, exactly as
    the reward and evaluation would. Resumable: finished ids are skipped, failed ones retried. Raises
    `srpo.errors.RunFailed` when the run was stopped (the API key refused, no server reachable)."""
    llm = llm or LLMSettings()
    judge = get_task(task)
    if samples < 1:
        raise ValueError(f"--samples must be at least 1, got {samples}")
    shard_spec = parse_shard(shard)
    root = Path(image_root).resolve() if image_root is not None else default_image_root(input)
    report = StepReport("answer", Path(output), Path(output))

    async def main() -> StepReport:
        client = LLMClient(llm, cache_path=default_cache_path(output))
        encoder = ImageEncoder(
            root, url_prefix=llm.image_url_prefix, file_urls=llm.file_urls, upload_hook=llm.upload_hook
        )
        params = llm.sampling_params(temperature)
        with Journal(output) as journal:
            report.errors = journal.errors_path
            report.already_done = len(journal.done)
            stats = JournalingStats(journal)
            total = count_lines(input)
            progress = Progress(
                "answer",
                total - report.already_done if total else None,
                log_every=progress_every,
                enabled=llm.progress,
            )

            def todo() -> Iterator[Sample]:
                rows = read_samples(
                    input,
                    format=format,
                    fields=field,
                    skip_bad=True,
                    stats=stats,
                    hint_flags=("--format", "--field"),
                )
                for s in unique_ids(rows, input):
                    if s.id not in journal.done and in_shard(s.id, shard_spec):
                        yield s

            async def process(sample: Sample) -> dict[str, Any]:
                images = [encoder.encode(ref) for ref in sample.images]
                urls, keys = [im.url for im in images], [im.key for im in images]
                user_text = question_text(sample, prompt) if prompt is not None else judge.prompt(sample)
                messages = chat_messages(ATTEMPT_SYSTEM_PROMPT, user_text, urls)
                results = await _gather(
                    [
                        client.chat(ChatRequest(messages, params, attempt=k, image_keys=keys))
                        for k in range(samples)
                    ]
                )
                attempts = []
                for r in results:
                    graded = grade_attempt(r.text, sample, judge)
                    graded.finish_reason, graded.completion_tokens = r.finish_reason, r.completion_tokens
                    attempts.append(graded)
                sample.meta["image_root"] = str(root)
                record = AnswerRecord(
                    sample.id, sample, attempts, _pass_rate(attempts), client.model, judge.name
                )
                return {**record.to_dict(), "_tokens": fresh_tokens(results)}

            stopped = None
            try:
                await run_journaled(
                    todo(),
                    process,
                    journal,
                    progress,
                    max_in_flight=max(2 * llm.concurrency, 2),
                    step="answer",
                    complete=shard_spec is None,
                )
            except RunStopped as e:
                stopped = e.reason
            else:  # every record was already in flight when the client stopped: still say why
                stopped = client.stop_reason
            finally:
                await client.aclose()
                report.written, report.failed = journal.written, journal.failed
                report.usage = client.usage
                report.extra["malformed rows"] = stats.skipped
                if stats.gold_unclear:
                    report.extra["gold answers not isolated (attempts not graded)"] = stats.gold_unclear
                report.extra["images encoded"] = encoder.encoded
        if stopped is not None:
            raise stopped_run(report, stopped)
        return report

    return run_step(main, output)


def _pass_rate(attempts: list[Attempt]) -> float | None:
    """Correct attempts / attempts; None when the attempts could not be graded (the gold is unclear)."""
    if any(a.correct is None for a in attempts):
        return None
    return sum(bool(a.correct) for a in attempts) / len(attempts)


async def _gather(coros: list) -> list[ChatResult]:
    """All results, or the first failure (the others are cancelled; their finished answers stay cached)."""
    import asyncio

    if len(coros) == 1:  # one attempt: no task to create (and nothing to cancel)
        return [await coros[0]]
    tasks = [asyncio.ensure_future(c) for c in coros]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
