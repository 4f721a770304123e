"""`srpo quickstart`: every stage of SRPO, small, on a CPU, offline — and a report that shows it learning.

Stages (each one the same library call the `srpo` commands make; outputs under OUT):

    data       srpo data synth            data/train.jsonl, data/test.jsonl, data/images/
    model      srpo data tiny-model       models/base            (random weights, local tokenizer)
    answer     srpo curate answer         curate/answers.jsonl   (the base policy, K attempts, graded)
    reflect    srpo curate reflect        curate/reflections.jsonl (the synthetic teacher, see below)
    build      srpo curate build          curate/sft.jsonl       (five-block targets)
    sft        srpo sft                   models/sft
    rl-data    srpo curate filter/export  curate/rl.jsonl, curate/rl_trl/
    grpo       srpo grpo                  models/grpo
    eval-*     srpo eval run              eval/base, eval/sft, eval/grpo
    report     srpo eval report           report.md, report.html, metrics.json

The teacher here is `synthetic`: a deterministic stand-in that writes reflections from the generator's
known gold rationale, so no API is needed. Real runs use an LLM teacher (the command is printed).

Resumable: a finished stage leaves `OUT/.stages/<name>.json`; a rerun skips it. The journaled stages
(answer, reflect, eval) also resume mid-way. Changing the settings of an existing OUT is refused unless
`fresh=True`, so results never mix two configurations.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from srpo.journal import errors_path_for

STATE_DIR = ".stages"


@dataclass
class QuickstartConfig:
    """Sizes and settings of the quickstart run; the defaults fit in minutes on 2 CPU cores."""

    out: str = "runs/quickstart"
    """Folder for everything the quickstart writes."""
    n: int = 360
    """Synthetic problems generated (train + test)."""
    test_fraction: float = 0.15
    """Share of the problems held out for evaluation."""
    seed: int = 0
    """Seed for data, model and training."""
    tasks: str = "visual"
    """Synthetic task mix (`srpo.data.synth.resolve_tasks`): `visual` (coarse questions the tiny model can
    learn from the pixels), `math` (the harder multimodal math tasks), `all`, or task names, comma-separated."""
    image_size: int | None = None
    """Side of the synthetic images in pixels (default: 112 for visual tasks only, else 168)."""
    attempts: int = 2
    """Policy attempts per question in `curate answer` (K)."""
    answer_max_tokens: int = 24
    """Token cap for the base policy's attempts (a random model rambles until the cap)."""
    correct_ratio: float = 0.3
    """Share of correct-first samples in the SFT mix (paper: ~30%)."""
    sft_epochs: float = 6.0
    """SFT epochs over the curated data."""
    sft_learning_rate: float = 2e-3
    """SFT learning rate (a tiny random model needs a large one)."""
    grpo_steps: int = 3
    """GRPO optimisation steps."""
    eval_limit: int | None = None
    """Evaluate on at most this many held-out problems (None: the whole test split)."""
    eval_max_tokens: int = 320
    """Token cap for evaluation generations (enough for all five blocks)."""
    config_dir: str | None = None
    """Folder holding sft/tiny_cpu.yaml and grpo/tiny_cpu.yaml (default: the repository's configs/)."""
    model_size: dict[str, int] = field(default_factory=dict)
    """Overrides for `build_tiny_model` (hidden_size, num_hidden_layers, …)."""

    def fingerprint(self) -> dict[str, Any]:
        """The settings that decide results (not where they go)."""
        d = asdict(self)
        d.pop("out")
        d.pop("config_dir")
        return d


@dataclass
class Stage:
    name: str
    title: str
    run: Callable[[QuickstartConfig, Path], dict[str, Any]]
    outputs: tuple[str, ...]
    """What the stage writes, relative to OUT: cleared when an earlier stage is redone."""


def _say(text: str) -> None:
    print(text, flush=True)


# ----------------------------------------------------------------------------------------------- stages


def _data(cfg: QuickstartConfig, out: Path) -> dict[str, Any]:
    from srpo.data.synth import write_synth

    s = write_synth(
        out / "data",
        n=cfg.n,
        seed=cfg.seed,
        test_fraction=cfg.test_fraction,
        tasks=cfg.tasks,
        image_size=synth_image_size(cfg),
    )
    return {"train": s.n_train, "test": s.n_test, "tasks": s.by_task}


def synth_image_size(cfg: QuickstartConfig) -> int:
    """The image side the run draws: the configured one, else 112 px (16 image tokens) when every task is a
    coarse visual one, else the synthetic default of 168 px (36 tokens), where printed values stay legible."""
    from srpo.data.synth import DEFAULT_IMAGE_SIZE, TASK_SETS, resolve_tasks

    if cfg.image_size is not None:
        return cfg.image_size
    return 112 if set(resolve_tasks(cfg.tasks)) <= set(TASK_SETS["visual"]) else DEFAULT_IMAGE_SIZE


