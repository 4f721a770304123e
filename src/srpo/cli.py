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
    n: int = typer.Option(800, help="Synthetic problems (train + test; a quarter is held out)."),
    tasks: str = typer.Option(
        "easy", help="Synthetic tasks: easy | visual | math | all, or task names, comma-separated."
    ),
    sft_epochs: float = typer.Option(4.0, help="SFT epochs over the curated data."),
    grpo_steps: int = typer.Option(100, help="GRPO steps."),
    reward_preset: str = typer.Option("paper", help="Reward preset of the GRPO stage: paper | authors."),
    compare_presets: str = typer.Option(
        "", help="Also run GRPO with these presets from the same SFT model, e.g. paper,authors."
    ),
    difficulty_band: str = typer.Option(
        "", help="Online difficulty filter for GRPO as LOW,HIGH (e.g. 0.1,0.9); default: off."
    ),
    eval_limit: int = typer.Option(None, help="Evaluate on at most this many held-out problems."),
    seed: int = typer.Option(0, help="Seed for data, model and training."),
    check: bool = typer.Option(
        False, "--check", help="Only check the inputs (extras, configs, output folder) and stop."
    ),
) -> None:
    """Run the whole pipeline small, on CPU, offline: data, tiny model, curate, SFT, GRPO, eval, report.

    Resumable: a rerun skips the stages that finished; adding --compare-presets to a finished run only runs
    the new GRPO stages. Every input is checked before any work starts."""
    from srpo.errors import cli_errors

    with cli_errors("srpo quickstart"):
        from srpo.quickstart import run_quickstart

        run_quickstart(
            out,
            fresh=fresh,
            check=check,
            n=n,
            tasks=tasks,
            sft_epochs=sft_epochs,
            grpo_steps=grpo_steps,
            reward_preset=reward_preset,
            compare_presets=[p.strip() for p in compare_presets.split(",") if p.strip()],
            difficulty_band=_band(difficulty_band),
            eval_limit=eval_limit,
            seed=seed,
        )


def _band(text: str) -> list[float] | None:
    if not text.strip():
        return None
    try:
        return [float(x) for x in text.split(",")]
    except ValueError:
        raise ValueError(f"--difficulty-band {text!r}: expected LOW,HIGH such as 0.1,0.9") from None


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
