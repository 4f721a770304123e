"""Stream raw rows out of data files: JSONL, JSON (array or object), Parquet, and HF `save_to_disk` folders.

Every row comes with a location string ("data.jsonl:17", "train.parquet:row 3") so that errors can name
exactly what to fix. Nothing here loads a whole file into memory: JSONL is read line by line, JSON
arrays/objects are decoded one element at a time, Parquet and Arrow files batch by batch.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_CHUNK = 1 << 20


class DataError(ValueError):
    """Input that cannot be read; the message names the file, the record and what to do."""


@dataclass(frozen=True)
class RawRow:
    """A decoded row and where it came from. `key` is the object key for JSON-object files (MathVista)."""

    location: str
    row: Any
    key: str | None = None


def iter_raw_rows(path: str | os.PathLike, split: str | None = None) -> Iterator[RawRow]:
    """Rows of any supported file or folder, in file order. Bad JSON lines come back as `DataError` rows
    (the error object in `row`) so the caller decides whether to stop or skip."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"{p}: no such file or folder")
    if p.is_dir():
        yield from _iter_dir(p, split)
        return
    name = p.name.lower()
    if name.endswith(".jsonl") or name.endswith(".ndjson"):
        yield from _iter_jsonl(p)
    elif name.endswith(".json"):
        yield from _iter_json(p)
    elif name.endswith(".parquet"):
        yield from _iter_parquet(p)
    elif name.endswith(".arrow"):
        yield from _iter_arrow(p)
    else:
        raise DataError(f"{p}: unknown file type; use .jsonl, .json, .parquet, or an HF save_to_disk folder")


def _iter_jsonl(p: Path) -> Iterator[RawRow]:
    with p.open("r", encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            loc = f"{p}:{lineno}"
            try:
                yield RawRow(loc, json.loads(line))
            except json.JSONDecodeError as e:
                yield RawRow(
                    loc,
                    DataError(f"{loc}: invalid JSON ({e.msg} at column {e.colno}); fix or remove the line"),
                )


def _iter_json(p: Path) -> Iterator[RawRow]:
    """A top-level array (rows) or object (key → row), decoded element by element."""
    decoder = json.JSONDecoder()
    with p.open("r", encoding="utf-8", errors="replace") as f:
        reader = _TextCursor(f)
        first = reader.next_nonspace()
        if first not in ("[", "{"):
            raise DataError(f"{p}: a JSON data file must hold an array of rows or an object of rows")
        is_object = first == "{"
        index = 0
        while True:
            c = reader.next_nonspace()
            if c in ("]", "}"):
                return
            if c == ",":
                continue
            if c == "":
                raise DataError(
                    f"{p}: file ends inside the top-level JSON {'object' if is_object else 'array'}"
                )
            reader.push_back(c)
            key = None
            if is_object:
                key = reader.decode(decoder, p, index)
                if reader.next_nonspace() != ":":
                    raise DataError(f"{p}: element {index}: expected ':' after key {key!r}")
            value = reader.decode(decoder, p, index)
            yield RawRow(f"{p}:{'key ' + str(key) if is_object else 'element ' + str(index)}", value, key)
            index += 1


class _TextCursor:
    """A small buffered cursor for incremental `raw_decode` over a text file."""

    def __init__(self, f) -> None:
        self.f, self.buf, self.pos = f, "", 0

    def _fill(self) -> bool:
        more = self.f.read(_CHUNK)
        if not more:
            return False
        self.buf = self.buf[self.pos :] + more
        self.pos = 0
        return True

    def next_nonspace(self) -> str:
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos].isspace():
                self.pos += 1
            if self.pos < len(self.buf):
                c = self.buf[self.pos]
                self.pos += 1
                return c
            if not self._fill():
                return ""

    def push_back(self, _c: str) -> None:
        self.pos -= 1

    def decode(self, decoder: json.JSONDecoder, p: Path, index: int) -> Any:
        if self.next_nonspace():  # raw_decode does not skip leading whitespace
            self.push_back("")
        while True:
            try:
                value, end = decoder.raw_decode(self.buf, self.pos)
                # A number at the buffer's end may continue in the next chunk.
                if end < len(self.buf) or not self._fill():
                    self.pos = end
                    return value
            except json.JSONDecodeError as e:
                if not self._fill():
                    raise DataError(f"{p}: element {index}: invalid JSON ({e.msg}); fix the file") from e


def _iter_parquet(p: Path) -> Iterator[RawRow]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(p)
    except Exception as e:
        raise DataError(f"{p}: not a readable Parquet file ({e})") from e
    n = 0
    for batch in pf.iter_batches(batch_size=256):
        for row in batch.to_pylist():
            yield RawRow(f"{p}:row {n}", row)
            n += 1


def _iter_arrow(p: Path) -> Iterator[RawRow]:
    import pyarrow as pa

    n = 0
    with pa.memory_map(str(p), "r") as source:
        try:
            reader = pa.ipc.open_stream(source)
        except pa.ArrowInvalid:
            reader = pa.ipc.open_file(source)
            batches = (reader.get_batch(i) for i in range(reader.num_record_batches))
        else:
            batches = iter(reader)
        for batch in batches:
            for row in batch.to_pylist():
                yield RawRow(f"{p}:row {n}", row)
                n += 1


def _iter_dir(p: Path, split: str | None) -> Iterator[RawRow]:
    """HF `save_to_disk` folders (Dataset or DatasetDict) and folders of Parquet/JSONL shards."""
    if (p / "dataset_dict.json").exists():
        splits = json.loads((p / "dataset_dict.json").read_text()).get("splits", [])
        chosen = split or ("train" if "train" in splits else (splits[0] if len(splits) == 1 else None))
        if chosen not in splits:
            asked = f"no split {split!r}: " if split else ""
            raise DataError(f"{p}: {asked}a DatasetDict with splits {splits}; choose one with --split")
        yield from _iter_dir(p / chosen, None)
        return
    if (p / "state.json").exists():
        state = json.loads((p / "state.json").read_text())
        files = [p / f["filename"] for f in state.get("_data_files", [])]
        for f in files:
            yield from _iter_arrow(f)
        return
    if split and (p / split).is_dir():
        yield from _iter_dir(p / split, None)
        return
    shards = sorted(
        f for f in p.rglob("*") if f.suffix.lower() in (".parquet", ".jsonl", ".arrow") and f.is_file()
    )
    shards = [f for f in shards if split is None or split in f.name or split in f.parent.name]
    if not shards:
        raise DataError(
            f"{p}: no dataset found (no dataset_dict.json, state.json, or .parquet/.jsonl shards)"
        )
    for f in shards:
        yield from iter_raw_rows(f)
