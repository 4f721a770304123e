"""`srpo eval` commands: run, score, report, benchmarks. Each is a thin skin over a library function."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import typer

from srpo.eval.run import DEFAULT_MAX_TOKENS
from srpo.llm.backend import backend_names
from srpo.llm.options import LLM, llm_options
from srpo.llm.settings import LLMSettings

app = typer.Typer(no_args_is_help=True)


def _bench_help() -> str:
    from srpo.tasks import task_names

    return f"Benchmark (a registered task): {', '.join(task_names(benchmarks_only=True))}."


BENCH_HELP = _bench_help()


def _user_errors() -> contextlib.AbstractContextManager[None]:
    """Bad input ends the command with its message (file, record, what to do), not a traceback: the exit-code
    policy of every srpo command (`srpo.errors.cli_errors`)."""
    from srpo.errors import cli_errors

    return cli_errors("srpo eval")


def _print_summary(m: dict) -> None:
    t = m["transitions"]
    if m.get("missing"):
        typer.echo(
            f"warning: {m['missing']} of {m['n']} benchmark samples have no generation; they are scored as "
            "wrong (pass --allow-partial to score only the others)",
            err=True,
        )
    typer.echo(
        f"n={m['n']}  accuracy={100 * m['accuracy']:.1f}%  first attempt={100 * m['first_accuracy']:.1f}%  "
        f"format={100 * m['format_rate']:.1f}%  wrong→right={100 * t['wrong_to_right']:.1f}%  "
        f"right→wrong={100 * t['right_to_wrong']:.1f}%  tokens={m['mean_response_tokens']:.0f}"
    )


@app.command("run")
@llm_options(
    model_help="Served model name, Azure deployment, or checkpoint folder (local, vllm).",
    model_required=True,
    defaults={"max_tokens": DEFAULT_MAX_TOKENS},
)
def run_command(
    benchmark: str = typer.Option(..., help=BENCH_HELP),
    data: Path = typer.Option(..., help="The benchmark's file or folder, in its official layout."),
    output: Path = typer.Option(..., "--output", "-o", help="Run folder (resumable: a rerun continues)."),
    prompt: str = typer.Option("reflection", help="reflection (five blocks) or plain (think/answer)."),
    limit: int = typer.Option(None, help="Evaluate only the first N samples."),
    temperature: float = typer.Option(0.0, help="Sampling temperature (0: greedy)."),
    label: str = typer.Option(None, help="Name of the run in reports (default: the folder name)."),
    tokenizer: str = typer.Option(None, help="Folder whose tokenizer counts tokens (default: the model's)."),
    judge_model: str = typer.Option(None, help="LLM that extracts answers the rules cannot find."),
    judge_backend: str = typer.Option("openai", help=f"Backend of the judge: {', '.join(backend_names())}."),
    judge_base_url: list[str] = typer.Option([], help="OpenAI-compatible endpoint(s) of the judge."),
    blank_images: bool = typer.Option(
        False,
        "--blank-images",
        help="Ablation: replace every image with a uniform grey one of the same size.",
    ),
    llm: LLMSettings = LLM,
) -> None:
    """Generate answers for a benchmark (resumable), score them, and write metrics.json."""
    from srpo.errors import cli_errors, exit_code_for
    from srpo.eval.run import run_eval

    with cli_errors("srpo eval run"):
        metrics = run_eval(
            benchmark,
            data,
            output,
            prompt=prompt,
            limit=limit,
            temperature=temperature,
            label=label,
            tokenizer=tokenizer,
            judge_model=judge_model,
            judge_backend=judge_backend,
            judge_base_url=list(judge_base_url),
            blank_images=blank_images,
            llm_settings=llm,
        )
    _print_summary(metrics)
    usage = metrics.get("usage")
    if usage:
        typer.echo(
            f"requests: {usage['requests']} sent ({usage['cached']} from cache, {usage['retries']} retries, "
            f"{usage['failed']} failed), tokens in {usage['prompt_tokens']:,} / out {usage['completion_tokens']:,}"
        )
        if usage.get("endpoints"):
            typer.echo(f"endpoints: {usage['endpoints']}")
    typer.echo(f"wrote {output / 'scores.jsonl'} and {output / 'metrics.json'}")
    code = exit_code_for(metrics["n"], metrics.get("failed", 0))
    if code:
        what = "every sample" if metrics["n"] == 0 else f"{metrics['failed']} sample(s)"
        typer.echo(
            f"{what} failed to generate (reasons in {output / 'generations.errors.jsonl'}); rerun the same "
            "command to retry them",
            err=True,
        )
        raise typer.Exit(code)


@app.command("score")
def score_command(
    benchmark: str = typer.Option(..., help=BENCH_HELP),
    data: Path = typer.Option(..., help="The benchmark's file or folder, in its official layout."),
    generations: Path = typer.Option(..., help="JSONL lines with id, response and optionally extraction."),
    output: Path = typer.Option(..., "--output", "-o", help="Scores JSONL to write."),
    prompt: str = typer.Option("reflection", help="Format the responses were asked for: reflection | plain."),
    tokenizer: str = typer.Option(None, help="Folder whose tokenizer counts tokens (default: the reward's)."),
    judge_model: str = typer.Option(None, help="LLM that extracts answers the rules cannot find."),
    judge_backend: str = typer.Option("openai", help=f"Backend of the judge: {', '.join(backend_names())}."),
    judge_base_url: list[str] = typer.Option([], help="OpenAI-compatible endpoint(s) of the judge."),
    metrics: Path = typer.Option(None, help="Also write the metrics JSON here."),
    allow_partial: bool = typer.Option(
        False,
        "--allow-partial",
        help="Score only the samples that have a generation (default: others are wrong).",
    ),
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
            allow_partial=allow_partial,
        )
    m = compute_metrics(rows)
    if metrics is not None:
        metrics.parent.mkdir(parents=True, exist_ok=True)
        metrics.write_text(json.dumps(m, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    _print_summary(m)
    typer.echo(f"wrote {output}")


@app.command("official")
def official_command(
    benchmark: str = typer.Option(..., help=BENCH_HELP),
    data: Path = typer.Option(..., help="The benchmark's file or folder, in its official layout."),
    results: Path = typer.Option(..., help="A results file as the benchmark's authors publish them."),
    limit: int = typer.Option(None, help="Score only the first N rows."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
) -> None:
    """Score a published results file: its own verdicts (the leaderboard figure), srpo on its official
    extraction, srpo on its raw responses, and how often each agrees with the published verdicts."""
    from srpo.eval.official import score_official

    with _user_errors():
        figures = score_official(benchmark, data, results, limit=limit)
    if as_json:
        typer.echo(json.dumps(figures, indent=2))
        return

    def pct(key: str) -> str:
        value = figures.get(key)
        return "-" if value is None else f"{100 * value:.2f}%"

    typer.echo(
        f"{figures['benchmark']} · {figures['n']} rows · accuracy as published {pct('published_accuracy')} · "
        f"srpo on the official extraction {pct('extraction_accuracy')} "
        f"(agrees {pct('extraction_agreement')}) · srpo on the raw responses {pct('raw_accuracy')} "
        f"(agrees {pct('raw_agreement')})"
    )


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
    with _user_errors():
        from srpo.eval.report import write_report

        result = write_report(list(runs), out, labels=list(label) or None, title=title)
    typer.echo(f"wrote {result['markdown']} and {result['html']}")


@app.command("benchmarks")
def benchmarks_command() -> None:
    """List the registered benchmarks."""
    from srpo.tasks import get_task, task_names

    for name in task_names(benchmarks_only=True):
        typer.echo(f"{name:14s} {get_task(name).summary}")
