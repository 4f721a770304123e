"""The srpo synthetic set (`srpo data synth`): native srpo JSONL rows (`Sample.to_dict()`).

Rows: `id`, `question`, `answer` (an option letter for multiple choice), `images` (relative to the file's
folder), `choices` (option texts, not written into the question), `rationale` and `meta` {task, category, …}.
The prompt is curation's (`srpo.curate.prompts.question_text`), so a model fine-tuned on curated synthetic data
is evaluated on the prompts it learned from. Judged like the default task (`srpo.tasks.math`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from srpo.data.readers import read_samples
from srpo.data.sample import Sample
from srpo.tasks import register
from srpo.tasks.base import image_root_for, require
from srpo.tasks.math import MathTask


class SyntheticTask(MathTask):
    name = "synthetic"
    summary = "The srpo synthetic set: charts, shapes, clocks, number lines; by category and task."
    groups = ("category", "task")
    aliases = ("srpo-synth", "srpo_synth")

    def samples(self, path: str | os.PathLike) -> Iterator[Sample]:
        root: Path | None = None
        for s in read_samples(require(path), format="srpo"):
            if root is None:
                root = image_root_for(Path(path), s.images)
            s.meta.setdefault("category", s.meta.get("task") or "unknown")
            s.meta.setdefault("task", "unknown")
            s.meta["image_root"] = str(root)
            yield s


SYNTHETIC = register(SyntheticTask())
