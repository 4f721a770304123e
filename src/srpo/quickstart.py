"""`srpo quickstart`: every stage of SRPO, small, on a CPU, offline — and a report that shows it learning.

Stages (each one the same library call the `srpo` commands make; outputs under OUT):

    data        srpo data synth            data/train.jsonl, data/test.jsonl, data/images/
    model       srpo data tiny-model       models/init          (random weights, local tokenizer)
    instruct    srpo sft (plain attempts)  models/base          (the base policy, see below)
    answer      srpo curate answer         curate/answers.jsonl (the base policy, K attempts, graded)
    reflect     srpo curate reflect        curate/reflections.jsonl (the synthetic teacher, see below)
    build       srpo curate build          curate/sft.jsonl     (five-block targets)
    sft         srpo sft                   models/sft
    rl-data     srpo curate filter/export  curate/rl.jsonl, curate/rl_trl/
    grpo        srpo grpo                  models/grpo
    eval-*      srpo eval run              eval/base, eval/sft, eval/grpo, eval/grpo_blank (images blanked)
    grpo-P      srpo grpo, preset P        models/grpo_P, eval/grpo_P (only with compare_presets)
    report      srpo eval report           report.md, report.html, metrics.json, report_plots/

The base policy. SRPO starts from an instruction-tuned VLM that already answers in `<think>/<answer>` form
and gets some questions right. A randomly initialised model does neither: its "attempts" are noise, so the
curated first attempts, the 30/70 correct/wrong mix and the pass-rate band mean nothing. The `instruct`
stage stands in for instruction tuning: a short SFT of the random model on plain think/answer solutions of
*other* synthetic problems (never the train or test ones). `instruct_problems=0` skips it (the base policy
is then the random model, as in srpo 0.1).

The teacher here is `synthetic`: a deterministic stand-in that writes reflections from the generator's
known gold rationale, so no API is needed. Real runs use an LLM teacher (the command is printed).

Resumable: a finished stage leaves `OUT/.stages/<name>.json`; a rerun skips it. The journaled stages
(answer, reflect, eval) also resume mid-way. Changing the settings of an existing OUT is refused unless
`fresh=True`, so results never mix two configurations. `compare_presets` only adds stages, so it can be
added to a finished run.
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
MAIN_LABELS = ("base", "sft", "grpo", "grpo_blank")
"""The runs of every quickstart report (and the keys of its metrics.json), in order."""


@dataclass
class QuickstartConfig:
    """Sizes and settings of the quickstart run; the defaults fit in minutes on 2 CPU cores."""

    out: str = "runs/quickstart"
    """Folder for everything the quickstart writes."""
    n: int = 800
    """Synthetic problems generated (train + test)."""
    test_fraction: float = 0.25
    """Share of the problems held out for evaluation (0.25 of 800: 200 held-out problems)."""
    seed: int = 0
    """Seed for data, model and training."""
    tasks: str = "easy"
    """Synthetic task mix (`srpo.data.synth.resolve_tasks`): `easy` (colour and counting: what the tiny model learns
    from the pixels in minutes), `visual` (adds shapes, which bar is taller, where the dot is), `math` (the
    multimodal math tasks), `all`, or task names, comma-separated."""
    image_size: int | None = None
    """Side of the synthetic images in pixels (default: 112 for visual tasks only, else 168)."""
    instruct_problems: int = 450
    """Other synthetic problems the random model is instruction-tuned on to become the base policy (0: none)."""
    instruct_epochs: float = 2.0
    """Epochs of the instruction tuning."""
    attempts: int = 2
    """Policy attempts per question in `curate answer` (K)."""
    answer_max_tokens: int = 64
    """Token cap for the base policy's attempts."""
    answer_temperature: float = 1.0
    """Sampling temperature of the base policy's attempts."""
    correct_ratio: float = 0.3
    """Share of correct-first samples in the SFT mix (paper: ~30%)."""
    sft_epochs: float = 4.0
    """SFT epochs over the curated data."""
    sft_learning_rate: float = 3e-3
    """SFT learning rate (a tiny model trained from scratch needs a large one)."""
    grpo_steps: int = 100
    """GRPO optimisation steps."""
    grpo_learning_rate: float = 3e-4
    """GRPO learning rate."""
    reward_preset: str = "paper"
    """Reward preset of the `grpo` stage (`srpo.reward.config.PRESETS`)."""
    difficulty_band: list[float] | None = None
    """Online difficulty filter of the GRPO stages ([low, high]; None: off)."""
    compare_presets: list[str] = field(default_factory=list)
    """Also run GRPO from the same SFT model with each of these reward presets, and compare them."""
    eval_limit: int | None = None
    """Evaluate on at most this many held-out problems (None: the whole test split)."""
    eval_max_tokens: int = 200
    """Token cap for evaluation generations (enough for all five blocks)."""
    config_dir: str | None = None
    """Folder holding sft/tiny_cpu.yaml and grpo/tiny_cpu.yaml (default: the configs srpo ships)."""
    model_size: dict[str, Any] = field(default_factory=dict)
    """Overrides for `build_tiny_model` (hidden_size, num_hidden_layers, …)."""
    sft_overrides: list[str] = field(default_factory=list)
    """Extra `key=value` overrides for the SFT and instruct stages' config (after the YAML and the above)."""
    grpo_overrides: list[str] = field(default_factory=list)
    """Extra `key=value` overrides for every GRPO stage's config."""

    def __post_init__(self) -> None:
        from srpo.data.synth import resolve_tasks
        from srpo.reward.config import PRESETS

        resolve_tasks(self.tasks)  # a bad task name fails here, before any work
        for preset in [self.reward_preset, *self.compare_presets]:
            if preset not in PRESETS:
                raise ValueError(f"reward preset {preset!r}: choose one of {', '.join(sorted(PRESETS))}")
        if self.difficulty_band is not None:
            from srpo.train.difficulty import check_band

            self.difficulty_band = list(check_band(self.difficulty_band) or ())
        self.compare_presets = list(dict.fromkeys(p for p in self.compare_presets if p != self.reward_preset))

    def fingerprint(self) -> dict[str, Any]:
        """The settings that decide results (not where they go, nor which presets are compared besides)."""
        d = asdict(self)
        for key in ("out", "config_dir", "compare_presets"):
            d.pop(key)
        return d


