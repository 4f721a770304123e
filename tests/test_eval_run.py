"""`srpo eval run` on the request engine, through the CLI as a user runs it, against a real loopback
server: exit codes, messages and the files left, for refused keys, refused connections, failing samples,
an unknown local model, Ctrl-C, and SIGKILL at a random moment followed by a rerun."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from curate_data import SECRET, answer_of, write_samples
from fake_server import FakeChatServer, FaultPlan, hear_ctrl_c
from srpo.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)


def _lines(path: Path) -> list[dict]:
    raw = path.read_bytes() if path.exists() else b""
    assert not raw or raw.endswith(b"\n"), f"{path} ends in a torn line"
    return [json.loads(x) for x in raw.splitlines() if x.strip()]


def _args(data: Path, out: Path, url: str | None, *extra: str) -> list[str]:
    args = ["eval", "run", "--benchmark", "synthetic", "--data", str(data), "--output", str(out)]
    args += ["--model", "m", "--no-progress", "--retry-base-delay", "0.01", "--max-retries", "2"]
    return args + (["--base-url", url] if url else []) + list(extra)


def _poisoned(ids: set[str]):
    """A reject hook: HTTP 400 for the questions of these sample ids (`write_samples`' "What is i + 1?")."""

    def reject(body):
        text = json.dumps(body["messages"])
        return (400, "poisoned question") if any(f"What is {int(i[1:])} + 1?" in text for i in ids) else None

    return reject


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/v1"


def test_without_backend_eval_run_uses_curations_default_and_exits_0(tmp_path):
    data = write_samples(tmp_path, 6)
    with FakeChatServer(responder=answer_of) as server:
        result = runner.invoke(app, _args(data, tmp_path / "run", server.base_url))
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "run" / "run.json").read_text())["backend"] == "openai"
    assert server.outcomes["ok"] == 6 and len(_lines(tmp_path / "run" / "generations.jsonl")) == 6
    assert "requests: 6 sent" in result.output


@pytest.mark.parametrize(
    ("poison", "code", "message"),
    [
        (set(), 0, None),
        ({"s001", "s004"}, 1, "2 sample(s) failed to generate"),
        ({f"s{i:03d}" for i in range(6)}, 3, "every sample failed to generate"),
    ],
)
def test_exit_code_says_whether_some_or_all_samples_failed(tmp_path, poison, code, message):
    data = write_samples(tmp_path, 6)
    out = tmp_path / "run"
    with FakeChatServer(responder=answer_of, reject=_poisoned(poison)) as server:
        result = runner.invoke(app, _args(data, out, server.base_url))
    assert result.exit_code == code, result.output
    assert {e["id"] for e in _lines(out / "generations.errors.jsonl")} == poison
    assert len(_lines(out / "generations.jsonl")) == 6 - len(poison)
    if message:
        assert message in result.output and "rerun the same command to retry them" in result.output


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_stops_the_run_after_a_few_requests(tmp_path, status):
    data = write_samples(tmp_path, 40)
    out = tmp_path / "run"
    with FakeChatServer(responder=answer_of, reject=lambda b: (status, "Incorrect API key")) as server:
        result = runner.invoke(app, _args(data, out, server.base_url, "--concurrency", "2"))
    assert result.exit_code == 3, result.output
    assert f"HTTP {status}" in result.output and "check OPENAI_API_KEY / --api-key-env" in result.output
    assert "rerun the same command" in result.output and "Traceback" not in result.output
    sent = server.outcomes[str(status)]
    assert 3 <= sent <= 3 + 2  # stopped after the first few, not after 40
    assert len(_lines(out / "generations.errors.jsonl")) == sent and not _lines(out / "generations.jsonl")
    assert SECRET not in result.output


def test_a_refused_connection_is_reported_as_such_and_stops_the_run(tmp_path):
    data = write_samples(tmp_path, 20)
    url = _closed_port_url()
    result = runner.invoke(app, _args(data, tmp_path / "run", url, "--concurrency", "2"))
    assert result.exit_code == 3, result.output
    assert f"connection refused by {url}" in result.output and "timed out" not in result.output
    errors = _lines(tmp_path / "run" / "generations.errors.jsonl")
    assert 3 <= len(errors) <= 3 + 2 and all("connection refused" in e["error"] for e in errors)


