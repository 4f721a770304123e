"""`srpo eval run`: generate answers for a benchmark, resumably, then score them.

A run folder holds:

- `run.json` — what was evaluated (benchmark, data, model, backend, prompt style, sampling settings);
- `generations.jsonl` — one line per answered sample (`id`, `response`, usage), appended as answers
  arrive through `srpo.journal.Journal`, so a killed run loses nothing and a rerun generates only what is
  missing; `generations.errors.jsonl` — samples that failed, with the reason (retried by a rerun);
- `scores.jsonl` — one scored line per generation (see `srpo.eval.scoring`);
- `metrics.json` — the headline metrics, per-category tables included (see `srpo.eval.metrics`).

Generation goes through the `srpo.llm` backends (`openai` for any OpenAI-compatible server, `azure`,
`local` for in-process transformers), or through vLLM's offline engine (`vllm`, only where vLLM is
installed and a GPU is present).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from srpo.data.images import ImageError, with_blank_images
from srpo.data.sample import Sample
from srpo.eval.benchmarks import Benchmark, get_benchmark
from srpo.eval.metrics import compute_metrics
from srpo.eval.scoring import (
    PROMPT_STYLES,
    approx_token_count,
    load_benchmark_samples,
    score_all,
    tokenizer_token_counter,
    write_jsonl,
)
from srpo.journal import Journal, iter_jsonl
from srpo.response import ATTEMPT_SYSTEM_PROMPT, REFLECTION_SYSTEM_PROMPT

BACKENDS = ("openai", "azure", "local", "vllm")
SYSTEM_PROMPTS = {"reflection": REFLECTION_SYSTEM_PROMPT, "plain": ATTEMPT_SYSTEM_PROMPT}


class EvalError(RuntimeError):
    """A run that cannot proceed; the message says what to change."""


@dataclass
class EvalRunConfig:
    """Everything `srpo eval run` needs. Field names match its flags."""

    benchmark: str
    """Registered benchmark name (mathvista, mathverse, mathvision, olympiadbench, mmk12, mmmu_pro, synthetic)."""
    data: str
    """The benchmark's file or folder, in its official layout."""
    output: str
    """Run folder: run.json, generations.jsonl, scores.jsonl, metrics.json."""
    backend: str = "local"
    """openai (any OpenAI-compatible server), azure, local (in-process transformers), vllm (offline, GPU)."""
    model: str | None = None
    """Model name on the server, Azure deployment, or checkpoint folder (local, vllm)."""
    prompt: str = "reflection"
    """reflection: ask for the five-block format; plain: one think/answer attempt."""
    limit: int | None = None
    """Evaluate only the first N samples."""
    max_tokens: int = 1024
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


def _check(cfg: EvalRunConfig) -> Benchmark:
    if cfg.backend not in BACKENDS:
        raise EvalError(f"unknown backend {cfg.backend!r}; choose one of {', '.join(BACKENDS)}")
    if cfg.prompt not in PROMPT_STYLES:
        raise EvalError(f"unknown prompt style {cfg.prompt!r}; choose one of {', '.join(PROMPT_STYLES)}")
    if not cfg.model:
        raise EvalError(f"--model is required for the {cfg.backend} backend")
    if cfg.limit is not None and cfg.limit < 1:
        raise EvalError(f"--limit must be at least 1, got {cfg.limit}")
    return get_benchmark(cfg.benchmark)


_IDENTITY = ("benchmark", "model", "backend", "prompt", "max_tokens", "temperature", "blank_images")


def _start_run_json(cfg: EvalRunConfig, out: Path) -> dict[str, Any]:
    """Write run.json, or check that an existing one describes the same run (a resume)."""
    path = out / "run.json"
    info = {k: v for k, v in asdict(cfg).items() if k not in ("progress", "output")}
    info["label"] = cfg.label or out.resolve().name
    info["data"] = str(Path(cfg.data).resolve())
    if path.exists():
        old = json.loads(path.read_text(encoding="utf-8"))
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


