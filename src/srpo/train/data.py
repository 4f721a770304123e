"""Training data as TRL expects it, read from the files `srpo curate` writes.

SFT rows (`srpo curate build`) are TRL conversational rows::

    {"messages": [{"role": "system", "content": "..."}, {"role": "user", "content": "..."},
                  {"role": "assistant", "content": "<think>…</think> … <answer>…</answer>"}],
     "images": ["images/x.png"]}

RL rows (`srpo curate filter` / `srpo curate export --format trl`) carry a conversational `prompt` instead of
`messages`, plus the gold answer and whatever else the reward reads::

    {"prompt": [{"role": "system", ...}, {"role": "user", ...}], "images": [...], "answer": "...", ...}

Native srpo sample rows (`Sample.to_dict()`: id, question, answer, images, choices) are accepted for RL too;
their prompt is built here with the five-block system prompt.

Images may be paths (relative ones resolve against `image_root`, confined to it), data URLs, or — in Parquet and
`save_to_disk` data — bytes. They are handed to `datasets` as an `Image` feature, so they are decoded lazily,
one batch at a time, by the collator. Image placeholders follow TRL's convention: all images of a row go before
the text of its first user turn.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from srpo.data.files import DataError, iter_raw_rows
from srpo.data.images import ImageError, default_image_root, image_bytes, kind_of, resolve_image
from srpo.data.sample import ImageBytes


def _image_cell(ref: Any, image_root: Path, where: str) -> dict[str, Any]:
    """One image as the `datasets.Image` feature stores it: a local path, or encoded bytes."""
    if isinstance(ref, dict) and ("bytes" in ref or "path" in ref):  # already a datasets.Image cell
        if ref.get("bytes"):
            return {"bytes": ref["bytes"], "path": None}
        ref = ref.get("path")
    if isinstance(ref, bytes):
        return {"bytes": ref, "path": None}
    if not isinstance(ref, (str, ImageBytes)):
        raise DataError(f"{where}: image entry {ref!r} is not a path, URL or bytes")
    try:
        kind = kind_of(ref)
        if kind == "url":
            raise ImageError(f"image {ref!r} is a remote URL; download it and reference the local file")
        if kind == "path":
            return {"bytes": None, "path": str(resolve_image(ref, image_root))}
        return {"bytes": image_bytes(ref, image_root)[0], "path": None}
    except ImageError as e:
        raise DataError(f"{where}: {e}") from None


def _flatten_content(content: Any, where: str) -> str:
    """Message content as plain text; image parts are dropped (TRL re-inserts the placeholders)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text":
                texts.append(str(part.get("text") or ""))
            elif isinstance(part, dict) and part.get("type") == "image":
                continue
            elif isinstance(part, str):
                texts.append(part)
            else:
                raise DataError(f"{where}: unsupported message part {part!r}")
        return "\n".join(t for t in texts if t)
    raise DataError(f"{where}: message content must be text or a list of parts, got {type(content).__name__}")


def _messages(value: Any, where: str, key: str) -> list[dict[str, str]]:
    if isinstance(value, str):  # some exports store the conversation as a JSON string
        try:
            value = json.loads(value)
        except ValueError:
            raise DataError(f"{where}: `{key}` is a string but not JSON") from None
    if not isinstance(value, list) or not all(isinstance(m, dict) and "role" in m for m in value):
        raise DataError(f"{where}: `{key}` must be a list of {{role, content}} messages")
    return [{"role": str(m["role"]), "content": _flatten_content(m.get("content"), where)} for m in value]


def _images(
    row: dict[str, Any], image_root: Path | None, data_path: str | Path, where: str
) -> list[dict[str, Any]]:
    refs = row.get("images")
    if refs is None and row.get("image") is not None:
        refs = [row["image"]]
    meta = row.get("meta") if isinstance(row.get("meta"), dict) else {}
    root = image_root or row.get("image_root") or meta.get("image_root")
    cells = []
    for ref in refs or []:
        if root is None and isinstance(ref, str) and Path(ref).is_absolute():
            # Absolute paths written by `srpo curate` with no root recorded: the file itself is the bound.
            cells.append(_image_cell(ref, Path(ref).parent, where))
        else:
            cells.append(_image_cell(ref, Path(root) if root else default_image_root(data_path), where))
    return cells


