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

import functools
import importlib
import logging
import pkgutil
import re
import threading
from importlib.metadata import entry_points

from srpo.tasks.base import NO_ANSWER, Task, Verdict
from srpo.tasks.published import PublishedRow

__all__ = [
    "DEFAULT_TASK",
    "NO_ANSWER",
    "PublishedRow",
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
_lock = threading.Lock()  # verl scores in a thread pool: the first lookups may race
log = logging.getLogger(__name__)


def register(task: Task) -> Task:
    """Add a task instance to the registry under its name (a later registration replaces an earlier one)."""
    TASKS[task.name] = task
    return task


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    with _lock:
        if _discovered:
            return
        for module in pkgutil.iter_modules(__path__):
            if module.name != "base" and not module.name.startswith("_"):
                importlib.import_module(f"{__name__}.{module.name}")
        for ep in entry_points(group="srpo.tasks"):
            try:
                task = ep.load()
                register(task() if isinstance(task, type) else task)
            except Exception:  # one broken plug-in must not take the built-in tasks down with it
                log.warning("task entry point %s could not be loaded", ep.name, exc_info=True)
        _discovered = True


def task_names(benchmarks_only: bool = False) -> list[str]:
    """Registered task names, sorted."""
    _discover()
    return sorted(name for name, t in TASKS.items() if t.benchmark or not benchmarks_only)


def get_task(spec: str) -> Task:
    """The task a spec names: a registered name or alias (`mathvista`, `AI4Math/MathVista`) or
    `module:attribute` (registered on first use), followed by judging options as `+option`
    (`math+require_boxed`, `mathvista+lenient`). ValueError listing the known names otherwise. The spec
    travels as text — in answers rows, `data_source` columns, reward settings — so `Task.spec` gives it back."""
    _discover()
    name, *flags = str(spec).strip().split("+")
    task = TASKS.get(name) or _by_alias(name) or (_imported(name) if ":" in name else None)
    if task is None:
        raise ValueError(f"unknown task {name!r}; known: {', '.join(task_names())}")
    if flags:
        task = task.with_options(**dict.fromkeys((f.strip() for f in flags if f.strip()), True))
    return task


def _imported(path: str) -> Task:
    module, _, attr = path.partition(":")
    try:
        obj = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as e:
        raise ValueError(f"task {path!r}: cannot import it ({e})") from None
    task = obj() if isinstance(obj, type) else obj
    if not isinstance(task, Task):
        raise ValueError(f"task {path!r} is a {type(task).__name__}, not a srpo.tasks.Task")
    task = task.with_options(origin=path)
    return register(task)


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


@functools.lru_cache(maxsize=1024)
def _alias_key(name: str) -> tuple[str, str]:
    return _key(name), _key(name.rsplit("/", 1)[-1])


def _by_alias(name: str) -> Task | None:
    key, tail = _alias_key(name)
    for task in TASKS.values():
        if any(_key(n) in (key, tail) for n in (task.name, *task.aliases)):
            return task
    return None


def task_for(data_source: object, default: str = DEFAULT_TASK) -> Task:
    """The task a row's `data_source` names (a registered name, alias or spec with options), else the default
    task. Never raises; never imports code a data row names (register custom tasks through `get_task`)."""
    _discover()
    if isinstance(data_source, str) and data_source.strip():
        name = data_source.split("+", 1)[0].strip()
        if ":" not in name and (name in TASKS or _by_alias(name) is not None):
            try:
                return get_task(data_source)
            except ValueError:
                pass  # an unknown option: the default task judges
    return get_task(default)
