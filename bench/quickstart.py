"""Time `srpo quickstart` with its default sizes, stage by stage, and record what it learned.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/quickstart.py [--out DIR]

Target (issue: quickstart): the whole pipeline in under 10 minutes on 2 CPU cores, with the SFT model
writing the five-block format on at least half of the held-out prompts.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from _results import record

from srpo.quickstart import STAGES, STATE_DIR, run_quickstart


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="Folder for the run (default: a fresh temporary one).")
    args = parser.parse_args()
    out = Path(args.out or tempfile.mkdtemp(prefix="srpo-bench-quickstart-")) / "qs"
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    metrics = run_quickstart(out, fresh=True)
    total = time.perf_counter() - t0
    load_after = os.getloadavg()[0]

    rows = ["| stage | seconds |", "|---|---:|"]
    for stage in STAGES:
        info = json.loads((out / STATE_DIR / f"{stage.name}.json").read_text())
        rows.append(f"| {stage.name} | {info['seconds']:.0f} |")
    rows.append(f"| **total** | **{total:.0f}** ({total / 60:.1f} min; target < 10 min) |")
    quality = ["| model | final acc | first acc | five-block format |", "|---|---:|---:|---:|"]
    for label in ("base", "sft", "grpo"):
        m = metrics[label]
        quality.append(
            f"| {label} | {100 * m['accuracy']:.1f}% | {100 * m['first_accuracy']:.1f}% | {100 * m['format_rate']:.1f}% |"
        )
    body = (
        "`bench/quickstart.py`: `srpo quickstart` with its default sizes (360 synthetic problems, 2 attempts, "
        "6 SFT epochs, 3 GRPO steps, 54 held-out problems), from nothing, one torch thread. "
        f"Load average (1 min): {load_before:.1f} before, {load_after:.1f} after.\n\n"
        + "\n".join(rows)
        + "\n\nHeld-out results (target: SFT five-block format ≥ 50%):\n\n"
        + "\n".join(quality)
    )
    record("Quickstart", body)


if __name__ == "__main__":
    main()
