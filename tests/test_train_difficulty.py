"""The online difficulty filter of `srpo grpo`: which groups it keeps (edges inclusive), that a filtered group adds
nothing to a real GRPO update, that the band [0, 1] is the same as no band, and that the share filtered is logged.
Real TRL trainers on the tiny model; completions judged by the real SRPO reward."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import TrainerCallback

from srpo.train.difficulty import FILTERED_METRIC, check_band, groups_in_band
from train_data import write_rl_rows, write_sft_rows

ROOT = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------------------------- the band


@pytest.mark.parametrize(
    ("correct", "group", "band", "kept"),
    [
        ([1] + [0] * 9, 10, (0.1, 0.9), [True]),  # exactly at the lower edge
        ([1] * 9 + [0], 10, (0.1, 0.9), [True]),  # exactly at the upper edge
        ([0] * 10, 10, (0.1, 0.9), [False]),
        ([1] * 10, 10, (0.1, 0.9), [False]),
        ([0, 0, 0, 0, 1, 1, 1, 1, 0, 1, 0, 1], 4, (0.1, 0.9), [False, False, True]),
        ([0, 0, 0, 0, 1, 1, 1, 1], 4, (0.0, 1.0), [True, True]),  # [0, 1] keeps everything
        ([0, 1, 1, 1, 0, 0, 1, 1], 4, (0.5, 0.5), [False, True]),
        ([0, 1, 1, 1, 0, 0, 1, 1], 4, (0.3, 0.4), [False, False]),
    ],
)
def test_groups_in_band(correct, group, band, kept):
    assert groups_in_band(torch.tensor(correct), group, band).tolist() == kept


def test_groups_must_divide_the_batch():
    with pytest.raises(ValueError, match="groups of 4"):
        groups_in_band(torch.tensor([1, 0, 1]), 4, (0.1, 0.9))


@pytest.mark.parametrize(
    ("band", "expected"),
    [(None, None), ([0.1, 0.9], (0.1, 0.9)), ((0, 1), (0.0, 1.0)), ([0.5, 0.5], (0.5, 0.5))],
)
def test_check_band_accepts(band, expected):
    assert check_band(band) == expected


@pytest.mark.parametrize(
    ("band", "match"),
    [
        ([0.9, 0.1], "low <= high"),
        ([-0.1, 0.9], "0 <= low"),
        ([0.1, 1.5], "high <= 1"),
        ([0.1], "two numbers"),
        (["a", "b"], "two numbers"),
        ([True, 1], "two numbers"),
    ],
)
def test_check_band_refuses(band, match):
    with pytest.raises(ValueError, match=match):
        check_band(band)


def test_the_recipe_config_validates_the_band(tmp_path):
    from srpo.train.config import ConfigError, load_config
    from srpo.train.grpo import GRPORecipeConfig

    base = [
        f"model_name_or_path={tmp_path}",
        f"dataset_path={tmp_path / 'x.jsonl'}",
        f"output_dir={tmp_path}",
    ]
    config = load_config(
        GRPORecipeConfig, ROOT / "configs/grpo/tiny_cpu.yaml", [*base, "difficulty_band=[0.1,0.9]"]
    )
    assert config.difficulty_band == [0.1, 0.9]
    with pytest.raises(ConfigError, match="difficulty_band needs 0 <= low <= high <= 1"):
        load_config(
            GRPORecipeConfig, ROOT / "configs/grpo/tiny_cpu.yaml", [*base, "difficulty_band=[0.9,0.1]"]
        )


@pytest.mark.parametrize(("name", "band"), [("qwen2_5_vl_7b", [0.1, 0.9]), ("qwen2_5_vl_32b", [0.1, 0.9])])
def test_paper_configs_filter_online(name, band):
    import yaml

    assert yaml.safe_load((ROOT / f"configs/grpo/{name}.yaml").read_text())["difficulty_band"] == band


# ----------------------------------------------------------------------------------------------- a real trainer


class Recorder(TrainerCallback):
    def __init__(self) -> None:
        self.logs: list[dict] = []

    def on_log(self, args, state, control, logs=None, **kwargs):
        self.logs.append(dict(logs or {}))


def grpo_config(model: Path, data: Path, out: Path, *overrides: str):
    from srpo.train.config import load_config
    from srpo.train.grpo import GRPORecipeConfig

    return load_config(
        GRPORecipeConfig,
        ROOT / "configs/grpo/tiny_cpu.yaml",
        [
            f"model_name_or_path={model}",
            f"dataset_path={data}",
            f"output_dir={out}",
            "max_steps=1",
            "logging_steps=1",
            "max_completion_length=160",  # room for all five blocks (the tags are several tokens each)
            "learning_rate=1e-2",
            "beta=0",  # the claim under test: with no KL term, a filtered group adds exactly nothing
            "num_generations=4",
            "per_device_train_batch_size=8",
            "temperature=1.0",  # varied completions, so the unfiltered step has advantages to follow
            *overrides,
        ],
    )


def one_step(
    model: Path, data: Path, out: Path, *overrides: str
) -> tuple[dict[str, torch.Tensor], list[dict]]:
    """Weights after one real GRPO step, and what the trainer logged."""
    from srpo.train.grpo import build_grpo_trainer

    recorder = Recorder()
    trainer = build_grpo_trainer(grpo_config(model, data, out, *overrides), callbacks=[recorder])
    trainer.train()
    weights = {n: p.detach().clone() for n, p in trainer.model.named_parameters() if p.requires_grad}
    return weights, recorder.logs


@pytest.fixture(scope="module")
def rl_data(tmp_path_factory) -> Path:
    return write_rl_rows(tmp_path_factory.mktemp("rl"), n=8)


@pytest.fixture(scope="module")
def writing_model_dir(tiny_model_dir, tmp_path_factory) -> Path:
    """The tiny model after a short five-block SFT: its sampled completions differ in format and answer, so a
    group's rewards vary and an unfiltered GRPO step has advantages to follow (the random model's are all 0)."""
    from srpo.train.config import load_config
    from srpo.train.sft import SFTRecipeConfig, run_sft

    folder = tmp_path_factory.mktemp("writer")
    config = load_config(
        SFTRecipeConfig,
        ROOT / "configs/sft/tiny_cpu.yaml",
        [
            f"model_name_or_path={tiny_model_dir}",
            f"dataset_path={write_sft_rows(folder / 'data')}",
            f"output_dir={folder / 'model'}",
            "max_steps=120",
            "per_device_train_batch_size=8",
            "logging_steps=120",
            "disable_tqdm=true",
        ],
    )
    return run_sft(config)


@pytest.fixture(scope="module")
def initial_weights(writing_model_dir) -> dict[str, torch.Tensor]:
    from srpo.models.loading import load_model

    return {n: p.detach().clone() for n, p in load_model(writing_model_dir).named_parameters()}


@pytest.mark.slow
def test_a_band_that_excludes_every_group_leaves_the_weights_unchanged(
    writing_model_dir, rl_data, initial_weights, tmp_path
):
    # Groups of 4 have accuracies 0, 0.25, 0.5, 0.75 or 1: none lies in [0.3, 0.4].
    weights, logs = one_step(writing_model_dir, rl_data, tmp_path / "o", "difficulty_band=[0.3,0.4]")
    for name, w in weights.items():
        assert torch.equal(w, initial_weights[name]), name
    assert [log[FILTERED_METRIC] for log in logs if FILTERED_METRIC in log] == [1.0]


@pytest.mark.slow
def test_no_band_and_the_band_0_1_give_the_same_update(writing_model_dir, rl_data, initial_weights, tmp_path):
    unfiltered, logs = one_step(writing_model_dir, rl_data, tmp_path / "a")
    full_band, band_logs = one_step(writing_model_dir, rl_data, tmp_path / "b", "difficulty_band=[0,1]")
    assert not any(FILTERED_METRIC in log for log in logs)
    assert [log[FILTERED_METRIC] for log in band_logs if FILTERED_METRIC in log] == [0.0]
    moved = [n for n, w in unfiltered.items() if not torch.equal(w, initial_weights[n])]
    assert moved, "the step changed no weight: the comparison below would prove nothing"
    for name, w in unfiltered.items():
        assert torch.equal(w, full_band[name]), name


@pytest.mark.slow
def test_groups_exactly_at_the_edges_are_kept_and_the_others_filtered(tiny_model_dir, rl_data, tmp_path):
    """Hand-written completions through the trainer's own reward step: four groups of ten, with 1, 9, 0 and 10
    right final answers, judged by the real SRPO reward."""
    from srpo.response import five_block_response
    from srpo.train.grpo import build_grpo_trainer

    trainer = build_grpo_trainer(
        grpo_config(
            tiny_model_dir,
            rl_data,
            tmp_path / "o",
            "num_generations=10",
            "per_device_train_batch_size=10",
            "difficulty_band=[0.1,0.9]",
        )
    )
    trainer.model.train()

    def completion(final: str) -> list[dict]:
        text = five_block_response("I look.", r"\boxed{7}", "Let me check.", "Again.", rf"\boxed{{{final}}}")
        return [{"role": "assistant", "content": text}]

    rights = [1, 9, 0, 10]
    completions, inputs = [], []
    for right in rights:
        for k in range(10):
            completions.append(completion("7" if k < right else "8"))
            inputs.append({"prompt": [{"role": "user", "content": "Q?"}], "answer": "7", "choices": None})
    prompts = [x["prompt"] for x in inputs]
    rewards = trainer._calculate_rewards(inputs, prompts, completions, [[1, 2, 3]] * len(completions))
    filtered = torch.isnan(rewards[:, 0]).view(4, 10)
    assert filtered.all(dim=1).tolist() == [False, False, True, True]
    assert not filtered[:2].any()  # whole groups: a kept group keeps every completion
    assert trainer._metrics["train"][FILTERED_METRIC] == [0.5]

    # Evaluation batches are never filtered.
    trainer.model.eval()
    rewards = trainer._calculate_rewards(inputs, prompts, completions, [[1, 2, 3]] * len(completions))
    assert not torch.isnan(rewards).any()
