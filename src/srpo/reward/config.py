"""The reward's numbers: one dataclass, and the presets as plain data."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, fields
from typing import Any

TRANSITIONS = ("right_to_right", "wrong_to_right", "wrong_to_wrong", "right_to_wrong")
"""First answer → final answer outcomes, named as the `RewardConfig` fields that pay them."""

PRESETS: dict[str, dict[str, Any]] = {
    # The paper's reward (SPEC.md, "Reward"): the dataclass defaults.
    "paper": {},
    # The authors' OpenRLHF reward as it behaves: a response without two attempts scores 0 in total; the
    # transition pays the accuracy term; no separate first-answer or reflection bonus.
    "authors": {
        "first_answer_weight": 0.0,
        "reflection_weight": 0.0,
        "right_to_right": 0.75,
        "wrong_to_right": 1.0,
        "wrong_to_wrong": 0.0,
        "right_to_wrong": 0.25,
        "transition_in": "accuracy",
        "require_two_attempts": True,
    },
}
"""Named field values over the `RewardConfig` defaults. Add a preset by adding an entry."""


@dataclass(frozen=True)
class RewardConfig:
    """Every number of the SRPO reward. Defaults are the paper's; see `PRESETS` for the others."""

    format_weight: float = 0.5
    """Paid when the response is exactly think, answer, reflection, think, answer: non-empty, clean."""
    first_answer_weight: float = 0.5
    """Paid when the first answer is correct (the paper's R_acc)."""
    reflection_weight: float = 0.25
    """Paid for one non-empty reflection block after the first answer and followed by a think block."""
    right_to_right: float = 0.25
    """Paid when both the first and the final answer are correct."""
    wrong_to_right: float = 0.5
    """Paid when reflection fixed a wrong first answer."""
    wrong_to_wrong: float = 0.0
    """Paid when both answers are wrong."""
    right_to_wrong: float = -0.25
    """Paid (a penalty in the paper) when reflection broke a correct first answer."""
    transition_in: str = "effectiveness"
    """Which component carries the transition value: "effectiveness" (paper) or "accuracy" (authors)."""
    require_two_attempts: bool = False
    """When true, a response with fewer than two think or two answer blocks scores 0 in total."""
    length_weight: float = 0.1
    """alpha of the length term alpha * exp(-(|L - T_target| / (T_max - T_target))^2)."""
    length_target_ratio: float = 2.0
    """T_target = this × tokens of (first think + first answer)."""
    length_max_ratio: float = 2.5
    """T_max = this × tokens of (first think + first answer); must exceed `length_target_ratio`."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type in ("float", float) and (
                isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
            ):
                raise ValueError(f"RewardConfig.{f.name} must be a finite number, got {value!r}")
        if self.transition_in not in ("effectiveness", "accuracy"):
            raise ValueError(
                f"RewardConfig.transition_in must be 'effectiveness' or 'accuracy', got {self.transition_in!r}"
            )
        if not 0 < self.length_target_ratio < self.length_max_ratio:
            raise ValueError(
                "RewardConfig needs 0 < length_target_ratio < length_max_ratio, got "
                f"{self.length_target_ratio} and {self.length_max_ratio}"
            )

    @classmethod
    def preset(cls, name: str = "paper", **overrides: Any) -> RewardConfig:
        """The named preset (`PRESETS`), with any field overridden by keyword."""
        if name not in PRESETS:
            raise ValueError(f"unknown reward preset {name!r}; known: {', '.join(sorted(PRESETS))}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(f"unknown RewardConfig field(s) {unknown}; known: {', '.join(sorted(known))}")
        return cls(**{**PRESETS[name], **overrides})

    def replace(self, **overrides: Any) -> RewardConfig:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **overrides)

    def transition_value(self, transition: str) -> float:
        """What a transition ("right_to_wrong", …) pays."""
        return float(getattr(self, transition))

    def bounds(self) -> tuple[float, float]:
        """The lowest and highest total any response can score under this config."""
        transitions = [self.transition_value(t) for t in TRANSITIONS] + [0.0]
        terms = [
            (self.format_weight, self.format_weight),
            (self.first_answer_weight, self.first_answer_weight),
            (self.reflection_weight, self.reflection_weight),
            (self.length_weight, self.length_weight),
        ]
        low = sum(min(0.0, a) for a, _ in terms) + min(transitions)
        high = sum(max(0.0, b) for _, b in terms) + max(transitions)
        if self.require_two_attempts:
            low, high = min(low, 0.0), max(high, 0.0)
        return low, high
