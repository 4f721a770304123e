"""Stream raw rows out of data files: JSONL, JSON (array or object), Parquet, HF `save_to_disk` folders, and
datasets named by their Hugging Face Hub id.

Every row comes with a location string ("data.jsonl:17", "train.parquet:row 3", "AI4Math/MathVista
[testmini]:row 5") so that errors can name exactly what to fix. Nothing here loads a whole file into
memory: JSONL is read line by line, JSON arrays/objects are decoded one element at a time, Parquet and
Arrow files batch by batch, Hub datasets streamed. Text must be UTF-8: a line that is not is reported,
never silently repaired.

Where a source is not a local path but looks like a Hub id (`OWNER/NAME`, optionally `OWNER/NAME:CONFIG`),
or is written `hf:SOURCE`, it is read with `datasets.load_dataset` (the `train` extra). Offline
(`HF_HUB_OFFLINE=1`) an id already in the local Hugging Face cache still reads; one that is not is a
clear error. `hf:PATH` reads a local folder of Parquet/JSON files the same way.
"""

from __future__ import annotations

import codecs
import contextlib
import json
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_CHUNK = 1 << 20


class DataError(ValueError):
    """Input that cannot be read; the message names the file, the record and what to do."""


@dataclass(frozen=True)
class RawRow:
    """A decoded row and where it came from. `key` is the object key for JSON-object files (MathVista).
    `row` is a `DataError` instead of a row when that one record cannot be decoded (the reader decides
    whether to stop or skip)."""

    location: str
    row: Any
    key: str | None = None


HUB_PREFIX = "hf:"
_HUB_ID = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*(?::[^/@]+)?(?:@[A-Za-z0-9._-]+)?$"
)
_DATA_SUFFIXES = (".jsonl", ".ndjson", ".json", ".parquet", ".arrow")
_SPLIT_NAMES = ("train", "test", "testmini", "validation", "val", "dev")


def is_hub_id(source: str | os.PathLike) -> bool:
    """Whether `source` names a dataset for `datasets.load_dataset` rather than a local file: written
    `hf:…`, or not an existing path and shaped `OWNER/NAME[:CONFIG][@SPLIT]` (a data file name such as
    `data/train.jsonl` is taken for a missing file, not an id)."""
    s = os.fspath(source)
    if s.startswith(HUB_PREFIX):
        return True
    if Path(s).exists() or not _HUB_ID.match(s):
        return False
    return not re.split(r"[:@]", s, maxsplit=1)[0].lower().endswith(_DATA_SUFFIXES)


def check_source(source: str | os.PathLike) -> None:
    """Raise `DataError` unless `source` is an existing file or folder or a Hub dataset id."""
    if not is_hub_id(source) and not Path(source).exists():
        raise DataError(f"{os.fspath(source)}: no such file or folder")


def iter_raw_rows(path: str | os.PathLike, split: str | None = None) -> Iterator[RawRow]:
    """Rows of any supported file, folder or Hub dataset, in order. `split` picks a split of an HF
    DatasetDict folder or of a Hub dataset (default: `train` when there is one, else the only split).
    Records that cannot be decoded come back as `DataError` rows (the error object in `row`); a file that
    cannot be read past a point raises `DataError`."""
    s = os.fspath(path)
    if s.startswith(HUB_PREFIX):
        yield from iter_hub_rows(s[len(HUB_PREFIX) :], split)
        return
    p = Path(path)
    if not p.exists():
        if is_hub_id(s):
            yield from iter_hub_rows(s, split)
            return
        raise DataError(f"{p}: no such file or folder")
    if p.is_dir():
        yield from _iter_dir(p, split)
        return
    if not p.is_file():
        raise DataError(f"{p}: not a regular file")
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
        raise DataError(
            f"{p}: unknown file type; use .jsonl, .json, .parquet, an HF save_to_disk folder, or a Hub id"
        )


# ------------------------------------------------------------------------------------------------ JSONL


def _utf8_problem(where: str, data: bytes, e: UnicodeDecodeError) -> str:
    return (
        f"{where}: not valid UTF-8 (byte 0x{data[e.start]:02x} at byte {e.start + 1} of the line); save the "
        "file as UTF-8 (e.g. iconv -f latin1 -t utf-8 IN > OUT)"
    )


