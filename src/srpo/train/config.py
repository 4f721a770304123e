"""Recipe configs: one dataclass per command, read from YAML with command-line overrides.

Each recipe config *extends* TRL's own config class (`SFTConfig`, `GRPOConfig`) with the few fields TRL does not
have (`RecipeArgs`: model, data, images, freezing, LoRA). Every TRL / `TrainingArguments` option is therefore
accepted as it is, under its TRL name, in the YAML file or on the command line — there is no second copy.

Overrides come after the YAML file and win over it, in either spelling::

    srpo sft --config configs/sft/tiny_cpu.yaml max_steps=20 learning_rate=1e-4
    srpo sft --config configs/sft/tiny_cpu.yaml --max_steps 20 --report_to tensorboard wandb

Values are read as YAML (`true`, `null`, `[a, b]`, `{k: v}`) and then coerced to the field's declared type, so
`1e-5` is a float for `learning_rate` even though YAML would call it a string.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

T = TypeVar("T")


class ConfigError(ValueError):
    """A config file or override is wrong; the message names the file, the key and what to do."""


@dataclass
class RecipeArgs:
    """The fields our recipes add on top of TRL's config (shared by `srpo sft` and `srpo grpo`)."""

    model_name_or_path: str = field(
        default="",
        metadata={"help": "Model to train: a local checkpoint folder or a Hugging Face hub id (required)."},
    )
    dataset_path: str = field(
        default="",
        metadata={"help": "Training data: a JSONL/JSON/Parquet file or a `save_to_disk` folder (required)."},
    )
    eval_dataset_path: str | None = field(
        default=None, metadata={"help": "Optional evaluation data, same format as `dataset_path`."}
    )
    image_root: str | None = field(
        default=None,
        metadata={
            "help": "Folder that relative image paths in the data resolve against (default: the data's folder)."
        },
    )
    max_samples: int | None = field(
        default=None, metadata={"help": "Use only the first N training rows (quick runs, debugging)."}
    )
    image_min_pixels: int | None = field(
        default=None,
        metadata={"help": "Smallest image area after resizing, in pixels (processor default if unset)."},
    )
    image_max_pixels: int | None = field(
        default=None,
        metadata={"help": "Largest image area after resizing, in pixels (paper: 262144 = 512x512)."},
    )
    freeze_vision: bool = field(
        default=True, metadata={"help": "Freeze the vision tower (paper setting); false trains it too."}
    )
    freeze_projector: bool = field(
        default=True,
        metadata={"help": "Freeze the multimodal projector (Qwen2.5-VL's `visual.merger`; paper setting)."},
    )
    use_peft: bool = field(
        default=False, metadata={"help": "Train LoRA adapters (PEFT) instead of all weights."}
    )
    lora_r: int = field(default=16, metadata={"help": "LoRA rank."})
    lora_alpha: int = field(default=32, metadata={"help": "LoRA scaling alpha."})
    lora_dropout: float = field(default=0.05, metadata={"help": "Dropout on the LoRA branch."})
    lora_target_modules: list[str] = field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
        metadata={
            "help": "Linear layer names that get adapters (language model only while freeze_vision is on)."
        },
    )


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


def recipe_field_names() -> set[str]:
    """Names of the fields `RecipeArgs` adds to TRL's config."""
    return {f.name for f in dataclasses.fields(RecipeArgs)}


PACKAGED_PREFIX = "configs/"


def packaged_configs() -> Path:
    """The folder of the configs srpo ships (`srpo/configs/`: sft, grpo, accelerate, deepspeed, verl)."""
    from importlib.resources import files

    return Path(str(files("srpo") / "configs"))


