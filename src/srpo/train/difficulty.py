"""The paper's online difficulty filter for TRL's GRPO: groups whose final-answer accuracy lies outside a band
add nothing to the update.

SRPO keeps, at every step, only the prompts whose group of sampled completions is neither all right nor all
wrong — binary final-answer accuracy in [0.1, 0.9], edges inclusive. A group the policy always solves (or never
does) still has reward variance here (format, length, first attempt), so without the filter it keeps pulling
the policy toward those terms on problems that teach nothing about the answer.

How it hooks into TRL 1.16: `DifficultyFilteredGRPOTrainer` overrides one method, `_calculate_rewards`, which
returns the rewards of the whole generation batch, gathered from every process (TRL normalises per group on
that gathered tensor). It marks the rewards of out-of-band groups NaN, and TRL's own path for unscorable
completions does the rest: NaN rows are left out of the group baselines and the logged reward, and their
advantage is set to 0, so with `beta: 0` they contribute no gradient.

Why not a reward function returning None (TRL's other hook): a reward function sees only its own process's
completions, and a group of `num_generations` completions is spread over several processes whenever the
per-device batch is smaller than the group (the shipped 7B config: 4 per device, groups of 8), so it cannot
know a group's accuracy. It would also have to make every other reward function return None for the same rows.

What stays as in TRL: filtered completions are not replaced by new ones (the batch just carries fewer
groups that count, as with groups whose rewards are all equal), their tokens still count in the `dapo` loss's
token normaliser, and with `beta > 0` the KL term still sees them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from trl import GRPOTrainer

FinalCorrect = Callable[..., list[bool]]
"""`(completions, completion_ids, **dataset_columns) -> [final answer correct]`, one per completion."""

FILTERED_METRIC = "srpo/filtered_groups"
"""Share of the step's prompt groups the filter left out, logged beside the `srpo/*` reward metrics."""


def check_band(band: Sequence[float] | None) -> tuple[float, float] | None:
    """`band` as `(low, high)` with `0 <= low <= high <= 1`, or None; ValueError naming the problem otherwise."""
    if band is None:
        return None
    values = list(band)
    if len(values) != 2 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        raise ValueError(f"difficulty_band must be two numbers [low, high], e.g. [0.1, 0.9]; got {band!r}")
    low, high = float(values[0]), float(values[1])
    if not 0.0 <= low <= high <= 1.0:
        raise ValueError(f"difficulty_band needs 0 <= low <= high <= 1; got [{low}, {high}]")
    return low, high


def groups_in_band(correct: torch.Tensor, num_generations: int, band: tuple[float, float]) -> torch.Tensor:
    """One bool per group: is the group's share of correct final answers within `band`, edges included?

    `correct` holds 0/1 per completion, groups of `num_generations` consecutive completions (TRL's order).
    Accuracies are compared with a small tolerance, so 1 of 10 counts as inside [0.1, 0.9].
    """
    if correct.numel() % num_generations:
        raise ValueError(f"{correct.numel()} completions do not split into groups of {num_generations}")
    accuracy = correct.float().view(-1, num_generations).mean(dim=1)
    low, high = band
    eps = 1e-6
    return (accuracy >= low - eps) & (accuracy <= high + eps)


def final_correct_from(reward: Any) -> FinalCorrect:
    """Final-answer correctness as the SRPO reward judges it, through its public `breakdowns` (the same
    judge the reward pays for, so the filter and the reward can never disagree about a completion)."""

    def final_correct(completions: Sequence[Any], completion_ids: Any, **columns: Any) -> list[bool]:
        return [bool(b.final_correct) for b in reward.breakdowns(completions, completion_ids, **columns)]

    return final_correct


class DifficultyFilteredGRPOTrainer(GRPOTrainer):
    """TRL's `GRPOTrainer` with the online difficulty filter. With `difficulty_band=None` it is TRL's trainer
    unchanged. Only training batches are filtered, never evaluation ones."""

    def __init__(
        self,
        *args: Any,
        difficulty_band: Sequence[float] | None = None,
        final_correct: FinalCorrect | None = None,
        **kwargs: Any,
    ) -> None:
        self.difficulty_band = check_band(difficulty_band)
        if self.difficulty_band is not None and final_correct is None:
            raise ValueError("difficulty_band needs final_correct: a judge of each completion's final answer")
        self.final_correct = final_correct
        super().__init__(*args, **kwargs)

    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):  # noqa: ANN001 (TRL's)
        rewards = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
        if self.difficulty_band is None or not self.model.training:
            return rewards
        from accelerate.utils import gather

        columns = {
            k: [x[k] for x in inputs]
            for k in inputs[0]
            if k not in ("prompt", "completion", "completion_ids")
        }
        local = self.final_correct(completions, completion_ids_list, **columns)
        correct = gather(torch.tensor(local, dtype=torch.float32, device=rewards.device))
        keep = groups_in_band(correct, self.num_generations, self.difficulty_band)
        self._metrics["train"][FILTERED_METRIC].append(1.0 - keep.float().mean().item())
        rewards = rewards.clone()
        rewards[(~keep).repeat_interleave(self.num_generations)] = torch.nan
        return rewards
