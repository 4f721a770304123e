"""Small real inputs for the curation tests: sample JSONL files with PNG images on disk."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

SECRET = "sk-test-DO-NOT-LEAK-7f3a9c"


def write_samples(
    folder: Path, n: int, *, extra_rows: list[str] | None = None, name: str = "in.jsonl"
) -> Path:
    """`n` samples `s000…` with a 16×16 PNG each (question i: "What is i + 1?", answer i + 1), three with
    choices; `extra_rows` (raw lines) are appended as they are."""
    (folder / "img").mkdir(parents=True, exist_ok=True)
    path = folder / name
    with path.open("w") as f:
        for i in range(n):
            Image.new("RGB", (16, 16), (i % 255, 10, 20)).save(folder / "img" / f"{i}.png")
            row = {
                "id": f"s{i:03d}",
                "question": f"What is {i} + 1?",
                "answer": str(i + 1),
                "images": [f"img/{i}.png"],
                "rationale": f"Adding one to {i} gives {i + 1}. So the answer is {i + 1}.",
            }
            if i % 7 == 3:
                row["choices"] = [str(i), str(i + 1), str(i + 2)]
                row["answer"] = "B"
            f.write(json.dumps(row) + "\n")
        for line in extra_rows or []:
            f.write(line + "\n")
    return path


def answer_of(body: dict) -> str:
    """A policy reply for the fake server: right for even i, wrong for odd i, in <think>/<answer> form."""
    text = " ".join(
        p.get("text", "") for m in body["messages"] if isinstance(m["content"], list) for p in m["content"]
    )
    import re

    m = re.search(r"What is (\d+) \+ 1\?", text)
    i = int(m.group(1)) if m else 0
    value = i + 1 if i % 2 == 0 else i + 5
    if "Choices" in text:
        return f"<think>It is {value}.</think> <answer>\\boxed{{{'B' if i % 2 == 0 else 'C'}}}</answer>"
    return f"<think>Adding gives {value}.</think> <answer>\\boxed{{{value}}}</answer>"


def read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
