"""Property test: random bytes and random JSON lines, mixed with good records, into every command that reads a
user file (the data commands have theirs in test_data_property.py).

Each run ends in exit 0/1 with every bad line counted, or in one clear error naming the file (exit 2/3):
never a traceback, never an uncaught exception, never a bad line taken in without a word.
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

FIX = Path(__file__).parent / "fixtures" / "eval"
SYNTH = FIX / "synthetic" / "test.jsonl"

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SAMPLE = {
    "id": "syn-0001",
    "question": "What is 4 + 5?",
    "answer": "9",
    "images": [],
    "rationale": "4 + 5 = 9.",
}
GOOD = {
    "answers": {
        "id": "syn-0001",
        "sample": SAMPLE,
        "attempts": [
            {
                "text": "t",
                "think": "Add.",
                "answer": "\\boxed{9}",
                "pred": "9",
                "correct": True,
                "format_ok": True,
            },
            {
                "text": "t",
                "think": "Add.",
                "answer": "\\boxed{8}",
                "pred": "8",
                "correct": False,
                "format_ok": True,
            },
        ],
        "pass_rate": 0.5,
    },
    "reflections": {
        "id": "syn-0001",
        "attempt": 1,
        "reflection": "I slipped.",
        "revised_reasoning": "4+5=9.",
    },
    "responses": {"response": "<answer>\\boxed{9}</answer>", "answer": "9"},
    "generations": {"id": "syn-0001", "response": "<answer>\\boxed{9}</answer>"},
    "samples": SAMPLE,
    "scores": {"id": "syn-0001", "correct": True, "first_correct": True, "attempts": 1, "format_ok": True},
    "results": {"id": "1", "response": "The answer is C.", "model_answer": "c", "correct": True},
}

COMMANDS = {
    # name → (argument template, the kind of line its input holds, whether it takes --skip-bad)
    "curate build": (
        ["curate", "build", "--answers", "{good_answers}", "--reflections", "{input}", "--output", "{out}/sft.jsonl"],
        "reflections",
        True,
    ),
    "curate filter": (["curate", "filter", "--answers", "{input}", "--output", "{out}/rl.jsonl"], "answers", True),
    "curate reflect": (
        ["curate", "reflect", "--input", "{input}", "--output", "{out}/refl.jsonl", "--backend", "synthetic"],
        "answers",
        False,
    ),
    "curate export": (
        ["curate", "export", "--input", "{input}", "--format", "trl", "--output", "{out}/export"],
        "samples",
        False,
    ),
    "reward score": (["reward", "score", "--input", "{input}"], "responses", True),
    "eval score": (
        [
            "eval", "score", "--benchmark", "synthetic", "--data", str(SYNTH),
            "--generations", "{input}", "--output", "{out}/scores.jsonl", "--allow-partial",
        ],
        "generations",
        False,
    ),
    "eval official": (
        [
            "eval", "official", "--benchmark", "mathvision",
            "--data", str(FIX / "mathvision" / "data" / "test.jsonl"), "--results", "{input}",
        ],
        "results",
        False,
    ),
    "eval report": (["eval", "report", "{input}", "--out", "{out}/report"], "scores", False),
}  # fmt: skip

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
BAD_LINE = st.one_of(
    st.binary(min_size=1, max_size=60).filter(lambda b: b"\n" not in b and b.strip()),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    st.sampled_from([b"{not json", b"[1, 2]", b'"text"', b"\xff\xfe{", b'{"id": null}', b"null"]),
)


def lines_of(kind: str, bad: list[bytes], where: list[int]) -> bytes:
    good = json.dumps(GOOD[kind]).encode()
    rows = [good, good.replace(b"syn-0001", b"syn-0002")] if kind != "results" else [good]
    for at, line in zip(where, bad, strict=False):
        rows.insert(at % (len(rows) + 1), line)
    return b"".join(r + b"\n" for r in rows)


@pytest.mark.parametrize("name", sorted(COMMANDS))
@SETTINGS
@given(
    bad=st.lists(BAD_LINE, min_size=0, max_size=3),
    where=st.lists(st.integers(0, 5), min_size=3, max_size=3),
    skip_bad=st.booleans(),
)
def test_a_command_reading_random_lines_ends_cleanly(name, bad, where, skip_bad):
    args, kind, takes_skip_bad = COMMANDS[name]
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        source = tmp_path / "input.jsonl"
        source.write_bytes(lines_of(kind, bad, where))
        before = source.read_bytes()
        good_answers = tmp_path / "good_answers.jsonl"
        good_answers.write_text(json.dumps(GOOD["answers"]) + "\n")
        fill = {"input": source, "out": tmp_path, "good_answers": good_answers}
        argv = [a.format(**fill) for a in args] + (["--skip-bad"] if skip_bad and takes_skip_bad else [])
        result = CliRunner().invoke(app, argv)
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            f"{name} raised {result.exception!r}: {result.output[-800:]}"
        )
        assert "Traceback" not in result.output
        assert result.exit_code in (0, 1, 2, 3), result.output
        if result.exit_code in (2, 3):
            assert "error" in result.output.lower() or "stopped" in result.output.lower(), result.output
        if bad and result.exit_code == 0:  # went on past bad lines: only when told to, and it says so
            assert skip_bad and takes_skip_bad and "skipped" in result.output, result.output
        if result.exit_code == 1:  # some records failed: they are counted
            assert "failed" in result.output, result.output
        assert source.read_bytes() == before  # an input is never changed
