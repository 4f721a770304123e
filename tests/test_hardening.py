"""A user's mistakes and a machine's faults, through the CLI as a user meets them: each case asserts the exit
code, the message (file, record, fix) and what is left on disk — never a traceback, never a lost input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from srpo.cli import app

FIX = Path(__file__).parent / "fixtures" / "eval"


def invoke(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


def answers_row(i: int, gold: object = "4", correct: bool = True) -> dict:
    return {
        "id": f"r{i}",
        "sample": {
            "id": f"r{i}",
            "question": f"Q{i}?",
            "answer": gold,
            "images": [],
            "rationale": "Because.",
        },
        "attempts": [
            {
                "text": "t",
                "think": "I add.",
                "answer": "\\boxed{4}",
                "pred": "4",
                "correct": correct,
                "format_ok": True,
            }
        ],
        "pass_rate": 1.0 if correct else 0.0,
    }


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.fixture
def curated(tmp_path) -> dict[str, Path]:
    answers = write_lines(tmp_path / "answers.jsonl", [json.dumps(answers_row(i)) for i in range(3)])
    refl = write_lines(
        tmp_path / "refl.jsonl",
        [
            json.dumps({"id": f"r{i}", "attempt": 0, "reflection": "Checked.", "revised_reasoning": "4."})
            for i in range(3)
        ],
    )
    gens = write_lines(tmp_path / "gens.jsonl", [json.dumps({"id": "1", "response": "<answer>A</answer>"})])
    return {"answers": answers, "reflections": refl, "generations": gens, "root": tmp_path}


# ------------------------------------------------------------------------- 1: an output that is an input


@pytest.mark.parametrize(
    ("command", "inputs", "output"),
    [
        (
            ["curate", "build", "--reflections", "{reflections}", "--answers", "{answers}"],
            ["answers"],
            "answers",
        ),
        (["curate", "build", "--reflections", "{reflections}", "--answers", "{answers}"], [], "reflections"),
        (["curate", "filter", "--answers", "{answers}"], ["answers"], "answers"),
        (
            [
                "eval",
                "score",
                "--benchmark",
                "mathvista",
                "--data",
                str(FIX / "mathvista" / "testmini.json"),
                "--generations",
                "{generations}",
            ],
            ["generations"],
            "generations",
        ),
    ],
    ids=["build-answers", "build-reflections", "filter-answers", "eval-score-generations"],
)
def test_an_output_that_is_an_input_is_refused_and_the_input_kept(curated, command, inputs, output):
    target = curated[output]
    before = target.read_bytes()
    args = [a.format(**{k: v for k, v in curated.items()}) for a in command]
    result = invoke(*args, "--output", target)
    assert result.exit_code == 2, result.output
    assert "would destroy that input" in result.output and str(target) in result.output
    assert target.read_bytes() == before


def test_an_output_that_is_the_errors_file_of_an_input_is_refused(curated):
    errors = curated["root"] / "answers.errors.jsonl"
    errors.write_text('{"id": "r9", "error": "HTTP 500"}\n')
    result = invoke("curate", "filter", "--answers", curated["answers"], "--output", errors)
    assert result.exit_code == 2 and "errors file" in result.output
    assert "HTTP 500" in errors.read_text()


def samples_file(path: Path) -> Path:
    rows = [{"id": f"s{i}", "question": f"What is {i} + {i}?", "answer": str(2 * i)} for i in range(3)]
    return write_lines(path, [json.dumps(r) for r in rows])


@pytest.mark.parametrize(("format", "name"), [("openrlhf", "srpo.jsonl"), ("trl", "train.parquet")])
def test_an_export_that_would_write_over_its_input_is_refused(tmp_path, format, name):
    # the input sits in the output folder under the very name the export writes
    source = samples_file(tmp_path / name) if name.endswith(".jsonl") else tmp_path / name
    if not source.exists():
        source.write_bytes(b"PAR1 not really")
    before = source.read_bytes()
    result = invoke(
        "curate", "export", "--input", source, "--format", format, "--output", tmp_path, "--name", source.stem
    )
    assert result.exit_code == 2, result.output
    assert "would destroy that input" in result.output
    assert source.read_bytes() == before


def test_a_failed_export_leaves_neither_a_half_file_nor_a_temporary_one(tmp_path):
    source = samples_file(tmp_path / "prompts.jsonl")
    out = tmp_path / "out"
    result = invoke("curate", "export", "--input", source, "--format", "llamafactory", "--output", out)
    assert result.exit_code == 2 and "llamafactory export needs SFT rows" in result.output
    assert sorted(p.name for p in out.iterdir()) == []


# -------------------------------------------------------------------------- 3: bad rows never vanish


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("{not json", "invalid JSON"),
        (json.dumps(answers_row(7, gold=None)), "no gold `answer`"),
        (
            json.dumps({"id": "r8", "sample": {"id": "r8", "question": "Q?", "answer": "1"}, "attempts": []}),
            "`attempts` is empty",
        ),
        (json.dumps(["a", "list"]), "expected a JSON object"),
    ],
    ids=["bad-json", "null-gold", "no-attempts", "not-an-object"],
)
def test_a_bad_answers_line_is_an_error_naming_it_or_a_counted_skip(curated, bad_line, message):
    lines = curated["answers"].read_text().splitlines()
    lines.insert(1, bad_line)  # in the middle of the file
    answers = write_lines(curated["answers"], lines)
    out = curated["root"] / "sft.jsonl"
    base = ["curate", "build", "--answers", answers, "--reflections", curated["reflections"], "--output", out]
    result = invoke(*base)
    assert result.exit_code == 2, result.output
    assert f"{answers}:2" in result.output and message in result.output and "--skip-bad" in result.output
    assert not out.exists() and not Path(str(out) + ".tmp").exists()
    skipped = invoke(*base, "--skip-bad")
    assert skipped.exit_code == 0, skipped.output
    assert "1 bad lines skipped" in skipped.output and f"{answers}:2" in skipped.output
    assert len(out.read_text().splitlines()) == 3


def test_non_utf8_bytes_in_reflections_are_named(curated):
    data = curated["reflections"].read_bytes().replace(b"Checked.", b"Check\xff\xfe.", 1)
    curated["reflections"].write_bytes(data)
    out = curated["root"] / "sft.jsonl"
    result = invoke(
        "curate",
        "build",
        "--answers",
        curated["answers"],
        "--reflections",
        curated["reflections"],
        "--output",
        out,
    )
    assert (
        result.exit_code == 2
        and f"{curated['reflections']}:1" in result.output
        and "not UTF-8" in result.output
    )


def test_a_torn_last_line_is_skipped_and_said(curated):
    text = curated["answers"].read_text()
    curated["answers"].write_text(text + json.dumps(answers_row(5))[:40])  # a run killed mid-write
    out = curated["root"] / "rl.jsonl"
    result = invoke(
        "curate",
        "filter",
        "--answers",
        curated["answers"],
        "--output",
        out,
        "--min-pass",
        "0",
        "--max-pass",
        "1",
    )
    assert result.exit_code == 0 and "unfinished last line skipped" in result.output
    assert len(out.read_text().splitlines()) == 3


# ------------------------------------------------------------------ 11: outputs that cannot be written

SYNTH = FIX / "synthetic" / "test.jsonl"
WRITERS = {
    "eval-score": (
        ["eval", "score", "--benchmark", "synthetic", "--data", SYNTH, "--generations", "{gens}"],
        "--output",
    ),
    "curate-answer": (
        ["curate", "answer", "--input", SYNTH, "--backend", "synthetic", "--model", "m"],
        "--output",
    ),
    "curate-filter": (["curate", "filter", "--answers", "{answers}"], "--output"),
    "data-convert": (["data", "convert", SYNTH], "--output"),
    "data-synth": (["data", "synth", "--n", "4"], "--out"),
    "eval-run": (
        [
            "eval",
            "run",
            "--benchmark",
            "synthetic",
            "--data",
            SYNTH,
            "--backend",
            "synthetic",
            "--model",
            "m",
        ],
        "--output",
    ),
}
PLACES = {
    # where the output goes → what the message must say
    "a-folder": ("{tmp}/folder", "folder"),
    "under-a-file": ("{tmp}/afile/out.jsonl", "is a file, not a folder"),
    "a-device": ("/dev/null", "not a regular file"),
}
FOLDER_OUTPUTS = {"data-synth", "eval-run"}  # these write a folder: only "under a file" is wrong for them


@pytest.mark.parametrize("place", sorted(PLACES))
@pytest.mark.parametrize("command", sorted(WRITERS))
def test_an_output_that_cannot_be_written_is_one_line_naming_it(curated, tmp_path, command, place):
    if command in FOLDER_OUTPUTS and place != "under-a-file":
        pytest.skip("a folder is the right kind of output here")
    (tmp_path / "folder").mkdir()
    (tmp_path / "afile").write_text("")
    where, message = PLACES[place]
    args, flag = WRITERS[command]
    gens = write_lines(
        tmp_path / "syn.jsonl", [json.dumps({"id": "syn-0001", "response": "<answer>9</answer>"})]
    )
    fill = {"gens": gens, "answers": curated["answers"], "tmp": tmp_path}
    result = invoke(*[str(a).format(**fill) for a in args], flag, where.format(tmp=tmp_path))
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not list(tmp_path.rglob("*.tmp"))
    assert Path("/dev/null").is_char_device()


def test_a_full_disk_mid_run_stops_with_one_line_and_a_rerun_completes(tmp_path):
    """The file-size limit (ulimit -f) stands in for a full disk: the journal's write fails part-way."""
    import os
    import resource
    import signal
    import subprocess
    import sys

    from fake_server import FakeChatServer

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG), no signal
        resource.setrlimit(resource.RLIMIT_FSIZE, (3000, 3000))

    data = write_lines(
        tmp_path / "in.jsonl",
        [
            json.dumps({"id": f"q{i}", "question": f"What is {i} + {i}?", "answer": str(2 * i)})
            for i in range(30)
        ],
    )
    out = tmp_path / "out.jsonl"
    env = {**os.environ, "OPENAI_API_KEY": "k", "PYTHONDONTWRITEBYTECODE": "1"}  # no .pyc cut by the limit
    with FakeChatServer() as server:
        cmd = [sys.executable, "-m", "srpo", "curate", "answer", "--input", data, "--output", out]
        cmd += ["--base-url", server.base_url, "--model", "m", "--no-cache"]
        first = subprocess.run(cmd, env=env, preexec_fn=limited, capture_output=True, text=True, timeout=120)
        assert first.returncode == 2, first.stderr
        assert f"{out}: the file grew past the size" in first.stderr and "Traceback" not in first.stderr
        assert "Task exception was never retrieved" not in first.stderr
        second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert sorted(ids) == sorted(f"q{i}" for i in range(30))  # every id once: none lost, none twice


