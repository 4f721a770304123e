"""Build a tiny, randomly initialised Qwen2.5-VL entirely offline: the model tests and the quickstart train.

The checkpoint looks like a real Qwen2.5-VL-Instruct one — same architecture class, Qwen's special tokens,
the Qwen2.5-VL chat template, a byte-level BPE tokenizer, an image processor — only small: about 0.7M
parameters by default, a vocabulary of ~850 tokens trained here on a built-in corpus (the synthetic dataset's
questions and rationales, the SRPO prompts and five-block responses, LaTeX), and a vision tower of two blocks.
Nothing is downloaded.

The default size is chosen for the CPU quickstart: with plain AdamW (lr 3e-3, batch 8) it learns to answer
held-out synthetic prompts in the exact five-block format within ~100 steps (see `bench/tiny_model.py`).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

from srpo.response import ATTEMPT_SYSTEM_PROMPT, REFLECTION_SYSTEM_PROMPT, boxed, five_block_response

# Qwen2.5's special tokens, in Qwen's order. Those marked True are "special" (dropped by
# `decode(skip_special_tokens=True)`); the rest are plain added tokens.
QWEN_SPECIAL_TOKENS: tuple[tuple[str, bool], ...] = (
    ("<|endoftext|>", True),
    ("<|im_start|>", True),
    ("<|im_end|>", True),
    ("<|object_ref_start|>", True),
    ("<|object_ref_end|>", True),
    ("<|box_start|>", True),
    ("<|box_end|>", True),
    ("<|quad_start|>", True),
    ("<|quad_end|>", True),
    ("<|vision_start|>", True),
    ("<|vision_end|>", True),
    ("<|vision_pad|>", True),
    ("<|image_pad|>", True),
    ("<|video_pad|>", True),
    ("<tool_call>", False),
    ("</tool_call>", False),
    ("<|fim_prefix|>", False),
    ("<|fim_middle|>", False),
    ("<|fim_suffix|>", False),
    ("<|fim_pad|>", False),
    ("<|repo_name|>", False),
    ("<|file_sep|>", False),
)
REFLECTION_TAGS = ("<think>", "</think>", "<answer>", "</answer>", "<reflection>", "</reflection>")
"""Plain text, as in the real Qwen2.5-VL vocabulary: not added tokens, so byte-level BPE splits each tag into
a few pieces (the real vocabulary: three, e.g. `</`, `think`, `>`), and the pieces depend on the text around
a tag the same way. Being ordinary text, the tags survive `skip_special_tokens=True` decoding, which the
reward and TRL's GRPO rely on. The tokenizer corpus is full of them, so their pieces stay few."""

VISION_TOKENS = ("<|vision_start|>", "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>")
"""Tokens a model must never generate: a sampled `<|image_pad|>` breaks the next forward pass."""

# The Qwen2-VL / Qwen2.5-VL chat template: a default system turn when the conversation has none, ChatML
# turns, and `<|vision_start|><|image_pad|><|vision_end|>` for each image item of a message's content list.
QWEN2_5_VL_CHAT_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}"
    "{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}"
    "<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}"
    "{% set video_count.value = video_count.value + 1 %}"
    "{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}"
    "<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

DEFAULT_MIN_PIXELS = 56 * 56
DEFAULT_MAX_PIXELS = 168 * 168
"""The tiny processor keeps images up to 168×168 px unscaled: 6×6 = 36 image tokens after 2×2 merging."""


