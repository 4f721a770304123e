"""srpo installed from its wheel, away from the source tree: the shipped configs, prompts and tasks are found as
package data, and the commands that read them work from any folder."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # builds a wheel and starts srpo in fresh processes (~1 min)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The wheel built from this checkout, installed (without dependencies) into a folder of its own."""
    out = tmp_path_factory.mktemp("wheel")
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr
    [wheel] = out.glob("srpo-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "srpo/configs/sft/tiny_cpu.yaml" in names and "srpo/prompts/answer.j2" in names
    site = out / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(site), "-q", str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stderr
    return site


def srpo(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    # The installed wheel first on the path; the venv only provides the dependencies.
    env = {**os.environ, "PYTHONPATH": str(site), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "srpo", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_the_wheel_is_what_runs(installed, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(installed)}
    where = subprocess.run(
        [sys.executable, "-c", "import srpo, srpo.tasks as t; print(srpo.__file__); print(t.task_names())"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert where.returncode == 0, where.stderr
    path, tasks = where.stdout.splitlines()
    assert path.startswith(str(installed))
    assert "mathvista" in tasks and "synthetic" in tasks and "math" in tasks  # tasks found in the wheel


@pytest.mark.parametrize("config", ["configs/sft/tiny_cpu.yaml", "sft/qwen2_5_vl_7b.yaml"])
def test_sft_dry_run_reads_a_shipped_config_from_any_folder(installed, tmp_path, config):
    result = srpo(installed, tmp_path, "sft", "--config", config, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert f"config_file: {installed}" in result.stdout


def test_grpo_dry_run_and_its_deepspeed_file(installed, tmp_path):
    result = srpo(installed, tmp_path, "grpo", "--config", "configs/grpo/qwen2_5_vl_7b.yaml", "--dry-run")
    assert result.returncode == 0, result.stderr


def test_the_quickstart_checks_its_inputs_from_the_wheel(installed, tmp_path):
    result = srpo(installed, tmp_path, "quickstart", "--check", "--out", str(tmp_path / "qs"))
    assert result.returncode == 0, result.stderr
    assert f"{installed}/srpo/configs/sft/tiny_cpu.yaml" in result.stdout


def test_an_unknown_config_lists_the_shipped_ones(installed, tmp_path):
    result = srpo(installed, tmp_path, "sft", "--config", "nope.yaml", "--dry-run")
    assert (
        result.returncode == 2 and "sft/tiny_cpu.yaml" in result.stderr and "Traceback" not in result.stderr
    )


def test_the_quickstart_refuses_an_unwritable_output_before_any_work(installed, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = srpo(installed, tmp_path, "quickstart", "--out", str(blocker / "qs"))
    assert result.returncode == 2 and "pass another --out" in result.stderr
    assert not any(tmp_path.glob("**/.stages"))
