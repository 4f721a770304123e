"""`srpo eval official`: score a results file as a benchmark's authors published it, and compare with the
verdicts it carries — to reproduce a leaderboard figure, or to check that srpo's scorer agrees with the
official one.

Each task reads its own published layout (`Task.read_results`): MathVista's `output_<model>.json`
(`response`, `extraction`, `true_false`), MATH-V's `outputs/*.jsonl` (`response`, `model_answer`,
`correct`), MMMU-Pro's `output/*.jsonl` (`response`, `pred_indexs`, `if_right`), OlympiadBench's
`merged_result/<model>/<file>.json` (`model_output.<model>.raw_output` / `answer` / `correctness`) and
MathVerse's output rows (`model_answer`, `extraction`, `judgement`). Rows are scored twice: from the
official extraction the file stores (where it stores one) and from the raw response, by srpo's rules.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from srpo.data.files import DataError
from srpo.data.sample import Sample
from srpo.eval.scoring import attempts_of, load_benchmark_samples
from srpo.tasks import PublishedRow, Task, get_task


def score_official(
    benchmark: str, data: str | os.PathLike, results: str | os.PathLike, *, limit: int | None = None
) -> dict[str, Any]:
    """Accuracy of a published results file: as published (its verdicts), as srpo scores the official
    extraction, and as srpo reads the raw responses; with the agreement of each with the published
    verdicts. Raises DataError for ids missing from the benchmark data."""
    task = get_task(benchmark)
    samples = load_benchmark_samples(task, data, images=False)
    rows = list(_limited(task.read_results(results), limit))
    if not rows:
        raise DataError(f"{results}: no results rows")
    unknown = [r.id for r in rows if r.id not in samples]
    if unknown:
        raise DataError(
            f"{results}: {len(unknown)} result id(s) are not in {data} (first: {', '.join(unknown[:5])}); "
            "check --benchmark and --data"
        )
    out: dict[str, Any] = {"benchmark": task.name, "results": str(results), "n": len(rows)}
    published = [r.verdict for r in rows if r.verdict is not None]
    raw = [_judge_raw(task, r.response, samples[r.id]) for r in rows]
    out["published_accuracy"] = sum(published) / len(published) if len(published) == len(rows) else None
    out["raw_accuracy"] = sum(raw) / len(rows)
    with_extraction = [r for r in rows if r.extraction is not None]
    if len(with_extraction) == len(rows):
        extracted = [task.verdict(r.extraction, samples[r.id]).correct for r in rows]
        out["extraction_accuracy"] = sum(extracted) / len(rows)
    else:
        extracted = None
        out["extraction_accuracy"] = None
    if out["published_accuracy"] is not None:
        out["raw_agreement"] = sum(a == r.verdict for a, r in zip(raw, rows, strict=True)) / len(rows)
        out["extraction_agreement"] = (
            sum(a == r.verdict for a, r in zip(extracted, rows, strict=True)) / len(rows)
            if extracted
            else None
        )
    return out


def _judge_raw(task: Task, response: str, sample: Sample) -> bool:
    """The raw response judged as `srpo eval score` judges it: the last answer block when the response has
    `<answer>` blocks (an srpo model's output in the official layout), else the whole response."""
    attempts = attempts_of(response)
    return task.judge(attempts.final, sample, block=attempts.answers > 0).correct


def _limited(rows: Iterator[PublishedRow], limit: int | None) -> Iterator[PublishedRow]:
    for n, row in enumerate(rows):
        if limit is not None and n >= limit:
            return
        yield row
