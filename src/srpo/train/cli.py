"""`srpo sft` and `srpo grpo`: read a YAML config, apply `key=value` / `--key value` overrides, train.

    srpo sft  --config configs/sft/tiny_cpu.yaml max_steps=20
    srpo grpo --config configs/grpo/qwen2_5_vl_7b.yaml --dry-run
    srpo sft  --list-options

Both are thin skins over `run_sft(config)` / `run_grpo(config)`; `--dry-run` only resolves and validates.
Under `accelerate launch` they run unchanged: `accelerate launch --config_file … -m srpo sft --config …`.
"""

from __future__ import annotations

import os
from typing import Any

import typer

from srpo.train.config import ConfigError

_CONFIG_HELP = (
    "YAML recipe: a file, or a shipped one by name (configs/sft/tiny_cpu.yaml works from any folder); every key "
    "is a field of the recipe's config dataclass."
)


def _run(kind: str, ctx: typer.Context, config: str | None, dry_run: bool, list_options: bool) -> None:
    from srpo.errors import cli_errors

    with cli_errors(f"srpo {kind}"):
        _run_recipe(kind, ctx, config, dry_run, list_options)


def _run_recipe(kind: str, ctx: typer.Context, config: str | None, dry_run: bool, list_options: bool) -> None:
    from srpo.train.config import config_help

    cls = _config_class(kind)
    if list_options:
        typer.echo(config_help(cls))
        return
    if config is None and not ctx.args:
        raise typer.BadParameter(
            "pass --config CONFIG.yaml (and optional key=value overrides)", param_hint="--config"
        )
    if config is not None:
        from srpo.train.config import resolve_config

        config = str(resolve_config(config))
    if dry_run:
        from srpo.train.dry_run import dry_run as do_dry_run

        typer.echo(do_dry_run(cls, config, list(ctx.args)))
        return
    from srpo.train.config import load_config

    try:
        cfg = load_config(cls, config, list(ctx.args))
    except ConfigError as e:
        raise ConfigError(f"config error: {e}") from None
    out = _runner(kind)(cfg)
    if int(os.environ.get("RANK", "0")) == 0:
        typer.echo(f"srpo {kind}: model saved to {out}")


def _config_class(kind: str) -> Any:
    if kind == "sft":
        from srpo.train.sft import SFTRecipeConfig

        return SFTRecipeConfig
    from srpo.train.grpo import GRPORecipeConfig

    return GRPORecipeConfig


def _runner(kind: str) -> Any:
    if kind == "sft":
        from srpo.train.sft import run_sft

        return run_sft
    from srpo.train.grpo import run_grpo

    return run_grpo


def _recipe_command(kind: str, summary: str) -> Any:
    """The `srpo sft` / `srpo grpo` command: the same three options, a different recipe."""

    def command(
        ctx: typer.Context,
        config: str = typer.Option(None, "--config", "-c", help=_CONFIG_HELP),
        dry_run: bool = typer.Option(
            False,
            "--dry-run",
            help="Print the resolved config and build the trainer "
            "arguments; load no model, read no data, download nothing.",
        ),
        list_options: bool = typer.Option(
            False, "--list-options", help="List every option with its default and help."
        ),
    ) -> None:
        _run(kind, ctx, config, dry_run, list_options)

    command.__name__ = f"{kind}_command"
    command.__doc__ = (
        f"{summary}\n\nExtra arguments override the YAML: key=value or --key value (TRL option names)."
    )
    return command


sft_command = _recipe_command(
    "sft",
    "Stage 2: reflection cold-start SFT on TRL's SFTTrainer (vision tower and projector frozen by default).",
)
grpo_command = _recipe_command(
    "grpo", "Stage 3: GRPO with the reflection-aware SRPO reward on TRL's GRPOTrainer."
)