def resolve_config(path: str | os.PathLike) -> Path:
    """`path` when it is a file; else the packaged config it names (`configs/sft/tiny_cpu.yaml`,
    `sft/tiny_cpu.yaml`), so the shipped recipes work from any folder and from a wheel install. ConfigError
    naming both places otherwise."""
    p = Path(path)
    if p.is_file():
        return p
    name = str(path).replace("\\", "/")
    name = name[len(PACKAGED_PREFIX) :] if name.startswith(PACKAGED_PREFIX) else name
    packaged = packaged_configs() / name
    if not p.is_absolute() and packaged.is_file():
        return packaged
    shipped = sorted(str(q.relative_to(packaged_configs())) for q in packaged_configs().rglob("*.yaml"))
    raise ConfigError(
        f"{path}: config file not found (here, or among srpo's shipped configs: {', '.join(shipped)}). "
        "Pass an existing YAML file with --config."
    )


def load_config(cls: type[T], path: str | Path | None = None, overrides: list[str] | None = None) -> T:
    """Build `cls` from the YAML file at `path` (optional) and `overrides` (later wins).

    Raises `ConfigError` naming the file or override, the key and the fix, for an unreadable file, an unknown key,
    a value of the wrong type, or a value TRL rejects.
    """
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    where = str(path) if path else "(no config file)"
    if path is not None:
        path = resolve_config(path)
        for key, value in _read_yaml(path).items():
            values[key], origin[key] = value, f"{path}"
    for key, raw in parse_overrides(overrides or []).items():
        values[key], origin[key] = raw, "command-line override"
    if isinstance(values.get("deepspeed"), str) and values["deepspeed"]:
        # "configs/deepspeed/zero3.json" names a shipped file, wherever srpo runs from; a bad name is reported
        # by TRL (or the dry run) as written
        with contextlib.suppress(ConfigError):
            values["deepspeed"] = str(resolve_config(values["deepspeed"]))

    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key not in fields:
            close = difflib.get_close_matches(key, fields, n=3, cutoff=0.7)
            hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise ConfigError(
                f"{origin[key]}: unknown key {key!r} for {cls.__name__}.{hint} "
                f"List the accepted keys with `srpo {_command(cls)} --list-options`."
            )
        try:
            kwargs[key] = coerce(value, hints[key])
        except (TypeError, ValueError) as e:
            raise ConfigError(
                f"{origin[key]}: {key}={value!r} is not a valid {_type_name(hints[key])} ({e}). Fix the value."
            ) from None
    try:
        return cls(**kwargs)
    except ConfigError:
        raise
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{where} (with overrides {overrides or []}): {e}") from e


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found. Pass an existing YAML file with --config.")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML ({e}). Fix the file.") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: expected a mapping of option: value at the top level, got {type(data).__name__}."
        )
    return data


def parse_overrides(args: list[str]) -> dict[str, Any]:
    """Turn `key=value`, `--key value`, `--key=value`, `--key v1 v2` and bare `--flag` into a dict.

    Values are parsed as YAML scalars/collections; a `--key` followed by several values gives a list.
    """
    out: dict[str, Any] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if arg.startswith("--"):
            key, eq, value = arg[2:].partition("=")
            if eq:
                out[_norm(key)] = _yaml_value(value)
                i += 1
                continue
            vals = []
            i += 1
            while i < len(args) and not args[i].startswith("--") and "=" not in args[i]:
                vals.append(_yaml_value(args[i]))
                i += 1
            out[_norm(key)] = True if not vals else vals[0] if len(vals) == 1 else vals
        elif "=" in arg:
            key, _, value = arg.partition("=")
            out[_norm(key)] = _yaml_value(value)
            i += 1
        else:
            raise ConfigError(
                f"command-line override {arg!r}: expected key=value or --key value (e.g. max_steps=20)."
            )
    return out


def _norm(key: str) -> str:
    return key.strip().replace("-", "_")


def _yaml_value(text: str) -> Any:
    try:
        return yaml.safe_load(text) if text.strip() else ""
    except yaml.YAMLError:
        return text


_NULLS = {"null", "none", "~"}