def _iter_jsonl(p: Path) -> Iterator[RawRow]:
    with p.open("rb") as f:
        for lineno, data in enumerate(f, 1):
            if lineno == 1 and data.startswith(codecs.BOM_UTF8):
                data = data[len(codecs.BOM_UTF8) :]
            loc = f"{p}:{lineno}"
            try:
                line = data.decode("utf-8")
            except UnicodeDecodeError as e:
                yield RawRow(loc, DataError(_utf8_problem(loc, data, e)))
                continue
            if not line.strip():
                continue
            try:
                yield RawRow(loc, json.loads(line))
            except json.JSONDecodeError as e:
                yield RawRow(
                    loc,
                    DataError(f"{loc}: invalid JSON ({e.msg} at column {e.colno}); fix or remove the line"),
                )
            except (ValueError, RecursionError) as e:  # an integer of >4300 digits, nesting too deep
                yield RawRow(loc, DataError(f"{loc}: unreadable JSON ({e}); fix or remove the line"))


def jsonl_objects(path: str | os.PathLike, what: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(location "FILE:LINE", object) for every non-empty line of a JSONL file whose lines are `what` (e.g.
    "a generation with 'id' and 'response'"); the first line that is not valid UTF-8, not JSON or not an
    object raises DataError naming it."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: no such file")
    for raw in _iter_jsonl(p):
        if isinstance(raw.row, DataError):
            raise raw.row
        if not isinstance(raw.row, dict):
            raise DataError(f"{raw.location}: expected a JSON object ({what}), got {type(raw.row).__name__}")
        yield raw.location, raw.row


# ------------------------------------------------------------------------------------------------- JSON


def _iter_json(p: Path) -> Iterator[RawRow]:
    """A top-level array (rows) or object (key → row), decoded element by element."""
    decoder = json.JSONDecoder()
    with p.open("rb") as f:
        reader = _TextCursor(f, p)
        first = reader.next_nonspace()
        if first not in ("[", "{"):
            raise DataError(f"{p}: a JSON data file must hold an array of rows or an object of rows")
        is_object = first == "{"
        what = "object" if is_object else "array"
        index = 0
        while True:
            c = reader.next_nonspace()
            if c in ("]", "}"):
                if reader.next_nonspace() != "":
                    raise DataError(f"{p}: line {reader.line()}: text after the end of the top-level {what}")
                return
            if c == ",":
                continue
            if c == "":
                raise DataError(f"{p}: file ends inside the top-level JSON {what}; is it complete?")
            reader.push_back(c)
            key = None
            if is_object:
                key = reader.decode(decoder, index)
                if not isinstance(key, str):
                    raise DataError(f"{p}: line {reader.line()}: element {index}: expected a string key")
                if reader.next_nonspace() != ":":
                    raise DataError(f"{p}: line {reader.line()}: element {index}: expected ':' after {key!r}")
            value = reader.decode(decoder, index)
            yield RawRow(f"{p}:{'key ' + str(key) if is_object else 'element ' + str(index)}", value, key)
            index += 1


class _TextCursor:
    """A small buffered cursor over a UTF-8 file for incremental `raw_decode`; bad bytes raise DataError."""

    def __init__(self, f, p: Path) -> None:
        self.f, self.p = f, p
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self.buf, self.pos = "", 0
        self.bytes_read = 0
        self.lines_before = 0

    def _fill(self) -> bool:
        chunk = self.f.read(_CHUNK)
        try:
            more = self.decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as e:
            raise DataError(
                f"{self.p}: not valid UTF-8 near byte {self.bytes_read + e.start} (after line {self.line()}); "
                "save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8 IN > OUT)"
            ) from None
        self.bytes_read += len(chunk)
        if not chunk and not more:
            return False
        self.lines_before += self.buf.count("\n", 0, self.pos)
        self.buf = self.buf[self.pos :] + more
        self.pos = 0
        return True

    def line(self) -> int:
        return self.lines_before + self.buf.count("\n", 0, self.pos) + 1

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

    def decode(self, decoder: json.JSONDecoder, index: int) -> Any:
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
                    raise DataError(
                        f"{self.p}: line {self.line()}: element {index}: invalid JSON ({e.msg}); fix the file "
                        "(a JSON file cannot be read past a broken element; JSONL can skip a bad line)"
                    ) from None
            except (ValueError, RecursionError) as e:
                raise DataError(
                    f"{self.p}: line {self.line()}: element {index}: unreadable JSON ({e})"
                ) from None


# ----------------------------------------------------------------------------------------- Parquet/Arrow


def _batch_rows(batch: Any, prefix: str, start: int) -> Iterator[RawRow]:
    """Rows of one Arrow record batch; a row whose values cannot be converted becomes a `DataError` row."""
    try:
        rows = batch.to_pylist()
    except Exception:  # a value pyarrow cannot convert (invalid UTF-8, …): find the rows, report each
        rows = None
    if rows is not None:
        for i, row in enumerate(rows):
            yield RawRow(f"{prefix} {start + i}", row)
        return
    for i in range(batch.num_rows):
        loc = f"{prefix} {start + i}"
        try:
            yield RawRow(loc, batch.slice(i, 1).to_pylist()[0])
        except Exception as e:
            reason = "a text value is not valid UTF-8" if isinstance(e, UnicodeDecodeError) else str(e)
            yield RawRow(loc, DataError(f"{loc}: unreadable row ({reason}); fix the row or remove it"))


