"""`srpo sft` and `srpo grpo`."""

from __future__ import annotations

import typer


def sft_command(ctx: typer.Context) -> None:
    """Reflection cold-start SFT (not yet available)."""
    from srpo.cli import not_yet

    not_yet("sft")


def grpo_command(ctx: typer.Context) -> None:
    """GRPO with the reflection-aware reward (not yet available)."""
    from srpo.cli import not_yet

    not_yet("grpo")
