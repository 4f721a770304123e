"""Tasks: one per benchmark or dataset, each a small module that registers itself. Curation, the reward and
evaluation all judge answers through them.

    from srpo.tasks import get_task, task_for
    task = get_task("mathvista")                  # a benchmark: load, prompt, extract, score
    task.judge("<answer>\\\\boxed{B}</answer> text", sample)
    task_for(row.get("data_source"))              # the reward: by data source, the default task otherwise

Tasks are found, not listed: every module of this package is imported on first use, and packages can add
their own through the `srpo.tasks` entry-point group or a `module:attribute` name (`--task my_pkg.tasks:MINE`).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from importlib.metadata import entry_points

from srpo.tasks.base import NO_ANSWER, Task, Verdict

__all__ = [
    "DEFAULT_TASK",
    "NO_ANSWER",
    "TASKS",
    "Task",
    "Verdict",
    "get_task",
    "register",
    "task_for",
    "task_names",
]

DEFAULT_TASK = "math"
"""The task for generic math and multiple-choice data, and for rows that name no known task."""

TASKS: dict[str, Task] = {}
_discovered = False


def register(task: Task) -> Task:
    """Add a task instance to the registry under its name (a later registration replaces an earlier one)."""
    TASKS[task.name] = task
    return task


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    _discovered = True
    for module in pkgutil.iter_modules(__path__):
        if module.name != "base" and not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")
    for ep in entry_points(group="srpo.tasks"):
        task = ep.load()
        register(task() if isinstance(task, type) else task)


def task_names(benchmarks_only: bool = False) -> list[str]:
    """Registered task names, sorted."""
    _discover()
    return sorted(name for name, t in TASKS.items() if t.benchmark or not benchmarks_only)


def get_task(name: str) -> Task:
    """The task called `name` (a registered name or alias, or `module:attribute`); ValueError listing the
    known names otherwise."""
    _discover()
    if name in TASKS:
        return TASKS[name]
    found = _by_alias(name)
    if found is not None:
        return found
    if ":" in name:
        module, _, attr = name.partition(":")
        try:
            obj = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as e:
            raise ValueError(f"task {name!r}: cannot import it ({e})") from None
        task = obj() if isinstance(obj, type) else obj
        if not isinstance(task, Task):
            raise ValueError(f"task {name!r} is a {type(task).__name__}, not a srpo.tasks.Task")
        return task
    raise ValueError(f"unknown task {name!r}; known: {', '.join(task_names())}")


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _by_alias(name: str) -> Task | None:
    key = _key(name)
    tail = _key(name.rsplit("/", 1)[-1])
    for task in TASKS.values():
        names = (task.name, *task.aliases)
        if any(_key(n) in (key, tail) for n in names):
            return task
    return None


def task_for(data_source: object, default: str = DEFAULT_TASK) -> Task:
    """The task a row's `data_source` names (by name or alias), else the default task. Never raises."""
    _discover()
    if isinstance(data_source, str) and data_source.strip():
        if data_source in TASKS:
            return TASKS[data_source]
        found = _by_alias(data_source)
        if found is not None:
            return found
    return get_task(default)
