"""`srpo eval report`: several runs side by side, Markdown + self-contained HTML with PNG plots."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from srpo.cli import app
from srpo.data.files import DataError
from srpo.eval.report import write_report
from srpo.eval.scoring import score_generations
from srpo.response import five_block_response

FIX = Path(__file__).parent / "fixtures" / "eval"
SYNTH = FIX / "synthetic" / "test.jsonl"


def make_run(root: Path, name: str, answers: dict[str, tuple[str, str]], model: str) -> Path:
    """A run folder as `srpo eval run` leaves it: run.json + generations + scores."""
    run = root / name
    run.mkdir(parents=True)
    gens = run / "generations.jsonl"
    gens.write_text(
        "".join(
            json.dumps({"id": i, "response": five_block_response("t", a, "r", "t", b)}) + "\n"
            for i, (a, b) in answers.items()
        )
    )
    (run / "run.json").write_text(
        json.dumps({"benchmark": "synthetic", "model": model, "prompt": "reflection"})
    )
    score_generations("synthetic", SYNTH, gens, run / "scores.jsonl", allow_partial=True)
    return run


@pytest.fixture
def two_runs(tmp_path):
    base = make_run(
        tmp_path, "base", {"syn-0001": ("1", "2"), "syn-0002": ("A", "A"), "syn-0003": ("3", "3")}, "tiny"
    )
    sft = make_run(
        tmp_path,
        "sft",
        {"syn-0001": ("7", "9"), "syn-0002": ("A", "B"), "syn-0003": ("3", "3"), "syn-0004": ("55", "50")},
        "tiny-sft",
    )
    return base, sft


def test_report_puts_runs_side_by_side(tmp_path, two_runs):
    result = write_report(list(two_runs), tmp_path / "report")
    md = result["markdown"].read_text()
    assert (
        "| base | synthetic | tiny | reflection | 3 | 33.3 | 33.3 | +0.0 | 100.0 | 0.0 | 100.0 / 0.0 |" in md
    )
    assert "| sft | 25.0 | 50.0 | 25.0 | 0.0 | 100.0 |" in md
    assert "| sft | synthetic | tiny-sft | reflection | 4 | 75.0 | 50.0 | +25.0 |" in md
    assert "### synthetic: accuracy by category (final / first attempt, %)" in md
    assert "| measurement | 0.0 / 0.0 (n=1) | 100.0 / 0.0 (n=1) |" in md
    assert "| geometry | – | 0.0 / 100.0 (n=1) |" in md
    assert (tmp_path / "report" / "report_plots" / "transitions.png").is_file()
    assert set(result["metrics"]) == {"base", "sft"}
    summary = json.loads((tmp_path / "report" / "metrics.json").read_text())  # what the quickstart reads
    assert summary["sft"]["accuracy"] == 0.75 and summary["base"]["first_accuracy"] == pytest.approx(1 / 3)
    assert set(summary["sft"]) >= {"accuracy", "first_accuracy", "format_rate", "transitions", "by_group"}

    html = result["html"].read_text()
    images = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", html)
    assert len(images) == 2  # accuracy by category, transitions
    for data in images:
        im = Image.open(io.BytesIO(base64.b64decode(data)))
        assert im.format == "PNG" and im.size[0] > 300
    assert "<td>sft</td>" in html and "src='report_plots" not in html  # self-contained


def test_report_command_with_labels(tmp_path, two_runs):
    out = tmp_path / "r"
    result = CliRunner().invoke(
        app,
        ["eval", "report", *map(str, two_runs), "--out", str(out), "--label", "before", "--label", "after"],
    )
    assert result.exit_code == 0, result.output
    assert "| after | synthetic |" in (out / "report.md").read_text()
    # Written into a run folder, the report leaves that run's own metrics.json alone.
    write_report([two_runs[1]], two_runs[1])
    assert (two_runs[1] / "report_metrics.json").is_file() and not (two_runs[1] / "metrics.json").exists()


def test_report_reads_a_scores_file_and_refuses_an_empty_folder(tmp_path, two_runs):
    write_report([two_runs[0] / "scores.jsonl"], tmp_path / "one")
    assert "| scores | ? |" in (tmp_path / "one" / "report.md").read_text()
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="empty: no scores.jsonl; run `srpo eval run`"):
        write_report([tmp_path / "empty"], tmp_path / "x")
