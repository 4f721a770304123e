"""Every `srpo …` command line in the README and docs names a real command with real options, and every
config file it mentions exists. (What the commands *do* is tested by each stage's tests and the quickstart.)"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer

from srpo.cli import app

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"```(?:bash|sh|console)?\n(.*?)```", re.S)


def _command_lines() -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        for block in FENCE.findall(doc.read_text()):
            joined = re.sub(r"\\\n\s*", " ", block)
            for line in joined.splitlines():
                line = line.split("  #")[0].strip()
                if "-m srpo " in line:
                    line = "srpo " + line.split("-m srpo ", 1)[1]
                if line.startswith("srpo "):
                    found.append((doc.name, line))
    return found


LINES = _command_lines()


def test_docs_have_commands():
    assert len(LINES) >= 20
    assert any(line.startswith("srpo quickstart") for _, line in LINES)


@pytest.mark.parametrize("doc,line", LINES, ids=[f"{d}:{i}" for i, (d, _) in enumerate(LINES)])
def test_documented_command_exists_with_its_options(doc, line):
    words = shlex.split(line)[1:]
    cmd = typer.main.get_command(app)
    path = []
    while hasattr(cmd, "commands") and words and words[0] in cmd.commands:
        path.append(words[0])
        cmd = cmd.commands[words.pop(0)]
    assert not hasattr(cmd, "commands"), f"{doc}: `{line}` names no command ({' '.join(path)} is a group)"
    known = {opt for p in cmd.params for opt in (*p.opts, *p.secondary_opts)}
    if path[0] in ("sft", "grpo"):
        # TRL options pass through as overrides; check the config file instead.
        if "--config" not in words:
            assert words and words[0] in ("--list-options", "--help"), f"{doc}: `{line}`: no --config"
            return
        config = words[words.index("--config") + 1]
        assert (ROOT / config).exists() or "$" in config, f"{doc}: `{line}`: no such config {config}"
        return
    for word in words:
        if word.startswith("--"):
            name = word.split("=", 1)[0]
            assert name in known, f"{doc}: `{line}`: {' '.join(path)} has no option {name}"
