"""`srpo curate answer` / `reflect` facing faults, through the CLI as a user runs them: exit codes per
`srpo.errors`, the message, and the files left — refused keys, refused connections, keys that cannot be
sent, and records that all or partly fail."""

from __future__ import annotations

import json
import socket

import pytest
from typer.testing import CliRunner

from curate_data import SECRET, answer_of, read_jsonl, write_samples
from fake_server import FakeChatServer
from srpo.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)


def _answer(inp, out, url, *extra):
    args = ["curate", "answer", "--input", str(inp), "--output", str(out), "--model", "p", "--base-url", url]
    return runner.invoke(
        app, args + ["--no-progress", "--retry-base-delay", "0.01", "--max-retries", "2", *extra]
    )


def _poisoned(n_first: int):
    def reject(body):
        text = json.dumps(body["messages"])
        return (400, "poisoned") if any(f"What is {i} + 1?" in text for i in range(n_first)) else None

    return reject


@pytest.mark.parametrize(("poisoned", "code"), [(0, 0), (3, 1), (8, 3)])
def test_exit_code_is_0_all_done_1_some_failed_3_none_succeeded(tmp_path, poisoned, code):
    inp = write_samples(tmp_path, 8)
    out = tmp_path / "a.jsonl"
    with FakeChatServer(responder=answer_of, reject=_poisoned(poisoned)) as server:
        result = _answer(inp, out, server.base_url)
        assert result.exit_code == code, result.output
        assert f"{8 - poisoned} written, {poisoned} failed" in result.output
        assert (
            len(read_jsonl(out)) == 8 - poisoned and len(read_jsonl(tmp_path / "a.errors.jsonl")) == poisoned
        )
        again = _answer(inp, out, server.base_url)  # a rerun: finished records count as succeeded
    assert again.exit_code == (0 if poisoned == 0 else 1 if poisoned < 8 else 3), again.output


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_stops_after_the_first_few_with_the_fix(tmp_path, status):
    inp = write_samples(tmp_path, 40)
    out = tmp_path / "a.jsonl"
    with FakeChatServer(responder=answer_of, reject=lambda b: (status, "Incorrect API key")) as server:
        result = _answer(inp, out, server.base_url, "--concurrency", "2", "--samples", "2")
    assert result.exit_code == 3, result.output
    assert f"HTTP {status}" in result.output and "check OPENAI_API_KEY / --api-key-env" in result.output
    assert "Traceback" not in result.output and SECRET not in result.output
    assert 3 <= server.outcomes[str(status)] <= 3 + 4  # not 80: the run stopped
    failed = read_jsonl(tmp_path / "a.errors.jsonl")
    assert 1 <= len(failed) <= 4 and not read_jsonl(out)
    # Fixed key (here: the server accepts again): the rerun does every record.
    with FakeChatServer(responder=answer_of) as server:
        fixed = _answer(inp, out, server.base_url)
    assert fixed.exit_code == 0 and len(read_jsonl(out)) == 40, fixed.output


def test_api_key_env_names_the_variable_in_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("MY_VLLM_KEY", "wrong")
    inp = write_samples(tmp_path, 6)
    with FakeChatServer(responder=answer_of, api_key=SECRET) as server:
        result = _answer(inp, tmp_path / "a.jsonl", server.base_url, "--api-key-env", "MY_VLLM_KEY")
    assert result.exit_code == 3 and "check MY_VLLM_KEY / --api-key-env" in result.output, result.output


