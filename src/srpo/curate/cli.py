"""`srpo curate` commands: a thin skin over `srpo.curate` (each command calls the library function of the
same name with the same arguments)."""

from __future__ import annotations

from pathlib import Path

import typer

from srpo.errors import cli_errors
from srpo.llm.options import LLM, llm_options
from srpo.llm.settings import LLMSettings

app = typer.Typer(no_args_is_help=True, help="Stage 1: curate reflection data.")

_SHARD = typer.Option(None, "--shard", help="Process only shard i of n (i/n), split by id hash.")


def _run(fn, *args, **kwargs):
    """Call a library function under `srpo.errors.cli_errors`: a user error exits 2 with its message, a
    stopped run 3, Ctrl-C 130 (the resume hint is printed by the step)."""
    with cli_errors("srpo curate"):
        return fn(*args, **kwargs)


def _finish(report) -> None:
    """Print a step's summary and exit with the code of its outcome (`srpo.errors`: 1 when some records
    failed, 3 when none succeeded)."""
    typer.echo(report.summary())
    if report.exit_code:
        raise typer.Exit(report.exit_code)


@app.command("answer")
@llm_options(model_help="Policy model name (local: checkpoint folder).")
def answer_command(
    input: Path = typer.Option(
        ..., "--input", help="Samples: JSONL/JSON/Parquet/HF folder, any supported row format."
    ),
    output: Path = typer.Option(..., "--output", help="Answers JSONL (appended; rerun to resume)."),
    image_root: Path | None = typer.Option(
        None, "--image-root", help="Folder relative image paths live in (default: the input's folder)."
    ),
    samples: int = typer.Option(1, "--samples", help="Attempts per question (K)."),
    temperature: float = typer.Option(1.0, "--temperature", help="Sampling temperature."),
    shard: str | None = _SHARD,
    prompt: Path | None = typer.Option(
        None, "--prompt", help="Jinja template for the user text (default srpo/prompts/answer.j2)."
    ),
    format: str = typer.Option(
        "auto", "--format", help="Input row format (auto, srpo, llava-cot, mulberry, flat, mathvista)."
    ),
    field: str | None = typer.Option(
        None, "--field", help="Column mapping, e.g. question=q,answer=a,image=img."
    ),
    task: str = typer.Option(
        "math",
        "--task",
        help="Task that judges the attempts (srpo.tasks; `srpo eval benchmarks` lists them).",
    ),
    llm: LLMSettings = LLM,
) -> None:
    """The policy answers each question K times in <think>/<answer> form; every attempt is graded."""
    from srpo.curate.answer import answer

    report = _run(
        answer,
        input,
        output,
        image_root=image_root,
        samples=samples,
        temperature=temperature,
        shard=shard,
        prompt=prompt,
        format=format,
        field=field,
        task=task,
        llm=llm,
    )
    _finish(report)


@app.command("reflect")
@llm_options(model_flags=("--teacher-model",), model_help="Teacher model name (azure: deployment).")
def reflect_command(
    input: Path = typer.Option(..., "--input", help="Answers JSONL from `srpo curate answer`."),
    output: Path = typer.Option(..., "--output", help="Reflections JSONL (appended; rerun to resume)."),
    descriptions: Path | None = typer.Option(
        None, "--descriptions", help="DESC.jsonl from `srpo curate describe`."
    ),
    prompt: Path | None = typer.Option(
        None, "--prompt", help="Jinja template for the teacher's user text (default srpo/prompts/reflect.j2)."
    ),
    system_prompt: Path | None = typer.Option(
        None, "--system-prompt", help="File with the teacher's system prompt."
    ),
    text_only: bool = typer.Option(
        False, "--text-only", help="Send the image description instead of the image."
    ),
    image_root: Path | None = typer.Option(
        None, "--image-root", help="Override the image root recorded in the answers."
    ),
    temperature: float | None = typer.Option(None, "--temperature", help="Teacher sampling temperature."),
    max_reasks: int = typer.Option(2, "--max-reasks", help="Re-asks when the teacher's JSON is invalid."),
    shard: str | None = _SHARD,
    llm: LLMSettings = LLM,
) -> None:
    """The teacher returns {reflection, revised_reasoning} for each policy attempt."""
    from srpo.curate.reflect import reflect

    report = _run(
        reflect,
        input,
        output,
        descriptions=descriptions,
        prompt=prompt,
        system_prompt=system_prompt,
        text_only=text_only,
        image_root=image_root,
        temperature=temperature,
        max_reasks=max_reasks,
        shard=shard,
        llm=llm,
    )
    _finish(report)


