"""The benchmark registry: `get_benchmark(name)`; one module per benchmark registers itself on import."""

from srpo.eval.benchmarks import (  # noqa: F401  (each module registers its benchmark)
    mathverse,
    mathvision,
    mathvista,
    mmk12,
    mmmu_pro,
    olympiadbench,
    synthetic,
)
from srpo.eval.benchmarks.base import BENCHMARKS, Benchmark, Verdict, get_benchmark, register

__all__ = ["BENCHMARKS", "Benchmark", "Verdict", "get_benchmark", "register"]