def test_a_refused_connection_says_so_and_stops(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    inp = write_samples(tmp_path, 30)
    result = _answer(inp, tmp_path / "a.jsonl", url, "--concurrency", "2")
    assert result.exit_code == 3, result.output
    assert f"connection refused by {url}" in result.output and "timed out" not in result.output
    assert 3 <= len(read_jsonl(tmp_path / "a.errors.jsonl")) <= 5


@pytest.mark.parametrize("key", [SECRET + "\r\n", "sk-abc\ndef"])
def test_a_key_with_a_line_break_is_refused_before_any_work(tmp_path, monkeypatch, key):
    monkeypatch.setenv("OPENAI_API_KEY", key)
    inp = write_samples(tmp_path, 3)
    with FakeChatServer(responder=answer_of) as server:
        result = _answer(inp, tmp_path / "a.jsonl", server.base_url)
    assert result.exit_code == 2, result.output
    assert "the API key in $OPENAI_API_KEY contains a line break (CR/LF)" in result.output
    assert "malformed" not in result.output and not server.outcomes
    assert not (tmp_path / "a.jsonl").exists() and not (tmp_path / "a.errors.jsonl").exists()


def test_reflect_with_a_refused_key_stops_too(tmp_path):
    inp = write_samples(tmp_path, 10)
    with FakeChatServer(responder=answer_of) as server:
        assert _answer(inp, tmp_path / "a.jsonl", server.base_url).exit_code == 0
    with FakeChatServer(reject=lambda b: (401, "bad key")) as server:
        result = runner.invoke(
            app,
            ["curate", "reflect", "--input", str(tmp_path / "a.jsonl"), "--output", str(tmp_path / "r.jsonl")]
            + ["--teacher-model", "t", "--base-url", server.base_url, "--concurrency", "1", "--no-progress"],
        )
    assert result.exit_code == 3 and "check OPENAI_API_KEY / --api-key-env" in result.output, result.output
    assert server.outcomes["401"] == 3


def test_the_synthetic_teacher_cannot_answer_and_the_run_stops_at_once(tmp_path):
    inp = write_samples(tmp_path, 30)
    args = ["curate", "answer", "--input", str(inp), "--output", str(tmp_path / "a.jsonl"), "--model", "p"]
    result = runner.invoke(app, args + ["--backend", "synthetic", "--concurrency", "1", "--no-progress"])
    assert result.exit_code == 3, result.output
    assert "only writes teacher reflections" in result.output
    assert len(read_jsonl(tmp_path / "a.errors.jsonl")) == 3  # not 30


def test_duplicate_ids_stop_the_run_naming_the_id(tmp_path):
    """Two rows under one id would collide (one result for both; a failure wiped by the other's success)."""
    inp = tmp_path / "in.jsonl"
    rows = [
        {"id": "q1", "question": "What is 1 + 1?", "answer": "2"},
        {"id": "q2", "question": "What is 2 + 1?", "answer": "3"},
    ]
    rows.append({"id": "q1", "question": "What is 5 + 1?", "answer": "6"})
    inp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "a.jsonl"
    with FakeChatServer(responder=answer_of) as server:
        result = _answer(inp, out, server.base_url, "--concurrency", "1")
    assert result.exit_code == 2, result.output
    assert "the id 'q1' appears more than once" in result.output
    written = [r["id"] for r in read_jsonl(out)]
    assert len(written) == len(set(written))  # never two lines under one id


def test_a_fixed_bad_row_leaves_the_errors_file(tmp_path):
    """A malformed line is journaled as `row:FILE:LINE`; once fixed, a complete rerun leaves no trace of it."""
    inp = tmp_path / "in.jsonl"
    good = [
        json.dumps({"id": f"q{i}", "question": f"What is {i} + 1?", "answer": str(i + 1)}) for i in range(3)
    ]
    inp.write_text(good[0] + "\n{broken\n" + good[1] + "\n" + good[2] + "\n")
    out = tmp_path / "a.jsonl"
    errors = tmp_path / "a.errors.jsonl"
    with FakeChatServer(responder=answer_of) as server:
        first = _answer(inp, out, server.base_url)
        assert first.exit_code == 1 and [r["id"] for r in read_jsonl(errors)] == [f"row:{inp}:2"]
        inp.write_text(
            "\n".join(
                [good[0], json.dumps({"id": "q9", "question": "What is 9 + 1?", "answer": "10"}), *good[1:]]
            )
            + "\n"
        )
        second = _answer(inp, out, server.base_url)
    assert second.exit_code == 0, second.output
    assert "0 failed" in second.output and not errors.exists()
