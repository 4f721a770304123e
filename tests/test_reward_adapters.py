"""EasyR1, OpenRLHF and verl adapters, called with the shapes those engines use.

OpenRLHF cannot be installed here (it builds flash-attn from source) and EasyR1 is not on PyPI, so their
documented call shapes are exercised, loading our files by path the way the engines do. verl itself is
exercised through its own loader in tests/test_reward_verl.py (`make test-verl`).
"""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

from srpo.response import five_block_response
from srpo.reward import RewardConfig, score

WRONG_RIGHT = five_block_response("2+2=5", "\\boxed{5}", "I added wrong.", "2+2=4", "\\boxed{4}")
RIGHT_WRONG = five_block_response("2+2=4", "\\boxed{4}", "Hmm.", "2+2=5", "\\boxed{5}")


def load_by_path(module: str, name: str):
    """Import one of our adapter files from its path, as verl / EasyR1 / OpenRLHF do."""
    path = importlib.util.find_spec(module).origin
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# ------------------------------------------------------------------------------------------- EasyR1


def test_easyr1_batch_reward():
    easyr1 = load_by_path("srpo.reward.easyr1", "easyr1_reward")
    assert easyr1.REWARD_TYPE == "batch"
    inputs = [
        {"response": WRONG_RIGHT, "response_length": 50, "ground_truth": "4"},
        {"response": RIGHT_WRONG, "response_length": 50, "ground_truth": "4"},
        {"response": "", "response_length": 0, "ground_truth": "4"},
    ]
    out = easyr1.compute_score(inputs)
    assert [r["overall"] for r in out] == [score(WRONG_RIGHT, "4").total, score(RIGHT_WRONG, "4").total, 0.0]
    assert {"overall", "format", "accuracy", "reflection", "effectiveness", "length"} <= set(out[0])
    assert out[0]["wrong_to_right"] == 1.0 and out[1]["right_to_wrong"] == 1.0
    assert all(isinstance(v, float) for r in out for v in r.values())


def test_easyr1_preset_and_overrides():
    easyr1 = load_by_path("srpo.reward.easyr1", "easyr1_reward")
    [r] = easyr1.compute_score(
        [{"response": WRONG_RIGHT, "ground_truth": "4"}], preset="authors", length_weight=0.0
    )
    assert (
        r["overall"]
        == score(WRONG_RIGHT, "4", RewardConfig.preset("authors", length_weight=0.0)).total
        == 1.5
    )


# ----------------------------------------------------------------------------------------- OpenRLHF

QWEN_PROMPT = "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n"


def test_openrlhf_reward_func_strips_the_chat_template():
    torch = pytest.importorskip("torch")
    openrlhf = load_by_path("srpo.reward.openrlhf", "reward_func_file")
    queries = [
        QWEN_PROMPT + WRONG_RIGHT + "<|im_end|><|endoftext|><|endoftext|>",
        QWEN_PROMPT + RIGHT_WRONG + "<|im_end|>",
        "something else entirely " + WRONG_RIGHT,  # prompt not a prefix, no marker: scored whole
    ]
    prompts = [QWEN_PROMPT, "a different rendering of the prompt", "unrelated"]
    out = openrlhf.reward_func(queries, prompts, ["4", "4", "4"])
    assert set(out) == {"rewards", "scores", "extra_logs"}
    assert out["rewards"].dtype == torch.float32
    assert out["rewards"].tolist() == pytest.approx(
        [
            score(WRONG_RIGHT, "4").total,
            score(RIGHT_WRONG, "4").total,
            score("something else entirely " + WRONG_RIGHT, "4").total,
        ]
    )
    assert out["scores"].tolist() == [1.0, 0.0, 1.0]  # binary: final answer correct
    assert out["extra_logs"]["format"].tolist() == [0.5, 0.5, 0.0]
    assert out["extra_logs"]["right_to_wrong"].tolist() == [0.0, 1.0, 0.0]


@pytest.mark.parametrize(
    ("query", "prompt", "expected"),
    [
        ("PROMPT<think>x</think>", "PROMPT", "<think>x</think>"),
        (QWEN_PROMPT + "resp<|im_end|>", None, "resp"),
        ("<|start_header_id|>assistant<|end_header_id|>\n\nresp<|eot_id|>", "", "resp"),
        ("[INST] q [/INST] resp</s>", "other", " resp".strip()),
        ("no markers", "", "no markers"),
    ],
)
def test_openrlhf_response_extraction(query, prompt, expected):
    from srpo.reward.openrlhf import response_of

    assert response_of(query, prompt).strip() == expected


def test_openrlhf_preset_from_environment_and_json_labels(monkeypatch):
    pytest.importorskip("torch")
    from srpo.reward.openrlhf import reward_func

    monkeypatch.setenv("SRPO_REWARD_PRESET", "authors")
    text = five_block_response("t", "\\boxed{A}", "r", "t", "\\boxed{B}")
    label = json.dumps({"answer": "12", "choices": ["10", "12"]})
    out = reward_func([QWEN_PROMPT + text], [QWEN_PROMPT], [label])
    assert out["rewards"].tolist() == pytest.approx(
        [score(text, "12", RewardConfig.preset("authors"), choices=["10", "12"]).total]
    )


# --------------------------------------------------------------------------------- verl call shape


def test_verl_compute_score_call_shape():
    verl_adapter = load_by_path("srpo.reward.verl", "custom_module")
    result = verl_adapter.compute_score(
        data_source="synthetic", solution_str=WRONG_RIGHT, ground_truth="4", extra_info={"index": 0}
    )
    b = score(WRONG_RIGHT, "4")
    assert result["score"] == b.total
    assert result["effectiveness"] == 0.5 and result["acc"] == 1.0 and result["wrong_to_right"] == 1.0
    assert all(isinstance(v, float) for v in result.values())


def test_verl_reward_kwargs_choose_preset_and_fields_and_ignore_verls_own():
    from srpo.reward.verl import compute_score

    result = compute_score(
        "s", WRONG_RIGHT, "4", None, preset="authors", length_weight=0.0, reward_router_address=None
    )
    assert result["score"] == 1.5


def test_verl_ground_truth_forms():
    from srpo.reward.verl import compute_score, compute_score_batch

    text = five_block_response("t", "\\boxed{A}", "r", "t", "\\boxed{B}")
    as_dict = compute_score("s", text, {"answer": "12", "choices": ["10", "12"]})
    from_extra = compute_score("s", text, "12", {"choices": np.array(["10", "12"], dtype=object)})
    assert as_dict["final_correct"] == from_extra["final_correct"] == 1.0
    batch = compute_score_batch(["s", "s"], [WRONG_RIGHT, "junk"], ["4", "4"], [None, {}])
    assert [r["score"] for r in batch] == [score(WRONG_RIGHT, "4").total, 0.0]
