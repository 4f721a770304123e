"""`srpo curate` commands: a thin skin over `srpo.curate` (each command calls the library function of the
same name with the same arguments)."""

from __future__ import annotations

import logging
from pathlib import Path

import typer

app = typer.Typer(no_args_is_help=True, help="Stage 1: curate reflection data.")

# Options shared by the commands that call a model. Defaults mirror srpo.llm.settings.LLMSettings.
_BACKEND = typer.Option("openai", "--backend", help="openai (any OpenAI-compatible server), azure, local.")
_BASE_URL = typer.Option(
    None, "--base-url", help="Server URL, e.g. http://localhost:8000/v1; repeat to spread load."
)
_API_KEY_ENV = typer.Option(
    None, "--api-key-env", help="Env variable holding the API key (default OPENAI_API_KEY)."
)
_AZURE_ENDPOINT = typer.Option(
    None, "--azure-endpoint", help="Azure OpenAI endpoint (default $AZURE_OPENAI_ENDPOINT)."
)
_API_VERSION = typer.Option(
    None, "--api-version", help="Azure OpenAI API version (default $OPENAI_API_VERSION)."
)
_CONCURRENCY = typer.Option(16, "--concurrency", help="Requests in flight at once.")
_RPM = typer.Option(None, "--rpm", help="Limit on requests started per minute.")
_TIMEOUT = typer.Option(120.0, "--timeout", help="Seconds per request before it is abandoned and retried.")
_RETRIES = typer.Option(6, "--max-retries", help="Retries per request (429/5xx/timeouts/connection errors).")
_CACHE = typer.Option(None, "--cache", help="SQLite response cache (default: beside the output).")
_NO_CACHE = typer.Option(False, "--no-cache", help="Bypass the response cache.")
_PRICE_IN = typer.Option(None, "--price-in", help="Price per 1M prompt tokens, for a cost estimate.")
_PRICE_OUT = typer.Option(None, "--price-out", help="Price per 1M completion tokens.")
_URL_PREFIX = typer.Option(
    None, "--image-url-prefix", help="Send images as PREFIX + path under the image root."
)
_FILE_URLS = typer.Option(
    False, "--file-urls", help="Send images as file:// URLs (vLLM --allowed-local-media-path)."
)
_HOOK = typer.Option(
    None,
    "--upload-hook",
    help="module:function (or file.py:function) that uploads an image, returns its URL.",
)
_MAX_TOKENS = typer.Option(None, "--max-tokens", help="Cap on generated tokens per request.")
_TOP_P = typer.Option(None, "--top-p", help="Nucleus sampling parameter.")
_BATCH = typer.Option(8, "--batch-size", help="local backend: prompts per generate batch.")
_DEVICE = typer.Option(
    None, "--device", help="local backend: torch device (default cuda if available, else cpu)."
)
_NO_PROGRESS = typer.Option(False, "--no-progress", help="Do not show the progress line.")
_SHARD = typer.Option(None, "--shard", help="Process only shard i of n (i/n), split by id hash.")


def _settings(flags: dict) -> object:
    """LLMSettings from a command's flags (its `locals()`): every flag named like a settings field."""
    from dataclasses import fields

    from srpo.llm.settings import LLMSettings

    kw = {f.name: flags[f.name] for f in fields(LLMSettings) if f.name in flags}
    kw["base_url"] = list(kw.get("base_url") or [])
    kw["progress"] = not flags.get("no_progress", False)
    return LLMSettings(**kw)


def _run(fn, *args, **kwargs):
    """Call a library function; bad input → message and exit 2; Ctrl-C → exit 130 (resume hint printed)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return fn(*args, **kwargs)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    except (ValueError, OSError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None


@app.command("answer")
def answer_command(
    input: Path = typer.Option(
        ..., "--input", help="Samples: JSONL/JSON/Parquet/HF folder, any supported row format."
    ),
    output: Path = typer.Option(..., "--output", help="Answers JSONL (appended; rerun to resume)."),
    image_root: Path | None = typer.Option(
        None, "--image-root", help="Folder relative image paths live in (default: the input's folder)."
    ),
    model: str | None = typer.Option(None, "--model", help="Policy model name (local: checkpoint folder)."),
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
    backend: str = _BACKEND,
    base_url: list[str] | None = _BASE_URL,
    api_key_env: str | None = _API_KEY_ENV,
    azure_endpoint: str | None = _AZURE_ENDPOINT,
    api_version: str | None = _API_VERSION,
    concurrency: int = _CONCURRENCY,
    rpm: float | None = _RPM,
    timeout: float = _TIMEOUT,
    max_retries: int = _RETRIES,
    cache: str | None = _CACHE,
    no_cache: bool = _NO_CACHE,
    price_in: float | None = _PRICE_IN,
    price_out: float | None = _PRICE_OUT,
    image_url_prefix: str | None = _URL_PREFIX,
    file_urls: bool = _FILE_URLS,
    upload_hook: str | None = _HOOK,
    max_tokens: int | None = _MAX_TOKENS,
    top_p: float | None = _TOP_P,
    batch_size: int = _BATCH,
    device: str | None = _DEVICE,
    no_progress: bool = _NO_PROGRESS,
) -> None:
    """The policy answers each question K times in <think>/<answer> form; every attempt is graded."""
    from srpo.curate.answer import answer

    llm = _settings(locals())
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
    typer.echo(report.summary())


@app.command("reflect")
def reflect_command(
    input: Path = typer.Option(..., "--input", help="Answers JSONL from `srpo curate answer`."),
    output: Path = typer.Option(..., "--output", help="Reflections JSONL (appended; rerun to resume)."),
    teacher_model: str | None = typer.Option(
        None, "--teacher-model", help="Teacher model name (azure: deployment)."
    ),
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
    backend: str = typer.Option(
        "openai", "--backend", help="openai, azure, local, or synthetic (synthetic data only)."
    ),
    base_url: list[str] | None = _BASE_URL,
    api_key_env: str | None = _API_KEY_ENV,
    azure_endpoint: str | None = _AZURE_ENDPOINT,
    api_version: str | None = _API_VERSION,
    concurrency: int = _CONCURRENCY,
    rpm: float | None = _RPM,
    timeout: float = _TIMEOUT,
    max_retries: int = _RETRIES,
    cache: str | None = _CACHE,
    no_cache: bool = _NO_CACHE,
    price_in: float | None = _PRICE_IN,
    price_out: float | None = _PRICE_OUT,
    image_url_prefix: str | None = _URL_PREFIX,
    file_urls: bool = _FILE_URLS,
    upload_hook: str | None = _HOOK,
    max_tokens: int | None = _MAX_TOKENS,
    top_p: float | None = _TOP_P,
    batch_size: int = _BATCH,
    device: str | None = _DEVICE,
    no_progress: bool = _NO_PROGRESS,
) -> None:
    """The teacher returns {reflection, revised_reasoning} for each policy attempt."""
    from srpo.curate.reflect import reflect

    llm = _settings(locals())
    report = _run(
        reflect,
        input,
        output,
        teacher_model=teacher_model,
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
    typer.echo(report.summary())


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