@dataclass
class Stage:
    name: str
    title: str
    run: Callable[[QuickstartConfig, Path], dict[str, Any]]
    outputs: tuple[str, ...]
    """What the stage writes, relative to OUT: cleared when an earlier stage is redone."""
    inputs: Callable[[QuickstartConfig], Any] | None = None
    """Settings the stage's result depends on beyond the fingerprint: a finished stage whose recorded value
    differs runs again (the report, when the compared presets change)."""


def _say(text: str) -> None:
    print(text, flush=True)


# ----------------------------------------------------------------------------------------------- stages


def synth_image_size(cfg: QuickstartConfig) -> int:
    """The image side the run draws: the configured one, else 112 px (16 image tokens) when every task is a
    coarse visual one, else the synthetic default of 168 px (36 tokens), where printed values stay legible."""
    from srpo.data.synth import DEFAULT_IMAGE_SIZE, TASK_SETS, resolve_tasks

    if cfg.image_size is not None:
        return cfg.image_size
    return 112 if set(resolve_tasks(cfg.tasks)) <= set(TASK_SETS["visual"]) else DEFAULT_IMAGE_SIZE


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


def _model(cfg: QuickstartConfig, out: Path) -> dict[str, Any]:
    from srpo.models.tiny import build_tiny_model, describe_checkpoint

    path = build_tiny_model(out / "models" / "init", seed=cfg.seed, **cfg.model_size)
    return {"path": str(path), "summary": describe_checkpoint(path)}


INSTRUCT_SEED_OFFSET = 1_000_003
"""The instruct problems are drawn with `seed + this`: other problems than the train and test ones."""


