"""What a task is: how to read its rows, how to ask, and how to judge an answer — one object that curation,
the reward and evaluation all ask, so the same text gets the same verdict everywhere.

A task subclass overrides what differs from the default (`MathTask` in `srpo.tasks.math`):

- `load(path)`: the samples of a file or folder in the task's layout (`Sample.meta` carries what the judge
  needs, the grouping keys of the per-category tables, and `image_root`);
- `prompt(sample)`: the user-turn text (images are passed separately);
- `extract(text, block=…)`: the answer an `<answer>` block (`block=True`) or a whole plain response states;
- `score(extraction, sample)`: normalise the extracted answer and compare it with the gold.

`judge(text, sample)` is extract + score. Judging options (`require_boxed`, `lenient`) are fields of the task
instance (`task.with_options(...)`), so they apply wherever that task judges, never as a second code path.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from srpo.data.files import DataError
from srpo.data.images import kind_of
from srpo.data.sample import Sample
from srpo.grading import answer_in_block, extract_answer, last_boxed, unwrap
from srpo.grading.normalize import squash
from srpo.tasks.published import PublishedRow


@dataclass(frozen=True)
class Verdict:
    """A judged answer: what was extracted, its normalised form, and whether it is right."""

    prediction: str | None
    """The normalised prediction (an option letter, a number, …); None when no answer was found."""
    correct: bool
    extraction: str | None = None
    """The answer as extracted from the text, before normalisation."""


NO_ANSWER = Verdict(None, False, None)
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Task:
    """A dataset or benchmark: its layout, its prompt, and its answer judge. Subclass and register one per
    task (`srpo.tasks.register`); the fields are judging options, the class attributes describe the task."""

    name: ClassVar[str] = "task"
    summary: ClassVar[str] = ""
    groups: ClassVar[tuple[str, ...]] = ("category",)
    """`Sample.meta` keys of the per-category tables; the first is the main one."""
    aliases: ClassVar[tuple[str, ...]] = ()
    """Other names rows may carry in `data_source` (Hugging Face ids, lmms-eval names)."""
    benchmark: ClassVar[bool] = True
    """Listed by `srpo eval benchmarks`."""

    require_boxed: bool = False
    """Only an answer inside ``\\boxed{}`` counts (a stricter reward); other text is "no answer"."""
    lenient: bool = False
    """Use the sound reading where the official rules are plainly wrong (documented per task)."""
    origin: str | None = None
    """`module:attribute` a task from outside srpo was imported from, so its spec can be imported again."""

    @property
    def spec(self) -> str:
        """The text that names this task with its options (`get_task(task.spec)` gives it back)."""
        flags = [f for f in ("require_boxed", "lenient") if getattr(self, f)]
        return "+".join([self.origin or self.name, *flags])

    # ------------------------------------------------------------------------------------------ options

    def with_options(self, **options: Any) -> Task:
        """A copy with judging options changed (`require_boxed`, `lenient`; `origin` for imported tasks)."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ValueError(f"unknown task option(s) {unknown}; known: {', '.join(sorted(known))}")
        return dataclasses.replace(self, **options)

    # ------------------------------------------------------------------------------------------ reading

    def load(self, path: str | os.PathLike, *, images: bool = True) -> Iterator[Sample]:
        """Stream the samples of a file or folder in the task's layout. With `images` (the default: a model
        will see them), a record whose local image is missing is a DataError naming it; scoring alone does
        not need the images."""
        for sample in self.samples(path):
            if images:
                check_images(sample, f"{path}: {self.name} record {sample.id}")
            yield sample

    def samples(self, path: str | os.PathLike) -> Iterator[Sample]:
        """The task's reader of its layout (`load` checks the images of what it yields)."""
        raise NotImplementedError(f"task {self.name!r} has no loader")

    def prompt(self, sample: Sample) -> str:
        """The user-turn text for a sample (the question and its lettered choices)."""
        from srpo.curate.prompts import question_text

        return question_text(sample)

    def read_results(self, path: str | os.PathLike) -> Iterator[PublishedRow]:
        """The rows of a results file in the layout this benchmark's authors publish (`srpo eval official`)."""
        raise ValueError(
            f"task {self.name!r} has no published results layout; score generations with `srpo eval score`"
        )

    def judge_question(self, sample: Sample) -> str:
        """The question text an LLM judge reads (a task whose prompt hides the question overrides it)."""
        return sample.question

    # ------------------------------------------------------------------------------------------ judging

    def extract(self, text: str, *, block: bool = True, sample: Sample | None = None) -> str | None:
        """The answer `text` states: the content of an answer block, or a whole plain response. `sample` (the
        question answered) lets a task read answers the way its official judge does, e.g. an option named
        by its text. A text that is exactly the sample's gold answer, spelled as the data spells it (a
        sentence, several lines, LaTeX), is that answer, whatever the task's reading would cut from it."""
        if not isinstance(text, str):
            return None
        try:
            if self.require_boxed:
                return self.boxed_answer(text, sample)
            if sample is not None and _spelled_as(text, sample.answer):
                return sample.answer.strip()
            return self.read(text, block=block, sample=sample)
        except Exception:  # a reading bug must not sink a run: that answer counts as unread
            _log.warning("task %s: reading an answer failed", self.name, exc_info=True)
            return None

    def read(self, text: str, *, block: bool = True, sample: Sample | None = None) -> str | None:
        """The task's own reading of an answer (`extract` calls it); the default: a ``\\boxed{}``, an
        "answer is" phrase, a short block whole, else the last number (`srpo.grading`)."""
        return answer_in_block(text) if block else extract_answer(text)

    def boxed_answer(self, text: str, sample: Sample | None = None) -> str | None:
        """With `require_boxed`: the answer the text's box holds (the last ``\\boxed{}``), else None."""
        boxed = last_boxed(text)
        return boxed.strip() if boxed is not None and boxed.strip() else None

    def fallback_extract(self, text: str, *, block: bool = True, sample: Sample | None = None) -> str | None:
        """The reading of last resort, for text where neither the rules nor an LLM judge found an answer:
        what the official evaluation would still score (None by default: no answer, which is wrong)."""
        return None

    def score(self, extraction: str, sample: Sample) -> Verdict:
        """Normalise an extracted answer and compare it with the gold."""
        raise NotImplementedError

    def judge(self, text: str, sample: Sample, *, block: bool = True) -> Verdict:
        """Extract the answer from `text` (rules, then the fallback reading) and score it. Never raises."""
        extraction = self.extract(text, block=block, sample=sample)
        if extraction is None and not self.require_boxed:
            try:
                extraction = self.fallback_extract(text, block=block, sample=sample)
            except Exception:
                _log.warning("task %s: the fallback reading failed", self.name, exc_info=True)
        return self.verdict(extraction, sample)

    def verdict(self, extraction: str | None, sample: Sample) -> Verdict:
        """`score`, with the extraction recorded and any failure counted as wrong. Never raises."""
        if extraction is None or not str(extraction).strip():
            return NO_ANSWER
        try:
            v = self.score(str(extraction), sample)
        except Exception:  # a scorer bug must not sink a run; the answer counts as wrong
            _log.warning("task %s: scoring failed", self.name, exc_info=True)
            return Verdict(None, False, str(extraction))
        return dataclasses.replace(v, extraction=str(extraction))


