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

from srpo.train.config import RecipeArgs

log = logging.getLogger(__name__)


@dataclass
class SFTRecipeConfig(SFTConfig, RecipeArgs):
    """`srpo sft` options: TRL's `SFTConfig` (every field, same names) plus `RecipeArgs` (model, data, images,
    freezing, LoRA). `resume_from_checkpoint` is TrainingArguments' own field: a checkpoint folder, or `true`
    / `latest` for the newest checkpoint in `output_dir`."""

    def __post_init__(self) -> None:
        check_recipe_fields(self)
        super().__post_init__()


def check_recipe_fields(config: Any) -> None:
    """Raise ValueError for missing or inconsistent recipe fields (TRL validates its own)."""
    missing = [k for k in ("model_name_or_path", "dataset_path") if not getattr(config, k)]
    if missing:
        raise ValueError(f"{' and '.join(missing)} must be set (in the YAML file or as key=value overrides)")
    lo, hi = config.image_min_pixels, config.image_max_pixels
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"image_min_pixels ({lo}) is larger than image_max_pixels ({hi})")
    if config.use_peft and not config.lora_target_modules:
        raise ValueError("use_peft is on but lora_target_modules is empty; name the linear layers to adapt")


def resume_arg(config: Any) -> str | bool | None:
    """What to pass to `Trainer.train(resume_from_checkpoint=…)`: a path, True (newest in output_dir) or None.

    `true`/`latest` with no checkpoint in `output_dir` yet starts from scratch instead of failing, so a
    resumable command line can be rerun unchanged."""
    value = config.resume_from_checkpoint
    if value in (None, "", False, "false", "none"):
        return None
    if value in (True, "true", "latest", "last"):
        from transformers.trainer_utils import get_last_checkpoint

        out = Path(config.output_dir)
        return True if out.is_dir() and get_last_checkpoint(str(out)) else None
    if not Path(value).is_dir():
        raise FileNotFoundError(f"resume_from_checkpoint={value!r}: no such checkpoint folder")
    return str(value)


def build_sft_trainer(config: SFTRecipeConfig, *, callbacks: list[Any] | None = None) -> Any:
    """An `SFTTrainer` ready to `train()`: data loaded, processor set up, vision parts frozen, LoRA attached."""
    from trl import SFTTrainer

    from srpo.train.data import load_sft_dataset
    from srpo.train.model import freeze_parts, load_recipe_processor, lora_config

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
    counts = freeze_parts(
        trainer.model, freeze_vision=config.freeze_vision, freeze_projector=config.freeze_projector
    )
    log.info("sft: %d rows, %s", len(train_dataset), counts)
    return trainer


def run_sft(config: SFTRecipeConfig, *, callbacks: list[Any] | None = None) -> Path:
    """Train, save the final model and processor to `config.output_dir`, and return that folder.

    The folder reloads offline with `srpo.models.loading.load_model` / `load_processor` (for LoRA runs it holds
    the adapter; merge it with PEFT's `merge_and_unload` to get a plain checkpoint).
    """
    trainer = build_sft_trainer(config, callbacks=callbacks)
    trainer.train(resume_from_checkpoint=resume_arg(config))
    out = Path(config.output_dir)
    trainer.save_model(str(out))
    trainer.save_state()  # trainer_state.json: the logged loss / reward history, for reports
    if trainer.is_world_process_zero():
        trainer.processing_class.save_pretrained(str(out))
    return out
