"""Evaluation: benchmarks (`srpo.tasks`) read from local files, generation through the srpo.llm backends (or vLLM
offline), rule-based scoring of the final and the first attempt, metrics and reports.

    from srpo.eval import run_eval, score_generations, write_report
    metrics = run_eval("synthetic", "data/test.jsonl", "runs/eval/base", backend="local", model="runs/tiny")
    write_report(["runs/eval/base", "runs/eval/sft"], "runs/eval")
"""

from __future__ import annotations

from typing import Any

__all__ = ["compute_metrics", "get_task", "run_eval", "score_generations", "write_report"]


def __getattr__(name: str) -> Any:
    # Lazy: `import srpo.eval` stays cheap (the CLI imports it to list commands).
    if name == "run_eval":
        from srpo.eval.run import run_eval

        return run_eval
    if name == "score_generations":
        from srpo.eval.scoring import score_generations

        return score_generations
    if name == "write_report":
        from srpo.eval.report import write_report

        return write_report
    if name == "compute_metrics":
        from srpo.eval.metrics import compute_metrics

        return compute_metrics
    if name == "get_task":
        from srpo.tasks import get_task

        return get_task
    raise AttributeError(name)
