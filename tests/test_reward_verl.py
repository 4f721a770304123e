"""The verl adapter, loaded and run by verl itself (`make test-verl`: verl lives in its own venv).

verl reads `reward.custom_reward_function.{path,name,reward_kwargs}`, imports our file by path, and wraps
it in a reward manager that decodes response token ids and calls it. We build a real DataProto of token
ids with a real (locally built, byte-level) tokenizer and check verl's numbers against `srpo.reward.score`.
"""

from __future__ import annotations

import pytest

verl = pytest.importorskip("verl", reason="verl is installed only in .venv-verl: run `make test-verl`")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402

import srpo.reward.verl as srpo_verl  # noqa: E402
from srpo.response import five_block_response  # noqa: E402
from srpo.reward import RewardConfig, score  # noqa: E402

RESPONSES = [
    five_block_response("2+2=5", "\\boxed{5}", "I added wrong.", "2+2=4", "\\boxed{4}"),  # wrong → right
    five_block_response("2+2=4", "\\boxed{4}", "Checks out.", "Still 4.", "\\boxed{4}"),  # right → right
    "<think>unclosed <answer>4",  # malformed
    "<think>a</think><answer>B</answer>",  # single attempt, option letter
]
GOLDS = ["4", "4", "4", {"answer": "12", "choices": ["10", "12"]}]


def byte_level_tokenizer():
    """A real HF fast tokenizer built offline: byte-level BPE without merges, so decode(encode(s)) == s."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {c: i for i, c in enumerate(sorted(alphabet))}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    return fast


def data_proto(tokenizer):
    """A batch as verl's rollout leaves it: left-padded prompts, right-padded responses, one mask."""
    prompts = [tokenizer("Q: what is 2+2?", add_special_tokens=False)["input_ids"] for _ in RESPONSES]
    responses = [
        tokenizer(r, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id] for r in RESPONSES
    ]
    p_len, r_len = max(map(len, prompts)), max(map(len, responses))
    pad = tokenizer.pad_token_id
    prompt_ids = torch.tensor([[pad] * (p_len - len(p)) + p for p in prompts])
    response_ids = torch.tensor([r + [pad] * (r_len - len(r)) for r in responses])
    mask = torch.tensor(
        [
            [0] * (p_len - len(p)) + [1] * len(p) + [1] * len(r) + [0] * (r_len - len(r))
            for p, r in zip(prompts, responses, strict=True)
        ]
    )
    return verl.DataProto.from_dict(
        tensors={
            "prompts": prompt_ids,
            "responses": response_ids,
            "input_ids": torch.cat([prompt_ids, response_ids], dim=1),
            "attention_mask": mask,
        },
        non_tensors={
            "data_source": np.array(["synthetic"] * len(RESPONSES), dtype=object),
            "reward_model": np.array([{"ground_truth": g} for g in GOLDS], dtype=object),
            "extra_info": np.array([{"index": i} for i in range(len(RESPONSES))], dtype=object),
        },
    )


def verl_config(name: str, **reward_kwargs):
    return OmegaConf.create(
        {
            "reward": {
                "custom_reward_function": {
                    "path": srpo_verl.__file__,
                    "name": name,
                    "reward_kwargs": reward_kwargs,
                },
                "reward_manager": {"source": "register", "name": "naive"},
            }
        }
    )


def expected(preset: str = "paper"):
    cfg = RewardConfig.preset(preset)
    out = []
    for r, g in zip(RESPONSES, GOLDS, strict=True):
        gold, choices = (g["answer"], g["choices"]) if isinstance(g, dict) else (g, None)
        out.append(score(r, gold, cfg, choices=choices))
    return out


@pytest.mark.parametrize("preset", ["paper", "authors"])
def test_naive_manager_through_load_reward_manager(preset):
    from verl.trainer.ppo.reward import load_reward_manager

    tokenizer = byte_level_tokenizer()
    manager = load_reward_manager(verl_config("compute_score", preset=preset), tokenizer)
    data = data_proto(tokenizer)

    async def run_all():
        return [await manager.run_single(data[i : i + 1]) for i in range(len(data))]

    results = manager.loop.run_until_complete(run_all())  # the loop verl bound the manager to
    want = expected(preset)
    assert [r["reward_score"] for r in results] == pytest.approx([b.total for b in want])
    for r, b in zip(results, want, strict=True):
        info = r["reward_extra_info"]
        assert info["format"] == b.format and info["length"] == pytest.approx(b.length)
        assert info["first_correct"] == float(bool(b.first_correct))
    assert results[0]["reward_extra_info"]["wrong_to_right"] == 1.0
    rm_scores = manager.assemble_rm_scores(data, [r["reward_score"] for r in results])
    assert rm_scores.sum(dim=1).tolist() == pytest.approx([b.total for b in want])


def test_batch_manager_with_verls_function_loader():
    from verl.trainer.ppo.reward import get_custom_reward_fn
    from verl.workers.reward_manager import BatchRewardManager

    config = verl_config("compute_score_batch", preset="authors")
    tokenizer = byte_level_tokenizer()
    manager = BatchRewardManager(tokenizer, num_examine=0, compute_score=get_custom_reward_fn(config))
    out = manager(data_proto(tokenizer), return_dict=True)
    want = expected("authors")
    assert out["reward_tensor"].sum(dim=1).tolist() == pytest.approx([b.total for b in want])
    assert out["reward_extra_info"]["accuracy"] == pytest.approx([b.accuracy for b in want])


def test_malformed_responses_do_not_crash_the_manager():
    """The authors' verl port crashed on malformed responses; ours scores them 0."""
    result = srpo_verl.compute_score("x", "\x00<answer><think>", "4", None)
    assert result["score"] == 0.0