# ---------------------------------------------------------------------------- 12: missing extras

BLOCKER = """
import importlib.abc, os, sys
BLOCKED = set(os.environ.get("SRPO_TEST_BLOCK", "").split(","))
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, Block())
"""


@pytest.mark.parametrize(
    ("blocked", "args", "extra"),
    [
        (
            "matplotlib",
            ["eval", "report", "{tmp}/scores.jsonl", "--out", "{tmp}/r"],
            "eval",
        ),
        ("trl", ["sft", "--config", "configs/sft/tiny_cpu.yaml", "--dry-run"], "train"),
        ("torch", ["data", "tiny-model", "--out", "{tmp}/m"], "train"),
    ],
    ids=["eval-report-without-matplotlib", "sft-dry-run-without-trl", "tiny-model-without-torch"],
)
def test_a_missing_extra_is_named_with_its_install_line(tmp_path, blocked, args, extra):
    import os
    import subprocess
    import sys

    from srpo.eval.scoring import score_generations

    gens = write_lines(
        tmp_path / "gens.jsonl", [json.dumps({"id": "syn-0001", "response": "<answer>9</answer>"})]
    )
    score_generations("synthetic", FIX / "synthetic" / "test.jsonl", gens, tmp_path / "scores.jsonl")
    (tmp_path / "sitecustomize.py").write_text(BLOCKER)
    env = {
        **os.environ,
        "SRPO_TEST_BLOCK": blocked,
        "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
    }
    root = Path(__file__).resolve().parents[1]
    cmd = [sys.executable, "-m", "srpo", *[a.format(tmp=tmp_path) for a in args]]
    result = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"pip install 'srpo[{extra}]'" in result.stderr and "Traceback" not in result.stderr