def write_instruct_rows(cfg: QuickstartConfig, folder: Path) -> Path:
    """`folder/instruct.jsonl`: plain `<think>rationale</think> <answer>\\boxed{gold}</answer>` SFT rows for
    `instruct_problems` synthetic problems of another seed, in `srpo curate build`'s row layout, with the
    policy's system prompt and user text (what `curate answer` sends)."""
    from srpo.curate.prompts import question_text
    from srpo.data.readers import read_samples
    from srpo.data.synth import write_synth
    from srpo.response import ATTEMPT_SYSTEM_PROMPT, boxed

    summary = write_synth(
        folder,
        n=cfg.instruct_problems,
        seed=cfg.seed + INSTRUCT_SEED_OFFSET,
        test_fraction=0.0,
        tasks=cfg.tasks,
        image_size=synth_image_size(cfg),
    )
    path = folder / "instruct.jsonl"
    root = folder.resolve()  # absolute: the rows must not depend on the folder the run was started from
    with path.open("w", encoding="utf-8") as f:
        for s in read_samples(summary.train_path):
            target = (
                f"<think>\n{(s.rationale or '').strip()}\n</think>\n<answer>\n{boxed(s.answer)}\n</answer>"
            )
            row = {
                "id": s.id,
                "messages": [
                    {"role": "system", "content": [{"type": "text", "text": ATTEMPT_SYSTEM_PROMPT}]},
                    {
                        "role": "user",
                        "content": [{"type": "image"}, {"type": "text", "text": question_text(s)}],
                    },
                    {"role": "assistant", "content": [{"type": "text", "text": target}]},
                ],
                "images": [str(root / ref) for ref in s.images],
                "image_root": str(root),
            }
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def _instruct(cfg: QuickstartConfig, out: Path) -> dict[str, Any]:
    base = out / "models" / "base"
    if cfg.instruct_problems <= 0:
        shutil.copytree(out / "models" / "init", base, dirs_exist_ok=True)
        return {"path": str(base), "instruct_problems": 0}
    data = write_instruct_rows(cfg, out / "instruct")
    path = _train_sft(
        cfg,
        out,
        start=out / "models" / "init",
        data=data,
        output=base,
        epochs=cfg.instruct_epochs,
        learning_rate=cfg.sft_learning_rate,
    )
    return {"path": str(path), "instruct_problems": cfg.instruct_problems, **_loss_summary(path)}


def _local_llm(model: Path, max_tokens: int) -> Any:
    from srpo.llm.settings import LLMSettings

    return LLMSettings(backend="local", model=str(model), max_tokens=max_tokens, batch_size=16, progress=True)


def _answer(cfg: QuickstartConfig, out: Path) -> dict[str, Any]:
    from srpo.curate.answer import answer

    report = answer(
        out / "data" / "train.jsonl",
        out / "curate" / "answers.jsonl",
        samples=cfg.attempts,
        temperature=cfg.answer_temperature,
        task="synthetic",  # the task eval judges the held-out problems with
        llm=_local_llm(out / "models" / "base", cfg.answer_max_tokens),
    )
    return {**_step_summary(report), **_pass_rates(out / "curate" / "answers.jsonl")}


def _pass_rates(path: Path) -> dict[str, Any]:
    from srpo.journal import iter_jsonl

    rates = [float(r.get("pass_rate", 0.0)) for r in iter_jsonl(path)]
    if not rates:
        return {}
    return {
        "mean_pass_rate": round(sum(rates) / len(rates), 3),
        "all_right": sum(r == 1.0 for r in rates),
        "all_wrong": sum(r == 0.0 for r in rates),
    }


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
        # With a cap, build keeps the configured mix as far as each kind lasts and fills up with the other.
        max_samples=cfg.n,
        seed=cfg.seed,
    )
    _say("  " + report.summary().replace("\n", "\n  "))
    if report.kept == 0:
        raise RuntimeError(f"curate build kept no samples; see {out / 'curate'}")
    return {"kept": report.kept, "kept_correct": report.kept_correct, "kept_wrong": report.kept_wrong}


def _config_dir(cfg: QuickstartConfig) -> Path:
    """The configs the quickstart trains with: `config_dir` when given, else the ones srpo ships."""
    from srpo.train.config import packaged_configs

    return Path(cfg.config_dir) if cfg.config_dir else packaged_configs()


def _train_sft(
    cfg: QuickstartConfig,
    out: Path,
    *,
    start: Path,
    data: Path,
    output: Path,
    epochs: float,
    learning_rate: float,
) -> Path:
    from srpo.train.config import load_config
    from srpo.train.sft import SFTRecipeConfig, run_sft

    config = load_config(
        SFTRecipeConfig,
        _config_dir(cfg) / "sft" / "tiny_cpu.yaml",
        [
            f"model_name_or_path={start}",
            f"dataset_path={data}",
            f"output_dir={output}",
            f"num_train_epochs={epochs}",
            f"learning_rate={learning_rate}",
            f"seed={cfg.seed}",
            "disable_tqdm=false",
            *cfg.sft_overrides,
        ],
    )
    return run_sft(config)


