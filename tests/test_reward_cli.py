"""`srpo reward score`: the library function and the command over real files."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from srpo.cli import app
from srpo.response import five_block_response
from srpo.reward.summary import ResponsesFileError, score_file

ROWS = [
    {
        "response": five_block_response("a", "\\boxed{5}", "r", "b", "\\boxed{4}"),
        "answer": "4",
    },  # wrong → right
    {
        "response": five_block_response("a", "\\boxed{4}", "r", "b", "\\boxed{4}"),
        "answer": "4",
    },  # right → right
    {
        "response": five_block_response("a", "\\boxed{4}", "r", "b", "\\boxed{5}"),
        "answer": "4",
    },  # right → wrong
    {"response": "<think>a</think><answer>4</answer>", "answer": "4"},  # single answer
    {"response": "no blocks", "gold": "4"},  # no answer
]


@pytest.fixture
def responses(tmp_path):
    path = tmp_path / "responses.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in ROWS) + "\n")
    return path


def test_score_file_counts_transitions(responses):
    summary = score_file(responses)
    d = summary.as_dict()
    assert d["n"] == 5
    assert d["transitions"] == {
        "right_to_right": 1,
        "wrong_to_right": 1,
        "wrong_to_wrong": 0,
        "right_to_wrong": 1,
        "single_answer": 1,
        "no_answer": 1,
    }
    assert d["means"]["format"] == pytest.approx(3 * 0.5 / 5)
    assert d["first_correct"] == 3 and d["final_correct"] == 2


def test_command_prints_table(responses):
    result = CliRunner().invoke(app, ["reward", "score", "--input", str(responses), "--preset", "authors"])
    assert result.exit_code == 0, result.output
    assert "5 responses scored" in result.output
    for word in ("format", "accuracy", "reflection", "effectiveness", "length", "total", "wrong_to_right"):
        assert word in result.output


def test_command_json(responses):
    result = CliRunner().invoke(app, ["reward", "score", "--input", str(responses), "--json"])
    assert result.exit_code == 0
    assert json.loads(result.output)["transitions"]["right_to_wrong"] == 1


def test_bad_line_names_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(ROWS[0]) + "\n{not json\n" + json.dumps({"response": "x"}) + "\n")
    with pytest.raises(ResponsesFileError, match=r"bad.jsonl:2: not valid JSON"):
        score_file(path)
    summary = score_file(path, skip_bad=True)
    assert (summary.n, summary.skipped) == (1, 2)
    result = CliRunner().invoke(app, ["reward", "score", "--input", str(path)])
    assert result.exit_code == 2
    assert "bad.jsonl:2" in result.output


def test_unknown_preset_is_refused(responses):
    result = CliRunner().invoke(app, ["reward", "score", "--input", str(responses), "--preset", "nope"])
    assert result.exit_code != 0
    assert "unknown preset" in result.output