def _spelled_as(text: str, gold: str) -> bool:
    """`text` is the gold answer itself: equal after unwrapping `$…$` / a box and collapsing whitespace."""
    if not isinstance(gold, str) or not gold.strip() or len(text) > 4 * len(gold) + 40:
        return False
    return squash(unwrap(text)) == squash(unwrap(gold))


# ------------------------------------------------------------------------------------------- loader helpers


def require(path: str | os.PathLike) -> Path:
    """`path` as a Path; DataError when it is neither a file or folder nor a Hugging Face dataset id."""
    from srpo.data.files import check_source

    check_source(path)
    return Path(path)


def image_root_for(data_path: Path, refs: list) -> Path:
    """The folder relative image paths of `refs` live under: the data file's folder, or its parent when
    the images sit beside the data folder (MathVision's `data/test.jsonl` + `images/`)."""
    base = data_path if data_path.is_dir() else data_path.parent
    base = base.resolve()
    local = [r for r in refs if isinstance(r, str) and kind_of(r) == "path" and not os.path.isabs(r)]
    if not local:
        return base
    for candidate in (base, base.parent):
        if (candidate / local[0]).exists():
            return candidate
    return base


def rows_of(path: str | os.PathLike, what: str, required: tuple[str, ...]) -> Iterator[tuple[str, dict]]:
    """(location, row) for every row of a benchmark file or folder; DataError naming the file and record
    when a row is not valid JSON or lacks one of the `required` keys."""
    from srpo.data.files import iter_raw_rows

    for raw in iter_raw_rows(path):
        row = raw.row
        if isinstance(row, Exception):
            raise row
        if not isinstance(row, dict):
            raise DataError(f"{raw.location}: expected a JSON object per row, got {type(row).__name__}")
        missing = [k for k in required if row.get(k) is None]
        if missing:
            raise DataError(
                f"{raw.location}: not a {what} row: missing {', '.join(missing)} "
                f"(is --benchmark right for this file?)"
            )
        yield raw.location, row


def check_images(sample: Sample, where: str) -> None:
    """DataError naming the record when one of its local images is missing or outside its image root."""
    from srpo.data.images import ImageError, resolve_image

    for ref in sample.images:
        try:
            resolve_image(ref, sample.meta.get("image_root"))
        except ImageError as e:
            raise DataError(
                f"{where}: {e}; put the benchmark's images where the data file expects them"
            ) from None


def published_rows(path: str | os.PathLike, what: str) -> Iterator[tuple[str, dict]]:
    """(location, row) of a published results file (JSONL, a JSON array, or an object of id → row)."""
    from srpo.data.files import iter_raw_rows

    for raw in iter_raw_rows(path):
        if isinstance(raw.row, Exception):
            raise raw.row
        if not isinstance(raw.row, dict):
            raise DataError(f"{raw.location}: expected a {what} results row (a JSON object)")
        row = dict(raw.row)
        if raw.key is not None:
            row.setdefault("_key", raw.key)
        yield raw.location, row