def _sft(cfg: QuickstartConfig, out: Path) -> dict[str, Any]:
    path = _train_sft(
        cfg,
        out,
        start=out / "models" / "base",
        data=out / "curate" / "sft.jsonl",
        output=out / "models" / "sft",
        epochs=cfg.sft_epochs,
        learning_rate=cfg.sft_learning_rate,
    )
    return {"path": str(path), **_loss_summary(path)}


def _rl_data(cfg: QuickstartConfig, out: Path) -> dict[str, Any]:
    from srpo.curate.export import export
    from srpo.curate.filter import filter_prompts

    # The tiny base policy's K=2 attempts give pass rates of 0, 0.5 or 1 only, and the paper's [0.1, 0.9]
    # band would keep just the half-right prompts: the quickstart keeps every prompt offline and leaves
    # difficulty to the online filter (difficulty_band), which judges the policy being trained.
    report = filter_prompts(
        out / "curate" / "answers.jsonl", out / "curate" / "rl.jsonl", min_pass=0.0, max_pass=1.0
    )
    main = export(out / "curate" / "rl.jsonl", "trl", out / "curate" / "rl_trl", file_format="jsonl")
    return {"kept": report.kept, "trl_file": str(main)}


def _grpo_stage(label: str, preset: str | None) -> Callable[[QuickstartConfig, Path], dict[str, Any]]:
    def run(cfg: QuickstartConfig, out: Path) -> dict[str, Any]:
        from srpo.train.config import load_config
        from srpo.train.grpo import GRPORecipeConfig, run_grpo

        overrides = [
            f"model_name_or_path={out / 'models' / 'sft'}",
            f"dataset_path={_rl_file(out)}",
            f"output_dir={out / 'models' / label}",
            f"max_steps={cfg.grpo_steps}",
            f"learning_rate={cfg.grpo_learning_rate}",
            f"reward_preset={preset or cfg.reward_preset}",
            f"difficulty_band={json.dumps(cfg.difficulty_band)}",
            f"seed={cfg.seed}",
            *cfg.grpo_overrides,
        ]
        config = load_config(GRPORecipeConfig, _config_dir(cfg) / "grpo" / "tiny_cpu.yaml", overrides)
        path = run_grpo(config)
        return {"path": str(path), "reward_preset": config.reward_preset, **reward_trend(path)}

    return run


def _rl_file(out: Path) -> Path:
    files = sorted((out / "curate" / "rl_trl").glob("*.jsonl"))
    if not files:
        raise FileNotFoundError(f"no RL prompt file in {out / 'curate' / 'rl_trl'}")
    return files[0]


def _eval_stage(
    label: str, model: str, *, blank: bool = False
) -> Callable[[QuickstartConfig, Path], dict[str, Any]]:
    def run(cfg: QuickstartConfig, out: Path) -> dict[str, Any]:
        from srpo.eval.run import run_eval

        metrics = run_eval(
            "synthetic",
            out / "data" / "test.jsonl",
            out / "eval" / label,
            backend="local",
            model=str(out / "models" / model),
            # Every model gets the same SRPO prompt (five blocks asked for). The base policy, taught one
            # think/answer attempt, answers once: its final answer is its first.
            prompt="reflection",
            limit=cfg.eval_limit,
            max_tokens=cfg.eval_max_tokens,
            temperature=0.0,
            label=label,
            batch_size=16,
            blank_images=blank,
        )
        return {k: metrics.get(k) for k in ("n", "accuracy", "first_accuracy", "format_rate")}

    return run


def _labels(cfg: QuickstartConfig) -> list[str]:
    return [*MAIN_LABELS, *(preset_label(p) for p in cfg.compare_presets)]


def preset_label(preset: str) -> str:
    """Run label (and model folder) of a compared reward preset."""
    return f"grpo_{preset}"


def _report(cfg: QuickstartConfig, out: Path) -> dict[str, Any]:
    from srpo.eval.report import write_report

    labels = _labels(cfg)
    result = write_report(
        [out / "eval" / x for x in labels],
        out,
        labels=labels,
        title="srpo quickstart",
        extra=[("Training", training_tables(out, cfg))],
        sections=preset_sections(out, cfg),
        plots=training_plots(out, cfg),
    )
    return {
        "labels": labels,
        "markdown": str(result["markdown"]),
        "html": str(result["html"]),
        "metrics": str(result["metrics_path"]),
    }


