"""`srpo data` commands."""

from __future__ import annotations

import json
from pathlib import Path

import typer

app = typer.Typer(no_args_is_help=True)

FORMAT_HELP = "Row format: auto (detect per row), srpo, llava-cot, mulberry, flat, mathvista."
FIELD_HELP = (
    "Map our fields to your columns, e.g. question=q,answer=a,image=img (dots reach into nested dicts)."
)


@app.command("inspect")
def inspect_command(
    input: Path = typer.Argument(..., help="JSONL / JSON / Parquet file or HF save_to_disk folder."),
    format: str = typer.Option("auto", help=FORMAT_HELP),
    field: str = typer.Option("", help=FIELD_HELP),
    split: str = typer.Option(None, help="Split to read from an HF DatasetDict folder."),
    skip_bad: bool = typer.Option(
        False, "--skip-bad", help="Skip malformed rows (counted) instead of stopping."
    ),
    show: int = typer.Option(3, help="How many samples to print."),
) -> None:
    """Read a dataset the way every stage will, and print counts and the first samples."""
    from srpo.data.readers import ReadStats, read_samples

    stats = ReadStats()
    for i, s in enumerate(
        read_samples(input, format=format, fields=field or None, skip_bad=skip_bad, stats=stats, split=split)
    ):
        if i < show:
            typer.echo(json.dumps(s.to_dict(), ensure_ascii=False)[:600])
    typer.echo(stats.summary())


@app.command("convert")
def convert_command(
    input: Path = typer.Argument(..., help="JSONL / JSON / Parquet file or HF save_to_disk folder."),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write srpo JSONL rows."),
    format: str = typer.Option("auto", help=FORMAT_HELP),
    field: str = typer.Option("", help=FIELD_HELP),
    split: str = typer.Option(None, help="Split to read from an HF DatasetDict folder."),
    skip_bad: bool = typer.Option(
        False, "--skip-bad", help="Skip malformed rows (counted) instead of stopping."
    ),
) -> None:
    """Normalise any supported dataset into srpo JSONL rows (id, question, answer, images, …)."""
    from srpo.data.readers import ReadStats, read_samples

    stats = ReadStats()
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for s in read_samples(
            input, format=format, fields=field or None, skip_bad=skip_bad, stats=stats, split=split
        ):
            f.write(json.dumps(s.to_dict(), ensure_ascii=False) + "\n")
    tmp.replace(output)
    typer.echo(f"{output}: {stats.summary()}")
