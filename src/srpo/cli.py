"""The `srpo` command: a thin skin over the library. Each stage's commands live beside its code."""

from __future__ import annotations

import typer

from srpo import __version__
from srpo.curate.cli import app as curate_app
from srpo.data.cli import app as data_app
from srpo.eval.cli import app as eval_app
from srpo.reward.cli import app as reward_app
from srpo.train.cli import grpo_command, sft_command

app = typer.Typer(
    help="Reflection-aware RL (SRPO) for vision-language models: curate → SFT → GRPO → evaluate.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(data_app, name="data", help="Read datasets, build the tiny model, make synthetic data.")
app.add_typer(curate_app, name="curate", help="Stage 1: curate reflection data (answer, reflect, build…).")
app.add_typer(reward_app, name="reward", help="Score responses with the reflection-aware reward.")
app.add_typer(eval_app, name="eval", help="Evaluate on multimodal math benchmarks and write reports.")
app.command("sft", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(sft_command)
app.command("grpo", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(grpo_command)


@app.command("quickstart")
def quickstart_command(
    out: str = typer.Option("runs/quickstart", help="Folder for everything the quickstart writes."),
    fresh: bool = typer.Option(False, "--fresh", help="Delete OUT first and start over."),
    n: int = typer.Option(360, help="Synthetic problems (train + test)."),
    sft_epochs: float = typer.Option(6.0, help="SFT epochs over the curated data."),
    grpo_steps: int = typer.Option(3, help="GRPO steps."),
    eval_limit: int = typer.Option(None, help="Evaluate on at most this many held-out problems."),
    seed: int = typer.Option(0, help="Seed for data, model and training."),
    check: bool = typer.Option(
        False, "--check", help="Only check the inputs (extras, configs, output folder) and stop."
    ),
) -> None:
    """Run the whole pipeline small, on CPU, offline: data, tiny model, curate, SFT, GRPO, eval, report.

    Resumable: a rerun skips the stages that finished. Every input is checked before any work starts."""
    from srpo.errors import cli_errors

    with cli_errors("srpo quickstart"):
        from srpo.quickstart import run_quickstart

        run_quickstart(
            out,
            fresh=fresh,
            check=check,
            n=n,
            sft_epochs=sft_epochs,
            grpo_steps=grpo_steps,
            eval_limit=eval_limit,
            seed=seed,
        )


def _version(value: bool) -> None:
    if value:
        typer.echo(f"srpo {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """srpo: teach VLMs to reason with explicit self-reflection."""
