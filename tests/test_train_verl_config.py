"""The shipped verl config composes against verl's own trainer config (run in the verl venv: `make test-verl`)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("verl")
hydra = pytest.importorskip("hydra")

CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs" / "verl"


def test_verl_config_composes_with_our_reward_and_paper_settings():
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base=None):
        cfg = compose(config_name="srpo_qwen2_5_vl_7b")
    reward = cfg.reward.custom_reward_function
    assert reward.path.endswith("srpo/reward/verl.py") and reward.name == "compute_score"
    assert dict(reward.reward_kwargs) == {"preset": "paper"}
    assert cfg.algorithm.adv_estimator == "grpo"
    assert (cfg.data.max_prompt_length, cfg.data.max_response_length, cfg.data.train_batch_size) == (
        1024,
        2048,
        128,
    )
    assert (cfg.actor_rollout_ref.rollout.n, cfg.actor_rollout_ref.rollout.temperature) == (8, 1.0)
    assert cfg.actor_rollout_ref.actor.optim.lr == 1e-6 and cfg.actor_rollout_ref.actor.freeze_vision_tower
    assert cfg.algorithm.filter_groups.metric == "acc"  # the reward's final-answer accuracy


def test_reward_file_named_by_the_config_exists():
    root = CONFIG_DIR.parents[1]
    assert (root / "src/srpo/reward/verl.py").is_file()