def tokenizer_corpus(seed: int = 0, n_problems: int = 600) -> Iterator[str]:
    """The built-in text the tiny tokenizer is trained on: synthetic problems with their rationales, SRPO
    prompts, five-block responses, reflections, LaTeX and option letters. Deterministic for a seed."""
    from srpo.data.synth import TASKS, problem_texts

    rng = random.Random(seed)
    yield REFLECTION_SYSTEM_PROMPT
    yield ATTEMPT_SYSTEM_PROMPT
    yield "You are a helpful assistant."
    reflections = (
        "The first attempt is correct: each step checks out.",
        "The first attempt misread the figure; the value should be recomputed.",
        "I made an arithmetic error in the first attempt. Let me recompute carefully.",
        "The reasoning is right but the final answer does not match the options; pick the option letter.",
        "Checking again: the first answer was wrong because I added instead of subtracting.",
        "The first answer is right, and the second attempt confirms it.",
    )
    for question, answer, rationale in problem_texts(n_problems, seed=seed, tasks=tuple(TASKS)):
        yield question
        yield rationale
        wrong = str(rng.randint(0, 99))
        yield five_block_response(rationale, boxed(wrong), rng.choice(reflections), rationale, boxed(answer))
        yield f"The answer is {answer}. Answer: {answer}. The final answer is {boxed(answer)}."
    latex = (
        r"\frac{1}{2}",
        r"\sqrt{2}",
        r"x^2 + 2x + 1",
        r"\pi r^2",
        r"3 \times 4 = 12",
        r"180^\circ - 90^\circ - 35^\circ = 55^\circ",
        r"\angle ABC",
        r"\triangle ABC",
        r"\cdot",
        r"\leq \geq \neq",
        r"\text{cm}",
        r"(A) (B) (C) (D) (E)",
        "A. B. C. D. E.",
        "Choices: A: 3 B: 4 C: 5 D: 6",
        "0 1 2 3 4 5 6 7 8 9 10 100 1000 0.5 1.25 -3",
    )
    for i in range(20):
        yield " ".join(latex[(i + k) % len(latex)] for k in range(5))


def train_tokenizer(vocab_size: int = 1024, *, seed: int = 0):
    """A Qwen2 byte-level BPE tokenizer (same pre-tokenizer as Qwen's) trained on `tokenizer_corpus`, with
    Qwen's special tokens added, EOS `<|im_end|>`, padding `<|endoftext|>`, and the Qwen2.5-VL chat template.
    The reflection tags stay plain text, split by BPE as the real vocabulary splits them."""
    from tokenizers import AddedToken
    from transformers import Qwen2Tokenizer

    base = Qwen2Tokenizer()
    tokenizer = base.train_new_from_iterator(tokenizer_corpus(seed), vocab_size=vocab_size)
    tokenizer.add_special_tokens(
        {
            "additional_special_tokens": [
                AddedToken(t, special=True, normalized=False) for t, special in QWEN_SPECIAL_TOKENS if special
            ]
        }
    )
    tokenizer.add_tokens(
        [AddedToken(t, special=False, normalized=False) for t, special in QWEN_SPECIAL_TOKENS if not special]
    )
    tokenizer.eos_token = "<|im_end|>"
    tokenizer.pad_token = "<|endoftext|>"
    tokenizer.model_max_length = 4096
    tokenizer.chat_template = QWEN2_5_VL_CHAT_TEMPLATE
    return tokenizer


