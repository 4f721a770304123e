"""`srpo reward` commands: a thin skin over `srpo.reward.summary.score_file`."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from srpo.reward.config import PRESETS

app = typer.Typer(no_args_is_help=True)


@app.command("score")
def score_command(
    input: Path = typer.Option(..., "--input", "-i", help="JSONL of {response, answer[, choices]} lines."),
    preset: str = typer.Option("paper", help=f"Reward preset: {', '.join(PRESETS)}."),
    skip_bad: bool = typer.Option(
        False, "--skip-bad", help="Skip (and count) malformed lines instead of stopping."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    task: str = typer.Option(
        "math", "--task", help="Task that judges lines without a data_source (srpo.tasks)."
    ),
) -> None:
    """Score responses with the SRPO reward; print component means and first→final transition counts."""
    from srpo.reward.summary import score_file

    if preset not in PRESETS:
        raise typer.BadParameter(
            f"unknown preset {preset!r}; known: {', '.join(PRESETS)}", param_hint="--preset"
        )
    from srpo.errors import cli_errors

    with cli_errors("srpo reward score"):
        summary = score_file(input, preset, skip_bad=skip_bad, task=task)
    typer.echo(json.dumps(summary.as_dict(), indent=2) if as_json else summary.table())
