"""`srpo curate filter`: the RL prompt set — records whose pass rate over K attempts lies in a band.

Prompts the policy always solves or never solves give GRPO no signal; the paper keeps [0.1, 0.9].

Output row: a native srpo sample (`Sample.to_dict()`, readable by `srpo.data.readers.read_samples`), with
`meta.pass_rate`, `meta.attempts` (K) and `meta.image_root` (where its relative image paths live)::

    {"id", "question", "answer", "images", "choices", "rationale",
     "meta": {..., "pass_rate": float, "attempts": int, "image_root": str}}

`srpo curate export --format trl|verl|easyr1|openrlhf` turns it into an engine's prompt format.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from srpo.data.sample import Sample
from srpo.journal import iter_jsonl


@dataclass
class FilterReport:
    output: Path
    kept: int = 0
    dropped: Counter = field(default_factory=Counter)

    def summary(self) -> str:
        lines = [f"filter: kept {self.kept} prompts → {self.output}"]
        lines += [
            f"  dropped {n}: {reason}" for reason, n in sorted(self.dropped.items(), key=lambda x: -x[1])
        ]
        return "\n".join(lines)


def filter_prompts(
    answers: str | os.PathLike, output: str | os.PathLike, *, min_pass: float = 0.1, max_pass: float = 0.9
) -> FilterReport:
    """Keep the answered records with `min_pass <= pass_rate <= max_pass`; write them as samples."""
    if not 0.0 <= min_pass <= max_pass <= 1.0:
        raise ValueError(f"need 0 <= --min-pass <= --max-pass <= 1, got {min_pass} and {max_pass}")
    report = FilterReport(Path(output))
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(str(output) + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for row in iter_jsonl(answers):
            try:
                sample = Sample.from_dict(row["sample"])
                if row.get("pass_rate") is None and "pass_rate" in row:
                    report.dropped[
                        "gold answer not isolated (attempts not graded; see srpo data inspect)"
                    ] += 1
                    continue
                pass_rate = float(row["pass_rate"])
                k = len(row["attempts"])
            except (KeyError, TypeError, ValueError):
                report.dropped["malformed answers row"] += 1
                continue
            if pass_rate < min_pass:
                report.dropped[f"pass rate below {min_pass}"] += 1
                continue
            if pass_rate > max_pass:
                report.dropped[f"pass rate above {max_pass}"] += 1
                continue
            sample.meta.update({"pass_rate": pass_rate, "attempts": k})
            if row.get("image_root"):
                sample.meta["image_root"] = row["image_root"]
            f.write(json.dumps(sample.to_dict(), ensure_ascii=False) + "\n")
            report.kept += 1
    os.replace(tmp, output)
    return report
