"""The `local` backend on the tiny model: the quickstart's curation path (answer → synthetic reflect → build)."""

from __future__ import annotations

import itertools
import json

import pytest

from curate_data import read_jsonl
from srpo.curate import answer, build, reflect
from srpo.llm.settings import LLMSettings
from srpo.response import parse_response


@pytest.mark.slow
def test_local_backend_answers_and_the_synthetic_teacher_builds_sft_data(tiny_model_dir, synth_dir, tmp_path):
    inp = tmp_path / "six.jsonl"
    with (synth_dir / "train.jsonl").open() as f:
        inp.write_text("".join(itertools.islice(f, 6)))
    llm = LLMSettings(backend="local", model=str(tiny_model_dir), max_tokens=12, batch_size=4, progress=False)
    report = answer(
        inp, tmp_path / "answers.jsonl", image_root=synth_dir, samples=2, temperature=1.0, llm=llm
    )
    rows = read_jsonl(tmp_path / "answers.jsonl")
    assert report.written == 6 and report.failed == 0 and len(rows) == 6
    assert all(len(r["attempts"]) == 2 and r["attempts"][0]["completion_tokens"] > 0 for r in rows)
    assert any(r["attempts"][0]["text"] != r["attempts"][1]["text"] for r in rows)  # K attempts really differ
    assert report.usage.completion_tokens > 0

    again = answer(inp, tmp_path / "again.jsonl", image_root=synth_dir, samples=2, temperature=1.0, llm=llm)
    assert again.usage.cached == 12 and again.usage.requests == 0  # same directory, same cache

    reflect(
        tmp_path / "answers.jsonl",
        tmp_path / "refl.jsonl",
        llm=LLMSettings(backend="synthetic", progress=False),
    )
    kept = build(
        tmp_path / "answers.jsonl", tmp_path / "refl.jsonl", tmp_path / "sft.jsonl", correct_ratio=0.3
    )
    sft = read_jsonl(tmp_path / "sft.jsonl")
    assert kept.kept == len(sft) > 0
    for row in sft:
        assert parse_response(row["messages"][2]["content"][0]["text"]).is_five_block, json.dumps(row)[:500]
