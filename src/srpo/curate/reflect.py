"""`srpo curate reflect`: a teacher model reflects on the policy's first attempt.

The teacher sees the question (and choices), the image — or, for a text-only teacher (`--text-only`), the
image description from `--descriptions` or the sample's own `meta.description` — the policy's reasoning and
answer, whether it was right, and the gold answer. It returns JSON `{reflection, revised_reasoning}`
(validated; see `srpo.llm.structured`). Prompts: `srpo/prompts/reflect_system.txt` and `reflect.j2`,
replaceable with `--prompt FILE` / `--system-prompt FILE`.

Input: the rows written by `srpo curate answer`. The teacher reflects on each record's first attempt.

Output row (JSONL, one per answered record)::

    {"id": str, "attempt": int,              # which attempt of the answers row was reflected on
     "first_correct": bool,                  # whether that attempt was right
     "reflection": str, "revised_reasoning": str,
     "teacher": str}                         # teacher model name, or "synthetic"

Every teacher is a registered backend (`srpo.llm.backend`); each request carries the sample and the
attempt as its `context`, which `--backend synthetic` (the deterministic teacher of `srpo.curate.synthetic`,
for synthetic data only) answers from.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, field_validator

from srpo.curate.answer import chat_messages
from srpo.curate.prompts import render, template_text
from srpo.curate.runner import (
    RecordError,
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
from srpo.journal import Journal, iter_jsonl
from srpo.llm.cache import default_cache_path
from srpo.llm.client import LLMClient
from srpo.llm.images import ImageEncoder
from srpo.llm.progress import Progress
from srpo.llm.request import RunStopped
from srpo.llm.settings import LLMSettings
from srpo.llm.structured import chat_structured
from srpo.records import AnswerRecord, RecordProblem, TornLine, record_lines


class TeacherReflection(BaseModel):
    """What the teacher must return."""

    reflection: str
    revised_reasoning: str

    @field_validator("reflection", "revised_reasoning")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be empty")
        return v.strip()


def read_answers(path: str | os.PathLike) -> Iterator[AnswerRecord | RecordError]:
    """Records of an answers file; a line that does not fit comes back as a `RecordError` to journal."""
    for n, item in record_lines(path, AnswerRecord):
        if isinstance(item, TornLine):
            continue  # the answers run was stopped mid-write; its rerun redoes that record
        if isinstance(item, RecordProblem):
            yield RecordError(f"{path}:{n}: not an answers record: {item}", f"row:{path}:{n}")
            continue
        yield item


def load_descriptions(path: str | os.PathLike | None) -> dict[str, str]:
    """`{id: description}` from a `srpo curate describe` output file."""
    if path is None:
        return {}
    if not Path(path).is_file():
        raise ValueError(f"--descriptions {path}: no such file")
    return {
        str(r["id"]): str(r["description"]) for r in iter_jsonl(path) if r.get("id") and r.get("description")
    }


def reflect(
    input: str | os.PathLike,
    output: str | os.PathLike,
    *,
    teacher_model: str | None = None,
    descriptions: str | os.PathLike | None = None,
    prompt: str | os.PathLike | None = None,
    system_prompt: str | os.PathLike | None = None,
    text_only: bool = False,
    image_root: str | os.PathLike | None = None,
    temperature: float | None = None,
    max_reasks: int = 2,
    shard: str | None = None,
    llm: LLMSettings | None = None,
    progress_every: float = 30.0,
) -> StepReport:
    """Ask the teacher for a reflection on every answered record of `input`; append one row per record to
    `output` (see the module doc). Resumable like `answer`."""
    llm = llm or LLMSettings()
    if teacher_model:
        llm.model = teacher_model
    shard_spec = parse_shard(shard)
    described = load_descriptions(descriptions)
    system = template_text("reflect_system.txt", system_prompt).strip()
    template_text("reflect.j2", prompt)  # fail now, not per record, when the file is missing
    report = StepReport("reflect", Path(output), Path(output))

    async def main() -> StepReport:
        client = LLMClient(llm, cache_path=default_cache_path(output))
        encoders: dict[str, ImageEncoder] = {}
        params = llm.sampling_params(temperature)

        def encoder_for(root: str | None) -> ImageEncoder:
            key = str(image_root or root)
            if key not in encoders:
                encoders[key] = ImageEncoder(
                    image_root or root,
                    url_prefix=llm.image_url_prefix,
                    file_urls=llm.file_urls,
                    upload_hook=llm.upload_hook,
                )
            return encoders[key]

        with Journal(output) as journal:
            report.errors = journal.errors_path
            report.already_done = len(journal.done)
            total = count_lines(input)
            progress = Progress(
                "reflect",
                total - report.already_done if total else None,
                log_every=progress_every,
                enabled=llm.progress,
            )

            def todo() -> Iterator[AnswerRecord]:
                for rec in unique_ids(read_answers(input), input):
                    rid = str(rec.id)
                    if rid in journal.done or not in_shard(rid, shard_spec):
                        continue
                    if isinstance(rec, RecordError):
                        journal.fail(rid, str(rec), step="reflect")
                        progress.advance(ok=False)
                        continue
                    yield rec

            async def process(rec: AnswerRecord) -> dict[str, Any]:
                sample, attempt = rec.sample, rec.attempts[0]
                base = {"id": rec.id, "attempt": 0, "first_correct": bool(attempt.correct)}
                description = described.get(rec.id) or sample.meta.get("description")
                if text_only and not description:
                    raise RecordError(
                        f"record {rec.id}: no image description for the text-only teacher; pass --descriptions "
                        "from `srpo curate describe`"
                    )
                urls = [] if text_only else [encoder_for(rec.image_root).url(r) for r in sample.images]
                text = render(
                    "reflect.j2",
                    prompt,
                    question=sample.question,
                    choices=sample.choices or [],
                    gold=sample.answer,
                    think=attempt.think,
                    answer=attempt.answer or attempt.pred or "",
                    correct=bool(attempt.correct),
                    description=description or "",
                    rationale=sample.rationale or "",
                )
                parsed, results = await chat_structured(
                    client,
                    chat_messages(system, text, urls),
                    TeacherReflection,
                    name="reflection",
                    params=params,
                    max_reasks=max_reasks,
                    context={"sample": sample, "attempt": attempt.to_dict()},
                )
                return {
                    **base,
                    "reflection": parsed.reflection,
                    "revised_reasoning": parsed.revised_reasoning,
                    "teacher": client.model,
                    "_tokens": fresh_tokens(results),
                }

            stopped = None
            try:
                await run_journaled(
                    todo(),
                    process,
                    journal,
                    progress,
                    max_in_flight=max(2 * llm.concurrency, 2),
                    step="reflect",
                    complete=shard_spec is None,
                )
            except RunStopped as e:
                stopped = e.reason
            else:  # every record was already in flight when the client stopped: still say why
                stopped = client.stop_reason
            finally:
                report.written, report.failed = journal.written, journal.failed
                await client.aclose()
                report.usage = client.usage
        if stopped is not None:
            raise stopped_run(report, stopped)
        return report

    return run_step(main, output)
