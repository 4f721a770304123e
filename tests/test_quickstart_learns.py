"""What `srpo quickstart` learns, held-out, on one seed: the directions that `bench/quickstart.py --seeds 0,1,2`
shows for every seed, with margins below the smallest seen there (bench/RESULTS.md, "Quickstart").

The run is the default one (seed 0) with the first 100 of the 200 held-out problems evaluated, to fit the CI
budget (about 7 minutes on 2 cores). Directions only, never exact figures: these tests fail when GRPO stops
optimising its reward (a sign error, rewards misaligned with their completions, images dropped from the RL
forward pass, a constant reward), when SFT stops teaching, or when the model stops reading the picture.
"""

from __future__ import annotations

import json

import pytest

from srpo.quickstart import run_quickstart

pytestmark = pytest.mark.slow

CHANCE = (1 / 4 + 1 / 3) / 2
"""Chance accuracy on the default `easy` tasks: one of four colours, one of three counts, half each."""

# Margins (points of held-out accuracy, or reward), each below the smallest of seeds 0, 1, 2 in
# bench/RESULTS.md; on this test's seed and 100 problems the run shows +15, +25, +16 and +0.15.
SFT_OVER_BASE = 2  # seen +3 … +29
GRPO_OVER_SFT = 0  # seen +2 … +23: only the direction holds on every seed (the floor is +5)
GRPO_FIRST_OVER_SFT = 10  # seen +14 … +38
REWARD_GAIN = 0.05  # seen +0.10 … +0.15


@pytest.fixture(scope="module")
def learned(tmp_path_factory):
    out = tmp_path_factory.mktemp("learns") / "qs"
    metrics = run_quickstart(out, seed=0, eval_limit=100)
    grpo_stage = json.loads((out / ".stages" / "grpo.json").read_text())
    return metrics, grpo_stage


def points(metrics: dict, model: str, field: str = "accuracy") -> float:
    return 100 * metrics[model][field]


def test_the_base_policy_answers_from_the_image(learned):
    metrics, _ = learned
    assert points(metrics, "base") >= 100 * CHANCE + 10, metrics["base"]


def test_sft_teaches_the_five_blocks_and_beats_the_base_policy(learned):
    metrics, _ = learned
    assert metrics["base"]["format_rate"] < 0.1  # taught one attempt; it never writes five blocks
    assert metrics["sft"]["format_rate"] >= 0.85, metrics["sft"]
    assert points(metrics, "sft") >= points(metrics, "base") + SFT_OVER_BASE, (
        metrics["base"],
        metrics["sft"],
    )


def test_grpo_raises_its_training_reward(learned):
    _, grpo_stage = learned
    gain = grpo_stage["reward_last_fifth"] - grpo_stage["reward_first_fifth"]
    assert gain >= REWARD_GAIN, grpo_stage


def test_grpo_answers_better_than_sft_first_and_last(learned):
    metrics, _ = learned
    assert metrics["grpo"]["format_rate"] >= 0.9, metrics["grpo"]
    assert points(metrics, "grpo") >= points(metrics, "sft") + GRPO_OVER_SFT, (
        metrics["sft"],
        metrics["grpo"],
    )
    first = points(metrics, "grpo", "first_accuracy") - points(metrics, "sft", "first_accuracy")
    assert first >= GRPO_FIRST_OVER_SFT, (metrics["sft"], metrics["grpo"])


def test_reflection_mends_more_than_it_breaks_after_grpo(learned):
    metrics, _ = learned
    t = metrics["grpo"]["transitions"]
    assert t["wrong_to_right"] >= t["right_to_wrong"], t


def test_blank_images_take_away_most_of_the_accuracy(learned):
    metrics, _ = learned
    drop = points(metrics, "grpo") - points(metrics, "grpo_blank")
    assert drop >= 25, (metrics["grpo"], metrics["grpo_blank"])