def _model(cfg: QuickstartConfig, out: Path) -> dict[str, Any]:
    from srpo.models.tiny import build_tiny_model, describe_checkpoint

    path = build_tiny_model(out / "models" / "base", seed=cfg.seed, **cfg.model_size)
    return {"path": str(path), "summary": describe_checkpoint(path)}


def _local_llm(model: Path, max_tokens: int) -> Any:
    from srpo.llm.settings import LLMSettings

    return LLMSettings(backend="local", model=str(model), max_tokens=max_tokens, batch_size=16, progress=True)


def _answer(cfg: QuickstartConfig, out: Path) -> dict[str, Any]:
    from srpo.curate.answer import answer

    report = answer(
        out / "data" / "train.jsonl",
        out / "curate" / "answers.jsonl",
        samples=cfg.attempts,
        temperature=1.0,
        llm=_local_llm(out / "models" / "base", cfg.answer_max_tokens),
    )
    return _step_summary(report)


def _reflect(cfg: QuickstartConfig, out: Path) -> dict[str, Any]:
    from srpo.curate.reflect import reflect
    from srpo.llm.settings import LLMSettings

    report = reflect(
        out / "curate" / "answers.jsonl",
        out / "curate" / "reflections.jsonl",
        llm=LLMSettings(backend="synthetic", progress=True),
    )
    _say(
        "  (synthetic teacher: for this bundled data only. With a real teacher:\n"
        f"   srpo curate reflect --input {out / 'curate' / 'answers.jsonl'} --output REFLECTIONS.jsonl \\\n"
        "     --backend openai --teacher-model o4-mini --concurrency 32   # key from $OPENAI_API_KEY)"
    )
    return _step_summary(report)


def _build(cfg: QuickstartConfig, out: Path) -> dict[str, Any]:
    from srpo.curate.build import build

    report = build(
        out / "curate" / "answers.jsonl",
        out / "curate" / "reflections.jsonl",
        out / "curate" / "sft.jsonl",
        correct_ratio=cfg.correct_ratio,
        # A random base policy is almost never right, so the paper's 30/70 mix cannot be met exactly; with a
        # cap, build keeps every correct-first sample and fills up with wrong-first ones.
        max_samples=cfg.n,
        seed=cfg.seed,
    )
    _say("  " + report.summary().replace("\n", "\n  "))
    if report.kept == 0:
        raise RuntimeError(f"curate build kept no samples; see {out / 'curate'}")
    return {"kept": report.kept, "kept_correct": report.kept_correct, "kept_wrong": report.kept_wrong}


def _config_dir(cfg: QuickstartConfig) -> Path:
    if cfg.config_dir:
        return Path(cfg.config_dir)
    for candidate in (Path(__file__).resolve().parents[2] / "configs", Path.cwd() / "configs"):
        if (candidate / "sft" / "tiny_cpu.yaml").exists():
            return candidate
    raise FileNotFoundError(
        "configs/sft/tiny_cpu.yaml not found; run from the srpo repository or pass config_dir"
    )


def _sft(cfg: QuickstartConfig, out: Path) -> dict[str, Any]:
    from srpo.train.config import load_config
    from srpo.train.sft import SFTRecipeConfig, run_sft

    config = load_config(
        SFTRecipeConfig,
        _config_dir(cfg) / "sft" / "tiny_cpu.yaml",
        [
            f"model_name_or_path={out / 'models' / 'base'}",
            f"dataset_path={out / 'curate' / 'sft.jsonl'}",
            f"output_dir={out / 'models' / 'sft'}",
            f"num_train_epochs={cfg.sft_epochs}",
            f"learning_rate={cfg.sft_learning_rate}",
            f"seed={cfg.seed}",
            "disable_tqdm=false",
        ],
    )
    path = run_sft(config)
    return {"path": str(path), **_final_log(path)}


def _rl_data(cfg: QuickstartConfig, out: Path) -> dict[str, Any]:
    from srpo.curate.export import export
    from srpo.curate.filter import filter_prompts

    # The random base policy solves almost nothing, so the paper's [0.1, 0.9] pass-rate band would keep no
    # prompt here: the quickstart keeps every prompt and reports the band it would have used.
    report = filter_prompts(
        out / "curate" / "answers.jsonl", out / "curate" / "rl.jsonl", min_pass=0.0, max_pass=1.0
    )
    main = export(out / "curate" / "rl.jsonl", "trl", out / "curate" / "rl_trl", file_format="jsonl")
    return {"kept": report.kept, "trl_file": str(main)}


