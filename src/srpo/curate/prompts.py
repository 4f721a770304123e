"""Prompt templates for curation: Jinja2 files shipped in `srpo/prompts/`, each replaceable by a user file
(`--prompt FILE`).

- `answer.j2` — the user text the policy sees (question, lettered choices). The system prompt is
  `srpo.response.ATTEMPT_SYSTEM_PROMPT`, shared with evaluation and training.
- `reflect_system.txt`, `reflect.j2` — what the teacher sees. Variables: question, choices, letters, gold,
  think, answer, correct, description, rationale.
"""

from __future__ import annotations

import os
import string
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from srpo.data.sample import Sample

LETTERS = string.ascii_uppercase


@lru_cache(maxsize=32)
def _compile(source: str) -> jinja2.Template:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=False, autoescape=False)
    return env.from_string(source)


def template_text(name: str, override: str | os.PathLike | None = None) -> str:
    """The text of a shipped template, or of the user's file when `override` is given."""
    if override is not None:
        path = Path(override)
        if not path.is_file():
            raise ValueError(f"--prompt {path}: no such file")
        return path.read_text(encoding="utf-8")
    return _shipped(name)


@lru_cache(maxsize=32)
def _shipped(name: str) -> str:
    # Read once: `importlib.resources` plus a file read cost more than rendering, once per record.
    return resources.files("srpo").joinpath("prompts", name).read_text(encoding="utf-8")


def render(name: str, override: str | os.PathLike | None = None, **variables: Any) -> str:
    """Render a template; an undefined variable in a user template is an error naming the file."""
    try:
        return _compile(template_text(name, override)).render(letters=LETTERS, **variables).strip()
    except jinja2.TemplateError as e:
        where = override or f"srpo/prompts/{name}"
        raise ValueError(f"prompt template {where}: {e}") from None


def question_text(sample: Sample, template: str | os.PathLike | None = None) -> str:
    """The user text for a sample: its question and, when it has choices, the lettered options."""
    return render("answer.j2", template, question=sample.question, choices=sample.choices or [])
