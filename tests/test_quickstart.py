"""`srpo quickstart`: every stage runs offline on CPU, the SFT model learns the five-block format, reruns
resume, and a changed configuration is refused rather than mixed into old results."""

from __future__ import annotations

import json

import pytest

from srpo.quickstart import STAGES, run_quickstart, training_tables

# ~220 SFT steps: measured here, fewer (~110) leave the tiny model stuck repeating tags.
SMALL = dict(n=120, test_fraction=0.1, sft_epochs=8.0, grpo_steps=1, eval_max_tokens=200)


@pytest.mark.slow
def test_quickstart_end_to_end_learns_the_format_and_resumes(tmp_path, capsys):
    out = tmp_path / "qs"
    metrics = run_quickstart(out, **SMALL)
    printed = capsys.readouterr().out

    assert set(metrics) == {"base", "sft", "grpo"}
    for m in metrics.values():
        assert {"accuracy", "first_accuracy", "format_rate"} <= set(m)
    # The real-learning claim of the quickstart: a random base never writes the five blocks, the SFT model
    # does on at least half of the held-out prompts.
    assert metrics["base"]["format_rate"] < 0.1
    assert metrics["sft"]["format_rate"] >= 0.5, metrics["sft"]
    assert (
        json.loads((out / "metrics.json").read_text())["sft"]["format_rate"] == metrics["sft"]["format_rate"]
    )

    html = (out / "report.html").read_text()
    assert "<img" in html and "base64," in html and "Training" in html
    assert "| step | reward | srpo/format" in (out / "report.md").read_text()
    for name in ("answers.jsonl", "reflections.jsonl", "sft.jsonl", "rl.jsonl"):
        assert (out / "curate" / name).stat().st_size > 0
    assert "srpo curate reflect" in printed and "--teacher-model" in printed  # the real-teacher command
    assert "five-block format" in printed

    # A rerun does nothing but say so.
    again = run_quickstart(out, **SMALL)
    printed = capsys.readouterr().out
    assert again == metrics
    assert printed.count("done before, skipped") == len(STAGES)

    # Other settings in the same folder are refused, not mixed.
    with pytest.raises(SystemExit, match="other settings"):
        run_quickstart(out, **{**SMALL, "sft_epochs": 1.0})


def test_redoing_a_stage_forgets_everything_after_it(tmp_path):
    """Stage outputs are declared, so a redone stage clears what later stages built from the old result."""
    from srpo.quickstart import STATE_DIR, _clear_later_stages

    root = tmp_path
    (root / STATE_DIR).mkdir()
    for stage in STAGES:
        (root / STATE_DIR / f"{stage.name}.json").write_text("{}")
    (root / "eval" / "sft").mkdir(parents=True)
    (root / "eval" / "sft" / "generations.jsonl").write_text("{}\n")
    (root / "curate").mkdir()
    (root / "curate" / "sft.jsonl").write_text("{}\n")
    (root / "curate" / "answers.jsonl").write_text("{}\n")
    index = [s.name for s in STAGES].index("build") + 1
    _clear_later_stages(root, index)
    assert not (root / "eval" / "sft").exists()
    assert (root / "curate" / "sft.jsonl").exists()  # the stage itself keeps its partial output (resume)
    assert (root / "curate" / "answers.jsonl").exists()  # earlier stages are untouched
    done = sorted(p.stem for p in (root / STATE_DIR).glob("*.json"))
    assert done == sorted(["data", "model", "answer", "reflect", "build"])


def test_training_section_reads_trainer_state(tmp_path):
    grpo = tmp_path / "models" / "grpo"
    grpo.mkdir(parents=True)
    history = [
        {"step": 1, "reward": 0.5, "srpo/format": 0.25},
        {"step": 2, "reward": 0.75, "srpo/format": 0.5},
    ]
    (grpo / "trainer_state.json").write_text(json.dumps({"log_history": history}))
    [(title, head, rows)] = training_tables(tmp_path)
    assert title == "grpo" and head[:3] == ["step", "reward", "srpo/format"]
    assert rows[1][:3] == ["2", "0.750", "0.500"]
    assert training_tables(tmp_path / "nothing") == []
