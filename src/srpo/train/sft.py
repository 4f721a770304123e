"""Stage 2, reflection cold-start SFT: a thin recipe over TRL's `SFTTrainer`.

What the recipe adds to TRL: reading the curated data (`srpo.train.data`), loading the processor through
`srpo.models.loading` (never a bare tokenizer), image min/max pixels, freezing the vision tower and projector,
LoRA from a few flat fields, and resuming. Everything else — the collator, assistant-only loss, the training loop,
checkpoints, logging, DeepSpeed — is TRL's and transformers', driven by the `SFTConfig` fields in the YAML.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trl import SFTConfig

from srpo.train.config import RecipeArgs, check_recipe_fields
from srpo.train.model import train_and_save

log = logging.getLogger(__name__)


@dataclass
class SFTRecipeConfig(SFTConfig, RecipeArgs):
    """`srpo sft` options: TRL's `SFTConfig` (every field, same names) plus `RecipeArgs` (model, data, images,
    freezing, LoRA). `resume_from_checkpoint` is TrainingArguments' own field: a checkpoint folder, or `true`
    / `latest` for the newest checkpoint in `output_dir`."""

    def __post_init__(self) -> None:
        check_recipe_fields(self)
        super().__post_init__()


def build_sft_trainer(config: SFTRecipeConfig, *, callbacks: list[Any] | None = None) -> Any:
    """An `SFTTrainer` ready to `train()`: data loaded, processor set up, vision parts frozen, LoRA attached."""
    from trl import SFTTrainer

    from srpo.train.data import load_sft_dataset
    from srpo.train.model import freeze_for_recipe, load_recipe_processor, lora_config

    processor = load_recipe_processor(config)
    train_dataset = load_sft_dataset(
        config.dataset_path, image_root=config.image_root, max_samples=config.max_samples
    )
    eval_dataset = (
        load_sft_dataset(config.eval_dataset_path, image_root=config.image_root)
        if config.eval_dataset_path
        else None
    )
    trainer = SFTTrainer(
        model=config.model_name_or_path,
        args=config,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        processing_class=processor,
        peft_config=lora_config(config),
        callbacks=callbacks,
    )
    counts = freeze_for_recipe(trainer, config)
    log.info("sft: %d rows, %s", len(train_dataset), counts)
    return trainer


def run_sft(config: SFTRecipeConfig, *, callbacks: list[Any] | None = None) -> Path:
    """Train, save the final model and processor to `config.output_dir`, and return that folder.

    The folder reloads offline with `srpo.models.loading.load_model` / `load_processor` (for LoRA runs it holds
    the adapter; merge it with PEFT's `merge_and_unload` to get a plain checkpoint).
    """
    trainer = build_sft_trainer(config, callbacks=callbacks)
    return train_and_save(trainer, config)