BASE_STAGES = [
    Stage("data", "synthesize multimodal problems", _data, ("data",)),
    Stage("model", "build the tiny Qwen2.5-VL (random weights)", _model, ("models/init",)),
    Stage(
        "instruct",
        "instruction-tune it on other problems: the base policy",
        _instruct,
        ("instruct", "models/base"),
    ),
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
    Stage("grpo", "GRPO with the reflection-aware reward", _grpo_stage("grpo", None), ("models/grpo",)),
    Stage("eval-base", "evaluate the base policy", _eval_stage("base", "base"), ("eval/base",)),
    Stage("eval-sft", "evaluate the SFT model", _eval_stage("sft", "sft"), ("eval/sft",)),
    Stage("eval-grpo", "evaluate the GRPO model", _eval_stage("grpo", "grpo"), ("eval/grpo",)),
    Stage(
        "eval-grpo-blank",
        "evaluate the GRPO model with blank images",
        _eval_stage("grpo_blank", "grpo", blank=True),
        ("eval/grpo_blank",),
    ),
]
REPORT_STAGE = Stage(
    "report",
    "write the report",
    _report,
    ("report.md", "report.html", "metrics.json", "report_plots"),
    inputs=_labels,
)
STAGES = [*BASE_STAGES, REPORT_STAGE]
"""The stages of a run without compared presets."""


def stages_for(cfg: QuickstartConfig) -> list[Stage]:
    """The stages of this run: `STAGES`, with a GRPO and an eval stage per compared preset before the report
    (after every other stage, so adding presets to a finished run redoes nothing else)."""
    extra = []
    for preset in cfg.compare_presets:
        label = preset_label(preset)
        extra.append(
            Stage(
                f"grpo-{preset}",
                f"GRPO with the `{preset}` reward",
                _grpo_stage(label, preset),
                (f"models/{label}",),
            )
        )
        extra.append(
            Stage(
                f"eval-grpo-{preset}",
                f"evaluate the `{preset}` GRPO model",
                _eval_stage(label, label),
                (f"eval/{label}",),
            )
        )
    return [*BASE_STAGES, *extra, REPORT_STAGE]


# ----------------------------------------------------------------------------------------------- runner


def preflight(cfg: QuickstartConfig) -> list[str]:
    """Check every input the run will need before any work starts: the training extras, both recipe configs
    (read and validated as the stages will read them), and a writable output folder. Raises with what to fix;
    returns what was checked."""
    import importlib.util

    from srpo.errors import UserError

    missing = [m for m in ("torch", "transformers", "trl", "datasets") if importlib.util.find_spec(m) is None]
    if missing:
        raise ModuleNotFoundError(f"No module named {missing[0]!r}", name=missing[0])
    from srpo.train.config import load_config
    from srpo.train.grpo import GRPORecipeConfig
    from srpo.train.sft import SFTRecipeConfig

    checked = []
    for cls, kind in ((SFTRecipeConfig, "sft"), (GRPORecipeConfig, "grpo")):
        path = _config_dir(cfg) / kind / "tiny_cpu.yaml"
        load_config(cls, path, ["model_name_or_path=x", "dataset_path=x", f"output_dir={cfg.out}/check"])
        checked.append(str(path))
    root = Path(cfg.out)
    probe = root / f".write-check-{os.getpid()}"
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        raise UserError(
            f"{root}: cannot write the quickstart's output here ({e.strerror}); pass another --out"
        ) from None
    return [*checked, f"{root} (writable)"]


def run_quickstart(
    out: str | os.PathLike = "runs/quickstart", *, fresh: bool = False, check: bool = False, **settings: Any
) -> dict[str, Any]:
    """Run (or resume) every stage into `out`; returns `{"base": metrics, "sft": …, "grpo": …, "grpo_blank": …}`
    (plus `grpo_<preset>` for compared presets).

    `settings` are `QuickstartConfig` fields. A rerun skips finished stages; `fresh=True` starts over.
    Every input is checked first (`preflight`); `check=True` stops after the check.
    """
    cfg = QuickstartConfig(out=str(out), **settings)
    checked = preflight(cfg)
    if check:
        _say("quickstart check passed:\n  " + "\n  ".join(checked))
        return {"checked": checked}
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
    stages = stages_for(cfg)
    for i, stage in enumerate(stages, 1):
        marker = state / f"{stage.name}.json"
        head = f"[{i:>2}/{len(stages)}] {stage.name:<15} {stage.title}"
        if _done(marker, stage, cfg):
            _say(f"{head} … done before, skipped")
            continue
        _say(f"{head} …")
        _clear_later_stages(root, i, stages)
        t0 = time.perf_counter()
        info = stage.run(cfg, root)
        info["seconds"] = round(time.perf_counter() - t0, 1)
        if stage.inputs is not None:
            info["inputs"] = stage.inputs(cfg)
        marker.write_text(json.dumps(info, indent=1, default=str))
        _say(f"{'':>23}done in {info['seconds']:.0f} s")

    metrics = json.loads((root / "metrics.json").read_text())
    _say(_summary(metrics, root, cfg, time.perf_counter() - started))
    return metrics


