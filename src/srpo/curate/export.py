"""`srpo curate export`: write curated data in the layout a training engine reads.

Input: `srpo curate build` output (SFT rows with `messages`) or any sample file `read_samples` accepts —
typically `srpo curate filter` output (RL prompts). RL prompts get the five-block system prompt
(`srpo.response.REFLECTION_SYSTEM_PROMPT`).

Formats (files written into `--output DIR`):

- `llamafactory` (SFT rows only): `{name}.json`, a sharegpt list of
  `{"messages": [{"role": "user", "content": "<image>question"}, {"role": "assistant", "content": target}],
  "system": str, "images": ["relative/path.png"]}`, image paths relative to DIR (in-memory images are
  written to DIR/images/); plus `dataset_info.json` registering it under `name`.
- `trl`: `{name}.parquet` or `.jsonl`. SFT rows: `{"id", "messages", "images"}` exactly as `build` wrote
  them. Prompts: `{"id", "prompt": [{"role": "system", "content": [{"type": "text", "text": str}]},
  {"role": "user", "content": [{"type": "image"}, ..., {"type": "text", "text": str}]}], "images": [abs path, ...], "answer": str,
  "choices": [str], "data_source": str, "question": str, "meta": str (JSON)}` (choices: empty list when
  none). Images are paths; load them with `srpo.data.images`.
- `verl`: `{name}.parquet` with `data_source` (the task that judges the answers, `srpo.tasks`), `prompt`
  (chat list; user content "<image>"×n + text),
  `images` ([{"bytes", "path"}], embedded), `ability`, `reward_model` ({"style": "rule", "ground_truth"}),
  `extra_info` ({"id", "index", "question", "choices", "meta" (JSON)}).
- `easyr1`: `{name}.parquet` with `problem` ("<image>"×n + text), `answer` (a JSON label: EasyR1 hands the
  reward nothing else), `images` ([{"bytes", "path"}]), `data_source`.
- `openrlhf`: `{name}.jsonl` with `message` (a JSON string of the chat list; images as
  `{"type": "image", "image": "file:///abs/path"}`) and `answer` (a JSON label, as for EasyR1).

The JSON label is `{"answer", "choices", "question", "task", "meta"}`: the gold and everything the task's
judge reads (`srpo.reward.reference.reference_of` reads every layout back), so the reward judges each answer
exactly as curation did. The user text of a prompt is its task's prompt (`srpo.tasks`, named by
`meta.data_source`), what curation asked and evaluation asks.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from srpo.data.images import (
    ImageError,
    default_image_root,
    image_bytes,
    kind_of,
    resolve_image,
    resolved_refs,
)
from srpo.data.readers import read_samples
from srpo.errors import refuse_overwrite
from srpo.journal import iter_jsonl, replaced_atomically
from srpo.records import SFTRow, read_records
from srpo.response import REFLECTION_SYSTEM_PROMPT
from srpo.tasks import task_for

EXPORT_FORMATS = ("llamafactory", "trl", "verl", "easyr1", "openrlhf")
_NOT_FOR_THE_JUDGE = ("image_root", "pass_rate", "attempts", "data_source")
"""`meta` keys that say where a sample came from, not how to judge it (left out of exported labels)."""
_BATCH = 512


@dataclass
class Item:
    """One record to export: an SFT row (`target` set), or an RL prompt (its system and user texts)."""

    id: str
    system: str
    user_text: str
    images: list[str]
    image_root: str | None
    answer: str
    choices: list[str] | None
    task: str = "math"
    """The spec of the task that judges the answers (`srpo.tasks`), written as each row's `data_source`."""
    question: str = ""
    """The raw question (the default task reads options written into it)."""
    meta: dict[str, Any] | None = None
    """What the task's judge reads from the sample (MathVista's answer type, OlympiadBench's tolerance, …)."""
    target: str | None = None
    row: SFTRow | None = None

    def label(self) -> dict[str, Any]:
        """Everything the reward needs to judge as curation did, as one JSON-ready object
        (`srpo.reward.reference.reference_of` reads it back)."""
        return {
            "answer": self.answer,
            "choices": self.choices or [],
            "question": self.question,
            "task": self.task,
            "meta": self.meta or {},
        }


def _is_sft_file(path: Path) -> bool:
    if not path.is_file() or not path.name.endswith(".jsonl"):
        return False
    first = next(iter_jsonl(path), None)
    return isinstance(first, dict) and isinstance(first.get("messages"), list) and "images" in first


