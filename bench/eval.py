"""Time rule-based scoring of 1,000 MathVista-format generations (target: under 3 s on one core).

Builds a MathVista-layout `testmini.json` of 1,000 rows (multiple choice with text and numeric options,
integer, float with precision, list, with units) and 1,000 reflection-format generations whose answers
are right, wrong, letters, option texts, units, fractions or missing; then times `score_generations`
(read data + generations, extract, normalise, compare, count tokens, write scores) with rules only.

    .venv/bin/python bench/eval.py [--n 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import record  # noqa: E402

from srpo.eval.metrics import compute_metrics  # noqa: E402
from srpo.eval.scoring import score_generations  # noqa: E402
from srpo.response import five_block_response  # noqa: E402


def make_row(pid: int, rng: random.Random) -> tuple[dict, str, str]:
    """A MathVista row plus a first and a final answer text for it."""
    kind = pid % 5
    base = {
        "pid": str(pid),
        "image": f"images/{pid}.png",
        "unit": None,
        "precision": None,
        "metadata": {
            "category": rng.choice(["math-targeted-vqa", "general-vqa"]),
            "task": rng.choice(
                [
                    "geometry problem solving",
                    "figure question answering",
                    "math word problem",
                    "textbook question answering",
                ]
            ),
            "context": "synthetic",
            "grade": "high school",
        },
    }
    if kind == 0:
        choices = ["the red square", "the blue circle", "the green triangle", "the yellow star"]
        gold = rng.randrange(4)
        row = {
            **base,
            "question": "Which shape is largest?",
            "choices": choices,
            "answer": choices[gold],
            "question_type": "multi_choice",
            "answer_type": "text",
        }
        final = rng.choice(
            ["ABCD"[gold], f"({'ABCD'[gold]}) {choices[gold]}", choices[gold][:-2], "C", "a shape"]
        )
        first = rng.choice(["A", "B", choices[1]])
    elif kind == 1:
        choices = [str(v) for v in (30, 45, 60, 90)]
        gold = rng.randrange(4)
        row = {
            **base,
            "question": "What is the angle?",
            "choices": choices,
            "answer": choices[gold],
            "question_type": "multi_choice",
            "answer_type": "integer",
        }
        final = rng.choice(["ABCD"[gold], choices[gold] + "°", "\\boxed{" + "ABCD"[gold] + "}", "75"])
        first = rng.choice(["A", "90"])
    elif kind == 2:
        value = rng.randint(1, 2000)
        row = {
            **base,
            "question": "How many?",
            "choices": None,
            "answer": str(value),
            "unit": "cm",
            "question_type": "free_form",
            "answer_type": "integer",
        }
        final = rng.choice([str(value), f"{value} cm", f"{value}.0", f"{value:,}", str(value + 1), "many"])
        first = str(value - 1)
    elif kind == 3:
        value = round(rng.uniform(0, 100), 2)
        row = {
            **base,
            "question": "What is the ratio?",
            "choices": None,
            "answer": f"{value:.2f}",
            "precision": 2.0,
            "question_type": "free_form",
            "answer_type": "float",
        }
        final = rng.choice([f"{value:.2f}", f"{value:.4f}", f"\\boxed{{{value:.2f}}}", f"{value + 0.1:.2f}"])
        first = f"{value:.1f}"
    else:
        items = sorted(rng.sample(range(2000, 2024), 3))
        row = {
            **base,
            "question": "Which years?",
            "choices": None,
            "answer": json.dumps(items).replace(",", ", "),
            "question_type": "free_form",
            "answer_type": "list",
        }
        final = rng.choice([str(items), ", ".join(map(str, items)), str(items[::-1])])
        first = str(items[:2])
    row["query"] = "Hint: answer at the end.\nQuestion: " + row["question"]
    return row, first, final


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        rows, gens = {}, []
        thinking = "Looking at the figure, I compare the sizes and compute step by step. " * 6
        for pid in range(1, args.n + 1):
            row, first, final = make_row(pid, rng)
            rows[str(pid)] = row
            if pid % 20 == 0:  # a few responses without the reflection format
                response = f"{thinking} The answer is {final}."
            else:
                response = five_block_response(
                    thinking, first, "Checking the first attempt again.", thinking, final
                )
            gens.append({"id": str(pid), "response": response})
        data = root / "testmini.json"
        data.write_text(json.dumps(rows))
        gens_path = root / "generations.jsonl"
        gens_path.write_text("".join(json.dumps(g) + "\n" for g in gens))
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            scored = score_generations("mathvista", data, gens_path, root / "scores.jsonl")
            times.append(time.perf_counter() - start)
        m = compute_metrics(scored)
    best, median = min(times), statistics.median(times)
    body = (
        f"`bench/eval.py`: `score_generations` (rules only, no judge) on {args.n:,} MathVista-format "
        f"generations — read `testmini.json` and the generations, extract the final and first answers, "
        f"normalise (letters, nearest option, integers, floats at precision, lists, units), compare, count "
        f"tokens, write `scores.jsonl`. One process, one thread; {args.repeat} runs.\n\n"
        f"| generations | best (s) | median (s) | per generation (ms) | target |\n|---|---|---|---|---|\n"
        f"| {args.n:,} | {best:.2f} | {median:.2f} | {1000 * median / args.n:.2f} | < 3 s |\n\n"
        f"Sanity: accuracy {100 * m['accuracy']:.1f}%, first attempt {100 * m['first_accuracy']:.1f}%, "
        f"format {100 * m['format_rate']:.1f}% on the generated mix."
    )
    record("Evaluation scoring", body)


if __name__ == "__main__":
    main()
