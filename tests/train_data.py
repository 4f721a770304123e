"""Small real training data for the training tests: synthetic problems (PNG images on disk) turned into
five-block SFT rows and native RL prompt rows, in the layouts `srpo curate build` / `filter` write."""

from __future__ import annotations

import json
from pathlib import Path

from srpo.data.synth import write_synth
from srpo.response import REFLECTION_SYSTEM_PROMPT, boxed, five_block_response


def write_sft_rows(folder: Path, n: int = 48, seed: int = 0) -> Path:
    """`folder/sft.jsonl`: one five-block SFT row per synthetic training sample (images under folder/images)."""
    summary = write_synth(folder, n=n, seed=seed, test_fraction=0.0, image_size=56)
    out = folder / "sft.jsonl"
    with open(summary.train_path) as src, out.open("w") as dst:
        for line in src:
            s = json.loads(line)
            answer = boxed(s["answer"])
            target = five_block_response(
                s["rationale"],
                answer,
                "Checking each step of the first attempt: the reasoning holds, so the answer stands.",
                s["rationale"],
                answer,
            )
            row = {
                "id": s["id"],
                "messages": [
                    {"role": "system", "content": [{"type": "text", "text": REFLECTION_SYSTEM_PROMPT}]},
                    {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": s["question"]}]},
                    {"role": "assistant", "content": [{"type": "text", "text": target}]},
                ],
                "images": s["images"],
                "answer": s["answer"],
            }
            dst.write(json.dumps(row) + "\n")
    return out


def write_rl_rows(folder: Path, n: int = 16, seed: int = 1) -> Path:
    """`folder/train.jsonl`: native srpo sample rows (question, answer, images, choices), as `filter` writes."""
    return write_synth(folder, n=n, seed=seed, test_fraction=0.0, image_size=56).train_path
