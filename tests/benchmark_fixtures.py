"""Where each task's fixture data lives: small files in every benchmark's official layout, shared by the
tests and `bench/agreement.py`."""

from __future__ import annotations

from pathlib import Path

FIX = Path(__file__).parent / "fixtures" / "eval"
MMMU_PRO_VISION = FIX / "mmmu_pro" / "vision"

TASK_DATA: dict[str, list[Path]] = {
    "math": [
        FIX / "synthetic" / "test.jsonl",
        Path(__file__).parent / "fixtures" / "data" / "mathvista_testmini.json",
    ],
    "synthetic": [FIX / "synthetic" / "test.jsonl"],
    "mathvista": [FIX / "mathvista" / "testmini.json"],
    "mathverse": [FIX / "mathverse" / "testmini.json"],
    "mathvision": [FIX / "mathvision" / "data" / "test.jsonl"],
    "olympiadbench": [FIX / "olympiadbench"],
    "mmk12": [FIX / "mmk12" / "data"],
    "mmmu_pro": [FIX / "mmmu_pro" / "standard (10 options)", MMMU_PRO_VISION],
}
"""Every registered task → the fixture files it loads (the first is its main one)."""

BENCHMARK_DATA: dict[str, Path] = {name: paths[0] for name, paths in TASK_DATA.items() if name != "math"}
"""Each benchmark's main fixture file (the default `math` task has no layout of its own)."""
