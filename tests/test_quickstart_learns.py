"""What `srpo quickstart` learns, held-out, on one seed: the directions that `bench/quickstart.py --seeds 0,1,2`
shows for every seed, with margins below the smallest seen there (bench/RESULTS.md, "Quickstart").

The run is the default one with half the held-out problems evaluated (100 of 200), to fit the CI budget (about
3 minutes on 2 cores). Directions only, never exact figures.
"""

from __future__ import annotations

import json

import pytest

from srpo.quickstart import run_quickstart

pytestmark = pytest.mark.slow

CHANCE = (1 / 4 + 1 / 3) / 2
"""Chance accuracy on the default `easy` tasks: one of four colours, one of three counts, half each."""


@pytest.fixture(scope="module")
def learned(tmp_path_factory):
    out = tmp_path_factory.mktemp("learns") / "qs"
    metrics = run_quickstart(out, seed=0, eval_limit=100)
    grpo_stage = json.loads((out / ".stages" / "grpo.json").read_text())
    return metrics, grpo_stage


def test_the_base_policy_answers_from_the_image(learned):
    metrics, _ = learned
    assert metrics["base"]["accuracy"] >= CHANCE + 0.15, metrics["base"]  # seen: 63–95%


def test_sft_teaches_the_five_blocks(learned):
    metrics, _ = learned
    assert metrics["base"]["format_rate"] < 0.1  # taught one attempt; it never writes five blocks
    assert metrics["sft"]["format_rate"] >= 0.85, metrics["sft"]  # seen: 92–100%
    assert metrics["grpo"]["format_rate"] >= 0.85, metrics["grpo"]


def test_grpo_raises_its_training_reward(learned):
    _, grpo_stage = learned
    gain = grpo_stage["reward_last_fifth"] - grpo_stage["reward_first_fifth"]
    assert gain >= 0.05, grpo_stage  # seen: +0.08 to +0.14


def test_grpo_keeps_what_sft_reached(learned):
    metrics, _ = learned
    assert metrics["grpo"]["accuracy"] >= metrics["sft"]["accuracy"] - 0.05, (metrics["sft"], metrics["grpo"])


def test_blank_images_take_away_most_of_the_accuracy(learned):
    metrics, _ = learned
    drop = metrics["grpo"]["accuracy"] - metrics["grpo_blank"]["accuracy"]
    assert drop >= 0.25, (metrics["grpo"], metrics["grpo_blank"])  # seen: 40–56 points
