"""`srpo eval run`: generate answers for a benchmark, resumably, then score them.

A run folder holds:

- `run.json` — what was evaluated (benchmark, data, model, backend, prompt style, sampling settings);
- `generations.jsonl` — one line per answered sample (`id`, `response`, usage), appended as answers
  arrive through `srpo.journal.Journal`, so a killed run loses nothing and a rerun generates only what is
  missing; `generations.errors.jsonl` — samples that failed, with the reason (retried by a rerun);
- `scores.jsonl` — one scored line per generation (see `srpo.eval.scoring`);
- `metrics.json` — the headline metrics, per-category tables included (see `srpo.eval.metrics`).

Generation runs on the request engine curation uses (`srpo.llm.engine`): a bounded window of samples in
flight (memory does not grow with the benchmark), images encoded once with short cache keys, retries that
honour Retry-After, the response cache, least-in-flight routing over several `--base-url`s, progress, and
the errors file with resume. Any registered backend works (`srpo.llm.backend`: `openai` for any
OpenAI-compatible server, `openai-sdk`, `azure`, `local` for in-process transformers, `vllm` for vLLM's
offline engine where vLLM and a GPU are present).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from srpo.data.images import with_blank_images
from srpo.data.sample import Sample
from srpo.errors import RunFailed, UserError
from srpo.eval.metrics import compute_metrics
from srpo.eval.scoring import (
    PROMPT_STYLES,
    default_token_count,
    load_benchmark_samples,
    score_all,
    tokenizer_token_counter,
)
from srpo.journal import Journal, iter_jsonl, write_jsonl_atomic
from srpo.llm.settings import LLMSettings
from srpo.response import ATTEMPT_SYSTEM_PROMPT, REFLECTION_SYSTEM_PROMPT
from srpo.tasks import Task, get_task

DEFAULT_MAX_TOKENS = 1024
SYSTEM_PROMPTS = {"reflection": REFLECTION_SYSTEM_PROMPT, "plain": ATTEMPT_SYSTEM_PROMPT}


class EvalError(UserError):
    """A run that cannot proceed; the message says what to change (exit code 2)."""


@dataclass
class EvalRunConfig:
    """Everything `srpo eval run` needs. Field names match its flags."""

    benchmark: str
    """Registered benchmark name (mathvista, mathverse, mathvision, olympiadbench, mmk12, mmmu_pro, synthetic)."""
    data: str
    """The benchmark's file or folder, in its official layout."""
    output: str
    """Run folder: run.json, generations.jsonl, scores.jsonl, metrics.json."""
    backend: str = "openai"
    """A registered backend (`srpo.llm.backend`): openai (any OpenAI-compatible server), openai-sdk, azure,
    local (in-process transformers), vllm (offline engine, GPU). The default is curation's."""
    model: str | None = None
    """Model name on the server, Azure deployment, or checkpoint folder (local, vllm)."""
    prompt: str = "reflection"
    """reflection: ask for the five-block format; plain: one think/answer attempt."""
    limit: int | None = None
    """Evaluate only the first N samples."""
    max_tokens: int = DEFAULT_MAX_TOKENS
    """Cap on generated tokens per response."""
    temperature: float = 0.0
    """Sampling temperature (0: greedy)."""
    label: str | None = None
    """Name of the run in reports (default: the output folder's name)."""
    base_url: list[str] = field(default_factory=list)
    """OpenAI-compatible endpoint(s) for the openai backend."""
    concurrency: int = 16
    """Requests in flight at once (openai, azure); the local backend batches them."""
    batch_size: int = 8
    """local backend: prompts generated together."""
    tokenizer: str | None = None
    """Local folder whose tokenizer counts tokens (default: the model folder when it is local)."""
    judge_model: str | None = None
    """Ask this model to extract answers the rules cannot find (optional)."""
    judge_backend: str = "openai"
    """srpo.llm backend of the judge."""
    judge_base_url: list[str] = field(default_factory=list)
    """OpenAI-compatible endpoint(s) of the judge (default: the official API)."""
    progress: bool = True
    """Show a live progress line."""
    blank_images: bool = False
    """Image ablation: replace every image with a uniform grey one of the same size (`data.images.blank_image`)."""


def _check(cfg: EvalRunConfig) -> Task:
    if cfg.prompt not in PROMPT_STYLES:
        raise EvalError(f"unknown prompt style {cfg.prompt!r}; choose one of {', '.join(PROMPT_STYLES)}")
    if not cfg.model:
        raise EvalError(f"--model is required for the {cfg.backend} backend")
    if cfg.limit is not None and cfg.limit < 1:
        raise EvalError(f"--limit must be at least 1, got {cfg.limit}")
    return get_task(cfg.benchmark)


_IDENTITY = ("benchmark", "model", "backend", "prompt", "max_tokens", "temperature", "blank_images")


