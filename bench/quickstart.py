"""`srpo quickstart` with its default sizes, from nothing, once per seed: stage times, what each stage learned, and
whether the learning targets hold on every seed.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/quickstart.py [--seeds 0,1,2] [--out DIR]

Targets (issue: RL that learns), on the held-out split, for every seed:
- SFT final accuracy above the base policy's;
- GRPO final accuracy at least SFT's + 10 points (floor + 5);
- GRPO first-attempt accuracy above SFT's;
- mean GRPO training reward over the last fifth of the steps at least the first fifth's + 0.15;
- wrong→right at least right→wrong for the GRPO model;
- blank images cost the GRPO model at least 10 points of final accuracy;
- the whole run within 8 minutes on this 2-core machine (aim: 6), measured with the machine's load beside it.
The slow test `tests/test_quickstart_learns.py` asserts the directions on one seed with a cut-down run; the
margins it uses are the smallest ones seen here.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from _results import record

from srpo.quickstart import STATE_DIR, QuickstartConfig, run_quickstart, stages_for


def targets(metrics: dict, grpo_stage: dict) -> list[tuple[str, float, float]]:
    """(target, measured margin, required margin) for one run; a target holds when margin >= required."""
    base, sft, grpo, blank = (metrics[k] for k in ("base", "sft", "grpo", "grpo_blank"))
    t = grpo["transitions"]
    trend = grpo_stage.get("reward_last_fifth", 0.0) - grpo_stage.get("reward_first_fifth", 0.0)
    return [
        ("SFT final > base final (pts)", 100 * (sft["accuracy"] - base["accuracy"]), 0.0001),
        (
            "GRPO final − SFT final (pts; target 10, floor 5)",
            100 * (grpo["accuracy"] - sft["accuracy"]),
            10.0,
        ),
        ("GRPO first − SFT first (pts)", 100 * (grpo["first_accuracy"] - sft["first_accuracy"]), 0.0001),
        ("GRPO reward, last fifth − first fifth", trend, 0.15),
        ("GRPO wrong→right − right→wrong (pts)", 100 * (t["wrong_to_right"] - t["right_to_wrong"]), 0.0),
        ("GRPO final: image − blank (pts)", 100 * (grpo["accuracy"] - blank["accuracy"]), 10.0),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="Folder for the runs (default: a fresh temporary one).")
    parser.add_argument("--seeds", default="0", help="Comma-separated seeds, e.g. 0,1,2.")
    parser.add_argument("--no-record", action="store_true", help="Print only; leave bench/RESULTS.md alone.")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    root = Path(args.out or tempfile.mkdtemp(prefix="srpo-bench-quickstart-"))
    runs = []
    for seed in seeds:
        out = root / f"seed{seed}"
        load_before = os.getloadavg()
        t0 = time.perf_counter()
        metrics = run_quickstart(out, fresh=True, seed=seed)
        total = time.perf_counter() - t0
        stages = {
            s.name: json.loads((out / STATE_DIR / f"{s.name}.json").read_text())
            for s in stages_for(QuickstartConfig(seed=seed))
        }
        runs.append(
            {
                "seed": seed,
                "metrics": metrics,
                "stages": stages,
                "total": total,
                "load": (load_before, os.getloadavg()),
            }
        )

    cfg = QuickstartConfig()
    stage_names = [s.name for s in stages_for(cfg)]
    head = "| stage | " + " | ".join(f"seed {r['seed']} (s)" for r in runs) + " |"
    rows = [head, "|---|" + "---:|" * len(runs)]
    for name in stage_names:
        rows.append(f"| {name} | " + " | ".join(f"{r['stages'][name]['seconds']:.0f}" for r in runs) + " |")
    rows.append(
        "| **total** | "
        + " | ".join(f"**{r['total']:.0f}** ({r['total'] / 60:.1f} min)" for r in runs)
        + " |"
    )
    rows.append(
        "| load average (1 / 5 / 15 min) before → after | "
        + " | ".join(
            f"{r['load'][0][0]:.1f}/{r['load'][0][1]:.1f}/{r['load'][0][2]:.1f} → "
            f"{r['load'][1][0]:.1f}/{r['load'][1][1]:.1f}/{r['load'][1][2]:.1f}"
            for r in runs
        )
        + " |"
    )

    quality = [
        "| seed | model | final acc | first acc | right→right | wrong→right | right→wrong | wrong→wrong | format |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        for label in ("base", "sft", "grpo", "grpo_blank"):
            m = r["metrics"][label]
            t = m["transitions"]
            quality.append(
                f"| {r['seed']} | {label} | {100 * m['accuracy']:.1f}% | {100 * m['first_accuracy']:.1f}% | "
                + " | ".join(
                    f"{100 * t[k]:.1f}%"
                    for k in ("right_to_right", "wrong_to_right", "right_to_wrong", "wrong_to_wrong")
                )
                + f" | {100 * m['format_rate']:.1f}% |"
            )
    trends = ["| seed | GRPO reward, first fifth | last fifth |", "|---|---:|---:|"]
    for r in runs:
        g = r["stages"]["grpo"]
        trends.append(
            f"| {r['seed']} | {g.get('reward_first_fifth', 0):.3f} | {g.get('reward_last_fifth', 0):.3f} |"
        )

    checks = ["| target | " + " | ".join(f"seed {r['seed']}" for r in runs) + " | smallest |", "|---|"]
    checks[1] += "---:|" * (len(runs) + 1)
    per_run = [targets(r["metrics"], r["stages"]["grpo"]) for r in runs]
    for i, (name, _, need) in enumerate(per_run[0]):
        values = [p[i][1] for p in per_run]
        cells = [f"{v:+.2f} {'✓' if v >= need else '✗'}" for v in values]
        checks.append(f"| {name} | " + " | ".join(cells) + f" | {min(values):+.2f} |")
    n_test = runs[0]["metrics"]["grpo"]["n"]
    body = (
        f"`bench/quickstart.py --seeds {','.join(map(str, seeds))}`: `srpo quickstart` with its default settings "
        f"(tasks `{cfg.tasks}`, {cfg.n} problems, {n_test} held out, {cfg.instruct_problems} instruct problems, "
        f"{cfg.sft_epochs:g} SFT epochs, {cfg.grpo_steps} GRPO steps, reward `{cfg.reward_preset}`), from nothing, "
        "one torch thread, seeds run one after another. The machine's 2 cores are shared with other jobs: the "
        "load average is given beside the times.\n\n"
        + "\n".join(rows)
        + "\n\nHeld-out results per stage (transitions are shares of all responses):\n\n"
        + "\n".join(quality)
        + "\n\n"
        + "\n".join(trends)
        + "\n\nTargets (✓ = met; margins in the units of the target):\n\n"
        + "\n".join(checks)
    )
    print(body)
    if not args.no_record:
        record("Quickstart", body)


if __name__ == "__main__":
    main()
