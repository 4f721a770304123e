"""`srpo data inspect` / `srpo data convert` as a user runs them: what they print for real-layout rows, and
bad input answered with one or two lines, a non-zero exit, and no file left behind (issue 15.11)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from srpo.cli import app

FIX = Path(__file__).parent / "fixtures" / "data"
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def _one_clear_error(result, *needles: str) -> str:
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    err = result.stderr
    assert "Traceback" not in result.output and "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("WARNING")]
    assert 1 <= len(lines) <= 2, err
    for needle in needles:
        assert needle in err, (needle, err)
    return err


def test_inspect_prints_what_srpo_read_and_flags_unclear_golds():
    result = run("data", "inspect", FIX / "llava_cot_100k.jsonl", "--show", "9")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "#2 aokvqa_31c7e9" in out
    assert "  gold     : B    [answer phrase]" in out
    assert "  choices  : (A) Anchorage  (B) Juneau  (C) Fairbanks  (D) Sitka" in out
    assert "  images   : images/bar.png" in out
    assert "#6 vqav2_multi_5521#3" in out and "gold could not be isolated" in out
    assert "9 read, 0 skipped; 2 of the samples are later turns of multi-turn rows (7 rows)" in out


def test_inspect_flags_golds_that_read_like_sentences_in_any_format(tmp_path):
    p = tmp_path / "rows.jsonl"
    rows = [
        {"id": "ok", "question": "q", "answer": "12"},
        {"id": "sentence", "question": "q", "answer": "The total number of apples in the basket is twelve."},
    ]
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = run("data", "inspect", p)
    assert result.exit_code == 0
    assert "! gold looks like a sentence (10 words, ends in a period)" in result.stdout
    assert "1 golds look like sentences" in result.stdout and "e.g. sentence" in result.stdout


def test_first_turn_only_reports_the_dropped_turns():
    result = run("data", "inspect", FIX / "llava_cot_100k.jsonl", "--first-turn-only", "--show", "0")
    assert result.exit_code == 0
    assert "7 read, 0 skipped; 2 later turns dropped (first turn only)" in result.stdout


def test_convert_writes_every_layout_as_srpo_rows(tmp_path):
    out = tmp_path / "out" / "samples.jsonl"
    result = run("data", "convert", FIX / "mulberry_sft.json", "--output", out)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["answer"] for r in rows][:2] == ["C", "C"] and rows[1]["meta"]["reflection"].startswith(
        "### Step 2:"
    )
    assert rows[2]["meta"]["gold_unclear"] is True
    assert not (tmp_path / "out" / "samples.jsonl.tmp").exists()


def _garbage(tmp_path: Path) -> Path:
    p = tmp_path / "garbage.jsonl"
    p.write_bytes(bytes(range(255, -1, -1)) * 4)  # starts with 0xff: not UTF-8
    return p


def _bad_parquet(tmp_path: Path) -> Path:
    p = tmp_path / "bad.parquet"
    p.write_bytes(b"PAR1\x00\x01\x02 definitely not parquet")
    return p


def _wrong_schema_parquet(tmp_path: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    p = tmp_path / "schema.parquet"
    pq.write_table(pa.table({"conversations": ["not a list"], "image": [3]}), p)
    return p


def _missing_answer(tmp_path: Path) -> Path:
    p = tmp_path / "noanswer.jsonl"
    p.write_text('{"question": "What is 1 + 1?"}\n')
    return p


BAD_INPUTS = [
    # (make input, message the error must hold)
    (lambda t: t / "nope.jsonl", "nope.jsonl: no such file or folder"),
    (_garbage, "garbage.jsonl:1: not valid UTF-8"),
    (lambda t: FIX / "bad_line.jsonl", "bad_line.jsonl:2: invalid JSON"),
    (_bad_parquet, "bad.parquet: not a readable Parquet file"),
    (_wrong_schema_parquet, "schema.parquet:row 0: 'conversations' must be a non-empty list"),
    (_missing_answer, "noanswer.jsonl:1: missing 'answer'"),
]


@pytest.mark.parametrize("command", ["inspect", "convert"])
@pytest.mark.parametrize("make,message", BAD_INPUTS, ids=[m for _, m in BAD_INPUTS])
def test_bad_input_is_one_clear_error_and_leaves_nothing(tmp_path, command, make, message):
    inp = make(tmp_path)
    out = tmp_path / "out.jsonl"
    args = ["data", command, inp] + (["--output", out] if command == "convert" else [])
    result = run(*args)
    assert result.exit_code == 2
    _one_clear_error(result, message, f"srpo data {command}: error:")
    assert not out.exists() and not Path(str(out) + ".tmp").exists()


def test_skip_bad_is_a_counted_skip_and_nothing_readable_exits_3(tmp_path):
    result = run("data", "inspect", FIX / "bad_line.jsonl", "--skip-bad")
    assert result.exit_code == 0 and "2 read, 2 skipped" in result.stdout
    result = run("data", "convert", _garbage(tmp_path), "--output", tmp_path / "o.jsonl", "--skip-bad")
    assert result.exit_code == 3
    assert "no row could be read" in result.stderr and "not valid UTF-8" in result.stderr


def test_a_failed_convert_keeps_the_previous_output(tmp_path):
    out = tmp_path / "samples.jsonl"
    out.write_text("previous\n")
    result = run("data", "convert", FIX / "bad_line.jsonl", "--output", out)
    assert result.exit_code == 2 and out.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["samples.jsonl"]


BAD_OUTPUTS = [
    (lambda t: t, "is a folder; give a file path"),
    (lambda t: FIX / "llava_cot_100k.jsonl", "is the input file"),
    (
        lambda t: (t / "file.txt").write_text("x") and t / "file.txt" / "out.jsonl",
        "file.txt is a file, not a folder",
    ),
]


@pytest.mark.parametrize("make,message", BAD_OUTPUTS, ids=["folder", "same as input", "under a file"])
def test_bad_output_path_is_one_clear_error(tmp_path, make, message):
    before = (FIX / "llava_cot_100k.jsonl").read_bytes()
    result = run("data", "convert", FIX / "llava_cot_100k.jsonl", "--output", make(tmp_path))
    assert result.exit_code == 2
    _one_clear_error(result, message)
    assert (FIX / "llava_cot_100k.jsonl").read_bytes() == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_output_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        result = run("data", "convert", FIX / "llava_cot_100k.jsonl", "--output", folder / "o.jsonl")
        assert result.exit_code == 2
        _one_clear_error(result, "permission denied")
    finally:
        folder.chmod(0o700)


def test_unknown_format_names_the_choices():
    result = run("data", "inspect", FIX / "llava_cot.jsonl", "--format", "sharegpt")
    assert result.exit_code == 2
    _one_clear_error(result, "unknown format 'sharegpt'", "llava-cot")


def test_hints_name_options_the_command_has(tmp_path):
    p = tmp_path / "rows.jsonl"
    p.write_text('{"prompt": "q", "label": "1"}\n')
    result = run("data", "inspect", p)
    err = _one_clear_error(result, "cannot tell the row format")
    assert "--format" in err and "--field" in err and "--skip-bad" in err  # inspect has all three