def messages_for(
    benchmark: Benchmark, sample: Sample, prompt_style: str, encoder: Any
) -> list[dict[str, Any]]:
    """OpenAI-style chat messages: the style's system prompt, then the images and the benchmark's prompt."""
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
    """One `srpo.llm.images.ImageEncoder` per image root (so each root confines its own paths)."""

    def __init__(self, **options: Any) -> None:
        self.options = options
        self._by_root: dict[str | None, Any] = {}

    def __call__(self, root: str | None, ref: Any) -> str:
        from srpo.llm.images import ImageEncoder

        if root not in self._by_root:
            self._by_root[root] = ImageEncoder(root, **self.options)
        return self._by_root[root].url(ref)


def run_eval(
    benchmark: str,
    data: str | os.PathLike,
    output: str | os.PathLike,
    *,
    backend: str = "local",
    model: str | None = None,
    prompt: str = "reflection",
    limit: int | None = None,
    **options: Any,
) -> dict[str, Any]:
    """`srpo eval run`: generate what is missing in `output/generations.jsonl`, then score everything and
    write `scores.jsonl` and `metrics.json`. Returns the metrics (with the run's description under "run").

    Other keyword arguments are `EvalRunConfig` fields (max_tokens, temperature, label, base_url, …), or
    `llm_settings`: a ready `srpo.llm.settings.LLMSettings` for the openai/azure/local backends.
    """
    llm_settings = options.pop("llm_settings", None)
    cfg = EvalRunConfig(
        benchmark=benchmark,
        data=str(data),
        output=str(output),
        backend=backend,
        model=model,
        prompt=prompt,
        limit=limit,
        **options,
    )
    bench = _check(cfg)
    out = Path(cfg.output)
    samples = load_benchmark_samples(bench, cfg.data, cfg.limit)
    if cfg.blank_images:
        samples = {k: with_blank_images(s) for k, s in samples.items()}
    info = _start_run_json(cfg, out)

    gens_path = out / "generations.jsonl"
    with Journal(gens_path) as journal:
        pending = [s for s in samples.values() if s.id not in journal.done]
        if pending:
            if cfg.backend == "vllm":
                _generate_vllm(bench, pending, cfg, journal)
            else:
                asyncio.run(_generate_llm(bench, pending, cfg, journal, llm_settings))
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
    write_jsonl(out / "scores.jsonl", rows)
    metrics = compute_metrics(rows)
    metrics["failed"] = len(failed)
    metrics["missing"] = len(samples) - len(rows)
    metrics["run"] = info
    (out / "metrics.json").write_text(
        json.dumps(metrics, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    if failed:
        first = failed[0]
        print(
            f"warning: {len(failed)} sample(s) failed to generate (first: {first.get('id')}: "
            f"{first.get('error')}); see {journal.errors_path}; rerun to retry them"
        )
    return metrics


def _token_counter(cfg: EvalRunConfig) -> tuple[Any, str]:
    source = cfg.tokenizer
    if source is None and cfg.backend in ("local", "vllm") and cfg.model and Path(cfg.model).is_dir():
        source = cfg.model
    if source:
        try:
            return tokenizer_token_counter(source), f"tokenizer of {source}"
        except (OSError, ValueError) as e:
            print(f"warning: cannot load a tokenizer from {source} ({e}); counting tokens approximately")
    return approx_token_count, "approximation (UTF-8 bytes / 4, as srpo.reward)"


async def _generate_llm(
    bench: Benchmark, pending: list[Sample], cfg: EvalRunConfig, journal: Journal, settings: Any
) -> None:
    from srpo.llm.client import LLMClient
    from srpo.llm.progress import Progress
    from srpo.llm.request import ChatRequest, RequestFailed
    from srpo.llm.settings import LLMSettings

    if settings is None:
        settings = LLMSettings(
            backend=cfg.backend,
            model=cfg.model,
            base_url=list(cfg.base_url),
            concurrency=max(cfg.concurrency, cfg.batch_size if cfg.backend == "local" else 1),
            batch_size=cfg.batch_size,
            max_tokens=cfg.max_tokens,
            # A local checkpoint folder may be retrained in place: never answer from a stale cache.
            no_cache=cfg.backend == "local",
            progress=cfg.progress,
        )
    encoders = _Encoders(
        url_prefix=settings.image_url_prefix, file_urls=settings.file_urls, upload_hook=settings.upload_hook
    )
    try:
        client = LLMClient(settings, cache_path=Path(cfg.output) / "srpo-llm-cache.sqlite")
    except (ValueError, ImportError) as e:
        raise EvalError(f"backend {cfg.backend}: {e}") from e
    progress = Progress(f"eval {cfg.benchmark}", len(pending), enabled=cfg.progress)
    params = {"temperature": cfg.temperature, "max_tokens": cfg.max_tokens}

    async def one(sample: Sample) -> None:
        try:
            messages = messages_for(bench, sample, cfg.prompt, encoders)
        except ImageError as e:
            journal.fail(sample.id, str(e))
            progress.advance(ok=False)
            return
        try:
            result = await client.chat(ChatRequest(messages, dict(params)))
        except RequestFailed as e:
            journal.fail(sample.id, e.reason, attempts=e.attempts)
            progress.advance(ok=False)
            return
        journal.write(
            {
                "id": sample.id,
                "response": result.text,
                "finish_reason": result.finish_reason,
                "prompt_tokens": result.prompt_tokens,
                "completion_tokens": result.completion_tokens,
                "model": cfg.model,
                "prompt_style": cfg.prompt,
            }
        )
        progress.advance(tokens=result.completion_tokens)

    try:
        await asyncio.gather(*(one(s) for s in pending))
    finally:
        progress.close()
        await client.aclose()


VLLM_CHUNK = 64
"""Samples handed to vLLM at once; each chunk is journaled before the next starts (resumability)."""


def _generate_vllm(bench: Benchmark, pending: list[Sample], cfg: EvalRunConfig, journal: Journal) -> None:
    try:
        import vllm  # type: ignore[import-not-found]
    except ImportError:
        raise EvalError(
            "--backend vllm needs vLLM installed (pip install vllm) on a machine with a GPU; otherwise serve "
            "the model with `vllm serve` and use --backend openai --base-url http://HOST:PORT/v1, or use "
            "--backend local"
        ) from None
    import torch

    if not torch.cuda.is_available():
        raise EvalError("--backend vllm needs a CUDA GPU; none is visible. Use --backend local on CPU.")
    max_images = max((len(s.images) for s in pending), default=1) or 1
    llm = vllm.LLM(model=cfg.model, limit_mm_per_prompt={"image": max_images}, trust_remote_code=False)
    params = vllm.SamplingParams(temperature=cfg.temperature, max_tokens=cfg.max_tokens)
    encoders = _Encoders()
    for start in range(0, len(pending), VLLM_CHUNK):
        chunk, conversations = [], []
        for s in pending[start : start + VLLM_CHUNK]:
            try:
                conversations.append(messages_for(bench, s, cfg.prompt, encoders))
                chunk.append(s)
            except ImageError as e:
                journal.fail(s.id, str(e))
        if not chunk:
            continue
        outputs = llm.chat(conversations, params, use_tqdm=cfg.progress)
        for s, o in zip(chunk, outputs, strict=True):
            completion = o.outputs[0]
            journal.write(
                {
                    "id": s.id,
                    "response": completion.text,
                    "finish_reason": completion.finish_reason,
                    "prompt_tokens": len(o.prompt_token_ids or []),
                    "completion_tokens": len(completion.token_ids),
                    "model": cfg.model,
                    "prompt_style": cfg.prompt,
                }
            )
