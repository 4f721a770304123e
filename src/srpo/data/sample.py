"""The `Sample` record every stage passes around, and its stable id."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ImageBytes:
    """An image held in memory (from Parquet or an HF dataset), with its format (png, jpeg, …)."""

    data: bytes
    format: str = "png"

    def to_data_url(self) -> str:
        return f"data:image/{self.format};base64,{base64.b64encode(self.data).decode()}"


ImageRef = str | ImageBytes
"""A relative or absolute path, an http(s) URL, a data URL, or in-memory bytes."""


@dataclass
class Sample:
    """One multimodal question with its gold answer.

    `images` holds references exactly as the dataset gave them; paths are resolved (and confined to the
    image root) only when an image is read — see `srpo.data.images`.
    """

    id: str
    question: str
    answer: str
    images: list[ImageRef] = field(default_factory=list)
    choices: list[str] | None = None
    rationale: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; in-memory images become data URLs."""
        # Spelled out rather than `dataclasses.asdict`, whose generic deep walk is ten times slower (it runs
        # once per curated record); same keys in the same order, nothing shared with `self`.
        return {
            "id": self.id,
            "question": self.question,
            "answer": self.answer,
            "images": [im.to_data_url() if isinstance(im, ImageBytes) else im for im in self.images],
            "choices": list(self.choices) if self.choices is not None else None,
            "rationale": self.rationale,
            "meta": copy.deepcopy(self.meta) if self.meta else {},
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Sample:
        """Inverse of `to_dict` (the native srpo JSONL row)."""
        return cls(
            id=str(d["id"]),
            question=str(d["question"]),
            answer=str(d.get("answer", "")),
            images=list(d.get("images") or []),
            choices=list(d["choices"]) if d.get("choices") else None,
            rationale=d.get("rationale"),
            meta=dict(d.get("meta") or {}),
        )


def stable_id(*parts: Any) -> str:
    """A short id that depends only on `parts` (same row → same id on every run and machine)."""
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=_default)
    return hashlib.sha1(blob.encode("utf-8")).hexdigest()[:16]


def _default(obj: Any) -> Any:
    if isinstance(obj, ImageBytes):
        return hashlib.sha1(obj.data).hexdigest()
    if isinstance(obj, bytes):
        return hashlib.sha1(obj).hexdigest()
    return str(obj)
