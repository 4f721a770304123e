"""Metrics of a scored run: accuracy of the final and first attempts, the four transitions, format
compliance, token costs, and the same per category.

Transition rates are shares of all scored responses, so they add up to 1 and
`accuracy = right_to_right + wrong_to_right`, `first_accuracy = right_to_right + right_to_wrong`.
A response with a single attempt counts as right→right or wrong→wrong.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

TRANSITIONS = ("right_to_right", "wrong_to_right", "right_to_wrong", "wrong_to_wrong")
EXTRACTORS = ("rules", "judge", "fallback", "given", "none")
"""Who extracted the final answers (`srpo.eval.scoring.Reading`); `metrics["extracted_by"]` holds each share."""
TRANSITION_LABELS = {
    "right_to_right": "right→right",
    "wrong_to_right": "wrong→right",
    "right_to_wrong": "right→wrong",
    "wrong_to_wrong": "wrong→wrong",
}


def transition_of(row: dict[str, Any]) -> str:
    """ "right_to_wrong" etc. for one scored line."""
    first = "right" if row.get("first_correct") else "wrong"
    final = "right" if row.get("correct") else "wrong"
    return f"{first}_to_{final}"


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def summarise(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Headline metrics of scored lines (zeros for an empty list)."""
    n = len(rows)
    counts = dict.fromkeys(TRANSITIONS, 0)
    for r in rows:
        counts[transition_of(r)] += 1
    reflected = [r for r in rows if r.get("attempts", 0) >= 2]
    return {
        "n": n,
        "accuracy": _mean([bool(r.get("correct")) for r in rows]),
        "first_accuracy": _mean([bool(r.get("first_correct")) for r in rows]),
        "format_rate": _mean([bool(r.get("format_ok")) for r in rows]),
        "reflection_rate": len(reflected) / n if n else 0.0,
        "no_answer_rate": _mean([r.get("extraction") is None for r in rows]),
        "missing": sum(bool(r.get("missing")) for r in rows),
        "extracted_by": {
            by: _mean([(r.get("extracted_by") or "none") == by for r in rows]) for by in EXTRACTORS
        },
        "transitions": {k: (counts[k] / n if n else 0.0) for k in TRANSITIONS},
        "transition_counts": counts,
        "mean_response_tokens": _mean([r.get("response_tokens", 0) for r in rows]),
        "mean_reflection_tokens": _mean([r.get("reflection_tokens", 0) for r in reflected]),
        "mean_tokens_after_first_answer": _mean([r.get("tokens_after_first_answer", 0) for r in reflected]),
    }


def compute_metrics(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """`summarise(rows)` plus `by_group`: {group key: {value: {n, accuracy, first_accuracy, format_rate}}},
    values sorted by name."""
    out = summarise(rows)
    grouped: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        for key, value in (r.get("groups") or {}).items():
            grouped[key][str(value)].append(r)
    out["by_group"] = {
        key: {
            value: {
                "n": len(members),
                "accuracy": _mean([bool(m.get("correct")) for m in members]),
                "first_accuracy": _mean([bool(m.get("first_correct")) for m in members]),
                "format_rate": _mean([bool(m.get("format_ok")) for m in members]),
            }
            for value, members in sorted(values.items())
        }
        for key, values in grouped.items()
    }
    return out