def read_items(path: str | os.PathLike, image_root: str | os.PathLike | None = None) -> Iterator[Item]:
    """SFT rows or samples from `path` as `Item`s (images resolved; ImageError for bad ones)."""
    p = Path(path)
    if _is_sft_file(p):
        for row in read_records(p, SFTRow):
            yield Item(
                id=row.id,
                system=row.text_of("system"),
                user_text=row.text_of("user"),
                images=row.images,
                image_root=row.image_root,
                answer=row.answer,
                choices=row.choices,
                target=row.text_of("assistant"),
                row=row,
            )
        return
    fallback = Path(image_root).resolve() if image_root else default_image_root(p)
    for s in read_samples(p):
        root = s.meta.get("image_root") or fallback
        try:
            images = resolved_refs(s.images, root)
        except ImageError as e:
            raise ImageError(f"{p}: record {s.id}: {e}; fix the image or remove the record") from None
        task = task_for(s.meta.get("data_source"))
        yield Item(
            s.id,
            REFLECTION_SYSTEM_PROMPT,
            task.prompt(s),
            images,
            str(root),
            s.answer,
            s.choices,
            task.spec,
            s.question,
            {k: v for k, v in s.meta.items() if k not in _NOT_FOR_THE_JUDGE},
        )


def export(
    input: str | os.PathLike,
    format: str,
    output: str | os.PathLike,
    *,
    name: str = "srpo",
    file_format: str = "parquet",
    image_root: str | os.PathLike | None = None,
) -> Path:
    """Write `input` in `format` into the folder `output`; returns the main data file written."""
    if format not in EXPORT_FORMATS:
        raise ValueError(f"unknown --format {format!r}; choose one of {', '.join(EXPORT_FORMATS)}")
    if file_format not in ("parquet", "jsonl"):
        raise ValueError(f"--file-format must be parquet or jsonl, got {file_format!r}")
    out = Path(output)
    refuse_overwrite(out / f"{name}{_suffix(format, file_format)}", input=input)
    out.mkdir(parents=True, exist_ok=True)
    items = read_items(input, image_root)
    if format == "llamafactory":
        return _llamafactory(items, out, name)
    if format == "openrlhf":
        return _write_jsonl(out / f"{name}.jsonl", (_openrlhf_row(i, out) for i in items))
    if format == "trl":
        rows = (_trl_row(i) for i in items)
        if file_format == "jsonl":
            return _write_jsonl(out / f"{name}.jsonl", rows)
        first = next(rows, None)
        if first is None:
            return _write_parquet(out / f"{name}.parquet", iter(()), "trl_prompt")
        layout = "trl_sft" if "messages" in first else "trl_prompt"
        return _write_parquet(out / f"{name}.parquet", _chain(first, rows), layout)
    if format == "verl":
        return _write_parquet(out / f"{name}.parquet", (_verl_row(i, n) for n, i in enumerate(items)), "verl")
    return _write_parquet(out / f"{name}.parquet", (_easyr1_row(i) for i in items), "easyr1")


def _suffix(format: str, file_format: str) -> str:
    """The extension of the main file `export` writes for a format."""
    if format == "llamafactory":
        return ".json"
    if format == "openrlhf" or (format == "trl" and file_format == "jsonl"):
        return ".jsonl"
    return ".parquet"


def _chain(first: dict, rest: Iterator[dict]) -> Iterator[dict]:
    yield first
    yield from rest


def _placeholders(item: Item) -> str:
    return "<image>" * len(item.images) + item.user_text


def _embedded(item: Item) -> list[dict[str, Any]]:
    out = []
    for ref in item.images:
        if kind_of(ref) == "url":
            raise ImageError(f"record {item.id}: image {ref!r} is a remote URL; download it to embed it")
        data, _ = image_bytes(ref, item.image_root or "/")
        out.append({"bytes": data, "path": None if kind_of(ref) == "data" else ref})
    return out


def _local_file(ref: str, item: Item, out: Path) -> Path:
    """A local file for the image: the confined path itself, or a file written under out/images/."""
    if kind_of(ref) == "path":
        path = resolve_image(ref, item.image_root or "/")
        assert isinstance(path, Path)
        return path
    if kind_of(ref) == "url":
        raise ImageError(f"record {item.id}: image {ref!r} is a remote URL; this format needs local files")
    data, mime = image_bytes(ref, None)
    target = out / "images" / f"{hashlib.sha1(data).hexdigest()[:16]}.{mime.split('/')[-1]}"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return target.resolve()


