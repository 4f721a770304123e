"""`srpo eval` commands: run, score, report, benchmarks. Each is a thin skin over a library function."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import typer

app = typer.Typer(no_args_is_help=True)

BENCH_HELP = "Benchmark: mathvista, mathverse, mathvision, olympiadbench, mmk12, mmmu_pro, synthetic."


@contextlib.contextmanager
def _user_errors() -> Iterator[None]:
    """Bad input ends the command with its message (file, record, what to do), not a traceback."""
    from srpo.data.files import DataError
    from srpo.data.images import ImageError
    from srpo.eval.run import EvalError

    try:
        yield
    except (DataError, ImageError, EvalError, ValueError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None


def _print_summary(m: dict) -> None:
    t = m["transitions"]
    typer.echo(
        f"n={m['n']}  accuracy={100 * m['accuracy']:.1f}%  first attempt={100 * m['first_accuracy']:.1f}%  "
        f"format={100 * m['format_rate']:.1f}%  wrong→right={100 * t['wrong_to_right']:.1f}%  "
        f"right→wrong={100 * t['right_to_wrong']:.1f}%  tokens={m['mean_response_tokens']:.0f}"
    )


@app.command("run")
def run_command(
    benchmark: str = typer.Option(..., help=BENCH_HELP),
    data: Path = typer.Option(..., help="The benchmark's file or folder, in its official layout."),
    output: Path = typer.Option(..., "--output", "-o", help="Run folder (resumable: a rerun continues)."),
    backend: str = typer.Option(
        "local", help="openai | azure | local | vllm (offline, needs vLLM and a GPU)."
    ),
    model: str = typer.Option(..., help="Served model name, Azure deployment, or checkpoint folder."),
    prompt: str = typer.Option("reflection", help="reflection (five blocks) or plain (think/answer)."),
    limit: int = typer.Option(None, help="Evaluate only the first N samples."),
    max_tokens: int = typer.Option(1024, help="Cap on generated tokens per response."),
    temperature: float = typer.Option(0.0, help="Sampling temperature (0: greedy)."),
    label: str = typer.Option(None, help="Name of the run in reports (default: the folder name)."),
    base_url: list[str] = typer.Option([], help="OpenAI-compatible endpoint(s); repeat for several."),
    concurrency: int = typer.Option(16, help="Requests in flight at once."),
    batch_size: int = typer.Option(8, help="local backend: prompts generated together."),
    tokenizer: str = typer.Option(None, help="Folder whose tokenizer counts tokens (default: the model's)."),
    judge_model: str = typer.Option(None, help="LLM that extracts answers the rules cannot find."),
    judge_backend: str = typer.Option("openai", help="srpo.llm backend of the judge."),
    judge_base_url: list[str] = typer.Option([], help="OpenAI-compatible endpoint(s) of the judge."),
    progress: bool = typer.Option(True, help="Show a live progress line."),
    blank_images: bool = typer.Option(
        False,
        "--blank-images",
        help="Ablation: replace every image with a uniform grey one of the same size.",
    ),
) -> None:
    """Generate answers for a benchmark (resumable), score them, and write metrics.json."""
    from srpo.eval.run import run_eval

    with _user_errors():
        metrics = run_eval(
            benchmark,
            data,
            output,
            backend=backend,
            model=model,
            prompt=prompt,
            limit=limit,
            max_tokens=max_tokens,
            temperature=temperature,
            label=label,
            base_url=list(base_url),
            concurrency=concurrency,
            batch_size=batch_size,
            tokenizer=tokenizer,
            judge_model=judge_model,
            judge_backend=judge_backend,
            judge_base_url=list(judge_base_url),
            progress=progress,
            blank_images=blank_images,
        )
    _print_summary(metrics)
    typer.echo(f"wrote {output / 'scores.jsonl'} and {output / 'metrics.json'}")
    if metrics.get("failed"):
        typer.echo(
            f"{metrics['failed']} sample(s) failed to generate; rerun the same command to retry them",
            err=True,
        )
        raise typer.Exit(1)


@app.command("score")
def score_command(
    benchmark: str = typer.Option(..., help=BENCH_HELP),
    data: Path = typer.Option(..., help="The benchmark's file or folder, in its official layout."),
    generations: Path = typer.Option(..., help="JSONL lines with id, response and optionally extraction."),
    output: Path = typer.Option(..., "--output", "-o", help="Scores JSONL to write."),
    prompt: str = typer.Option("reflection", help="Format the responses were asked for: reflection | plain."),
    tokenizer: str = typer.Option(None, help="Folder whose tokenizer counts tokens (default: approximate)."),
    judge_model: str = typer.Option(None, help="LLM that extracts answers the rules cannot find."),
    judge_backend: str = typer.Option("openai", help="srpo.llm backend of the judge."),
    judge_base_url: list[str] = typer.Option([], help="OpenAI-compatible endpoint(s) of the judge."),
    metrics: Path = typer.Option(None, help="Also write the metrics JSON here."),
) -> None:
    """Score existing generations: final answer (last <answer>) and first attempt, per line."""
    from srpo.eval.metrics import compute_metrics
    from srpo.eval.scoring import score_generations

    with _user_errors():
        rows = score_generations(
            benchmark,
            data,
            generations,
            output,
            prompt_style=prompt,
            tokenizer=tokenizer,
            judge_model=judge_model,
            judge_backend=judge_backend,
            judge_options={"base_url": list(judge_base_url)} if judge_base_url else None,
        )
    m = compute_metrics(rows)
    if metrics is not None:
        metrics.parent.mkdir(parents=True, exist_ok=True)
        metrics.write_text(json.dumps(m, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    _print_summary(m)
    typer.echo(f"wrote {output}")


@app.command("report")
def report_command(
    runs: list[Path] = typer.Argument(..., help="Run folders (from eval run) or scores JSONL files."),
    out: Path = typer.Option(
        Path("eval-report"), "--out", "-o", help="Folder for report.md and report.html."
    ),
    label: list[str] = typer.Option([], help="Names of the runs, in order (default: their folder names)."),
    title: str = typer.Option("srpo evaluation report", help="Report title."),
) -> None:
    """Markdown + self-contained HTML report of several runs side by side, with plots."""
    from srpo.eval.report import write_report

    with _user_errors():
        result = write_report(list(runs), out, labels=list(label) or None, title=title)
    typer.echo(f"wrote {result['markdown']} and {result['html']}")


@app.command("benchmarks")
def benchmarks_command() -> None:
    """List the registered benchmarks."""
    from srpo.eval.benchmarks import BENCHMARKS

    for name, b in sorted(BENCHMARKS.items()):
        typer.echo(f"{name:14s} {b.summary}")
