"""What a benchmark is: a loader, a prompt and a scorer, registered by name.

A benchmark module defines one `Benchmark` and calls `register` on it; nothing else needs to change to
add one. Every loader yields `Sample`s whose `id` is the benchmark's own id (MathVista `pid`, MathVerse
`sample_index`, …), whose `meta` carries what the scorer needs (answer type, precision, unit, options)
and the grouping keys of the per-category tables, and whose `meta["image_root"]` is the folder that
relative image paths are confined to.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from srpo.data.files import DataError
from srpo.data.images import kind_of
from srpo.data.sample import Sample


@dataclass(frozen=True)
class Verdict:
    """The scorer's decision for one extracted answer: the normalised prediction and whether it is right."""

    prediction: str | None
    correct: bool


@dataclass(frozen=True)
class Benchmark:
    """One benchmark: how to read it, how to ask, how to extract and score an answer."""

    name: str
    summary: str
    load: Callable[[Path], Iterator[Sample]]
    """Stream the samples of a local file or folder in the benchmark's official layout."""
    prompt: Callable[[Sample], str]
    """The user-turn text for a sample (images are passed separately)."""
    score: Callable[[str | None, Sample], Verdict]
    """Normalise an extracted answer (None: nothing found) and compare it with the gold answer."""
    extract: Callable[[str], str | None]
    """Pull the answer out of an answer block (or a whole plain response); None when there is none."""
    groups: tuple[str, ...] = ("category",)
    """`meta` keys of the per-category tables; the first is the main one."""


BENCHMARKS: dict[str, Benchmark] = {}


def register(benchmark: Benchmark) -> Benchmark:
    """Add a benchmark to the registry under its name (a later registration replaces an earlier one)."""
    BENCHMARKS[benchmark.name] = benchmark
    return benchmark


def get_benchmark(name: str) -> Benchmark:
    """The registered benchmark called `name`; ValueError listing the known names otherwise."""
    import srpo.eval.benchmarks  # noqa: F401  (registers the built-in benchmarks)

    try:
        return BENCHMARKS[name]
    except KeyError:
        raise ValueError(f"unknown benchmark {name!r}; known: {', '.join(sorted(BENCHMARKS))}") from None


_ANSWER_PREFIX = re.compile(r"^(?:so\s+)?(?:the\s+)?(?:final\s+)?answer(?:\s+is)?\s*[:：]?\s*", re.I)
SHORT_ANSWER_CHARS = 80


def default_extract(text: str) -> str | None:
    """The answer an answer block (or a whole plain response) gives.

    `\\boxed{}` content when there is a box; a bracketed list as a whole (`[2007, 2009]`); else the shared
    rules of `srpo.grading.extract_answer` (option letters, "the answer is", last number); else, for a
    short one-line text, the text itself ("the square"): an answer block usually holds just the answer.
    """
    from srpo.grading import extract_answer, last_boxed

    boxed = last_boxed(text) if "\\boxed" in text or "\\fbox" in text else None
    if boxed is not None and boxed.strip():
        return boxed.strip()
    s = _ANSWER_PREFIX.sub("", text.strip()).strip().rstrip(".").strip()
    if len(s) >= 2 and s[0] == "[" and s[-1] == "]" and "\n" not in s:
        return s
    found = extract_answer(text)
    if found is not None:
        return found
    if s and len(s) <= SHORT_ANSWER_CHARS and "\n" not in s:
        return s
    return None


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


def require(path: str | os.PathLike) -> Path:
    """`path` as a Path; DataError when it is neither a file or folder nor a Hugging Face dataset id."""
    from srpo.data.files import check_source

    check_source(path)
    return Path(path)


def render_choices(choices: list[str] | None) -> str:
    """`"Choices:\\nA. first\\nB. second"`, or "" without choices."""
    if not choices:
        return ""
    from srpo.eval.normalise import LETTERS

    return "Choices:\n" + "\n".join(f"{LETTERS[i]}. {c}" for i, c in enumerate(choices))


def rows_of(path: Path, what: str, required: tuple[str, ...]) -> Iterator[tuple[str, dict]]:
    """(location, row) for every row of a benchmark file or folder; DataError naming the file and record
    when a row is not valid JSON or lacks one of the `required` keys."""
    from srpo.data.files import iter_raw_rows

    for raw in iter_raw_rows(require(path)):
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
