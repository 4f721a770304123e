"""`srpo quickstart`: every stage runs offline on CPU and writes the report (tables, learning curves, the image
ablation, the preset comparison); reruns resume, compared presets are added without redoing anything, and a
changed configuration is refused rather than mixed into old results. Whether it *learns* is
`test_quickstart_learns.py`."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from srpo.quickstart import (
    MAIN_LABELS,
    STAGES,
    QuickstartConfig,
    reward_trend,
    run_quickstart,
    stages_for,
    training_tables,
)

# Every stage, as small as it goes: this checks the plumbing, not the learning.
TINY = dict(
    n=24,
    test_fraction=0.25,
    instruct_problems=16,
    instruct_epochs=1.0,
    sft_epochs=1.0,
    grpo_steps=2,
    answer_max_tokens=16,
    eval_max_tokens=32,
    sft_overrides=["logging_steps=1"],  # 1–2 steps a stage: log each, so the loss curves have points
    grpo_overrides=[
        "num_generations=4",
        "per_device_train_batch_size=8",
        "max_completion_length=32",
        "beta=0",
    ],
)


@pytest.mark.slow
def test_a_relative_out_folder_as_make_demo_passes_it(tmp_path, monkeypatch):
    """`make demo` runs `srpo quickstart --out runs/quickstart`: every stage must find its files from a path
    relative to the working folder (the instruct rows once stored their images relative to it twice)."""
    monkeypatch.chdir(tmp_path)
    metrics = run_quickstart("runs/qs", **TINY)
    assert set(metrics) == set(MAIN_LABELS)
    assert all(m["n"] == 6 and not m.get("failed") for m in metrics.values()), metrics


@pytest.mark.slow
def test_quickstart_runs_every_stage_reports_and_resumes(tmp_path, capsys):
    out = tmp_path / "qs"
    metrics = run_quickstart(out, **TINY)
    printed = capsys.readouterr().out

    assert set(metrics) == set(MAIN_LABELS)
    for m in metrics.values():
        assert {"n", "accuracy", "first_accuracy", "format_rate", "transitions"} <= set(m)
    assert set(metrics["grpo_blank"]) == set(metrics["grpo"])  # same fields, images blanked
    assert json.loads((out / "eval" / "grpo_blank" / "run.json").read_text())["blank_images"] is True
    assert json.loads((out / "metrics.json").read_text()) == metrics

    md = (out / "report.md").read_text()
    html = (out / "report.html").read_text()
    for name in ("training_loss.png", "grpo_reward.png", "transitions.png"):
        assert f"](report_plots/{name})" in md and (out / "report_plots" / name).stat().st_size > 0
    assert html.count("<img") >= 4 and "base64," in html
    assert "## With and without the image" in md and "With and without the image" in html
    assert "| step | reward | srpo/format" in md
    for name in ("answers.jsonl", "reflections.jsonl", "sft.jsonl", "rl.jsonl"):
        assert (out / "curate" / name).stat().st_size > 0
    assert "srpo curate reflect" in printed and "--teacher-model" in printed  # the real-teacher command
    assert "Blank images:" in printed and "GRPO training reward" in printed
    grpo_stage = json.loads((out / ".stages" / "grpo.json").read_text())
    assert {"reward_first_fifth", "reward_last_fifth", "seconds"} <= set(grpo_stage)

    # A rerun does nothing but say so.
    again = run_quickstart(out, **TINY)
    printed = capsys.readouterr().out
    assert again == metrics
    assert printed.count("done before, skipped") == len(STAGES)

    # Other settings in the same folder are refused, not mixed.
    with pytest.raises(SystemExit, match="other settings"):
        run_quickstart(out, **{**TINY, "sft_epochs": 2.0})

    # Comparing presets adds their stages and redoes the report, nothing else.
    compared = run_quickstart(out, **TINY, compare_presets=["paper", "authors"])
    printed = capsys.readouterr().out
    assert set(compared) == {*MAIN_LABELS, "grpo_authors"}
    assert {k: compared[k] for k in MAIN_LABELS} == metrics
    assert printed.count("done before, skipped") == len(STAGES) - 1  # all but the report
    assert json.loads((out / "eval" / "grpo_authors" / "run.json").read_text())["model"].endswith(
        "grpo_authors"
    )
    md = (out / "report.md").read_text()
    assert "## Reward presets side by side" in md and "| grpo_authors | authors |" in md
    assert "](report_plots/grpo_authors_reward.png)" in md


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
    assert done == sorted(["data", "model", "instruct", "answer", "reflect", "build"])


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


@pytest.mark.parametrize(
    ("rewards", "first", "last"),
    [
        ([1.0], 1.0, 1.0),
        ([0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0], 0.0, 1.0),  # fifths of 2 steps
        ([0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4], 0.2, 1.4),  # 7 steps: fifths of 1
    ],
)
def test_reward_trend_compares_the_first_and_last_fifth_of_the_steps(tmp_path, rewards, first, last):
    history = [{"step": i + 1, "reward": r} for i, r in enumerate(rewards)] + [{"train_runtime": 3.0}]
    (tmp_path / "trainer_state.json").write_text(json.dumps({"log_history": history}))
    trend = reward_trend(tmp_path)
    assert trend["reward_first_fifth"] == pytest.approx(first)
    assert trend["reward_last_fifth"] == pytest.approx(last)
    assert reward_trend(tmp_path / "nothing") == {}


def test_compared_presets_are_stages_before_the_report_and_not_settings():
    cfg = QuickstartConfig(compare_presets=["paper", "authors", "authors"])
    assert cfg.compare_presets == ["authors"]  # the main preset and repeats are dropped
    names = [s.name for s in stages_for(cfg)]
    assert names == [s.name for s in STAGES[:-1]] + ["grpo-authors", "eval-grpo-authors", "report"]
    assert "compare_presets" not in cfg.fingerprint()
    assert QuickstartConfig().fingerprint() == cfg.fingerprint()


@pytest.mark.parametrize(
    ("settings", "match"),
    [
        ({"tasks": "colours"}, "unknown synthetic task 'colours'"),
        ({"reward_preset": "best"}, "reward preset 'best'"),
        ({"compare_presets": ["authors", "nope"]}, "reward preset 'nope'"),
        ({"difficulty_band": [0.9, 0.1]}, "low <= high"),
    ],
)
def test_bad_settings_are_refused_before_any_work(tmp_path, settings, match):
    with pytest.raises(ValueError, match=match):
        run_quickstart(tmp_path / "qs", **settings)
    assert not (tmp_path / "qs").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--difficulty-band", "0.1;0.9"], "--difficulty-band '0.1;0.9': expected LOW,HIGH"),
        (["--tasks", "colours"], "unknown synthetic task 'colours'"),
        (["--compare-presets", "paper,nope"], "reward preset 'nope'"),
    ],
)
def test_cli_refuses_bad_options_with_exit_2(tmp_path, args, message):
    from srpo.cli import app

    result = CliRunner().invoke(app, ["quickstart", "--out", str(tmp_path / "qs"), *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
