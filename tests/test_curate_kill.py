"""Crash-safety: SIGKILL `srpo curate answer` / `reflect` at random moments, rerun the same command; every
input id ends up exactly once in the output or the errors file, and no torn line survives."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from curate_data import SECRET, answer_of, write_samples
from fake_server import FakeChatServer, FaultPlan, hear_ctrl_c

N = 80
POISON = {f"s{i:03d}" for i in (5, 50, 77)}  # the server answers these with a 400: they must end as errors


def _reject(body):
    text = json.dumps(body["messages"])
    return (400, "poisoned question") if any(f"What is {int(p[1:])} + 1?" in text for p in POISON) else None


def _teacher_or_policy(body):
    if "Correct answer:" in json.dumps(body["messages"]):
        return json.dumps({"reflection": "Let me check.", "revised_reasoning": "Redo."})
    return answer_of(body)


def _command(step: str, inp: Path, out: Path, url: str) -> list[str]:
    args = [
        sys.executable,
        "-c",
        "from srpo.cli import app; app()",
        "curate",
        step,
        "--input",
        str(inp),
        "--output",
        str(out),
        "--base-url",
        url,
        "--concurrency",
        "4",
        "--timeout",
        "1",
        "--no-progress",
    ]
    return args + (["--model", "p", "--samples", "2"] if step == "answer" else ["--teacher-model", "t"])


def _lines(path: Path) -> list[dict]:
    if not path.exists():
        return []
    raw = path.read_bytes()
    assert not raw or raw.endswith(b"\n"), f"{path} ends in a torn line"
    return [json.loads(line) for line in raw.splitlines() if line.strip()]


def _kill_and_resume(
    step: str, inp: Path, out: Path, server: FakeChatServer, rng: random.Random, expected_code: int
) -> None:
    env = {**os.environ, "OPENAI_API_KEY": SECRET, "HF_HUB_OFFLINE": "1"}
    cmd = _command(step, inp, out, server.base_url)
    kills = 0
    for _ in range(3):
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        before = out.stat().st_size if out.exists() else 0
        deadline = time.monotonic() + 60
        # Wait until this run is writing, then kill it a random moment later.
        while (
            proc.poll() is None
            and time.monotonic() < deadline
            and (out.stat().st_size if out.exists() else 0) <= before
        ):
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.4))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
        proc.stdout.close()
    assert kills >= 1, "the runs finished before any kill; make the server slower"
    final = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert final.returncode == expected_code, final.stdout + final.stderr
    assert SECRET not in final.stdout + final.stderr


@pytest.mark.parametrize("seed", [1])
def test_sigkill_during_answer_and_reflect_loses_and_duplicates_nothing(tmp_path, seed):
    rng = random.Random(seed)
    inp = write_samples(
        tmp_path, N, extra_rows=['{"id": "gone", "question": "Q", "answer": "1", "images": ["img/none.png"]}']
    )
    expected = {f"s{i:03d}" for i in range(N)} | {"gone"}
    plan = FaultPlan(rates={"500": 0.05, "drop": 0.05}, retry_after=0.01)
    with FakeChatServer(
        responder=_teacher_or_policy, latency=0.02, faults=plan, reject=_reject, api_key=SECRET
    ) as server:
        answers = tmp_path / "answers.jsonl"
        _kill_and_resume("answer", inp, answers, server, rng, expected_code=1)  # 1: some records failed
        done = [r["id"] for r in _lines(answers)]
        failed = [r["id"] for r in _lines(tmp_path / "answers.errors.jsonl")]
        assert len(done) == len(set(done)) and len(failed) == len(set(failed))
        assert set(done).isdisjoint(failed) and set(done) | set(failed) == expected
        assert set(failed) == POISON | {"gone"}

        refl = tmp_path / "refl.jsonl"
        _kill_and_resume("reflect", answers, refl, server, rng, expected_code=0)
        done_r = [r["id"] for r in _lines(refl)]
        assert len(done_r) == len(set(done_r)) and set(done_r) == set(done)
        assert not (tmp_path / "refl.errors.jsonl").exists()
    for f in tmp_path.iterdir():
        if f.is_file():
            assert SECRET.encode() not in f.read_bytes(), f


def test_ctrl_c_stops_cleanly_and_says_how_to_resume(tmp_path):
    inp = write_samples(tmp_path, 40)
    out = tmp_path / "answers.jsonl"
    env = {**os.environ, "OPENAI_API_KEY": SECRET}
    with FakeChatServer(responder=answer_of, latency=0.2) as server:
        proc = subprocess.Popen(
            _command("answer", inp, out, server.base_url),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            preexec_fn=hear_ctrl_c,
        )
        deadline = time.monotonic() + 60
        while (
            proc.poll() is None and time.monotonic() < deadline and not (out.exists() and out.stat().st_size)
        ):
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, output
    assert "rerun the same command to resume" in output and "Traceback" not in output
    assert 0 < len(_lines(out)) < 40
