"""Load a Qwen2.5-VL model and its processor the one way every stage uses.

Why this exists: transformers' stock `Qwen2_5_VLProcessor` insists on a video processor, and video processors
need torchvision. Without torchvision, `AutoProcessor.from_pretrained` either fails or — when the saved
processor class is unknown to it — silently hands back a bare tokenizer, after which TRL treats the model as
text-only. `load_processor` always returns a processor that handles images:

- the stock processor when it loads (real checkpoints on machines with torchvision);
- otherwise `ImageTextQwen2_5_VLProcessor`, the stock processor minus video, built from the same files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from transformers import AutoProcessor, ProcessorMixin
from transformers.models.qwen2_5_vl.processing_qwen2_5_vl import Qwen2_5_VLProcessor
from transformers.utils import is_torchvision_available

QWEN_VL_MODEL_TYPES = ("qwen2_5_vl", "qwen2_vl")


class ImageTextQwen2_5_VLProcessor(Qwen2_5_VLProcessor):
    """Qwen2.5-VL's processor for images and text only: no video processor, so no torchvision needed.

    Everything else (image placeholder expansion, `mm_token_type_ids`, chat template, decoding) is the stock
    processor's. Passing `videos=` is an error.
    """

    def __init__(
        self, image_processor: Any = None, tokenizer: Any = None, chat_template: str | None = None, **kwargs
    ):
        self.image_token = getattr(tokenizer, "image_token", None) or "<|image_pad|>"
        self.video_token = getattr(tokenizer, "video_token", None) or "<|video_pad|>"
        self.image_token_id = getattr(tokenizer, "image_token_id", None) or tokenizer.convert_tokens_to_ids(
            self.image_token
        )
        self.video_token_id = getattr(tokenizer, "video_token_id", None) or tokenizer.convert_tokens_to_ids(
            self.video_token
        )
        ProcessorMixin.__init__(self, image_processor, tokenizer, chat_template=chat_template)

    def __call__(self, images: Any = None, text: Any = None, videos: Any = None, **kwargs):
        if videos is not None:
            raise ValueError(
                f"{type(self).__name__} handles images and text only; install torchvision and use the stock "
                "Qwen2_5_VLProcessor for video input."
            )
        return super().__call__(images=images, text=text, **kwargs)


# Without this registration AutoProcessor cannot resolve the class name saved in processor_config.json and
# falls back to a bare tokenizer. The string key keeps the stock qwen2_5_vl mapping untouched.
AutoProcessor.register("srpo_image_text_qwen2_5_vl", ImageTextQwen2_5_VLProcessor, exist_ok=True)


def _saved_processor_class(path: Path) -> str | None:
    for name in ("processor_config.json", "preprocessor_config.json"):
        f = path / name
        if f.is_file():
            try:
                cls = json.loads(f.read_text(encoding="utf-8")).get("processor_class")
            except (OSError, ValueError):
                continue
            if cls:
                return str(cls)
    return None


def _model_type(path: Path) -> str | None:
    f = path / "config.json"
    if not f.is_file():
        return None
    try:
        return json.loads(f.read_text(encoding="utf-8")).get("model_type")
    except (OSError, ValueError):
        return None


def load_processor(path: str | Path, **kwargs: Any) -> ProcessorMixin:
    """Load the processor of a vision-language checkpoint (a local folder or a hub id), ready for images.

    Returns a `ProcessorMixin` with `image_processor` and `tokenizer` — never a bare tokenizer. For Qwen2-VL /
    Qwen2.5-VL checkpoints on a machine without torchvision this is `ImageTextQwen2_5_VLProcessor`. Raises
    `ValueError` naming the path when the checkpoint has no image processor.
    """
    local = Path(path)
    saved_class = _saved_processor_class(local) if local.is_dir() else None
    model_type = _model_type(local) if local.is_dir() else None
    if saved_class == ImageTextQwen2_5_VLProcessor.__name__ or (
        model_type in QWEN_VL_MODEL_TYPES and not is_torchvision_available()
    ):
        processor = ImageTextQwen2_5_VLProcessor.from_pretrained(str(path), **kwargs)
    else:
        try:
            processor = AutoProcessor.from_pretrained(str(path), **kwargs)
        except (OSError, ValueError) as e:
            raise ValueError(f"{path}: cannot load an image processor for this checkpoint: {e}") from e
    if not isinstance(processor, ProcessorMixin) or getattr(processor, "image_processor", None) is None:
        raise ValueError(
            f"{path}: loaded a {type(processor).__name__}, not a processor with an image processor; is this a "
            "vision-language checkpoint (it needs preprocessor_config.json)?"
        )
    return processor


def load_model(
    path: str | Path,
    *,
    dtype: Any = "auto",
    device_map: Any = None,
    attn_implementation: str | None = None,
    **kwargs: Any,
):
    """Load a vision-language model for conditional generation (Qwen2.5-VL and other image-text-to-text models).

    `dtype="auto"` keeps the checkpoint's dtype; pass `torch.bfloat16` etc. to override. Extra keyword
    arguments go to `from_pretrained`.
    """
    from transformers import AutoModelForImageTextToText

    if attn_implementation is not None:
        kwargs["attn_implementation"] = attn_implementation
    return AutoModelForImageTextToText.from_pretrained(
        str(path), dtype=dtype, device_map=device_map, **kwargs
    )