def coerce(value: Any, tp: Any) -> Any:
    """Convert `value` (from YAML or the command line) to the declared type `tp`, or raise ValueError."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(tp)
        if value is None:
            if type(None) in options:
                return None
            raise ValueError("null is not allowed here")
        if (
            isinstance(value, str)
            and value.lower() in _NULLS
            and type(None) in options
            and str not in options
        ):
            return None
        errors = []
        # Exact type match first (a str stays a str when str is allowed), then conversions in declared order.
        for option in options:
            if option is not type(None) and _is_instance(value, option):
                return coerce(value, option)
        for option in options:
            if option is type(None):
                continue
            try:
                return coerce(value, option)
            except (TypeError, ValueError) as e:
                errors.append(str(e))
        raise ValueError("; ".join(errors) or "no matching type")
    if tp is Any or tp is None:
        return value
    if origin is typing.Literal:
        if value in typing.get_args(tp):
            return value
        raise ValueError(f"expected one of {typing.get_args(tp)}")
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"true", "yes", "1", "on", "false", "no", "0", "off"}:
            return value.lower() in {"true", "yes", "1", "on"}
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise ValueError("expected true or false")
    if tp is int:
        if isinstance(value, bool):
            raise ValueError("expected an integer, got a boolean")
        if isinstance(value, float) and not value.is_integer():
            raise ValueError("expected an integer")
        return int(value)
    if tp is float:
        if isinstance(value, bool):
            raise ValueError("expected a number, got a boolean")
        return float(value)
    if tp is str:
        if isinstance(value, (dict, list)):
            raise ValueError("expected a single value")
        return str(value)
    if origin in (list, tuple) or tp in (list, tuple):
        items = value if isinstance(value, list) else _split_list(value)
        args = typing.get_args(tp)
        return [coerce(v, args[0]) for v in items] if args else list(items)
    if origin is dict or tp is dict:
        if isinstance(value, dict):
            return value
        parsed = _yaml_value(value) if isinstance(value, str) else value
        if not isinstance(parsed, dict):
            raise ValueError("expected a mapping like {key: value}")
        return parsed
    if isinstance(tp, type) and issubclass(tp, str):  # str enums (SchedulerType, IntervalStrategy…)
        return tp(value)
    if isinstance(tp, type) and _is_instance(value, tp):
        return value
    raise ValueError(f"cannot convert {type(value).__name__}")


def _split_list(value: Any) -> list[Any]:
    if isinstance(value, str):
        return [_yaml_value(v.strip()) for v in value.split(",") if v.strip()]
    return [value]


def _is_instance(value: Any, tp: Any) -> bool:
    base = typing.get_origin(tp) or tp
    if not isinstance(base, type):
        return False
    if base is float and isinstance(value, int) and not isinstance(value, bool):
        return False  # let coerce() turn an int into a float explicitly
    if base is int and isinstance(value, bool):
        return False
    return isinstance(value, base)


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _command(cls: type) -> str:
    return "grpo" if "GRPO" in cls.__name__ else "sft"


def config_help(cls: type) -> str:
    """Every option `cls` accepts with its type, default and one-line help (for `--list-options`)."""
    hints = typing.get_type_hints(cls)
    ours = recipe_field_names()
    lines = [f"{cls.__name__}: srpo options first, then TRL's (all settable in YAML or as key=value).", ""]
    fields = sorted(
        (f for f in dataclasses.fields(cls) if f.init and not f.name.startswith("_")),
        key=lambda f: (f.name not in ours and f.name not in getattr(cls, "_srpo_fields", ()), f.name),
    )
    for f in fields:
        default = (
            f.default
            if f.default is not dataclasses.MISSING
            else (f.default_factory() if f.default_factory is not dataclasses.MISSING else "(required)")
        )
        text = " ".join(str(f.metadata.get("help", "")).split())
        lines.append(f"  {f.name} ({_type_name(hints[f.name])}, default {default!r})")
        if text:
            lines.append(f"      {text}")
    return "\n".join(lines)
