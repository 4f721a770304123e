"""`srpo reward` commands."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True)


@app.command("status")
def status() -> None:
    """Not yet available."""
    from srpo.cli import not_yet

    not_yet("reward")