def build_tiny_model(
    out_dir: str | Path,
    *,
    seed: int = 0,
    vocab_size: int = 1024,
    hidden_size: int = 128,
    num_hidden_layers: int = 2,
    num_attention_heads: int = 4,
    num_key_value_heads: int = 2,
    intermediate_size: int = 256,
    vision_hidden_size: int = 128,
    vision_depth: int = 2,
    vision_num_heads: int = 2,
    vision_intermediate_size: int = 256,
    rope_theta: float = 10.0,
    mrope_section: list[int] | None = None,
    min_pixels: int = DEFAULT_MIN_PIXELS,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> Path:
    """Write a randomly initialised Qwen2.5-VL checkpoint (model, tokenizer, processor, chat template,
    generation config) to `out_dir` and return it as a Path.

    Offline and deterministic: the same arguments give the same tokenizer and the same weights. The folder
    loads with `srpo.models.loading.load_model` / `load_processor` under `HF_HUB_OFFLINE=1`. Head dims
    (`hidden_size / num_attention_heads`, `vision_hidden_size / vision_num_heads`) must be even and ≥ 32.
    """
    import torch
    from transformers import GenerationConfig, Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    from srpo.models.loading import ImageTextQwen2_5_VLProcessor

    head_dim = hidden_size // num_attention_heads
    vision_head_dim = vision_hidden_size // vision_num_heads
    if hidden_size % num_attention_heads or head_dim < 32 or head_dim % 8:
        raise ValueError(
            f"hidden_size/num_attention_heads = {hidden_size}/{num_attention_heads}: need a head dim ≥ 32, multiple of 8"
        )
    if vision_hidden_size % vision_num_heads or vision_head_dim < 32 or vision_head_dim % 4:
        raise ValueError(
            f"vision_hidden_size/vision_num_heads = {vision_hidden_size}/{vision_num_heads}: need a head dim ≥ 32"
        )
    if num_attention_heads % num_key_value_heads:
        raise ValueError(
            f"num_attention_heads {num_attention_heads} is not a multiple of num_key_value_heads {num_key_value_heads}"
        )

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = train_tokenizer(vocab_size, seed=seed)
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t, _ in QWEN_SPECIAL_TOKENS}

    # Multimodal RoPE splits each head's rotary half-dim into (temporal, height, width) sections.
    half = head_dim // 2
    if mrope_section is None:
        mrope_section = [half - 2 * (3 * half // 8), 3 * half // 8, 3 * half // 8]
    elif sum(mrope_section) != half or len(mrope_section) != 3:
        raise ValueError(
            f"mrope_section {mrope_section} must be 3 numbers summing to half the head dim, {half}"
        )
    config = Qwen2_5_VLConfig(
        text_config={
            "vocab_size": len(tokenizer),
            "hidden_size": hidden_size,
            "intermediate_size": intermediate_size,
            "num_hidden_layers": num_hidden_layers,
            "num_attention_heads": num_attention_heads,
            "num_key_value_heads": num_key_value_heads,
            "max_position_embeddings": 4096,
            "max_window_layers": num_hidden_layers,
            "rope_parameters": {
                "rope_type": "default",
                "rope_theta": rope_theta,
                "mrope_section": mrope_section,
            },
            "bos_token_id": ids["<|endoftext|>"],
            "eos_token_id": ids["<|im_end|>"],
            "pad_token_id": ids["<|endoftext|>"],
        },
        vision_config={
            "depth": vision_depth,
            "hidden_size": vision_hidden_size,
            "intermediate_size": vision_intermediate_size,
            "num_heads": vision_num_heads,
            "out_hidden_size": hidden_size,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
            "window_size": 112,
            "fullatt_block_indexes": [vision_depth - 1],
        },
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    model = Qwen2_5_VLForConditionalGeneration(config).to(torch.float32)
    model.generation_config = GenerationConfig(
        bos_token_id=ids["<|endoftext|>"],
        eos_token_id=[ids["<|im_end|>"], ids["<|endoftext|>"]],
        pad_token_id=ids["<|endoftext|>"],
        suppress_tokens=[ids[t] for t in VISION_TOKENS],
    )
    model.save_pretrained(out)

    image_processor = Qwen2VLImageProcessorPil(
        min_pixels=min_pixels, max_pixels=max_pixels, patch_size=14, temporal_patch_size=2, merge_size=2
    )
    processor = ImageTextQwen2_5_VLProcessor(
        image_processor=image_processor, tokenizer=tokenizer, chat_template=QWEN2_5_VL_CHAT_TEMPLATE
    )
    processor.save_pretrained(out)
    return out


def count_parameters(model) -> dict[str, int]:
    """Parameter counts of a Qwen2.5-VL model: total, language model (incl. embeddings) and vision tower."""
    total = sum(p.numel() for p in model.parameters())
    vision = sum(p.numel() for n, p in model.named_parameters() if ".visual." in f".{n}")
    return {"total": total, "language": total - vision, "vision": vision}


def describe_checkpoint(path: str | Path) -> str:
    """One line about a saved Qwen2.5-VL checkpoint: where it is, sizes and vocabulary, read from config.json."""
    import json

    config = json.loads((Path(path) / "config.json").read_text(encoding="utf-8"))
    text = config.get("text_config", config)
    vision = config.get("vision_config", {})
    return (
        f"{path}: Qwen2.5-VL, {text['num_hidden_layers']} layers × {text['hidden_size']} wide "
        f"({text['num_attention_heads']} heads), vocabulary {text['vocab_size']}, "
        f"vision tower {vision.get('depth')} blocks × {vision.get('hidden_size')} wide"
    )