def read_rows(path: str | Path, *, max_samples: int | None = None) -> list[tuple[str, dict[str, Any]]]:
    """`(location, row)` pairs of a data file, stopping at `max_samples`. Raises `DataError` on bad lines."""
    rows = []
    for raw in iter_raw_rows(path):
        if isinstance(raw.row, Exception):
            raise DataError(str(raw.row))
        if not isinstance(raw.row, dict):
            raise DataError(f"{raw.location}: expected a JSON object per row")
        rows.append((raw.location, raw.row))
        if max_samples is not None and len(rows) >= max_samples:
            break
    if not rows:
        raise DataError(f"{path}: no rows")
    return rows


def _to_dataset(records: list[dict[str, Any]]) -> Any:
    import datasets

    ds = datasets.Dataset.from_list(records)
    if "images" in ds.column_names:
        ds = ds.cast_column("images", datasets.List(datasets.Image()))
    return ds


def load_sft_dataset(
    path: str | Path, *, image_root: str | Path | None = None, max_samples: int | None = None
) -> Any:
    """A `datasets.Dataset` with `messages` (text content) and `images` columns for TRL's `SFTTrainer`.

    Every row must have `messages` ending in an assistant turn. Raises `DataError` naming the row otherwise.
    """
    root = Path(image_root) if image_root else None
    records = []
    for where, row in read_rows(path, max_samples=max_samples):
        if "messages" not in row:
            raise DataError(
                f"{where}: no `messages` field; SFT data is what `srpo curate build` writes "
                "(TRL conversational rows with `messages` and `images`)"
            )
        messages = _messages(row["messages"], where, "messages")
        if not messages or messages[-1]["role"] != "assistant":
            raise DataError(f"{where}: the last message must be the assistant's target response")
        records.append({"messages": messages, "images": _images(row, root, path, where)})
    return _to_dataset(records)


def sample_prompt(row: dict[str, Any], system_prompt: str | None) -> list[dict[str, str]]:
    """The conversational prompt for a native srpo sample row: the prompt of the task its `meta.data_source`
    names (the default task's otherwise), as `srpo curate export` and `srpo eval run` render it."""
    from srpo.data.sample import Sample
    from srpo.tasks import task_for

    sample = Sample.from_dict({"id": "", **row})
    prompt = [{"role": "system", "content": system_prompt}] if system_prompt else []
    return [*prompt, {"role": "user", "content": task_for(sample.meta.get("data_source")).prompt(sample)}]


def load_rl_dataset(
    path: str | Path,
    *,
    system_prompt: str | None,
    image_root: str | Path | None = None,
    max_samples: int | None = None,
) -> Any:
    """A `datasets.Dataset` with a conversational `prompt`, `images` and every other column of the rows (the
    reward reads `answer`, `choices`, …) for TRL's `GRPOTrainer`.

    Rows with a `prompt` are used as they are, except that `system_prompt` is put first when the prompt has no
    system turn. Native sample rows (`question`, `answer`) get a prompt built from the question. Raises
    `DataError` naming the row when a row has neither, or no gold `answer`.
    """
    root = Path(image_root) if image_root else None
    records = []
    for where, row in read_rows(path, max_samples=max_samples):
        if "prompt" in row:
            prompt = _messages(row["prompt"], where, "prompt")
            if system_prompt and (not prompt or prompt[0]["role"] != "system"):
                prompt = [{"role": "system", "content": system_prompt}, *prompt]
        elif "question" in row:
            prompt = sample_prompt(row, system_prompt)
        else:
            raise DataError(f"{where}: an RL row needs a conversational `prompt` (or a native `question`)")
        if row.get("answer") in (None, ""):
            raise DataError(f"{where}: no gold `answer`; the reward cannot grade this row")
        extra = {
            k: _jsonable(v) for k, v in row.items() if k not in {"prompt", "images", "image", "messages"}
        }
        records.append({**extra, "prompt": prompt, "images": _images(row, root, path, where)})
    return _to_dataset(records)


def _jsonable(value: Any) -> Any:
    # Nested free-form fields (meta) have row-dependent shapes that Arrow cannot unify; keep them as JSON text.
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value