def _grpo(cfg: QuickstartConfig, out: Path) -> dict[str, Any]:
    from srpo.train.config import load_config
    from srpo.train.grpo import GRPORecipeConfig, run_grpo

    config = load_config(
        GRPORecipeConfig,
        _config_dir(cfg) / "grpo" / "tiny_cpu.yaml",
        [
            f"model_name_or_path={out / 'models' / 'sft'}",
            f"dataset_path={_rl_file(out)}",
            f"output_dir={out / 'models' / 'grpo'}",
            f"max_steps={cfg.grpo_steps}",
            f"seed={cfg.seed}",
        ],
    )
    path = run_grpo(config)
    return {"path": str(path), **_final_log(path)}


def _rl_file(out: Path) -> Path:
    files = sorted((out / "curate" / "rl_trl").glob("*.jsonl"))
    if not files:
        raise FileNotFoundError(f"no RL prompt file in {out / 'curate' / 'rl_trl'}")
    return files[0]


def _eval_stage(label: str) -> Callable[[QuickstartConfig, Path], dict[str, Any]]:
    def run(cfg: QuickstartConfig, out: Path) -> dict[str, Any]:
        from srpo.eval.run import run_eval

        metrics = run_eval(
            "synthetic",
            out / "data" / "test.jsonl",
            out / "eval" / label,
            backend="local",
            model=str(out / "models" / label),
            prompt="reflection",
            limit=cfg.eval_limit,
            max_tokens=cfg.eval_max_tokens,
            temperature=0.0,
            label=label,
            batch_size=16,
        )
        return {k: metrics.get(k) for k in ("n", "accuracy", "first_accuracy", "format_rate")}

    return run


def _report(cfg: QuickstartConfig, out: Path) -> dict[str, Any]:
    from srpo.eval.report import write_report

    labels = ["base", "sft", "grpo"]
    result = write_report(
        [out / "eval" / x for x in labels],
        out,
        labels=labels,
        title="srpo quickstart",
        extra=[("Training", training_tables(out))],
    )
    return {
        "markdown": str(result["markdown"]),
        "html": str(result["html"]),
        "metrics": str(result["metrics_path"]),
    }


STAGES = [
    Stage("data", "synthesize multimodal math problems", _data, ("data",)),
    Stage("model", "build the tiny Qwen2.5-VL (base policy)", _model, ("models/base",)),
    Stage(
        "answer", "curate answer: the base policy attempts each problem", _answer, ("curate/answers.jsonl",)
    ),
    Stage(
        "reflect",
        "curate reflect: the synthetic teacher writes reflections",
        _reflect,
        ("curate/reflections.jsonl",),
    ),
    Stage("build", "curate build: five-block SFT targets", _build, ("curate/sft.jsonl",)),
    Stage("sft", "reflection cold-start SFT", _sft, ("models/sft",)),
    Stage("rl-data", "curate filter + export: RL prompts", _rl_data, ("curate/rl.jsonl", "curate/rl_trl")),
    Stage("grpo", "GRPO with the reflection-aware reward", _grpo, ("models/grpo",)),
    Stage("eval-base", "evaluate the base model", _eval_stage("base"), ("eval/base",)),
    Stage("eval-sft", "evaluate the SFT model", _eval_stage("sft"), ("eval/sft",)),
    Stage("eval-grpo", "evaluate the GRPO model", _eval_stage("grpo"), ("eval/grpo",)),
    Stage(
        "report", "write the report", _report, ("report.md", "report.html", "metrics.json", "report_plots")
    ),
]


# ----------------------------------------------------------------------------------------------- runner


def run_quickstart(
    out: str | os.PathLike = "runs/quickstart", *, fresh: bool = False, **settings: Any
) -> dict[str, Any]:
    """Run (or resume) every stage into `out`; returns `{"base": metrics, "sft": …, "grpo": …}`.

    `settings` are `QuickstartConfig` fields. A rerun skips finished stages; `fresh=True` starts over.
    """
    cfg = QuickstartConfig(out=str(out), **settings)
    root = Path(cfg.out)
    if fresh and root.exists():
        shutil.rmtree(root)
    state = root / STATE_DIR
    state.mkdir(parents=True, exist_ok=True)
    _check_settings(cfg, root)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    _use_one_thread()
    _quiet_libraries()

    started = time.perf_counter()
    for i, stage in enumerate(STAGES, 1):
        marker = state / f"{stage.name}.json"
        head = f"[{i:>2}/{len(STAGES)}] {stage.name:<9} {stage.title}"
        if marker.exists():
            _say(f"{head} … done before, skipped")
            continue
        _say(f"{head} …")
        _clear_later_stages(root, i)
        t0 = time.perf_counter()
        info = stage.run(cfg, root)
        info["seconds"] = round(time.perf_counter() - t0, 1)
        marker.write_text(json.dumps(info, indent=1, default=str))
        _say(f"{'':>17}done in {info['seconds']:.0f} s")

    metrics = json.loads((root / "metrics.json").read_text())
    _say(_summary(metrics, root, time.perf_counter() - started))
    return metrics


