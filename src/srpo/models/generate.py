"""Batched, seeded generation for multimodal chat conversations with a local transformers model.

Used by the `local` LLM backend (curation) and by evaluation. Conversations are chat messages in the
transformers / OpenAI style; images may be given as `{"type": "image", "image": <PIL image | path |
data URL>}` or `{"type": "image_url", "image_url": {"url": <data URL | file:// URL | path>}}` items. Paths
are opened as given: confine them to an image root before they get here (see `srpo.data.images`).

Vision special tokens (`<|image_pad|>`, `<|vision_start|>`, …) are never generated: a randomly initialised
model samples them readily, and a completion containing one breaks the next forward pass over it.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from PIL import Image

VISION_TOKENS = ("<|vision_start|>", "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>")

Message = dict[str, Any]


@dataclass(frozen=True)
class GenerationResult:
    """One sampled completion: its text (special tokens removed), token counts, and why it stopped."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str
    """"stop" (an end-of-turn token was generated) or "length" (max_new_tokens reached)."""
    token_ids: tuple[int, ...] = ()
    """The completion's token ids, up to and including the end-of-turn token."""


def open_image(ref: Any) -> Image.Image:
    """A PIL image from a PIL image, a data URL, a `file://` URL or a local path. Remote URLs are refused."""
    if isinstance(ref, Image.Image):
        return ref.convert("RGB")
    if isinstance(ref, Path):
        ref = str(ref)
    if not isinstance(ref, str):
        raise ValueError(f"unsupported image reference of type {type(ref).__name__}")
    if ref.startswith("data:"):
        header, _, payload = ref.partition(",")
        if ";base64" not in header:
            raise ValueError(f"data URL without base64 payload: {header[:60]!r}")
        return Image.open(io.BytesIO(base64.b64decode(payload))).convert("RGB")
    if ref.startswith(("http://", "https://")):
        raise ValueError(f"remote image {ref[:80]!r}: local generation reads local files and data URLs only")
    path = unquote(urlparse(ref).path) if ref.startswith("file://") else ref
    with Image.open(path) as im:
        return im.convert("RGB")


def prepare_conversation(messages: Sequence[Message]) -> tuple[list[Message], list[Image.Image]]:
    """Chat messages with every image item replaced by `{"type": "image"}` (what the chat template expects),
    and the images in order of appearance."""
    out: list[Message] = []
    images: list[Image.Image] = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, str) or content is None:
            out.append({"role": message["role"], "content": content or ""})
            continue
        items = []
        for item in content:
            kind = item.get("type")
            if kind == "image" or (kind is None and "image" in item):
                images.append(open_image(item.get("image") if "image" in item else item.get("url")))
                items.append({"type": "image"})
            elif kind == "image_url" or "image_url" in item:
                url = item["image_url"]["url"] if isinstance(item["image_url"], dict) else item["image_url"]
                images.append(open_image(url))
                items.append({"type": "image"})
            elif kind == "text" or "text" in item:
                items.append({"type": "text", "text": item["text"]})
            else:
                raise ValueError(f"unsupported message content item of type {kind!r}")
        out.append({"role": message["role"], "content": items})
    return out, images


def vision_token_ids(tokenizer: Any) -> list[int]:
    """Ids of the vision special tokens this tokenizer has (never to be generated)."""
    vocab = tokenizer.get_vocab()
    return sorted({vocab[t] for t in VISION_TOKENS if t in vocab})


def stop_token_ids(model: Any, tokenizer: Any) -> list[int]:
    """End-of-turn ids: the model's generation-config EOS ids plus the tokenizer's EOS and `<|im_end|>`."""
    ids: list[int] = []
    eos = getattr(model.generation_config, "eos_token_id", None)
    ids.extend([eos] if isinstance(eos, int) else list(eos or []))
    vocab = tokenizer.get_vocab()
    for t in (tokenizer.eos_token, "<|im_end|>"):
        if t and t in vocab:
            ids.append(vocab[t])
    return sorted(set(ids))


def generate(
    model: Any,
    processor: Any,
    conversations: Sequence[Sequence[Message]],
    *,
    max_new_tokens: int = 512,
    temperature: float = 0.0,
    top_p: float = 1.0,
    top_k: int = 0,
    num_samples: int = 1,
    seed: int = 0,
    batch_size: int = 8,
    on_batch: Callable[[int], None] | None = None,
) -> list[list[GenerationResult]]:
    """Generate `num_samples` completions for each conversation; returns one list per conversation, in order.

    `temperature == 0` decodes greedily: each conversation is decoded once and its completion repeated
    `num_samples` times. Prompts are left-padded and batched
    `batch_size` conversations at a time. The same inputs, `seed` and `batch_size` give the same outputs on the
    same machine; the global torch RNG state is left untouched. Vision special tokens are suppressed.
    `on_batch(n_done)` is called after each batch with the number of conversations finished so far.
    """
    import torch
    from transformers import GenerationConfig

    if num_samples < 1:
        raise ValueError(f"num_samples must be at least 1, got {num_samples}")
    if max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be at least 1, got {max_new_tokens}")
    if temperature < 0:
        raise ValueError(f"temperature must be ≥ 0, got {temperature}")
    tokenizer = processor.tokenizer
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    stops = stop_token_ids(model, tokenizer)
    suppress = sorted(set(vision_token_ids(tokenizer)) | set(model.generation_config.suppress_tokens or []))
    sampling = temperature > 0
    gen_config = GenerationConfig(
        max_new_tokens=max_new_tokens,
        do_sample=sampling,
        temperature=temperature if sampling else None,
        top_p=top_p if sampling else None,
        top_k=top_k if sampling else None,
        num_return_sequences=num_samples if sampling else 1,
        eos_token_id=stops,
        pad_token_id=pad_id,
        suppress_tokens=suppress or None,
        repetition_penalty=1.0,
    )
    model.eval()
    device = next(model.parameters()).device
    results: list[list[GenerationResult]] = []
    for start in range(0, len(conversations), batch_size):
        batch = conversations[start : start + batch_size]
        texts, images = [], []
        for messages in batch:
            prepared, imgs = prepare_conversation(messages)
            texts.append(processor.apply_chat_template(prepared, tokenize=False, add_generation_prompt=True))
            images.extend(imgs)
        inputs = processor(
            text=texts, images=images or None, padding=True, padding_side="left", return_tensors="pt"
        ).to(device)
        prompt_len = inputs["input_ids"].shape[1]
        prompt_tokens = inputs["attention_mask"].sum(dim=1).tolist()
        with torch.random.fork_rng(devices=[] if device.type == "cpu" else [device]), torch.inference_mode():
            torch.manual_seed(seed + start)
            output = model.generate(**inputs, generation_config=gen_config)
        completions = output[:, prompt_len:].tolist()
        if not sampling:
            completions = [ids for ids in completions for _ in range(num_samples)]
        for i, ids in enumerate(completions):
            cut = next((k for k, t in enumerate(ids) if t in stops), None)
            kept = ids if cut is None else ids[:cut]
            text = tokenizer.decode(kept, skip_special_tokens=True)
            result = GenerationResult(
                text=text,
                prompt_tokens=int(prompt_tokens[i // num_samples]),
                completion_tokens=len(kept) + (0 if cut is None else 1),
                finish_reason="length" if cut is None else "stop",
                token_ids=tuple(ids if cut is None else ids[: cut + 1]),
            )
            if i % num_samples == 0:
                results.append([])
            results[-1].append(result)
        if on_batch is not None:
            on_batch(len(results))
    return results
