"""`--dry-run`: resolve a recipe config and build its trainer arguments without loading weights or data.

It works on any machine, offline, for any model size:

- The config is built exactly as a real run builds it (YAML + overrides → the recipe dataclass, whose
  `__post_init__` is TRL's own validation). On a machine without a GPU, a config asking for bf16/fp16 is built
  with `use_cpu=true` added, since transformers refuses mixed precision there; a DeepSpeed JSON named in the
  config is parsed but not attached when `deepspeed` is not installed. Both are reported.
- The model's `config.json` is read only if it is already local (a folder, or the Hugging Face cache) — nothing
  is downloaded. When it is, the model is instantiated on the `meta` device (no memory, no weights) to report
  the frozen vision tower / projector and the trainable parameter count. When it is not, those checks are
  skipped and the report says so.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import yaml

from srpo.train.config import ConfigError, load_config, parse_overrides, recipe_field_names, resolve_config


def dry_run(cls: type, path: str | None, overrides: list[str]) -> str:
    """The resolved config and what a run would do, as YAML text. Raises `ConfigError` for a bad config."""
    import torch

    notes: list[str] = []
    requested = {**(_yaml_keys(path)), **parse_overrides(overrides)}
    forced: list[str] = []
    has_gpu = torch.cuda.is_available()
    if (
        not has_gpu
        and (_truthy(requested.get("bf16", "unset")) or _truthy(requested.get("fp16")))
        and not _truthy(requested.get("use_cpu"))
    ):
        forced.append("use_cpu=true")
        notes.append(
            "no GPU here: built with use_cpu=true so transformers accepts bf16/fp16 (validation only)"
        )
    ds = requested.get("deepspeed")
    if ds and not _importable("deepspeed"):
        _check_json(ds, path)
        forced.append("deepspeed=null")
        notes.append(f"deepspeed config {ds} parses; deepspeed is not installed here, so it is not attached")
    config = load_config(cls, path, [*overrides, *forced])

    report: dict[str, Any] = {
        "recipe": cls.__name__,
        "config_file": path,
        "overrides": overrides,
        "srpo_options": {k: _plain(getattr(config, k)) for k in sorted(_srpo_names(cls))},
        "trl_options_changed_from_defaults": _changed(cls, config),
        "derived": _derived(config),
        "model": _model_check(config),
        "data": {
            k: _path_state(getattr(config, k))
            for k in ("dataset_path", "eval_dataset_path")
            if getattr(config, k)
        },
        "notes": notes,
    }
    if config.use_peft:
        from srpo.train.model import lora_config

        lc = lora_config(config)
        report["lora"] = {
            "r": lc.r,
            "alpha": lc.lora_alpha,
            "dropout": lc.lora_dropout,
            "target": str(lc.target_modules),
        }
    if hasattr(config, "reward_preset"):
        from srpo.reward.config import RewardConfig
        from srpo.train.grpo import resolved_system_prompt, vllm_usable

        try:
            reward = RewardConfig.preset(config.reward_preset, **(config.reward_params or {}))
        except (TypeError, ValueError) as e:
            raise ConfigError(f"{path}: reward_params: {e}") from None
        report["reward"] = dataclasses.asdict(reward)
        report["system_prompt"] = resolved_system_prompt(config)
        report["generation"] = (
            f"vLLM ({config.vllm_mode})"
            if config.use_vllm and vllm_usable()
            else "transformers"
            + (" (use_vllm is set, but vLLM/GPU are missing here)" if config.use_vllm else "")
        )
    return yaml.safe_dump(report, sort_keys=False, allow_unicode=True, width=110)


def _yaml_keys(path: str | None) -> dict[str, Any]:
    if not path or not Path(path).is_file():
        return {}
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in {"true", "yes", "1", "unset"})


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def _check_json(ref: Any, path: str | None) -> None:
    if isinstance(ref, dict):
        return
    try:
        p = resolve_config(str(ref))
    except ConfigError:
        raise ConfigError(
            f"{path}: deepspeed={ref!r}: no such file; point it at a JSON file under configs/deepspeed/"
        ) from None
    try:
        json.loads(p.read_text(encoding="utf-8"))
    except ValueError as e:
        raise ConfigError(f"{p}: not valid JSON ({e})") from None


def _srpo_names(cls: type) -> set[str]:
    return recipe_field_names() | set(getattr(cls, "_srpo_fields", ()))


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


def _changed(cls: type, config: Any) -> dict[str, Any]:
    ours = _srpo_names(cls)
    out = {}
    for f in dataclasses.fields(cls):
        if not f.init or f.name in ours or f.name.startswith("_"):
            continue
        value = getattr(config, f.name)
        if _plain(value) != _plain(_default(f)):
            out[f.name] = _plain(value)
    return out


def _plain(value: Any) -> Any:
    if hasattr(value, "value") and isinstance(value.value, str):  # str enums
        return value.value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _derived(config: Any) -> dict[str, Any]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    per_step = config.per_device_train_batch_size * config.gradient_accumulation_steps * world
    out: dict[str, Any] = {"world_size": world, "sequences_per_optimizer_step": per_step}
    if hasattr(config, "num_generations"):
        out["generation_batch_size"] = config.generation_batch_size
        out["prompts_per_generation_batch"] = config.generation_batch_size // config.num_generations
        out["steps_per_generation"] = config.steps_per_generation
    return out


def _path_state(p: str) -> str:
    path = Path(p)
    if path.is_file():
        return f"{p} (file, {path.stat().st_size} bytes)"
    if path.is_dir():
        return f"{p} (folder)"
    return f"{p} (missing here; needed at run time)"


def _model_check(config: Any) -> dict[str, Any]:
    """Model type and frozen parts from a local config.json only; never downloads."""
    name = config.model_name_or_path
    try:
        from transformers import AutoConfig

        model_config = AutoConfig.from_pretrained(name, local_files_only=True)
    except (OSError, ValueError) as e:
        return {
            "name": name,
            "status": "config.json not available locally (not downloaded); model-specific checks skipped",
            "reason": str(e).splitlines()[0][:200],
        }
    out: dict[str, Any] = {"name": name, "model_type": model_config.model_type}
    try:
        import torch
        from transformers import AutoModelForImageTextToText

        from srpo.train.model import freeze_parts, model_summary

        with torch.device("meta"):
            model = AutoModelForImageTextToText.from_config(model_config)
        counts = freeze_parts(
            model, freeze_vision=config.freeze_vision, freeze_projector=config.freeze_projector
        )
        summary = model_summary(model)
        out.update({k: summary[k] for k in ("vision_tower", "projector") if k in summary})
        out.update(counts)
    except (ValueError, KeyError, RuntimeError) as e:
        out["status"] = f"could not instantiate on the meta device: {e}"
    return out
