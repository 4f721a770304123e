"""The LLM flags are declared once, from `LLMSettings`: every command that calls a model has one flag per
field, with the field's docstring as its help, and `--backend` lists the backend registry."""

from __future__ import annotations

from dataclasses import fields

import pytest
import typer

from srpo.cli import app
from srpo.llm.backend import backend_names
from srpo.llm.options import field_docs, flag_of
from srpo.llm.settings import LLMSettings

COMMANDS = {
    ("curate", "answer"): "--model",
    ("curate", "reflect"): "--teacher-model",
    ("eval", "run"): "--model",
}


def _options(path: tuple[str, ...]) -> dict[str, object]:
    cmd = typer.main.get_command(app)
    for name in path:
        cmd = cmd.commands[name]  # type: ignore[attr-defined]
    return {opt: p for p in cmd.params for opt in p.opts}


@pytest.mark.parametrize("path", list(COMMANDS), ids=" ".join)
def test_every_settings_field_is_a_flag_with_its_docstring_as_help(path):
    options = _options(path)
    docs = field_docs()
    for f in fields(LLMSettings):
        flag = COMMANDS[path] if f.name == "model" else flag_of(f.name)
        assert flag in options, f"{' '.join(path)} lacks {flag}"
        if f.name not in ("model", "backend"):
            assert options[flag].help == docs[f.name] and docs[f.name], f.name


def test_every_field_has_a_docstring():
    assert set(field_docs()) == {f.name for f in fields(LLMSettings)}


@pytest.mark.parametrize("path", list(COMMANDS), ids=" ".join)
def test_backend_help_lists_the_registry(path):
    help_text = _options(path)["--backend"].help
    for name in backend_names():
        assert f"{name}:" in help_text


def test_the_three_commands_share_the_same_llm_flags():
    llm_flags = {flag_of(f.name) for f in fields(LLMSettings) if f.name != "model"}
    seen = [llm_flags & set(_options(path)) for path in COMMANDS]
    assert all(s == llm_flags for s in seen)


def test_command_defaults_follow_the_settings_except_where_a_command_overrides_them():
    answer, run = _options(("curate", "answer")), _options(("eval", "run"))
    assert answer["--backend"].default == run["--backend"].default == LLMSettings().backend
    assert answer["--timeout"].default == run["--timeout"].default == LLMSettings().timeout
    assert answer["--max-tokens"].default is None and run["--max-tokens"].default == 1024