def _done(marker: Path, stage: Stage, cfg: QuickstartConfig) -> bool:
    if not marker.exists():
        return False
    if stage.inputs is None:
        return True
    return json.loads(marker.read_text()).get("inputs") == json.loads(json.dumps(stage.inputs(cfg)))


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


def _clear_later_stages(root: Path, index: int, stages: list[Stage] | None = None) -> None:
    """A stage that runs again changes the inputs of every stage after it: forget their results."""
    for later in (stages or STAGES)[index:]:
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
    now = json.loads(json.dumps(cfg.fingerprint()))
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


def _loss_summary(path: Path) -> dict[str, Any]:
    """First and last logged training loss, when the trainer left its state behind."""
    losses = [h["loss"] for h in _log_history(path) if "loss" in h]
    return {"first_loss": losses[0], "last_loss": losses[-1]} if losses else {}


def reward_trend(path: Path) -> dict[str, Any]:
    """Mean logged GRPO reward over the first and the last fifth of the logged steps (the learning signal the
    quickstart reports), from `path/trainer_state.json`; {} when nothing was logged."""
    rewards = [h["reward"] for h in _log_history(path) if isinstance(h.get("reward"), (int, float))]
    if not rewards:
        return {}
    k = max(1, len(rewards) // 5)
    first, last = sum(rewards[:k]) / k, sum(rewards[-k:]) / k
    return {"reward_first_fifth": round(first, 4), "reward_last_fifth": round(last, 4)}


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
        "srpo/first_correct",
        "srpo/final_correct",
    ),
}
"""The logged values the report shows per step: SFT loss, and the GRPO reward with its components."""


def _trained(cfg: QuickstartConfig | None) -> list[tuple[str, str]]:
    """(label, kind) of every trained model with a log: instruct (as base), sft, grpo and compared presets."""
    runs = [("base", "sft"), ("sft", "sft"), ("grpo", "grpo")]
    presets = cfg.compare_presets if cfg is not None else []
    runs += [(preset_label(p), "grpo") for p in presets]
    return runs


def training_tables(
    root: Path, cfg: QuickstartConfig | None = None
) -> list[tuple[str, list[str], list[list[str]]]]:
    """Per-step tables of the SFT loss and the GRPO reward components (from each trainer_state.json)."""
    tables = []
    for label, kind in _trained(cfg):
        columns = TRAINING_COLUMNS[kind]
        rows = [h for h in _log_history(root / "models" / label) if any(c in h for c in columns)]
        if rows:
            body = [
                [str(h.get("step", ""))]
                + [f"{h[c]:.3f}" if isinstance(h.get(c), (int, float)) else "" for c in columns]
                for h in rows
            ]
            title = {"base": "instruct (the base policy)"}.get(label, label)
            tables.append((title, ["step", *columns], body))
    return tables


