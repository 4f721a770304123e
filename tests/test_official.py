"""Published results files, scored as their benchmark's authors scored them: hand-written rows in each
official results layout, with the verdict the official rules give (reasoned by hand from each benchmark's
published scoring code). srpo must reproduce every verdict from the raw response and from the stored
extraction, and `srpo eval official` must reproduce the published accuracy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from srpo.cli import app
from srpo.eval.official import score_official
from srpo.tasks import get_task

FIX = Path(__file__).parent / "fixtures" / "eval"
OFFICIAL = FIX / "official"
SETS = [
    # benchmark, data, published results file
    ("mathvista", FIX / "mathvista" / "testmini.json", OFFICIAL / "mathvista_output_model_a.json"),
    ("mathvista", FIX / "mathvista" / "testmini.json", OFFICIAL / "mathvista_output_model_b.json"),
    ("mathvista", FIX / "mathvista" / "testmini.json", OFFICIAL / "mathvista_output_model_c.json"),
    ("mathvision", FIX / "mathvision" / "data" / "test.jsonl", OFFICIAL / "mathvision_output.jsonl"),
    ("mmmu_pro", FIX / "mmmu_pro" / "standard (10 options)", OFFICIAL / "mmmu_pro_output.jsonl"),
    ("olympiadbench", FIX / "olympiadbench", OFFICIAL / "olympiadbench_merged.json"),
    ("mathverse", FIX / "mathverse" / "testmini.json", OFFICIAL / "mathverse_output.json"),
]


def rows(benchmark: str, data: Path, results: Path):
    task = get_task(benchmark)
    samples = {s.id: s for s in task.load(data)}
    return [(task, samples[r.id], r) for r in task.read_results(results)]


CASES = [
    pytest.param(task, sample, row, id=f"{results.name}:{n}")
    for benchmark, data, results in SETS
    for n, (task, sample, row) in enumerate(rows(benchmark, data, results))
]


@pytest.mark.parametrize(("task", "sample", "row"), CASES)
def test_the_raw_response_gets_the_official_verdict(task, sample, row):
    assert task.judge(row.response, sample, block=False).correct is row.verdict


@pytest.mark.parametrize(("task", "sample", "row"), CASES)
def test_the_stored_extraction_gets_the_official_verdict(task, sample, row):
    assert task.verdict(row.extraction, sample).correct is row.verdict


@pytest.mark.parametrize(("benchmark", "data", "results"), SETS, ids=[s[2].name for s in SETS])
def test_eval_official_reproduces_the_published_accuracy(benchmark, data, results):
    figures = score_official(benchmark, data, results)
    assert figures["raw_accuracy"] == figures["extraction_accuracy"] == figures["published_accuracy"]
    assert figures["raw_agreement"] == figures["extraction_agreement"] == 1.0


def test_the_published_figures_are_those_of_the_files():
    verdicts = [r.verdict for _, _, r in rows(*SETS[3])]
    assert sum(verdicts) / len(verdicts) == score_official(*SETS[3])["published_accuracy"] == 6 / 8


def test_eval_official_command():
    benchmark, data, results = SETS[0]
    args = ["eval", "official", "--benchmark", benchmark, "--data", str(data), "--results", str(results)]
    out = CliRunner().invoke(app, [*args, "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["published_accuracy"] == 1.0
    text = CliRunner().invoke(app, args)
    assert "accuracy as published 100.00%" in text.output


def test_a_task_without_a_published_layout_says_so(tmp_path):
    out = CliRunner().invoke(
        app,
        [
            "eval",
            "official",
            "--benchmark",
            "synthetic",
            "--data",
            str(FIX / "synthetic" / "test.jsonl"),
            "--results",
            str(OFFICIAL / "mathvision_output.jsonl"),
        ],
    )
    assert out.exit_code == 2 and "no published results layout" in out.output


def test_an_srpo_model_in_the_official_layout_is_read_by_its_last_answer_block(tmp_path):
    # the official rules would read the reflection's "the answer is C"; srpo reads the final answer block,
    # exactly as `srpo eval score` does
    response = (
        "<think>Five shaded squares.</think><answer>\\boxed{C}</answer><reflection>I may have miscounted: "
        "if it were 12 the answer is C.</reflection><think>Recount: twelve.</think><answer>\\boxed{12}</answer>"
    )
    results = tmp_path / "outputs.jsonl"
    results.write_text(
        json.dumps({"id": "2", "response": response, "model_answer": "c", "correct": False}) + "\n"
    )
    figures = score_official("mathvision", SETS[3][1], results)
    assert figures["published_accuracy"] == 0.0 and figures["raw_accuracy"] == 1.0