@app.command("build")
def build_command(
    answers: Path = typer.Option(..., "--answers", help="Answers JSONL from `srpo curate answer`."),
    reflections: Path = typer.Option(
        ..., "--reflections", help="Reflections JSONL from `srpo curate reflect`."
    ),
    output: Path = typer.Option(..., "--output", help="SFT JSONL (TRL messages with images)."),
    correct_ratio: float = typer.Option(
        0.3, "--correct-ratio", help="Share of samples whose first attempt was right."
    ),
    max_samples: int | None = typer.Option(None, "--max-samples", help="Keep at most this many samples."),
    seed: int = typer.Option(0, "--seed", help="Seed of the deterministic selection."),
    max_chars: int = typer.Option(
        12000, "--max-chars", help="Drop targets longer than this many characters."
    ),
    skip_bad: bool = typer.Option(
        False, "--skip-bad", help="Skip (and count) bad lines of the inputs instead of stopping."
    ),
) -> None:
    """Assemble five-block SFT samples at the requested correct/wrong mix; dedup; drop over-long ones."""
    from srpo.curate.build import build

    report = _run(
        build,
        answers,
        reflections,
        output,
        correct_ratio=correct_ratio,
        max_samples=max_samples,
        seed=seed,
        max_chars=max_chars,
        skip_bad=skip_bad,
    )
    typer.echo(report.summary())


@app.command("filter")
def filter_command(
    answers: Path = typer.Option(..., "--answers", help="Answers JSONL (K attempts per question)."),
    output: Path = typer.Option(..., "--output", help="RL prompt set (srpo sample JSONL)."),
    min_pass: float = typer.Option(0.1, "--min-pass", help="Lowest pass rate kept."),
    max_pass: float = typer.Option(0.9, "--max-pass", help="Highest pass rate kept."),
    skip_bad: bool = typer.Option(
        False, "--skip-bad", help="Skip (and count) bad lines of the answers instead of stopping."
    ),
) -> None:
    """Keep prompts whose pass rate over K attempts lies between --min-pass and --max-pass: the RL prompt set."""
    from srpo.curate.filter import filter_prompts

    report = _run(filter_prompts, answers, output, min_pass=min_pass, max_pass=max_pass, skip_bad=skip_bad)
    typer.echo(report.summary())


@app.command("export")
def export_command(
    input: Path = typer.Option(
        ..., "--input", help="SFT rows from `build`, or samples (e.g. `filter` output)."
    ),
    format: str = typer.Option(..., "--format", help="llamafactory, trl, verl, easyr1 or openrlhf."),
    output: Path = typer.Option(..., "--output", help="Output folder."),
    name: str = typer.Option("srpo", "--name", help="Dataset name (file name, dataset_info.json key)."),
    file_format: str = typer.Option("parquet", "--file-format", help="trl: parquet or jsonl."),
    image_root: Path | None = typer.Option(
        None, "--image-root", help="Image root for samples that do not record one."
    ),
) -> None:
    """Write curated data in a training engine's layout."""
    from srpo.curate.export import export

    path = _run(export, input, format, output, name=name, file_format=file_format, image_root=image_root)
    typer.echo(f"export: wrote {path}")


@app.command("describe")
def describe_command(
    input: Path = typer.Option(..., "--input", help="LLaVA-CoT / Mulberry / other rows."),
    output: Path = typer.Option(..., "--output", help="DESC.jsonl: {id, image, description} per record."),
    source: str | None = typer.Option(
        None, "--source", help="llava-cot (<CAPTION>) or mulberry (### Image Description:)."
    ),
    pattern: str | None = typer.Option(
        None, "--pattern", help="Regex searched in the row's strings (first group)."
    ),
) -> None:
    """Extract image descriptions, for a text-only teacher."""
    from srpo.curate.describe import describe

    report = _run(describe, input, output, source=source, pattern=pattern)
    typer.echo(report.summary())
