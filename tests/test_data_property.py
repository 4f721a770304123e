"""Property tests: random bytes and random JSON rows into every reader and into `srpo data inspect/convert`.

Each run ends in a clear error (`DataError`, a `ValueError` naming the file) or a counted skip: never a
traceback, never a silent change (every line is a sample or a counted skip; nothing is repaired).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from srpo.cli import app
from srpo.data.files import DataError, iter_raw_rows
from srpo.data.formats import ROW_FORMATS, RowProblem
from srpo.data.readers import ReadStats, convert_row, read_samples

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

KEYS = [
    "id",
    "question",
    "answer",
    "images",
    "image",
    "choices",
    "rationale",
    "meta",
    "conversations",
    "messages",
    "query",
    "content",
    "pid",
    "from",
    "value",
    "role",
    "bytes",
    "path",
    "decoded_image",
    "question_type",
]
SECTIONS = [
    "<CONCLUSION> B </CONCLUSION>",
    "<CAPTION>x</CAPTION>",
    "<REASONING>",
    "### The final answer is:\n",
    "### Step 1:\n",
    "I think I have made a mistake. Let me rethink it.",
    "Choices:\nA: 1\nB: 2",
    "\\boxed{",
    "The answer is",
    "<image>",
    "human",
    "gpt",
    "user",
    "assistant",
]
text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(SECTIONS),
    st.lists(st.sampled_from(SECTIONS), max_size=5).map("".join),
)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10, 10**6), st.floats(allow_nan=False), text)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=5)), inner, max_size=5),
    ),
    max_leaves=20,
)
rows = st.one_of(st.dictionaries(st.sampled_from(KEYS), json_values, max_size=6), json_values)


def _accounted(path: Path, **kw) -> tuple[ReadStats, list]:
    stats = ReadStats()
    samples = list(read_samples(path, skip_bad=True, stats=stats, **kw))
    assert stats.read == len(samples)
    for s in samples:
        assert isinstance(s.id, str) and s.id and isinstance(s.question, str)
        assert isinstance(s.answer, str) and s.answer.strip()  # never a row read as gold ""
        assert isinstance(s.images, list)
        json.dumps(s.to_dict())  # every sample can be written
    return stats, samples


def _non_blank_lines(data: bytes) -> int:
    n = 0
    for i, line in enumerate(data.split(b"\n")):
        if i == 0 and line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]
        try:
            if not line.decode("utf-8").strip():
                continue
        except UnicodeDecodeError:
            pass
        n += 1
    return n


@SETTINGS
@given(st.binary(max_size=600))
def test_random_bytes_as_jsonl_every_line_is_a_sample_or_a_counted_skip(data):
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "rows.jsonl"
        p.write_bytes(data)
        stats, samples = _accounted(p)
        assert stats.rows + stats.skipped == _non_blank_lines(data)
        try:
            list(read_samples(p))
        except DataError as e:
            assert str(p) in str(e)


@SETTINGS
@given(st.lists(rows, max_size=8))
def test_random_json_lines_every_line_is_a_sample_or_a_counted_skip(values):
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "rows.jsonl"
        p.write_text("".join(json.dumps(v) + "\n" for v in values), encoding="utf-8")
        stats, samples = _accounted(p)
        assert stats.rows + stats.skipped == len(values)
        if not any("\ufffd" in json.dumps(v, ensure_ascii=False) for v in values):  # nothing was "repaired"
            assert not any("\ufffd" in json.dumps(s.to_dict(), ensure_ascii=False) for s in samples)


@SETTINGS
@given(rows, st.sampled_from(["auto", *ROW_FORMATS]))
def test_every_row_format_raises_only_row_problems(value, format):
    try:
        samples = convert_row(value, None, format)
    except (RowProblem, DataError):
        return
    assert all(s.answer.strip() for s in samples)


@SETTINGS
@given(st.one_of(st.binary(max_size=400), st.lists(rows, max_size=6).map(lambda v: json.dumps(v).encode())))
def test_random_json_files_end_in_rows_or_one_clear_error(data):
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "rows.json"
        p.write_bytes(data)
        try:
            _accounted(p)
        except DataError as e:
            assert str(p) in str(e)


@SETTINGS
@given(
    st.binary(max_size=300),
    st.lists(
        st.dictionaries(st.sampled_from(["question", "answer", "id"]), st.text(max_size=8), max_size=3),
        max_size=5,
    ),
)
def test_random_parquet_and_folders_end_in_rows_or_one_clear_error(data, table_rows):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    with tempfile.TemporaryDirectory() as d:
        folder = Path(d) / "shards"
        folder.mkdir()
        (folder / "a.parquet").write_bytes(b"PAR1" + data)
        for target in (folder / "a.parquet", folder):
            with pytest.raises(DataError, match="a.parquet"):
                list(read_samples(target, skip_bad=True))
        (folder / "a.parquet").unlink()
        table = pa.Table.from_pylist(table_rows)
        pq.write_table(table, folder / "b.parquet")
        (folder / "c.jsonl").write_bytes(data)
        stats, _ = _accounted(folder)
        assert stats.rows + stats.skipped == table.num_rows + _non_blank_lines(data)


runner = CliRunner()


@settings(max_examples=40, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=300),
        st.lists(rows, max_size=4).map(lambda v: "".join(json.dumps(x) + "\n" for x in v).encode()),
    ),
    st.sampled_from([".jsonl", ".json", ".parquet"]),
    st.booleans(),
)
def test_data_commands_never_trace_back(data, suffix, skip_bad):
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / f"input{suffix}"
        p.write_bytes(data)
        out = Path(d) / "out.jsonl"
        for args in (["data", "inspect", str(p)], ["data", "convert", str(p), "--output", str(out)]):
            result = runner.invoke(app, args + (["--skip-bad"] if skip_bad else []))
            assert result.exit_code in (0, 2, 3), (args, result.output)
            assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
            assert "Traceback" not in result.output
            if result.exit_code == 2:
                assert "error:" in result.stderr and len(result.stderr.strip().splitlines()) <= 2
        assert not Path(str(out) + ".tmp").exists()


@SETTINGS
@given(st.binary(max_size=300), st.sampled_from(["x.arrow", "../x.arrow", "nope.arrow", None]))
def test_random_arrow_files_and_save_to_disk_folders_end_in_one_clear_error(data, listed):
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d) / "saved"
        folder.mkdir()
        (folder / "x.arrow").write_bytes(data)
        (Path(d) / "x.arrow").write_bytes(data)
        state = {"_data_files": [{"filename": listed}]} if listed else {"_data_files": "oops"}
        (folder / "state.json").write_text(json.dumps(state))
        for target in (folder / "x.arrow", folder):
            try:
                list(read_samples(target, skip_bad=True))
            except DataError as e:
                assert str(folder) in str(e) or "x.arrow" in str(e)


def test_iter_raw_rows_reports_bad_lines_as_rows_not_exceptions(tmp_path):
    p = tmp_path / "rows.jsonl"
    p.write_bytes(b'{"a": 1}\n\xff\xfe\n[' + b"[" * 100000 + b"\n" + b"1" * 5000 + b"\n")
    got = list(iter_raw_rows(p))
    assert got[0].row == {"a": 1}
    assert [type(r.row) for r in got[1:]] == [DataError, DataError, DataError]
    assert "not valid UTF-8" in str(got[1].row) and "rows.jsonl:3" in str(got[2].row)


conclusions = st.one_of(
    st.text(max_size=80),
    st.lists(
        st.one_of(st.sampled_from(SECTIONS + ["(B)", "A: 57", "Yes,", "76.06.", "."]), st.text(max_size=12)),
        max_size=6,
    ).map(" ".join),
)


@SETTINGS
@given(conclusions, st.one_of(st.none(), st.lists(st.text(min_size=1, max_size=6), min_size=2, max_size=5)))
def test_a_gold_is_never_a_sentence_and_always_comes_from_the_text(text, choices):
    from srpo.data.formats import isolate_gold, looks_like_sentence

    gold = isolate_gold(text, choices)
    if gold.unclear is None:
        assert gold.answer.strip() and not looks_like_sentence(gold.answer)
        assert gold.answer.lower() in text.lower()
    else:
        assert gold.answer == text.strip() and gold.rule is None


@SETTINGS
@given(
    st.lists(
        st.fixed_dictionaries(
            {"question": st.text(min_size=1, max_size=30), "answer": st.text(max_size=20).filter(str.strip)},
            optional={
                "choices": st.lists(st.text(max_size=8), min_size=1, max_size=4),
                "id": st.text(min_size=1, max_size=8),
            },
        ),
        max_size=6,
    )
)
def test_srpo_rows_are_read_back_unchanged(values):
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "rows.jsonl"
        p.write_text("".join(json.dumps(v) + "\n" for v in values), encoding="utf-8")
        samples = list(read_samples(p, format="srpo"))
        assert [(s.question, s.answer, s.choices) for s in samples] == [
            (v["question"], v["answer"], v.get("choices") or None) for v in values
        ]