def _use_one_thread() -> None:
    """The tiny model's matrices are too small to gain from threads: measured here, a training step with two
    torch threads was several times slower than with one. Users can still set OMP_NUM_THREADS themselves."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))


def _quiet_libraries() -> None:
    """Keep the stage lines and the training progress bar readable: no per-file loading bars from
    transformers/datasets and no warnings about settings the tiny CPU run uses on purpose."""
    import warnings

    import datasets
    import transformers

    datasets.disable_progress_bars()
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    warnings.filterwarnings("ignore", message=r".*`max_length` is ignored when `padding`")
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"transformers\..*")


def _clear_later_stages(root: Path, index: int) -> None:
    """A stage that runs again changes the inputs of every stage after it: forget their results."""
    for later in STAGES[index:]:
        (root / STATE_DIR / f"{later.name}.json").unlink(missing_ok=True)
        for rel in later.outputs:
            target = root / rel
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
            if target.suffix == ".jsonl":
                errors_path_for(target).unlink(missing_ok=True)


def _check_settings(cfg: QuickstartConfig, root: Path) -> None:
    path = root / STATE_DIR / "settings.json"
    now = cfg.fingerprint()
    if path.exists():
        before = json.loads(path.read_text())
        if before != now:
            changed = sorted(k for k in set(before) | set(now) if before.get(k) != now.get(k))
            raise SystemExit(
                f"{root} holds a quickstart run with other settings ({', '.join(changed)}); "
                "pass --fresh to start over or --out to use another folder"
            )
    else:
        path.write_text(json.dumps(now, indent=1))


def _step_summary(report: Any) -> dict[str, Any]:
    keys = ("written", "failed", "already_done", "skipped")
    return {k: getattr(report, k) for k in keys if hasattr(report, k)}


def _final_log(path: Path) -> dict[str, Any]:
    """First and last logged training loss, when the trainer left its state behind."""
    losses = [h["loss"] for h in _log_history(path) if "loss" in h]
    return {"first_loss": losses[0], "last_loss": losses[-1]} if losses else {}


def _log_history(path: Path) -> list[dict[str, Any]]:
    state = path / "trainer_state.json"
    return json.loads(state.read_text()).get("log_history", []) if state.exists() else []


TRAINING_COLUMNS = {
    "sft": ("loss", "mean_token_accuracy"),
    "grpo": (
        "reward",
        "srpo/format",
        "srpo/accuracy",
        "srpo/reflection",
        "srpo/effectiveness",
        "srpo/length",
    ),
}


def training_tables(root: Path) -> list[tuple[str, list[str], list[list[str]]]]:
    """Per-step tables of the SFT loss and the GRPO reward components (from each trainer_state.json)."""
    tables = []
    for label, columns in TRAINING_COLUMNS.items():
        rows = [h for h in _log_history(root / "models" / label) if any(c in h for c in columns)]
        if rows:
            body = [
                [str(h.get("step", ""))]
                + [f"{h[c]:.3f}" if isinstance(h.get(c), (int, float)) else "" for c in columns]
                for h in rows
            ]
            tables.append((label, ["step", *columns], body))
    return tables


def _summary(metrics: dict[str, Any], root: Path, seconds: float) -> str:
    def pct(v: Any) -> str:
        return f"{100 * v:5.1f}%" if isinstance(v, (int, float)) else "   - "

    lines = [
        "",
        f"srpo quickstart finished in {seconds / 60:.1f} min. Held-out synthetic problems:",
        "",
        "  model   final acc   first acc   five-block format",
    ]
    for label in ("base", "sft", "grpo"):
        m = metrics.get(label, {})
        lines.append(
            f"  {label:<6}  {pct(m.get('accuracy')):>9}   {pct(m.get('first_accuracy')):>9}   {pct(m.get('format_rate')):>17}"
        )
    lines += [
        "",
        f"  report:   {root / 'report.html'}  (and report.md)",
        f"  metrics:  {root / 'metrics.json'}",
        f"  data:     {root / 'curate'} (answers, reflections, SFT and RL data)",
        f"  models:   {root / 'models'} (base, sft, grpo)",
        "",
        "The tiny model learns the five-block format, not mathematics: accuracy stays near chance.",
        "For a real run, see README.md (serve a policy, curate with a teacher API, SFT, GRPO, eval).",
    ]
    return "\n".join(lines)