def _iter_parquet(p: Path) -> Iterator[RawRow]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(p)
    except Exception as e:
        raise DataError(
            f"{p}: not a readable Parquet file ({e}); check it is complete and really Parquet"
        ) from None
    n = 0
    batches = pf.iter_batches(batch_size=256)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except Exception as e:
            raise DataError(
                f"{p}: cannot read past row {n} ({type(e).__name__}: {e}); the file is damaged"
            ) from None
        yield from _batch_rows(batch, f"{p}:row", n)
        n += batch.num_rows


def _iter_arrow(p: Path) -> Iterator[RawRow]:
    import pyarrow as pa

    n = 0
    try:
        source = pa.memory_map(str(p), "r")
    except FileNotFoundError:
        raise DataError(
            f"{p}: no such file (a save_to_disk folder's state.json lists it); is the folder complete?"
        ) from None
    except (pa.ArrowException, OSError) as e:
        raise DataError(f"{p}: not a readable Arrow file ({e})") from None
    with source:
        try:
            try:
                reader = pa.ipc.open_stream(source)
                batches = iter(reader)
            except (pa.ArrowException, OSError):  # not a stream: maybe the random-access file format
                source.seek(0)
                reader = pa.ipc.open_file(source)
                batches = (reader.get_batch(i) for i in range(reader.num_record_batches))
        except (pa.ArrowException, OSError) as e:
            raise DataError(f"{p}: not a readable Arrow file ({e}); check it is complete") from None
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                return
            except (pa.ArrowException, OSError) as e:
                raise DataError(f"{p}: cannot read past row {n} ({e}); the file is damaged") from None
            yield from _batch_rows(batch, f"{p}:row", n)
            n += batch.num_rows


# ----------------------------------------------------------------------------------------------- folders


def _json_file(p: Path) -> Any:
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise DataError(
            f"{p}: not a valid JSON file ({e}); is this folder a complete save_to_disk dataset?"
        ) from None


def _split_of(f: Path) -> str | None:
    """The split a shard belongs to, by the HF naming `train-00000-of-00001.parquet`, `test.jsonl`, or a
    folder named after the split."""
    head = re.split(r"[-_.]", f.name, maxsplit=1)[0].lower()
    if head in _SPLIT_NAMES:
        return head
    return f.parent.name.lower() if f.parent.name.lower() in _SPLIT_NAMES else None


def _in_split(f: Path, split: str) -> bool:
    """Whether a shard's name (as a word: `testmini-0.parquet`, `mathvista_testmini.jsonl`) or its folder
    names `split`."""
    want = split.lower()
    return want in re.split(r"[-_.]", f.name.lower()) or f.parent.name.lower() == want


def _iter_dir(p: Path, split: str | None) -> Iterator[RawRow]:
    """HF `save_to_disk` folders (Dataset or DatasetDict) and folders of Parquet/JSONL shards."""
    if (p / "dataset_dict.json").exists():
        info = _json_file(p / "dataset_dict.json")
        splits = info.get("splits", []) if isinstance(info, dict) else []
        chosen = split or ("train" if "train" in splits else (splits[0] if len(splits) == 1 else None))
        if chosen not in splits:
            asked = f"no split {split!r}: " if split else ""
            raise DataError(f"{p}: {asked}a DatasetDict with splits {splits}; choose one with --split")
        yield from _iter_dir(p / chosen, None)
        return
    if (p / "state.json").exists():
        state = _json_file(p / "state.json")
        files = state.get("_data_files", []) if isinstance(state, dict) else []
        for f in files:
            if not isinstance(f, dict) or not isinstance(f.get("filename"), str):
                raise DataError(f"{p / 'state.json'}: '_data_files' entries need a 'filename'")
            yield from _iter_arrow(p / f["filename"])
        return
    if split and (p / split).is_dir():
        yield from _iter_dir(p / split, None)
        return
    shards = sorted(
        f for f in p.rglob("*") if f.suffix.lower() in (".parquet", ".jsonl", ".arrow") and f.is_file()
    )
    if not shards:
        raise DataError(
            f"{p}: no dataset found (no dataset_dict.json, state.json, or .parquet/.jsonl shards)"
        )
    named = sorted({s for s in map(_split_of, shards) if s})
    if split is not None:
        shards = [f for f in shards if _in_split(f, split)]
        if not shards:
            raise DataError(f"{p}: no shards of split {split!r} (found splits: {named or 'none named'})")
    elif len(named) > 1:
        # Reading train and test shards together would mix the splits silently.
        if "train" not in named:
            raise DataError(f"{p}: shards of several splits {named}; choose one with --split")
        shards = [f for f in shards if _split_of(f) == "train"]
    for f in shards:
        yield from iter_raw_rows(f)


