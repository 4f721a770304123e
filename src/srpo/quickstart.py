"""The whole pipeline, small, on CPU (not yet available)."""

from __future__ import annotations


def run_quickstart(out: str) -> None:
    from srpo.cli import not_yet

    not_yet("quickstart")
