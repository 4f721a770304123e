"""The command-line flags of every command that calls a model, declared once, from `LLMSettings`.

`curate answer`, `curate reflect` and `eval run` take the same LLM flags — backend, endpoints, key variable,
concurrency, rate limit, timeout, retries, cache, prices, image modes, local-backend knobs, progress —
because each is built here from a field of `srpo.llm.settings.LLMSettings`: the flag is the field's name
(`base_url` → `--base-url`), its help is the field's docstring, its default the field's default, and the
`--backend` help lists the backend registry. A new field is a new flag on every such command.

    @app.command("answer")
    @llm_options(model_help="Policy model name (local: checkpoint folder).")
    def answer_command(input: Path = ..., llm: LLMSettings = LLM) -> None: ...

The command receives one ready `LLMSettings` as `llm`.
"""

from __future__ import annotations

import ast
import functools
import inspect
import typing
from collections.abc import Callable
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

from srpo.llm.settings import LLMSettings

LLM: Any = None
"""The default to give a command's `llm` parameter (it is filled by `llm_options`)."""


@functools.lru_cache(maxsize=1)
def field_docs() -> dict[str, str]:
    """`{field name: its docstring}` of `LLMSettings`, read from the source (one line each for help)."""
    source = Path(inspect.getfile(LLMSettings)).read_text(encoding="utf-8")
    docs: dict[str, str] = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef) and node.name == "LLMSettings":
            body = node.body
            for stmt, nxt in zip(body, body[1:], strict=False):
                if (
                    isinstance(stmt, ast.AnnAssign)
                    and isinstance(stmt.target, ast.Name)
                    and isinstance(nxt, ast.Expr)
                    and isinstance(nxt.value, ast.Constant)
                    and isinstance(nxt.value.value, str)
                ):
                    docs[stmt.target.id] = " ".join(nxt.value.value.split())
    return docs


def flag_of(name: str) -> str:
    """`base_url` → `--base-url`."""
    return "--" + name.replace("_", "-")


def llm_options(
    *,
    model_flags: tuple[str, ...] = ("--model",),
    model_help: str | None = None,
    model_required: bool = False,
    defaults: dict[str, Any] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give a typer command one option per `LLMSettings` field and call it with `llm=LLMSettings(...)`.

    `model_flags` / `model_help` / `model_required` name and describe the model flag (`reflect` calls it
    `--teacher-model`); `defaults` overrides field defaults for this command (eval: `max_tokens=1024`)."""
    import typer

    from srpo.llm.backend import backend_help

    overrides = dict(defaults or {})
    hints = typing.get_type_hints(LLMSettings)
    docs = field_docs()

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        own = inspect.signature(command)
        own_hints = typing.get_type_hints(command)
        params = [p.replace(annotation=own_hints.get(p.name, p.annotation)) for p in own.parameters.values()]
        params = [p for p in params if p.name != "llm"]
        taken = {p.name for p in params}
        added: list[inspect.Parameter] = []
        for f in fields(LLMSettings):
            if f.name in taken:
                raise TypeError(
                    f"{command.__name__}: parameter {f.name!r} clashes with the LLM flag of that name"
                )
            default = overrides.get(f.name, f.default if f.default is not MISSING else f.default_factory())  # type: ignore[misc]
            help_text = docs.get(f.name, "")
            decls: tuple[str, ...] = (flag_of(f.name),)
            if f.name == "model":
                decls, help_text = model_flags, model_help or help_text
                if model_required:
                    default = ...
            elif f.name == "backend":
                help_text = f"Registered backend: {backend_help()}."
            elif hints[f.name] is bool and default is True:
                decls = (f"--{f.name.replace('_', '-')}/--no-{f.name.replace('_', '-')}",)
            option = typer.Option(
                default, *decls, help=help_text, show_default=default not in (None, [], ...)
            )
            added.append(
                inspect.Parameter(
                    f.name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=hints[f.name]
                )
            )

        @functools.wraps(command)
        def wrapper(**kwargs: Any) -> Any:
            values = {f.name: kwargs.pop(f.name) for f in fields(LLMSettings)}
            values["base_url"] = list(values.get("base_url") or [])
            return command(**kwargs, llm=LLMSettings(**values))

        keyword_only = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in params]
        wrapper.__signature__ = inspect.Signature([*keyword_only, *added])  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in (*keyword_only, *added)}
        return wrapper

    return decorate
