"""The training recipes on the tiny model, on CPU, with real TRL trainers: SFT learns and resumes, GRPO runs with
the SRPO reward and logs its components, checkpoints reload offline, and `accelerate launch` runs two processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from transformers import TrainerCallback

from train_data import write_rl_rows, write_sft_rows

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


class Recorder(TrainerCallback):
    """Keeps every logged dict and the first step this run executed."""

    def __init__(self) -> None:
        self.logs: list[dict] = []
        self.first_step: int | None = None

    def on_log(self, args, state, control, logs=None, **kwargs):
        self.logs.append(dict(logs or {}))

    def on_step_end(self, args, state, control, **kwargs):
        if self.first_step is None:
            self.first_step = state.global_step


@pytest.fixture(scope="module")
def sft_data(tmp_path_factory) -> Path:
    return write_sft_rows(tmp_path_factory.mktemp("sft_data"), n=32)


def sft_config(model: Path, data: Path, out: Path, *overrides: str):
    from srpo.train.config import load_config
    from srpo.train.sft import SFTRecipeConfig

    return load_config(
        SFTRecipeConfig,
        ROOT / "configs/sft/tiny_cpu.yaml",
        [f"model_name_or_path={model}", f"dataset_path={data}", f"output_dir={out}", *overrides],
    )


def test_sft_learns_saves_reloads_and_resumes(tiny_model_dir, sft_data, tmp_path):
    from srpo.train.sft import run_sft

    out = tmp_path / "sft"
    first = Recorder()
    config = sft_config(
        tiny_model_dir,
        sft_data,
        out,
        "max_steps=24",
        "per_device_train_batch_size=4",
        "save_strategy=steps",
        "save_steps=12",
        "logging_steps=2",
    )
    assert run_sft(config, callbacks=[first]) == out
    losses = [log["loss"] for log in first.logs if "loss" in log]
    assert len(losses) >= 10
    assert sum(losses[-3:]) / 3 < 0.7 * sum(losses[:3]) / 3, losses

    # the saved model reloads offline and generates
    import torch

    from srpo.models.loading import load_model, load_processor

    model, processor = load_model(out), load_processor(out)
    messages = [{"role": "user", "content": [{"type": "text", "text": "What is 2 + 3?"}]}]
    inputs = processor.apply_chat_template(
        messages, add_generation_prompt=True, tokenize=True, return_dict=True, return_tensors="pt"
    )
    with torch.no_grad():
        ids = model.generate(**inputs, max_new_tokens=8, do_sample=False)
    assert ids.shape[1] > inputs["input_ids"].shape[1]

    # resume: a longer run picks up at the last checkpoint (step 24) instead of starting over
    second = Recorder()
    config = sft_config(
        tiny_model_dir,
        sft_data,
        out,
        "max_steps=28",
        "per_device_train_batch_size=4",
        "save_strategy=steps",
        "save_steps=4",
        "logging_steps=2",
        "resume_from_checkpoint=latest",
    )
    run_sft(config, callbacks=[second])
    assert second.first_step == 25
    state = json.loads((out / "checkpoint-28" / "trainer_state.json").read_text())
    assert state["global_step"] == 28
    steps = [e["step"] for e in state["log_history"] if "loss" in e]
    assert steps == sorted(set(steps)) and steps[0] == 2 and steps[-1] == 28


def test_sft_freezes_vision_and_projector_when_asked(tiny_model_dir, sft_data, tmp_path):
    from srpo.train.sft import build_sft_trainer

    # The recipes' own default (and the paper configs'): both frozen.
    frozen = ("freeze_vision=true", "freeze_projector=true")
    trainer = build_sft_trainer(sft_config(tiny_model_dir, sft_data, tmp_path / "o", "max_steps=1", *frozen))
    grads = {n: p.requires_grad for n, p in trainer.model.named_parameters()}
    assert not any(g for n, g in grads.items() if ".visual." in f".{n}")
    assert all(g for n, g in grads.items() if "language_model" in n)

    trainer = build_sft_trainer(
        sft_config(
            tiny_model_dir,
            sft_data,
            tmp_path / "o",
            "max_steps=1",
            "freeze_vision=true",
            "freeze_projector=false",
        )
    )
    grads = {n: p.requires_grad for n, p in trainer.model.named_parameters()}
    assert all(g for n, g in grads.items() if ".merger." in n)
    assert not any(g for n, g in grads.items() if ".visual.blocks." in f".{n}")

    # The tiny config trains everything: its vision tower is random and must learn to see.
    trainer = build_sft_trainer(sft_config(tiny_model_dir, sft_data, tmp_path / "o", "max_steps=1"))
    assert all(p.requires_grad for p in trainer.model.parameters())


def test_sft_lora_adapts_the_language_model_only(tiny_model_dir, sft_data, tmp_path):
    from srpo.train.sft import build_sft_trainer

    trainer = build_sft_trainer(
        sft_config(
            tiny_model_dir, sft_data, tmp_path / "o", "max_steps=1", "use_peft=true", "freeze_vision=true"
        )
    )
    trainable = [n for n, p in trainer.model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)
    assert not any("visual" in n for n in trainable)


def test_sft_bad_data_names_the_row(tiny_model_dir, tmp_path):
    from srpo.data.files import DataError
    from srpo.train.sft import build_sft_trainer

    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"messages": [{"role": "user", "content": "hi"}]}) + "\n")
    with pytest.raises(DataError, match=rf"{bad}:1: the last message must be the assistant"):
        build_sft_trainer(sft_config(tiny_model_dir, bad, tmp_path / "o"))


def test_grpo_runs_with_the_srpo_reward_and_logs_components(tiny_model_dir, tmp_path):
    from srpo.models.loading import load_model, load_processor
    from srpo.train.config import load_config
    from srpo.train.grpo import GRPORecipeConfig, run_grpo

    data = write_rl_rows(tmp_path / "rl", n=8)
    out = tmp_path / "grpo"
    config = load_config(
        GRPORecipeConfig,
        ROOT / "configs/grpo/tiny_cpu.yaml",
        [
            f"model_name_or_path={tiny_model_dir}",
            f"dataset_path={data}",
            f"output_dir={out}",
            "max_steps=2",
            "num_generations=4",
            "per_device_train_batch_size=4",
            "max_completion_length=48",
            "beta=0",
            "save_strategy=steps",
            "save_steps=2",
            "logging_steps=1",
        ],
    )
    recorder = Recorder()
    run_grpo(config, callbacks=[recorder])
    logged = {k for log in recorder.logs for k in log}
    for name in ("format", "accuracy", "reflection", "effectiveness", "length"):
        assert f"srpo/{name}" in logged, sorted(logged)
    for t in ("right_to_right", "wrong_to_right", "wrong_to_wrong", "right_to_wrong"):
        assert f"srpo/{t}" in logged
    assert "rewards/srpo/mean" in logged
    assert (out / "checkpoint-2").is_dir()
    model, processor = load_model(out / "checkpoint-2"), load_processor(out)
    assert model.config.model_type == "qwen2_5_vl" and processor.image_processor is not None


def test_accelerate_launch_two_cpu_processes(tiny_model_dir, sft_data, tmp_path):
    # accelerate 1.15: `--cpu` alone starts ONE process (multi-CPU there means mpirun); `--multi_gpu` starts two
    # through torchrun, and the recipe's `use_cpu: true` makes them a gloo (MULTI_CPU) group on a GPU-less box.
    out = tmp_path / "ddp"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    accelerate = Path(sys.executable).with_name("accelerate")
    cmd = [
        str(accelerate),
        "launch",
        "--num_processes",
        "2",
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        "--multi_gpu",
        "-m",
        "srpo",
        "sft",
        "--config",
        "configs/sft/tiny_cpu.yaml",
        f"model_name_or_path={tiny_model_dir}",
        f"dataset_path={sft_data}",
        f"output_dir={out}",
        "max_samples=16",
        "num_train_epochs=1",
        "max_steps=-1",
        "per_device_train_batch_size=2",
        "gradient_accumulation_steps=1",
        "save_strategy=steps",
        "save_steps=4",
    ]
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    # 16 rows, 2 per process, 2 processes: 4 optimizer steps (one process alone would take 8)
    state = json.loads((out / "checkpoint-4" / "trainer_state.json").read_text())
    assert state["global_step"] == 4 and state["max_steps"] == 4
    assert (out / "model.safetensors").is_file()
