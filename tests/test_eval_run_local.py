"""`srpo eval run` end to end with the `local` backend and the tiny model: on the synthetic set, on a
MathVista-format fixture, and killed with SIGKILL mid-run then resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from srpo.eval.run import run_eval

FIX = Path(__file__).parent / "fixtures" / "eval"
pytestmark = pytest.mark.slow


def _lines(path: Path) -> list[dict]:
    raw = path.read_bytes() if path.exists() else b""
    assert not raw or raw.endswith(b"\n"), f"{path} ends in a torn line"
    return [json.loads(x) for x in raw.splitlines() if x.strip()]


@pytest.mark.parametrize(
    ("benchmark", "data", "n"),
    [
        ("synthetic", FIX / "synthetic" / "test.jsonl", 4),
        ("mathvista", FIX / "mathvista" / "testmini.json", 6),
    ],
)
def test_local_backend_end_to_end(tiny_model_dir, tmp_path, benchmark, data, n):
    out = tmp_path / benchmark
    m = run_eval(
        benchmark,
        data,
        out,
        backend="local",
        model=str(tiny_model_dir),
        max_tokens=24,
        batch_size=8,
        progress=False,
    )
    assert m["n"] == n and m["failed"] == 0 and m["missing"] == 0
    assert m["run"]["token_counter"] == f"tokenizer of {tiny_model_dir}"
    gens = _lines(out / "generations.jsonl")
    assert len(gens) == n and all(isinstance(g["response"], str) and g["completion_tokens"] > 0 for g in gens)
    scores = _lines(out / "scores.jsonl")
    assert {s["id"] for s in scores} == {g["id"] for g in gens}
    assert all(set(s) >= {"id", "prediction", "correct", "first_correct"} for s in scores)
    assert set(json.loads((out / "metrics.json").read_text())) >= {
        "accuracy",
        "first_accuracy",
        "format_rate",
    }


def test_killed_run_resumes_without_loss_or_duplicates(tiny_model_dir, synth_dir, tmp_path):
    data = synth_dir / "test.jsonl"
    ids = [json.loads(x)["id"] for x in Path(data).read_text().splitlines()]
    out = tmp_path / "run"
    cmd = [
        sys.executable, "-c", "from srpo.cli import app; app()", "eval", "run", "--benchmark", "synthetic",
        "--data", str(data), "--output", str(out), "--backend", "local", "--model", str(tiny_model_dir),
        "--max-tokens", "24", "--batch-size", "1", "--concurrency", "1", "--no-progress",
    ]  # fmt: skip
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    gens = out / "generations.jsonl"
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline and len(_lines(gens)) < 2:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = _lines(gens)
    assert len(before) >= 2, proc.stdout.read().decode()[-2000:]
    with gens.open("ab") as f:  # what a writer killed mid-line leaves behind
        f.write(b'{"id": "torn", "respo')

    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    after = _lines(gens)
    assert [g["id"] for g in after[: len(before)]] == [g["id"] for g in before]  # nothing redone or lost
    assert sorted(g["id"] for g in after) == sorted(ids)  # every id exactly once
    scores = _lines(out / "scores.jsonl")
    assert len(scores) == len(ids)
    assert json.loads((out / "metrics.json").read_text())["n"] == len(ids)
