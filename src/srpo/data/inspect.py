"""`srpo data inspect` and `srpo data convert` as library functions.

`inspect_samples` shows the first samples exactly as every stage will see them and flags gold answers that
read like sentences (a grader would compare answers against the whole sentence), so a misread shows before
anyone pays for a curation run. `convert_samples` writes srpo JSONL rows atomically: a failed run leaves
neither a partial output nor a temporary file.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from srpo.data.formats import GOLD_RULE, GOLD_UNCLEAR, GOLD_UNCLEAR_REASON, looks_like_sentence
from srpo.data.readers import ReadStats, read_samples
from srpo.data.sample import ImageBytes, Sample
from srpo.errors import UserError
from srpo.journal import write_jsonl_atomic

FIELD_CHARS = 240
"""Longer question / rationale texts are cut to this many characters in the listing."""


def _short(text: str | None, limit: int = FIELD_CHARS) -> str:
    if not text:
        return "-"
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _image(ref: Any) -> str:
    if isinstance(ref, ImageBytes):
        return f"<{ref.format} in memory, {len(ref.data)} bytes>"
    return ref if len(ref) <= 120 else ref[:60] + "…"


def sentence_problem(sample: Sample) -> str | None:
    """Why this sample's gold should not be graded as it stands, or None when it reads like an answer."""
    if sample.meta.get(GOLD_UNCLEAR):
        return f"gold could not be isolated ({sample.meta.get(GOLD_UNCLEAR_REASON)}); it will not be graded"
    if looks_like_sentence(sample.answer):
        period = ", ends in a period" if sample.answer.strip().endswith(".") else ""
        return (
            f"gold looks like a sentence ({len(sample.answer.split())} words{period}); a grader would compare "
            "answers against it: check --format / --field answer=COL"
        )
    return None


def describe_sample(index: int, sample: Sample) -> list[str]:
    """The lines `srpo data inspect` prints for one sample."""
    rule = sample.meta.get(GOLD_RULE)
    gold = _short(sample.answer) + (f"    [{rule}]" if rule else "")
    choices = (
        "  ".join(f"({chr(ord('A') + i)}) {_short(c, 60)}" for i, c in enumerate(sample.choices))
        if sample.choices
        else "-"
    )
    lines = [
        f"#{index} {sample.id}",
        f"  question : {_short(sample.question)}",
        f"  gold     : {gold}",
        f"  choices  : {choices}",
        f"  images   : {', '.join(_image(r) for r in sample.images) or '-'}",
        f"  rationale: {_short(sample.rationale)}",
    ]
    problem = sentence_problem(sample)
    if problem:
        lines.append(f"  ! {problem}")
    return lines


def inspect_samples(
    source: str | os.PathLike, echo: Callable[[str], Any] = print, *, show: int = 3, **read_args: Any
) -> ReadStats:
    """Read every sample of `source` (arguments as for `read_samples`), print the first `show` with
    `echo`, then the counts and the ids of samples whose gold reads like a sentence. Returns the stats."""
    stats = ReadStats()
    flagged: list[str] = []
    n_flagged = 0
    for i, sample in enumerate(read_samples(source, stats=stats, **read_args)):
        if i < show:
            for line in describe_sample(i + 1, sample):
                echo(line)
        if sentence_problem(sample) is not None and not sample.meta.get(GOLD_UNCLEAR):
            n_flagged += 1
            if len(flagged) < 5:
                flagged.append(sample.id)
    echo(stats.summary())
    if n_flagged:
        echo(
            f"{n_flagged} golds look like sentences (more than 8 words, or ending in a period), e.g. "
            f"{', '.join(flagged)}: check the row format (--format) or the answer column (--field answer=COL)"
        )
    return stats


def convert_samples(source: str | os.PathLike, output: str | os.PathLike, **read_args: Any) -> ReadStats:
    """Write every sample of `source` to `output` as srpo JSONL rows (arguments as for `read_samples`).
    The output appears only when the whole read succeeded; nothing else is left behind on failure."""
    out = Path(output)
    if out.is_dir():
        raise UserError(f"--output {out}: is a folder; give a file path such as {out / 'samples.jsonl'}")
    src = Path(os.fspath(source))
    if src.exists() and src.resolve() == out.resolve():
        raise UserError(f"--output {out}: is the input file; choose another output path")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError as e:
        raise UserError(f"--output {out}: {e.filename} is a file, not a folder; fix the path") from None
    stats = ReadStats()
    write_jsonl_atomic(out, (s.to_dict() for s in read_samples(source, stats=stats, **read_args)))
    return stats