def training_plots(root: Path, cfg: QuickstartConfig | None = None) -> list[tuple[str, str, bytes]]:
    """Learning curves as PNG plots: the instruct and SFT losses, and each GRPO run's reward and components."""
    from srpo.eval.report import plot_curves

    plots = []
    losses = {
        name: [(h["step"], h["loss"]) for h in _log_history(root / "models" / label) if "loss" in h]
        for label, name in (("base", "instruct"), ("sft", "SFT"))
    }
    losses = {k: v for k, v in losses.items() if v}
    if losses:
        plots.append(("training_loss.png", "Training loss per step", plot_curves(losses, "loss")))
    for label, kind in _trained(cfg):
        if kind != "grpo":
            continue
        history = _log_history(root / "models" / label)
        series = {
            c: [(h["step"], h[c]) for h in history if isinstance(h.get(c), (int, float))]
            for c in TRAINING_COLUMNS["grpo"]
        }
        series = {k: v for k, v in series.items() if v}
        if series:
            title = f"{label}: reward and components per step"
            steps = max(len(v) for v in series.values())
            curve = plot_curves(series, "mean over the step's completions", smooth=max(1, steps // 10))
            plots.append((f"{label}_reward.png", title, curve))
    return plots


def preset_sections(
    root: Path, cfg: QuickstartConfig
) -> list[tuple[str, str, list[tuple[str, list[str], list[list[str]]]]]]:
    """The reward-preset comparison (when presets are compared): what each preset did to first-attempt
    accuracy, final accuracy and the transitions, from the same SFT model."""
    if not cfg.compare_presets:
        return []
    runs = [("sft", "— (the SFT start)"), ("grpo", cfg.reward_preset)]
    runs += [(preset_label(p), p) for p in cfg.compare_presets]
    head = [
        "run",
        "preset",
        "final acc %",
        "first acc %",
        "right→right %",
        "wrong→right %",
        "right→wrong %",
        "wrong→wrong %",
        "reward first → last fifth",
    ]
    body = []
    for label, preset in runs:
        m = json.loads((root / "eval" / label / "metrics.json").read_text())
        t = m["transitions"]
        trend = reward_trend(root / "models" / label) if label != "sft" else {}
        body.append(
            [label, preset, f"{100 * m['accuracy']:.1f}", f"{100 * m['first_accuracy']:.1f}"]
            + [
                f"{100 * t[k]:.1f}"
                for k in ("right_to_right", "wrong_to_right", "right_to_wrong", "wrong_to_wrong")
            ]
            + [f"{trend['reward_first_fifth']:.3f} → {trend['reward_last_fifth']:.3f}" if trend else "–"]
        )
    note = (
        "Each preset trains GRPO from the same SFT model, with the same prompts, steps and seed. `paper` pays "
        "0.5 for a right first answer and, for the transition, +0.25 right→right, +0.5 wrong→right, −0.25 "
        "right→wrong; `authors` pays no first-answer bonus and 0.75 / 1.0 / 0.25 for right→right / wrong→right "
        "/ right→wrong, so it pays more for a wrong first answer that reflection fixes than for a right one."
    )
    return [("Reward presets side by side", note, [("held-out accuracy and transitions", head, body)])]


def _summary(metrics: dict[str, Any], root: Path, cfg: QuickstartConfig, seconds: float) -> str:
    def pct(v: Any) -> str:
        return f"{100 * v:5.1f}%" if isinstance(v, (int, float)) else "   - "

    lines = [
        "",
        f"srpo quickstart finished in {seconds / 60:.1f} min. Held-out synthetic problems "
        f"(n={metrics.get('grpo', {}).get('n', '?')}):",
        "",
        "  model          final acc   first acc   five-block format",
    ]
    for label in _labels(cfg):
        m = metrics.get(label, {})
        lines.append(
            f"  {label:<13}  {pct(m.get('accuracy')):>9}   {pct(m.get('first_accuracy')):>9}   {pct(m.get('format_rate')):>17}"
        )
    grpo, blank, sft = metrics.get("grpo", {}), metrics.get("grpo_blank", {}), metrics.get("sft", {})
    trend = reward_trend(root / "models" / "grpo")
    if grpo and sft:
        lines.append(
            f"\n  GRPO vs SFT: {100 * (grpo['accuracy'] - sft['accuracy']):+.1f} points final accuracy, "
            f"{100 * (grpo['first_accuracy'] - sft['first_accuracy']):+.1f} first-attempt."
        )
    if grpo and blank:
        lines.append(
            f"  Blank images: {100 * (blank['accuracy'] - grpo['accuracy']):+.1f} points final accuracy "
            "for the GRPO model (how much of its accuracy comes from reading the picture)."
        )
    if trend:
        lines.append(
            f"  GRPO training reward: {trend['reward_first_fifth']:.3f} (first fifth of the steps) → "
            f"{trend['reward_last_fifth']:.3f} (last fifth)."
        )
    lines += [
        "",
        f"  report:   {root / 'report.html'}  (and report.md, with learning curves)",
        f"  metrics:  {root / 'metrics.json'}",
        f"  data:     {root / 'curate'} (answers, reflections, SFT and RL data)",
        f"  models:   {root / 'models'} (init, base, sft, grpo)",
        "",
        "The tiny model learns coarse visual questions and the five-block format, not mathematics;",
        "docs/quickstart.md says what each number means. For a real run, see README.md.",
    ]
    return "\n".join(lines)
