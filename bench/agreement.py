"""How often srpo's rules give a benchmark's official verdict, and the gold-echo invariant.

    .venv/bin/python bench/agreement.py
    .venv/bin/python bench/agreement.py --published mathvista DATA 'results/*/output_*.json' [...]

1. Agreement on srpo's own official-layout sets (`tests/fixtures/eval/official/`: hand-written responses in each
   benchmark's published results layout, each with the verdict its official scoring code gives): the share of
   rows whose official verdict srpo reproduces from the raw response (rules only) and from the stored official
   extraction, who read each answer (the rules, or the rules' fallback reading), the share left to an LLM judge,
   and the agreement when that share is scored by the official extraction (a judge as good as the official one).
2. The gold-echo invariant on every task's fixture data: a response whose final answer is the row's own gold,
   spelled as the data spells it, must score right — bare in the final answer block, inside a boxed sentence
   there, and as the last sentence of a plain response with no blocks (which exercises the readers).
3. Optionally (`--published BENCH DATA GLOB`, repeatable): the same agreement on published results files you have
   on disk (e.g. MathVista's `results/`, MATH-V's `outputs/`, MMMU-Pro's `output/`), which srpo does not ship;
   and (`--echo BENCH DATA`) the gold-echo invariant on official data files.

Writes the "Answer judging" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import glob
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import record  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from benchmark_fixtures import TASK_DATA  # noqa: E402
from srpo.eval.scoring import score_response  # noqa: E402
from srpo.response import five_block_response  # noqa: E402
from srpo.tasks import get_task, task_names  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures" / "eval"
OWN_SETS = [
    (
        "mathvista",
        FIX / "mathvista" / "testmini.json",
        sorted((FIX / "official").glob("mathvista_output_*.json")),
    ),
    (
        "mathvision",
        FIX / "mathvision" / "data" / "test.jsonl",
        [FIX / "official" / "mathvision_output.jsonl"],
    ),
    ("mmmu_pro", FIX / "mmmu_pro" / "standard (10 options)", [FIX / "official" / "mmmu_pro_output.jsonl"]),
    ("olympiadbench", FIX / "olympiadbench", [FIX / "official" / "olympiadbench_merged.json"]),
    ("mathverse", FIX / "mathverse" / "testmini.json", [FIX / "official" / "mathverse_output.json"]),
]
ECHO_DATA = TASK_DATA


def agreement(benchmark: str, data: Path, files: list[Path]) -> dict:
    task = get_task(benchmark)
    samples = {s.id: s for s in task.load(data, images=False)}
    n = raw_ok = ext_ok = ext_n = judged_ok = judged_n = 0
    read_by: Counter = Counter()
    for path in files:
        for row in task.read_results(path):
            if row.verdict is None or row.id not in samples:
                continue
            sample = samples[row.id]
            n += 1
            rules = task.extract(row.response, block=False, sample=sample)
            read_by["rules" if rules is not None else "fallback"] += 1
            raw = task.judge(row.response, sample, block=False).correct
            raw_ok += raw == row.verdict
            if row.extraction is not None:
                ext_n += 1
                official = task.verdict(row.extraction, sample).correct
                ext_ok += official == row.verdict
                # rules first; what they cannot read goes to a judge that extracts as the official one did
                judged_n += 1
                judged_ok += (raw if rules is not None else official) == row.verdict
    return {
        "n": n,
        "files": len(files),
        "raw": raw_ok / n if n else float("nan"),
        "extraction": ext_ok / ext_n if ext_n else None,
        "rules": read_by["rules"] / n if n else 0.0,
        "judged": judged_ok / judged_n if judged_n == n and n else None,
    }


ECHO_SPELLINGS = {
    # how the gold is echoed → (response, prompt style)
    "bare in the answer block": (
        lambda g: five_block_response("Reading the figure.", "0", "Checking.", "Again.", g),
        "reflection",
    ),
    "a boxed sentence in the block": (
        lambda g: five_block_response(
            "Reading.", "0", "Checking.", "Again.", f"The final answer is $\\boxed{{{g}}}$."
        ),
        "reflection",
    ),
    "a plain response, no blocks": (
        lambda g: f"Working it out step by step.\n\nTherefore, the final answer is {g}.",
        "plain",
    ),
}


def gold_echo(name: str, paths: list[Path] | None = None) -> tuple[list[int], int]:
    """(rows judged right for each of ECHO_SPELLINGS, rows)."""
    task = get_task(name)
    right, total = [0] * len(ECHO_SPELLINGS), 0
    for path in ECHO_DATA.get(name, []) if paths is None else paths:
        for s in task.load(path, images=False):
            total += 1
            for i, (spell, style) in enumerate(ECHO_SPELLINGS.values()):
                right[i] += score_response(task, s, spell(s.answer), prompt_style=style)["correct"]
    return right, total


def _echo_cells(right: list[int], total: int) -> str:
    return " | ".join(f"{r:,} ({r / total:.4f})" if total else "-" for r in right)


def table(rows: list[tuple[str, dict]]) -> str:
    lines = [
        "| benchmark | results files | rows | agreement from the raw response (rules, then fallback) "
        "| from the official extraction | read by rules | left to the judge | rules, then an official-grade judge |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, a in rows:
        ext = "-" if a["extraction"] is None else f"{a['extraction']:.4f}"
        judged = "-" if a["judged"] is None else f"{a['judged']:.4f}"
        lines.append(
            f"| {name} | {a['files']} | {a['n']:,} | {a['raw']:.4f} | {ext} | {100 * a['rules']:.1f}% "
            f"| {100 - 100 * a['rules']:.1f}% | {judged} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--published",
        nargs=3,
        action="append",
        default=[],
        metavar=("BENCH", "DATA", "GLOB"),
        help="also measure on published results files on disk (not shipped with srpo)",
    )
    parser.add_argument(
        "--echo",
        nargs=2,
        action="append",
        default=[],
        metavar=("BENCH", "DATA"),
        help="also check the gold-echo invariant on an official data file on disk",
    )
    args = parser.parse_args()

    own = [(name, agreement(name, data, files)) for name, data, files in OWN_SETS]
    echo = [(name, *gold_echo(name)) for name in task_names()]
    body = [
        "`bench/agreement.py`: srpo's rules against each benchmark's official verdicts.",
        "",
        "### srpo's own official-layout sets",
        "",
        "Hand-written responses in each benchmark's published results layout "
        "(`tests/fixtures/eval/official/`), each with the verdict the benchmark's own scoring code gives; "
        "they cover the rule classes of issue 11 (stated numbers and number words, options named by text or "
        "value, leading and out-of-range letters, `Answer:` lines, markdown and `\\text{}` wrappers, the "
        "final-answer line and several boxes, no last-number guess, units, 2-decimal values). "
        "",
        "How to read the columns: *from the raw response* is srpo with no LLM (its rules, then the task's "
        "fallback reading, e.g. MathVista's nearest option). *Read by rules* is the share the rules decided; "
        "the rest is what `--judge-model` would be asked (the judge share that `metrics.json` and the report "
        "give per run). *Rules, then an official-grade judge* scores the rows the rules could not read with "
        "the benchmark's own stored extraction, i.e. a judge that extracts as the official extractor did "
        "(GPT-4 for MathVista): the ceiling a good judge reaches. A real judge's quality cannot be measured "
        "offline here.",
        "",
        table(own),
        "",
        "### Gold echoed back as the final answer (every task, its fixture data)",
        "",
        "Rows judged right when the response's final answer is the row's own gold, spelled three ways.",
        "",
        f"| task | rows | {' | '.join(ECHO_SPELLINGS)} |",
        "|---|---:|" + "---:|" * len(ECHO_SPELLINGS),
        *[f"| {name} | {total} | {_echo_cells(right, total)} |" for name, right, total in echo],
    ]
    if args.published:
        published = []
        for bench, data, pattern in args.published:
            files = [Path(p) for p in sorted(glob.glob(pattern))]
            published.append((bench, agreement(bench, Path(data), files)))
        body += [
            "",
            "### Published results files (on disk here, not shipped with srpo)",
            "",
            "Measured with `--published BENCH DATA GLOB` on the benchmarks' own published per-sample outputs "
            "and their stored official verdicts (MathVista: the 11 models of its `results/`; MATH-V: its "
            "`outputs/` files that are under 4 MB; MMMU-Pro: GPT-4o's four `output/` files).",
            "",
            table(published),
        ]
    if args.echo:
        body += [
            "",
            "### Gold echoed back, on official data files (on disk here, not shipped with srpo)",
            "",
            f"| benchmark | data | rows | {' | '.join(ECHO_SPELLINGS)} |",
            "|---|---|---:|" + "---:|" * len(ECHO_SPELLINGS),
        ]
        for bench, data in args.echo:
            right, total = gold_echo(bench, [Path(data)])
            body.append(f"| {bench} | `{Path(data).name}` | {total:,} | {_echo_cells(right, total)} |")
    record("Answer judging", "\n".join(body))


if __name__ == "__main__":
    main()