def _llamafactory(items: Iterator[Item], out: Path, name: str) -> Path:
    path = out / f"{name}.json"
    with replaced_atomically(path) as tmp, tmp.open("w", encoding="utf-8") as f:
        f.write("[\n")
        for n, item in enumerate(items):
            if item.target is None:
                raise ValueError(
                    f"record {item.id}: llamafactory export needs SFT rows (from `srpo curate build`), not prompts"
                )
            row = {
                "messages": [
                    {"role": "user", "content": _placeholders(item)},
                    {"role": "assistant", "content": item.target},
                ],
                "system": item.system,
                "images": [os.path.relpath(_local_file(r, item, out), out.resolve()) for r in item.images],
            }
            f.write((",\n" if n else "") + json.dumps(row, ensure_ascii=False))
        f.write("\n]\n")
    info = {
        name: {
            "file_name": path.name,
            "formatting": "sharegpt",
            "columns": {"messages": "messages", "system": "system", "images": "images"},
            "tags": {
                "role_tag": "role",
                "content_tag": "content",
                "user_tag": "user",
                "assistant_tag": "assistant",
            },
        }
    }
    (out / "dataset_info.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return path


def _trl_row(item: Item) -> dict[str, Any]:
    if item.row is not None:  # an SFT row: its typed messages as `build` wrote them
        return {"id": item.id, "messages": item.row.messages, "images": item.images}
    user = [{"type": "image"} for _ in item.images] + [{"type": "text", "text": item.user_text}]
    return {
        "id": item.id,
        "prompt": [
            {"role": "system", "content": [{"type": "text", "text": item.system}]},
            {"role": "user", "content": user},
        ],
        "images": item.images,
        "answer": item.answer,
        "choices": item.choices or [],
        "data_source": item.task,
        "question": item.question,
        "meta": json.dumps(item.meta or {}, ensure_ascii=False, sort_keys=True),
    }


def _verl_row(item: Item, index: int) -> dict[str, Any]:
    return {
        "data_source": item.task,
        "prompt": [
            {"role": "system", "content": item.system},
            {"role": "user", "content": _placeholders(item)},
        ],
        "images": _embedded(item),
        "ability": "math",
        "reward_model": {"style": "rule", "ground_truth": item.answer},
        "extra_info": {
            "id": item.id,
            "index": index,
            "question": item.question,
            "choices": item.choices or [],
            "meta": json.dumps(item.meta or {}, ensure_ascii=False, sort_keys=True),
        },
    }


def _easyr1_row(item: Item) -> dict[str, Any]:
    # EasyR1 hands the reward only `ground_truth` (this `answer`): the whole label travels in it, as JSON
    return {
        "problem": _placeholders(item),
        "answer": json.dumps(item.label(), ensure_ascii=False),
        "images": _embedded(item),
        "data_source": item.task,
    }


def _openrlhf_row(item: Item, out: Path) -> dict[str, Any]:
    content: list[dict[str, Any]] = [
        {"type": "image", "image": _local_file(r, item, out).as_uri()} for r in item.images
    ]
    content.append({"type": "text", "text": item.user_text})
    message = [{"role": "system", "content": item.system}, {"role": "user", "content": content}]
    # OpenRLHF hands the reward only the label (this `answer`): the whole label travels in it, as JSON
    return {
        "message": json.dumps(message, ensure_ascii=False),
        "answer": json.dumps(item.label(), ensure_ascii=False),
    }


def _write_jsonl(path: Path, rows: Iterator[dict[str, Any]]) -> Path:
    with replaced_atomically(path) as tmp, tmp.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False, default=_b64) + "\n")
    return path


def _b64(obj: Any) -> Any:
    if isinstance(obj, bytes):
        return base64.b64encode(obj).decode()
    raise TypeError(type(obj).__name__)


@lru_cache(maxsize=1)
def _schemas() -> dict[str, Any]:
    """Parquet schemas per layout (pyarrow is imported only when a parquet file is written)."""
    import pyarrow as pa

    _PART = pa.struct([("type", pa.string()), ("text", pa.string())])
    _TRL_SFT = pa.schema(
        [
            ("id", pa.string()),
            ("messages", pa.list_(pa.struct([("role", pa.string()), ("content", pa.list_(_PART))]))),
            ("images", pa.list_(pa.string())),
        ]
    )
    _TRL_PROMPT = pa.schema(
        [
            ("id", pa.string()),
            ("prompt", pa.list_(pa.struct([("role", pa.string()), ("content", pa.list_(_PART))]))),
            ("images", pa.list_(pa.string())),
            ("answer", pa.string()),
            ("choices", pa.list_(pa.string())),
            ("data_source", pa.string()),
            ("question", pa.string()),
            ("meta", pa.string()),
        ]
    )
    _IMAGE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    _VERL = pa.schema(
        [
            ("data_source", pa.string()),
            ("prompt", pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))),
            ("images", pa.list_(_IMAGE)),
            ("ability", pa.string()),
            ("reward_model", pa.struct([("style", pa.string()), ("ground_truth", pa.string())])),
            (
                "extra_info",
                pa.struct(
                    [
                        ("id", pa.string()),
                        ("index", pa.int64()),
                        ("question", pa.string()),
                        ("choices", pa.list_(pa.string())),
                        ("meta", pa.string()),
                    ]
                ),
            ),
        ]
    )
    _EASYR1 = pa.schema(
        [
            ("problem", pa.string()),
            ("answer", pa.string()),
            ("images", pa.list_(_IMAGE)),
            ("data_source", pa.string()),
        ]
    )
    return {"trl_sft": _TRL_SFT, "trl_prompt": _TRL_PROMPT, "verl": _VERL, "easyr1": _EASYR1}


def _write_parquet(path: Path, rows: Iterator[dict[str, Any]], layout: str) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _schemas()[layout]
    with replaced_atomically(path) as tmp, pq.ParquetWriter(tmp, schema) as writer:
        batch: list[dict[str, Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= _BATCH:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                batch = []
        if batch:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
    return path
