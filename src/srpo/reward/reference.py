"""What a reward adapter is given about the gold answer, read one way for every engine.

Engines hand the gold over in different shapes: a plain string (OpenRLHF labels, EasyR1's `ground_truth`),
a JSON string of an object, a dict (`{"answer": …, "choices": […], "meta": {…}}`), choices in verl's
`extra_info`, options as numpy arrays read from Parquet. `reference_of` turns any of them into the `Sample`
a task judges against and the `Task` that judges it: named by the row's `data_source` (verl), its `task` or
`data_source` key, or the default task.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from srpo.data.sample import Sample
from srpo.tasks import DEFAULT_TASK, Task, task_for

GOLD_KEYS = ("answer", "ground_truth", "gold", "solution")
"""Where every reward input (a label, a responses file line, a TRL dataset column) keeps the gold, in order
of preference."""
TASK_KEYS = ("task", "data_source")


def _as_mapping(value: Any, label: bool = False) -> Mapping[str, Any] | None:
    """A dict, or a JSON object in a string; with `label`, only one that holds a gold key (so a gold such as
    "{}" — the empty set — stays a gold)."""
    data = value
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            data = json.loads(value)
        except ValueError:
            return None
    if not isinstance(data, Mapping):
        return None
    if label and not any(k in data for k in GOLD_KEYS):
        return None
    return data


def choices_list(value: Any) -> list[str] | None:
    """Options as a list of strings (from a list, a tuple, a numpy array or a letter → text mapping)."""
    if value is None or isinstance(value, (str, bytes)):
        return None
    if isinstance(value, Mapping):
        return [str(v) for _, v in sorted(value.items())] or None
    try:  # lists, tuples, numpy arrays from Parquet
        return [str(v) for v in value] or None
    except TypeError:
        return None


def as_text(value: Any) -> str:
    """A gold value as text ("" for None and booleans)."""
    if value is None or isinstance(value, bool):
        return ""
    return value if isinstance(value, str) else str(value)


def reference_of(
    ground_truth: Any, extra_info: Any = None, data_source: Any = None, default_task: str = DEFAULT_TASK
) -> tuple[Sample, Task]:
    """(the gold as a `Sample`, the task that judges it) from any adapter's inputs. Never raises."""
    gold_map = _as_mapping(ground_truth, label=True)
    extra = _as_mapping(extra_info) or {}
    fields: dict[str, Any] = {**extra, **(gold_map or {})}
    if gold_map is None:
        fields["answer"] = ground_truth
    answer = next((fields[k] for k in GOLD_KEYS if fields.get(k) is not None), "")
    meta = _as_mapping(fields.get("meta")) or {}
    source = data_source or next((fields[k] for k in TASK_KEYS if fields.get(k)), None)
    sample = Sample(
        id=as_text(fields.get("id")),
        question=as_text(fields.get("question")),
        answer=as_text(answer),
        choices=choices_list(fields.get("choices")),
        meta=dict(meta),
    )
    return sample, task_for(source, default_task)