def _start_run_json(cfg: EvalRunConfig, out: Path) -> dict[str, Any]:
    """Write run.json, or check that an existing one describes the same run (a resume)."""
    path = out / "run.json"
    info = {k: v for k, v in asdict(cfg).items() if k not in ("progress", "output")}
    info["label"] = cfg.label or out.resolve().name
    info["data"] = str(Path(cfg.data).resolve())
    if path.exists():
        old = json.loads(path.read_text(encoding="utf-8"))
        old.setdefault("blank_images", False)  # run.json written before the image ablation existed
        changed = [k for k in _IDENTITY if old.get(k) != info.get(k)]
        if changed:
            diffs = ", ".join(f"{k}: {old.get(k)!r} → {info.get(k)!r}" for k in changed)
            raise EvalError(
                f"{out} already holds a different run ({diffs}); use another --output, or delete the folder"
            )
        info["started"] = old.get("started")
    else:
        info["started"] = dt.datetime.now().isoformat(timespec="seconds")
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return info


def messages_for(benchmark: Task, sample: Sample, prompt_style: str, encoder: Any) -> list[dict[str, Any]]:
    """OpenAI-style chat messages: the style's system prompt, then the images and the benchmark's prompt.
    `encoder(image_root, ref)` gives each image's URL."""
    content: list[dict[str, Any]] = [
        {"type": "image_url", "image_url": {"url": encoder(sample.meta.get("image_root"), ref)}}
        for ref in sample.images
    ]
    content.append({"type": "text", "text": benchmark.prompt(sample)})
    return [
        {"role": "system", "content": SYSTEM_PROMPTS[prompt_style]},
        {"role": "user", "content": content},
    ]


class _Encoders:
    """One `srpo.llm.images.ImageEncoder` per image root (so each root confines its own paths). Called,
    it gives an image's URL; `keys` collects the short cache keys of the images encoded since `take_keys`."""

    def __init__(self, **options: Any) -> None:
        self.options = options
        self._by_root: dict[str | None, Any] = {}
        self._keys: list[str] = []

    def __call__(self, root: str | None, ref: Any) -> str:
        from srpo.llm.images import ImageEncoder

        if root not in self._by_root:
            self._by_root[root] = ImageEncoder(root, **self.options)
        encoded = self._by_root[root].encode(ref)
        self._keys.append(encoded.key)
        return encoded.url

    def take_keys(self) -> list[str]:
        keys, self._keys = self._keys, []
        return keys


_LLM_FIELDS = {f.name for f in fields(LLMSettings)}
_SHARED = ("backend", "model", "base_url", "concurrency", "batch_size", "max_tokens", "progress")
"""Fields both of `EvalRunConfig` (they describe the run in run.json) and of `LLMSettings`."""


