"""What both recipes do around TRL: the processor's image size, frozen parts, LoRA, resuming and saving.

Vision-language models name their parts differently; the tables below list the attribute names we know (the
first match wins). Qwen2.5-VL: vision tower `model.visual`, projector `model.visual.merger`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from srpo.train.config import RecipeArgs

VISION_TOWER_NAMES = ("visual", "vision_tower", "vision_model")
PROJECTOR_NAMES = ("merger", "multi_modal_projector", "mm_projector", "connector")


def load_recipe_processor(args: RecipeArgs) -> Any:
    """The model's processor (through `srpo.models.loading.load_processor`, never a bare tokenizer), with the
    configured image min/max pixels applied."""
    from srpo.models.loading import load_processor

    processor = load_processor(args.model_name_or_path)
    set_image_pixels(processor, args.image_min_pixels, args.image_max_pixels)
    return processor


def set_image_pixels(processor: Any, min_pixels: int | None, max_pixels: int | None) -> None:
    """Bound the area images are resized to (Qwen-VL processors keep it in `size` as shortest/longest edge)."""
    if min_pixels is None and max_pixels is None:
        return
    image_processor = processor.image_processor
    size = dict(getattr(image_processor, "size", None) or {})
    if min_pixels is not None:
        size["shortest_edge"] = min_pixels
        image_processor.min_pixels = min_pixels
    if max_pixels is not None:
        size["longest_edge"] = max_pixels
        image_processor.max_pixels = max_pixels
    image_processor.size = size


def find_parts(model: Any) -> dict[str, str]:
    """Dotted names of the vision tower and projector inside `model` (`{}` entries missing when not found)."""
    names = {name for name, _ in model.named_modules()}
    parts: dict[str, str] = {}
    for name in sorted(names, key=len):
        leaf = name.rsplit(".", 1)[-1]
        if "vision_tower" not in parts and leaf in VISION_TOWER_NAMES and "lora" not in name:
            parts["vision_tower"] = name
        if "projector" not in parts and leaf in PROJECTOR_NAMES:
            parts["projector"] = name
    return parts


def freeze_parts(model: Any, *, freeze_vision: bool, freeze_projector: bool) -> dict[str, int]:
    """Set `requires_grad=False` on the vision tower and/or projector; return trainable/frozen parameter counts.

    The projector lives inside the vision tower in Qwen2.5-VL, so `freeze_vision` with `freeze_projector=False`
    freezes the tower but keeps the projector trainable.
    """
    parts = find_parts(model)
    tower, projector = parts.get("vision_tower"), parts.get("projector")
    for name, param in model.named_parameters():
        in_projector = projector is not None and _under(name, projector)
        in_tower = tower is not None and _under(name, tower)
        if (in_projector and freeze_projector) or (in_tower and not in_projector and freeze_vision):
            param.requires_grad_(False)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    return {"trainable_params": trainable, "frozen_params": total - trainable}


def _under(param_name: str, module_name: str) -> bool:
    # PEFT wraps names (base_model.model.…); match the module path anywhere as a dotted segment run.
    return param_name.startswith(module_name + ".") or f".{module_name}." in f".{param_name}"


def lora_config(args: RecipeArgs) -> Any:
    """A `peft.LoraConfig` for `args`, or None when `use_peft` is off.

    While the vision tower is frozen the adapters go on the language model only: the target is a regex that
    skips every module under a vision tower (Qwen2.5-VL's vision MLP reuses the names gate/up/down_proj).
    """
    if not args.use_peft:
        return None
    from peft import LoraConfig

    names = "|".join(args.lora_target_modules)
    if args.freeze_vision:
        towers = "|".join(VISION_TOWER_NAMES)
        target: Any = rf"^(?!.*\b({towers})\b).*\.({names})$"
    else:
        target = list(args.lora_target_modules)
    return LoraConfig(
        r=args.lora_r,
        lora_alpha=args.lora_alpha,
        lora_dropout=args.lora_dropout,
        target_modules=target,
        task_type="CAUSAL_LM",
    )


def model_summary(model: Any) -> dict[str, Any]:
    """Parameter counts and the parts found, for logs and dry runs."""
    parts = find_parts(model)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    return {**parts, "trainable_params": trainable, "total_params": total}


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


def freeze_for_recipe(trainer: Any, config: RecipeArgs) -> dict[str, int]:
    """Freeze the parts the recipe says to (after TRL has built the model, and PEFT wrapped it)."""
    return freeze_parts(
        trainer.model, freeze_vision=config.freeze_vision, freeze_projector=config.freeze_projector
    )


def train_and_save(trainer: Any, config: Any) -> Path:
    """Train (resuming when asked), then save the final model, the trainer state (the logged loss / reward
    history, for reports) and the processor to `config.output_dir`; return that folder."""
    trainer.train(resume_from_checkpoint=resume_arg(config))
    out = Path(config.output_dir)
    trainer.save_model(str(out))
    trainer.save_state()
    if trainer.is_world_process_zero():
        trainer.processing_class.save_pretrained(str(out))
    return out
