"""Score a JSONL file of responses and summarise: component means and transition counts.

How users inspect reward hacking: a policy that games the format or the length term shows it here long
before the accuracy curve does.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from srpo.reward.config import TRANSITIONS, RewardConfig
from srpo.reward.reference import GOLD_KEYS, reference_of
from srpo.reward.scoring import COMPONENTS, RewardBreakdown, score
from srpo.tasks import DEFAULT_TASK

RESPONSE_FIELDS = ("response", "completion", "output")


class ResponsesFileError(ValueError):
    """A line of a responses file that cannot be scored; the message names file, line and problem."""


@dataclass
class RewardSummary:
    """Means and counts over a set of scored responses."""

    n: int = 0
    sums: dict[str, float] = field(default_factory=lambda: dict.fromkeys((*COMPONENTS, "total"), 0.0))
    transitions: Counter = field(default_factory=Counter)
    """Counts of each transition, plus "single_answer" and "no_answer" for responses without two answers."""
    first_correct: int = 0
    final_correct: int = 0
    skipped: int = 0
    """Lines left out with skip_bad."""

    def add(self, b: RewardBreakdown) -> None:
        self.n += 1
        for name in self.sums:
            self.sums[name] += getattr(b, name)
        if b.transition is not None:
            self.transitions[b.transition] += 1
        else:
            self.transitions["single_answer" if b.first_correct is not None else "no_answer"] += 1
        self.first_correct += bool(b.first_correct)
        self.final_correct += bool(b.final_correct)

    @property
    def means(self) -> dict[str, float]:
        return {k: (v / self.n if self.n else 0.0) for k, v in self.sums.items()}

    def as_dict(self) -> dict[str, object]:
        return {
            "n": self.n,
            "skipped": self.skipped,
            "means": self.means,
            "transitions": {
                t: self.transitions.get(t, 0) for t in (*TRANSITIONS, "single_answer", "no_answer")
            },
            "first_correct": self.first_correct,
            "final_correct": self.final_correct,
        }

    def table(self) -> str:
        """A plain-text table for the terminal."""
        lines = [
            f"{self.n} responses scored" + (f", {self.skipped} bad lines skipped" if self.skipped else "")
        ]
        lines.append("")
        lines.append(f"{'component':<16}{'mean':>10}")
        for name, mean in self.means.items():
            lines.append(f"{name:<16}{mean:>10.4f}")
        lines.append("")
        lines.append(f"{'transition':<16}{'count':>10}{'share':>10}")
        for t, count in self.as_dict()["transitions"].items():  # type: ignore[union-attr]
            share = count / self.n if self.n else 0.0
            lines.append(f"{t:<16}{count:>10}{share:>10.1%}")
        lines.append("")
        lines.append(
            f"first answer correct: {self.first_correct}   final answer correct: {self.final_correct}"
        )
        return "\n".join(lines)


def _first(row: dict, names: Iterable[str]) -> object:
    for name in names:
        if name in row:
            return row[name]
    return None


def score_file(
    path: str | Path,
    preset: str = "paper",
    *,
    config: RewardConfig | None = None,
    skip_bad: bool = False,
    task: str = DEFAULT_TASK,
) -> RewardSummary:
    """Score every `{response, answer[, choices, meta, data_source]}` line of a JSONL file; streams the file.
    A line's `data_source` (or `task`) names the task that judges it; `task` judges the others.

    A line that is not a JSON object with a string response and an answer raises `ResponsesFileError`
    naming the file and line, unless `skip_bad` (then it is counted in `skipped`).
    """
    cfg = config or RewardConfig.preset(preset)
    summary = RewardSummary()
    path = Path(path)
    if not path.is_file():
        raise ResponsesFileError(f"{path}: no such responses file")
    with path.open("rb") as f:
        for lineno, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as e:
                    raise ResponsesFileError(f"{path}:{lineno}: not UTF-8 text (byte {e.start})") from None
                try:
                    row = json.loads(line)
                except ValueError as e:
                    raise ResponsesFileError(f"{path}:{lineno}: not valid JSON ({e})") from None
                if not isinstance(row, dict):
                    raise ResponsesFileError(
                        f"{path}:{lineno}: expected a JSON object, got {type(row).__name__}"
                    )
                response, gold = _first(row, RESPONSE_FIELDS), _first(row, GOLD_KEYS)
                if not isinstance(response, str):
                    raise ResponsesFileError(
                        f"{path}:{lineno}: no string field {' / '.join(RESPONSE_FIELDS)} with the response"
                    )
                if gold is None:
                    raise ResponsesFileError(
                        f"{path}:{lineno}: no field {' / '.join(GOLD_KEYS)} with the gold answer"
                    )
            except ResponsesFileError:
                if not skip_bad:
                    raise
                summary.skipped += 1
                continue
            sample, judge = reference_of(row, None, None, task)
            summary.add(score(response, sample, cfg, task=judge))
    return summary