def run_eval(
    benchmark: str,
    data: str | os.PathLike,
    output: str | os.PathLike,
    *,
    backend: str | None = None,
    model: str | None = None,
    prompt: str = "reflection",
    limit: int | None = None,
    **options: Any,
) -> dict[str, Any]:
    """`srpo eval run`: generate what is missing in `output/generations.jsonl`, then score everything and
    write `scores.jsonl` and `metrics.json`. Returns the metrics (with the run's description under "run",
    and this run's requests under "usage").

    Other keyword arguments are `EvalRunConfig` fields (max_tokens, temperature, label, base_url, …), any
    `srpo.llm.settings.LLMSettings` field (timeout, max_retries, api_key_env, rpm, …), or `llm_settings`: a
    ready `LLMSettings` those override. `backend` defaults to the settings' (openai, as in curation).
    Raises `RunFailed` when the run was stopped (the key refused, no server reachable); samples generated
    until then are kept, and a rerun continues.
    """
    settings = _settings(backend, model, options)
    cfg = EvalRunConfig(
        benchmark=benchmark,
        data=str(data),
        output=str(output),
        prompt=prompt,
        limit=limit,
        **{k: copy.copy(getattr(settings, k)) for k in _SHARED},
        **options,
    )
    bench = _check(cfg)
    from srpo.llm.backend import make_backend

    try:
        backend_impl = make_backend(settings)  # a bad key, model or backend fails here, before any work
    except ValueError as e:
        raise EvalError(str(e)) from e
    out = Path(cfg.output)
    samples = load_benchmark_samples(bench, cfg.data, cfg.limit)
    if cfg.blank_images:
        samples = {k: with_blank_images(s) for k, s in samples.items()}
    info = _start_run_json(cfg, out)

    gens_path = out / "generations.jsonl"
    usage = None
    with Journal(gens_path) as journal:
        pending = sum(1 for sid in samples if sid not in journal.done)
        if pending:
            usage = _generate(bench, samples, pending, cfg, settings, backend_impl, journal)
    failed = [r for r in iter_jsonl(journal.errors_path)] if journal.errors_path.exists() else []

    counter, counter_name = _token_counter(cfg)
    info["token_counter"] = counter_name
    (out / "run.json").write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    generations = [g for g in iter_jsonl(gens_path) if str(g.get("id")) in samples]
    judge = None
    if cfg.judge_model:
        from srpo.eval.judge import llm_judge

        judge = llm_judge(
            cfg.judge_model,
            backend=cfg.judge_backend,
            cache=out / "judge-cache.sqlite",
            base_url=list(cfg.judge_base_url),
            # The judge shares the run's transport settings, not its endpoints or key variable.
            concurrency=settings.concurrency,
            timeout=settings.timeout,
            max_retries=settings.max_retries,
            retry_base_delay=settings.retry_base_delay,
        )
    rows = score_all(
        bench,
        samples,
        generations,
        prompt_style=cfg.prompt,
        count_tokens=counter,
        judge=judge,
        source=str(gens_path),
    )
    write_jsonl_atomic(out / "scores.jsonl", rows)
    metrics = compute_metrics(rows)
    metrics["failed"] = len(failed)
    metrics["missing"] = len(samples) - len(rows)
    metrics["run"] = info
    (out / "metrics.json").write_text(
        json.dumps(metrics, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    if usage is not None:
        metrics["usage"] = usage.to_dict()
    if failed:
        first = failed[0]
        print(
            f"warning: {len(failed)} sample(s) failed to generate (first: {first.get('id')}: "
            f"{first.get('error')}); see {journal.errors_path}; rerun to retry them"
        )
    return metrics


def _settings(backend: str | None, model: str | None, options: dict[str, Any]) -> LLMSettings:
    """The run's `LLMSettings`: `llm_settings` (or the defaults, with eval's token cap), then every
    LLMSettings field given as a keyword (taken out of `options`), then `backend` and `model`."""
    base = options.pop("llm_settings", None)
    settings = copy.deepcopy(base) if base is not None else LLMSettings(max_tokens=DEFAULT_MAX_TOKENS)
    for name in [k for k in options if k in _LLM_FIELDS]:
        setattr(settings, name, options.pop(name))
    if backend is not None:
        settings.backend = backend
    if model is not None:
        settings.model = model
    if settings.max_tokens is None:
        settings.max_tokens = DEFAULT_MAX_TOKENS
    settings.base_url = list(settings.base_url or [])
    if settings.backend == "local":
        # A local checkpoint folder may be retrained in place: never answer from a stale cache.
        settings.no_cache = True
    return settings


def _token_counter(cfg: EvalRunConfig) -> tuple[Any, str]:
    source = cfg.tokenizer
    if source is None and cfg.backend in ("local", "vllm") and cfg.model and Path(cfg.model).is_dir():
        source = cfg.model
    if source:
        try:
            return tokenizer_token_counter(source), f"tokenizer of {source}"
        except (OSError, ValueError) as e:
            print(f"warning: cannot load a tokenizer from {source} ({e}); counting with the default counter")
    from srpo.reward.tokens import COUNTER_DESCRIPTIONS, default_counter_name

    return default_token_count, f"{COUNTER_DESCRIPTIONS[default_counter_name()]}, as srpo.reward"


def _generate(
    bench: Task,
    samples: dict[str, Sample],
    pending: int,
    cfg: EvalRunConfig,
    settings: LLMSettings,
    backend: Any,
    journal: Journal,
) -> Any:
    """Generate every sample not yet in the journal, on the request engine; returns the run's `Usage`."""
    from srpo.llm.client import LLMClient
    from srpo.llm.engine import run_async, run_journaled
    from srpo.llm.progress import Progress
    from srpo.llm.request import ChatRequest, RunStopped

    encoders = _Encoders(
        url_prefix=settings.image_url_prefix, file_urls=settings.file_urls, upload_hook=settings.upload_hook
    )
    params = settings.sampling_params(cfg.temperature)
    client = LLMClient(settings, cache_path=Path(cfg.output) / "srpo-llm-cache.sqlite", backend=backend)

    async def process(sample: Sample) -> dict[str, Any]:
        encoders.take_keys()
        messages = messages_for(bench, sample, cfg.prompt, encoders)
        result = await client.chat(ChatRequest(messages, params, image_keys=encoders.take_keys()))
        return {
            "id": sample.id,
            "response": result.text,
            "finish_reason": result.finish_reason,
            "prompt_tokens": result.prompt_tokens,
            "completion_tokens": result.completion_tokens,
            "model": cfg.model,
            "prompt_style": cfg.prompt,
            "_tokens": 0 if result.cached else result.prompt_tokens + result.completion_tokens,
        }

    async def main() -> str | None:
        progress = Progress(f"eval {cfg.benchmark}", pending, enabled=cfg.progress)
        todo = (s for sid, s in samples.items() if sid not in journal.done)
        try:
            await run_journaled(
                todo,
                process,
                journal,
                progress,
                max_in_flight=max(2 * settings.concurrency, 2),
                step="generate",
            )
        except RunStopped as e:
            return e.reason
        finally:
            await client.aclose()
        return client.stop_reason  # set when every sample was in flight before the client stopped

    stopped = run_async(main, journal.path)
    if stopped is not None:
        raise RunFailed(
            f"eval run: {stopped}\n  {len(journal.done)} of {len(samples)} samples generated so far → "
            f"{journal.path}; fix the cause and rerun the same command: finished samples are kept and the "
            "rest are generated"
        )
    return client.usage
