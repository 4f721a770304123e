"""The `local` backend isolates failures per sample: a truncated image (which passes the header check)
fails its own sample only — not the batch it was generated with — in `curate answer` and `eval run`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from curate_data import read_jsonl, write_samples
from srpo.cli import app

pytestmark = pytest.mark.slow
runner = CliRunner()


def _with_a_truncated_image(folder: Path, n: int = 6, bad: int = 2) -> Path:
    """`n` samples with 64-px images; sample `bad`'s PNG is cut to half its length."""
    inp = write_samples(folder, n)
    for i in range(n):
        Image.effect_noise((64, 64), 40).convert("RGB").save(folder / "img" / f"{i}.png")
    png = folder / "img" / f"{bad}.png"
    png.write_bytes(png.read_bytes()[: png.stat().st_size // 2])
    with Image.open(png) as im:  # what made this dangerous: the header alone looks fine
        assert im.format == "PNG"
    return inp


LOCAL = ["--backend", "local", "--max-tokens", "4", "--batch-size", "8", "--no-progress"]


def test_curate_answer_local_fails_only_the_sample_with_the_truncated_image(tiny_model_dir, tmp_path):
    inp = _with_a_truncated_image(tmp_path)
    out = tmp_path / "answers.jsonl"
    args = ["curate", "answer", "--input", str(inp), "--output", str(out), "--model", str(tiny_model_dir)]
    result = runner.invoke(app, args + LOCAL)
    assert result.exit_code == 1, result.output  # 1: some records failed
    assert sorted(r["id"] for r in read_jsonl(out)) == ["s000", "s001", "s003", "s004", "s005"]
    (error,) = read_jsonl(tmp_path / "answers.errors.jsonl")
    assert error["id"] == "s002" and "truncated" in error["error"]


def test_eval_run_local_fails_only_the_sample_with_the_truncated_image(tiny_model_dir, tmp_path):
    data = _with_a_truncated_image(tmp_path)
    out = tmp_path / "run"
    args = ["eval", "run", "--benchmark", "synthetic", "--data", str(data), "--output", str(out)]
    result = runner.invoke(app, args + ["--model", str(tiny_model_dir), *LOCAL])
    assert result.exit_code == 1, result.output
    gens = [json.loads(x) for x in (out / "generations.jsonl").read_text().splitlines()]
    assert sorted(g["id"] for g in gens) == ["s000", "s001", "s003", "s004", "s005"]
    (error,) = read_jsonl(out / "generations.errors.jsonl")
    assert error["id"] == "s002" and "truncated" in error["error"]
    assert "1 sample(s) failed to generate" in result.output
