"""End to end against a real OpenAI-compatible server, not our stand-in: `transformers serve` (FastAPI +
uvicorn) serving the tiny Qwen2.5-VL on 127.0.0.1, with data-URL images. `srpo curate answer` and
`srpo eval run` run through the CLI against it; the server is started on a free port here and stopped."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from curate_data import read_jsonl, write_samples
from srpo.cli import app

pytestmark = pytest.mark.slow
FIX = Path(__file__).parent / "fixtures" / "eval"


def _serve_command() -> list[str] | None:
    script = Path(sys.executable).with_name("transformers")
    if script.exists():
        return [str(script), "serve"]
    found = shutil.which("transformers")
    return [found, "serve"] if found else None


@pytest.fixture(scope="module")
def served_model(tiny_model_dir):
    """(base URL, model name) of `transformers serve` running the tiny model; stopped after the module."""
    pytest.importorskip("fastapi")
    pytest.importorskip("uvicorn")
    command = _serve_command()
    if command is None:
        pytest.skip("the `transformers` command is not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [*command, str(tiny_model_dir), "--device", "cpu", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                pytest.fail(f"transformers serve exited: {proc.stdout.read().decode()[-3000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("transformers serve did not come up within 180 s")
            time.sleep(0.3)
        yield f"http://127.0.0.1:{port}/v1", str(tiny_model_dir)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()


def test_curate_answer_against_transformers_serve(served_model, tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)  # a self-hosted server needs no key
    url, model = served_model
    inp = write_samples(tmp_path, 4)
    out = tmp_path / "answers.jsonl"
    result = CliRunner().invoke(
        app,
        ["curate", "answer", "--input", str(inp), "--output", str(out), "--base-url", url, "--model", model]
        + ["--samples", "2", "--max-tokens", "8", "--concurrency", "4", "--no-progress"],
    )
    assert result.exit_code == 0, result.output
    rows = read_jsonl(out)
    assert sorted(r["id"] for r in rows) == ["s000", "s001", "s002", "s003"]
    assert all(len(r["attempts"]) == 2 and r["attempts"][0]["completion_tokens"] > 0 for r in rows)
    assert "8 requests sent" in result.output


def test_eval_run_against_transformers_serve(served_model, tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    url, model = served_model
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app,
        ["eval", "run", "--benchmark", "synthetic", "--data", str(FIX / "synthetic" / "test.jsonl")]
        + ["--output", str(out), "--base-url", url, "--model", model, "--max-tokens", "8", "--no-progress"],
    )
    assert result.exit_code == 0, result.output
    gens = [json.loads(x) for x in (out / "generations.jsonl").read_text().splitlines()]
    assert len(gens) == 4 and all(g["completion_tokens"] > 0 for g in gens)
    assert json.loads((out / "metrics.json").read_text())["n"] == 4