# ---------------------------------------------------------------------------------------- Hub datasets


def _parse_hub_source(source: str) -> tuple[str, str | None, str | None]:
    """`OWNER/NAME[:CONFIG][@SPLIT]` (or a local folder path) → (name or path, config, split)."""
    if Path(source).exists():
        return source, None, None
    split = None
    head, at, tail = source.rpartition("@")
    if at and head and re.fullmatch(r"[A-Za-z0-9._-]+", tail):
        source, split = head, tail
    name, colon, config = source.rpartition(":")
    if colon and name and "/" not in config and not Path(source).exists():
        return name, config, split
    return source, None, split


def iter_hub_rows(source: str, split: str | None = None) -> Iterator[RawRow]:
    """Rows of a dataset read by `datasets.load_dataset`: a Hub id `OWNER/NAME[:CONFIG][@SPLIT]` or a local
    folder of data files, streamed. `split` (or `@SPLIT`, for commands without a --split option) picks the
    split: default `train`, or the only one. Images come as `{"bytes", "path"}` dicts (undecoded). Every failure is a
    `DataError` that names the source and the fix (offline and not cached, no such dataset, no such
    split or config, `datasets` not installed)."""
    name, config, named_split = _parse_hub_source(source)
    if named_split and split and named_split != split:
        raise DataError(f"{source}: names split {named_split!r}, but split {split!r} was asked for; give one")
    split = split or named_split
    try:
        import datasets
    except ModuleNotFoundError:
        raise DataError(
            f"{source}: not a local file or folder, so srpo reads it as a Hugging Face dataset id, which needs "
            "the 'datasets' package: pip install 'srpo[train]' (or give the path of a local file)"
        ) from None
    try:
        with _quiet("datasets"):  # its "using the cached version" notices would print twice under the CLI
            found = _load(datasets, name, config, split)
        if split is None:
            splits = list(found)
            chosen = "train" if "train" in splits else (splits[0] if len(splits) == 1 else None)
            if chosen is None:
                raise DataError(
                    f"{source}: a dataset with splits {splits}; choose one with --split, or write "
                    f"{source}@{splits[0]}"
                )
            ds = found[chosen]
        else:
            chosen, ds = split, found
    except DataError:
        raise
    except Exception as e:  # datasets/huggingface_hub raise many types; each becomes one clear message
        raise DataError(_hub_problem(source, name, e)) from None
    if hasattr(ds, "decode"):
        ds = ds.decode(False)  # images as {bytes, path}: no decode and re-encode
    where = f"{source}[{chosen}]"
    n = 0
    rows = iter(ds)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except Exception as e:
            raise DataError(f"{where}: reading stopped at row {n} ({type(e).__name__}: {e})") from None
        yield RawRow(f"{where}:row {n}", row)
        n += 1


def _load(datasets: Any, name: str, config: str | None, split: str | None) -> Any:
    if split is None:
        return datasets.load_dataset(name, config, streaming=True)
    return datasets.load_dataset(name, config, split=split, streaming=True)


@contextlib.contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _hub_problem(source: str, name: str, e: Exception) -> str:
    import datasets

    text = str(e)
    offline = bool(datasets.config.HF_HUB_OFFLINE)
    if offline and (isinstance(e, ConnectionError) or "offline" in text.lower()):
        return (
            f"{source}: not a local file or folder, and not in the local Hugging Face cache; HF_HUB_OFFLINE is "
            "set, so it cannot be downloaded. Download it once with network access (HF_HUB_OFFLINE unset), "
            "or give the path of a local copy"
        )
    if isinstance(e, ConnectionError):
        return (
            f"{source}: could not reach the Hugging Face Hub ({text}); check the network, or set "
            "HF_HUB_OFFLINE=1 to read a copy from the local cache, or give a local path"
        )
    if "Bad split" in text or "Unknown split" in text:
        return f"{source}: {text}; choose one with --split (or {name}@SPLIT)"
    if "Config name is missing" in text or "BuilderConfig" in text:
        return f"{source}: {text}; name the config as {name}:CONFIG"
    if type(e).__name__ in ("DatasetNotFoundError", "FileNotFoundError", "DataFilesNotFoundError"):
        return (
            f"{source}: no such local file or folder, and no such dataset on the Hugging Face Hub ({text}); "
            "check the path or id (a gated dataset needs `hf auth login`)"
        )
    return f"{source}: could not load it with datasets.load_dataset ({type(e).__name__}: {text})"
