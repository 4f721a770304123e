"""`srpo curate filter`: the RL prompt set — records whose pass rate over K attempts lies in a band.

Prompts the policy always solves or never solves give GRPO no signal; the paper keeps [0.1, 0.9].

Output row: a native srpo sample (`Sample.to_dict()`, readable by `srpo.data.readers.read_samples`), with
`meta.pass_rate`, `meta.attempts` (K), `meta.data_source` (the task that judged the attempts) and
`meta.image_root` (where its relative image paths live)::

    {"id", "question", "answer", "images", "choices", "rationale",
     "meta": {..., "pass_rate": float, "attempts": int, "data_source": str, "image_root": str}}

`srpo curate export --format trl|verl|easyr1|openrlhf` turns it into an engine's prompt format.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from srpo.errors import refuse_overwrite
from srpo.journal import write_jsonl_atomic
from srpo.records import AnswerRecord, RecordStats, read_records


@dataclass
class FilterReport:
    output: Path
    kept: int = 0
    dropped: Counter = field(default_factory=Counter)
    read: RecordStats = field(default_factory=RecordStats)

    def summary(self) -> str:
        lines = [f"filter: kept {self.kept} prompts → {self.output}"]
        lines += [
            f"  dropped {n}: {reason}" for reason, n in sorted(self.dropped.items(), key=lambda x: -x[1])
        ]
        lines.append(f"  answers: {self.read.summary()}")
        return "\n".join(lines)


def filter_prompts(
    answers: str | os.PathLike,
    output: str | os.PathLike,
    *,
    min_pass: float = 0.1,
    max_pass: float = 0.9,
    skip_bad: bool = False,
) -> FilterReport:
    """Keep the answered records with `min_pass <= pass_rate <= max_pass`; write them as samples (their task in
    `meta.data_source`, so the reward judges them as curation did). A bad line of `answers` is an error naming
    it, unless `skip_bad` (then it is counted)."""
    if not 0.0 <= min_pass <= max_pass <= 1.0:
        raise ValueError(f"need 0 <= --min-pass <= --max-pass <= 1, got {min_pass} and {max_pass}")
    refuse_overwrite(output, answers=answers)
    report = FilterReport(Path(output))

    def kept() -> Iterator[dict]:
        for record in read_records(answers, AnswerRecord, skip_bad=skip_bad, stats=report.read):
            if record.pass_rate is None:
                report.dropped["gold answer not isolated (attempts not graded; see srpo data inspect)"] += 1
                continue
            if record.pass_rate < min_pass:
                report.dropped[f"pass rate below {min_pass}"] += 1
                continue
            if record.pass_rate > max_pass:
                report.dropped[f"pass rate above {max_pass}"] += 1
                continue
            sample = record.sample
            sample.meta.update(
                {"pass_rate": record.pass_rate, "attempts": len(record.attempts), "data_source": record.task}
            )
            report.kept += 1
            yield sample.to_dict()

    write_jsonl_atomic(output, kept())
    return report
