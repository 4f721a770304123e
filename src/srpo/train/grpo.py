"""Stage 3, GRPO with the reflection-aware reward: a thin recipe over TRL's `GRPOTrainer`.

What the recipe adds to TRL: the RL prompt set (`srpo.train.data`) with the five-block system prompt, the SRPO
reward through its TRL adapter (`srpo.reward.trl`, preset and values from the config), prompt-length limits,
the processor through `srpo.models.loading`, frozen vision parts, LoRA, resume, and a fallback to transformers
generation when vLLM is asked for but unavailable. Group size, temperature, KL (`beta`), loss type, vLLM mode…
are TRL's own `GRPOConfig` fields, passed straight through.

The reward adapter logs each reward component (`srpo/format`, `srpo/accuracy`, …) and the four transition
rates (`srpo/right_to_right`, …) through TRL's `log_metric`, so they appear with TRL's own metrics on the
console and in TensorBoard / W&B (`report_to`).

The paper's online difficulty filter is `difficulty_band: [low, high]`: groups whose final-answer accuracy lies
outside it add nothing to the update, and `srpo/filtered_groups` logs their share (`srpo.train.difficulty`).
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trl import GRPOConfig

from srpo.train.config import RecipeArgs, check_recipe_fields
from srpo.train.model import train_and_save

log = logging.getLogger(__name__)


@dataclass
class GRPORecipeConfig(GRPOConfig, RecipeArgs):
    """`srpo grpo` options: TRL's `GRPOConfig` (every field, same names) plus `RecipeArgs` and the fields below.
    TRL's `reward_weights` weighs reward *functions*; the SRPO reward's own values are `reward_params`."""

    _srpo_fields = ("reward_preset", "reward_params", "system_prompt", "max_prompt_length", "difficulty_band")

    reward_preset: str = field(
        default="paper",
        metadata={"help": "SRPO reward preset: `paper` (default) or `authors` (srpo.reward.config)."},
    )
    reward_params: dict[str, Any] | None = field(
        default=None,
        metadata={
            "help": "Reward values that override the preset, e.g. {length_weight: 0.1, right_to_wrong: -0.25}."
        },
    )
    system_prompt: str | None = field(
        default=None,
        metadata={
            "help": "System prompt put before prompts that have none (default: the five-block prompt; '' = none)."
        },
    )
    max_prompt_length: int | None = field(
        default=None,
        metadata={
            "help": "Drop prompts longer than this many tokens (text + images at image_max_pixels); paper 1024."
        },
    )

    difficulty_band: list[float] | None = field(
        default=None,
        metadata={
            "help": "Online difficulty filter [low, high]: groups whose final-answer accuracy lies outside it "
            "(edges inclusive) add nothing to the update; paper [0.1, 0.9]; null = off."
        },
    )

    def __post_init__(self) -> None:
        check_recipe_fields(self)
        from srpo.reward.config import PRESETS
        from srpo.train.difficulty import check_band

        band = check_band(self.difficulty_band)
        self.difficulty_band = list(band) if band is not None else None

        if self.reward_preset not in PRESETS:
            raise ValueError(
                f"reward_preset={self.reward_preset!r}: choose one of {', '.join(sorted(PRESETS))}"
            )
        super().__post_init__()


def resolved_system_prompt(config: GRPORecipeConfig) -> str | None:
    """The system prompt prompts get: the configured one, the five-block default when unset, None for ''."""
    from srpo.response import REFLECTION_SYSTEM_PROMPT

    if config.system_prompt is None:
        return REFLECTION_SYSTEM_PROMPT
    return config.system_prompt or None


def reward_function(config: GRPORecipeConfig, processor: Any = None) -> Any:
    """The SRPO reward as a TRL reward function, configured from `reward_preset` and `reward_params`."""
    from srpo.reward.trl import srpo_reward_func

    try:
        return srpo_reward_func(config.reward_preset, tokenizer=processor, **(config.reward_params or {}))
    except TypeError as e:  # an unknown RewardConfig field
        raise ValueError(
            f"reward_params: {e}; see srpo.reward.config.RewardConfig for the accepted keys"
        ) from e


def vllm_usable() -> bool:
    """vLLM is installed and a CUDA GPU is present."""
    import torch

    return importlib.util.find_spec("vllm") is not None and torch.cuda.is_available()


def drop_long_prompts(dataset: Any, processor: Any, max_prompt_length: int | None) -> Any:
    """Keep the rows whose prompt (chat template applied, images counted at their largest size) fits."""
    if max_prompt_length is None:
        return dataset
    image_processor = processor.image_processor
    longest = (getattr(image_processor, "size", None) or {}).get("longest_edge") or 0
    per_image = longest // (
        (getattr(image_processor, "patch_size", 14) * getattr(image_processor, "merge_size", 2)) ** 2
    )

    def fits(row: dict[str, Any]) -> bool:
        text = processor.apply_chat_template(row["prompt"], tokenize=False, add_generation_prompt=True)
        n = len(processor.tokenizer(text, add_special_tokens=False)["input_ids"])
        return n + per_image * len(row.get("images") or []) <= max_prompt_length

    kept = dataset.filter(fits)
    if len(kept) < len(dataset):
        log.warning(
            "grpo: dropped %d of %d prompts longer than max_prompt_length=%d",
            len(dataset) - len(kept),
            len(dataset),
            max_prompt_length,
        )
    if len(kept) == 0:
        raise ValueError(f"max_prompt_length={max_prompt_length}: every prompt is longer; raise the limit")
    return kept


def build_grpo_trainer(config: GRPORecipeConfig, *, callbacks: list[Any] | None = None) -> Any:
    """A `GRPOTrainer` ready to `train()`: prompts loaded, SRPO reward attached, vision parts frozen, and the
    online difficulty filter set to `difficulty_band` (`DifficultyFilteredGRPOTrainer`; off when None)."""
    from srpo.train.data import load_rl_dataset
    from srpo.train.difficulty import DifficultyFilteredGRPOTrainer, final_correct_from
    from srpo.train.model import freeze_for_recipe, load_recipe_processor, lora_config

    if config.use_vllm and not vllm_usable():
        log.warning("grpo: use_vllm is set but vLLM or a CUDA GPU is missing; generating with transformers")
        config.use_vllm = False
    processor = load_recipe_processor(config)
    system_prompt = resolved_system_prompt(config)
    train_dataset = load_rl_dataset(
        config.dataset_path,
        system_prompt=system_prompt,
        image_root=config.image_root,
        max_samples=config.max_samples,
    )
    train_dataset = drop_long_prompts(train_dataset, processor, config.max_prompt_length)
    eval_dataset = None
    if config.eval_dataset_path:
        eval_dataset = load_rl_dataset(
            config.eval_dataset_path, system_prompt=system_prompt, image_root=config.image_root
        )
    reward = reward_function(config, processor)
    trainer = DifficultyFilteredGRPOTrainer(
        model=config.model_name_or_path,
        reward_funcs=[reward],
        args=config,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        processing_class=processor,
        peft_config=lora_config(config),
        callbacks=callbacks,
        difficulty_band=config.difficulty_band,
        final_correct=final_correct_from(reward),
    )
    counts = freeze_for_recipe(trainer, config)
    log.info("grpo: %d prompts, %s", len(train_dataset), counts)
    return trainer


def run_grpo(config: GRPORecipeConfig, *, callbacks: list[Any] | None = None) -> Path:
    """Train, save the final policy and processor to `config.output_dir`, and return that folder (reloadable
    offline with `srpo.models.loading`)."""
    trainer = build_grpo_trainer(config, callbacks=callbacks)
    return train_and_save(trainer, config)
