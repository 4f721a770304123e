"""The `srpo` command: every group and command answers --help; data commands work on real files."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from srpo import __version__
from srpo.cli import app

FIX = Path(__file__).parent / "fixtures" / "data"
runner = CliRunner()


def _all_command_paths() -> list[list[str]]:
    root = typer.main.get_command(app)
    paths: list[list[str]] = []

    def walk(cmd, path: list[str]) -> None:
        paths.append(path)
        if hasattr(cmd, "commands"):  # a group (typer vendors its own click)
            for name, sub in cmd.commands.items():
                walk(sub, [*path, name])

    walk(root, [])
    return paths


def test_help_on_every_level():
    paths = _all_command_paths()
    assert ["data", "inspect"] in paths and ["sft"] in paths and ["eval"] in paths
    for path in paths:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage" in result.output


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


def test_data_inspect_reports_counts():
    result = runner.invoke(app, ["data", "inspect", str(FIX / "bad_line.jsonl"), "--skip-bad"])
    assert result.exit_code == 0, result.output
    assert "2 read, 2 skipped" in result.output


def test_data_inspect_bad_input_names_file_and_line():
    result = runner.invoke(app, ["data", "inspect", str(FIX / "bad_line.jsonl")])
    assert result.exit_code == 2  # one line on stderr, no traceback (issue 15.11)
    assert "bad_line.jsonl:2" in result.stderr and "Traceback" not in result.output


def test_data_convert_writes_native_rows(tmp_path):
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["data", "convert", str(FIX / "mulberry.json"), "--output", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["answer"] for r in rows] == ["14", "B"]
    assert rows[0]["meta"]["description"] == "A rectangle with sides 3 and 4."