def test_an_unknown_local_model_is_one_clear_error_before_any_work(tmp_path):
    data = write_samples(tmp_path, 3)
    out = tmp_path / "run"
    start = time.monotonic()
    result = runner.invoke(
        app, ["eval", "run", "--benchmark", "synthetic", "--data", str(data), "--output", str(out)]
        + ["--backend", "local", "--model", "Qwen/No-Such-Model-7B"],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    lines = [x for x in result.output.splitlines() if x.strip()]
    assert len(lines) == 1 and "--model Qwen/No-Such-Model-7B: no such checkpoint folder" in lines[0]
    assert "downloads nothing" in lines[0] and not out.exists()
    assert time.monotonic() - start < 10  # no hub lookup


def test_a_key_with_a_line_break_is_refused_before_any_work(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET + "\r\n")
    data = write_samples(tmp_path, 3)
    with FakeChatServer(responder=answer_of) as server:
        result = runner.invoke(app, _args(data, tmp_path / "run", server.base_url))
    assert result.exit_code == 2, result.output
    assert "API key in $OPENAI_API_KEY contains a line break" in result.output
    assert "malformed" not in result.output and not server.outcomes and not (tmp_path / "run").exists()
    assert SECRET not in result.output


def _command(data: Path, out: Path, url: str) -> list[str]:
    return [
        sys.executable,
        "-c",
        "from srpo.cli import app; app()",
        *_args(data, out, url, "--concurrency", "4"),
    ]


def test_ctrl_c_says_how_to_resume(tmp_path):
    data = write_samples(tmp_path, 40)
    out = tmp_path / "run"
    gens = out / "generations.jsonl"
    env = {**os.environ, "OPENAI_API_KEY": SECRET}
    with FakeChatServer(responder=answer_of, latency=0.2) as server:
        proc = subprocess.Popen(
            _command(data, out, server.base_url),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            preexec_fn=hear_ctrl_c,
        )
        deadline = time.monotonic() + 60
        while (
            proc.poll() is None
            and time.monotonic() < deadline
            and not (gens.exists() and gens.stat().st_size)
        ):
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        output = proc.communicate(timeout=60)[0].decode()
    assert proc.returncode == 130, output
    assert "rerun the same command to resume" in output and "Traceback" not in output
    assert 0 < len(_lines(gens)) < 40


POISON = {"s005", "s033", "s061"}


@pytest.mark.parametrize("seed", [3])
def test_sigkill_at_a_random_moment_then_rerun_leaves_each_id_exactly_once(tmp_path, seed):
    rng = random.Random(seed)
    data = write_samples(tmp_path, 70)
    ids = {f"s{i:03d}" for i in range(70)}
    out = tmp_path / "run"
    gens, errors = out / "generations.jsonl", out / "generations.errors.jsonl"
    env = {**os.environ, "OPENAI_API_KEY": SECRET}
    plan = FaultPlan(rates={"500": 0.05, "drop": 0.05}, retry_after=0.01)
    with FakeChatServer(responder=answer_of, latency=0.02, faults=plan, reject=_poisoned(POISON)) as server:
        cmd = _command(data, out, server.base_url)
        kills = 0
        for _ in range(3):
            proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            before = gens.stat().st_size if gens.exists() else 0
            deadline = time.monotonic() + 60
            while (
                proc.poll() is None
                and time.monotonic() < deadline
                and (gens.stat().st_size if gens.exists() else 0) <= before
            ):
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.3))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.wait()
            _lines(gens)  # never a torn line, even right after a kill: a rerun cuts it, a reader skips it
        assert kills >= 1, "every run finished before its kill; make the server slower"
        final = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert final.returncode == 1, final.stdout + final.stderr  # 1: the poisoned samples failed
    done = [g["id"] for g in _lines(gens)]
    failed = [e["id"] for e in _lines(errors)]
    assert len(done) == len(set(done)) and len(failed) == len(set(failed))
    assert set(done).isdisjoint(failed) and set(done) | set(failed) == ids
    assert set(failed) == POISON
    scores = _lines(out / "scores.jsonl")
    assert sorted(s["id"] for s in scores) == sorted(done)
