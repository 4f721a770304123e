"""The `synthetic` teacher — for the bundled synthetic data only.

A deterministic stand-in for an LLM teacher, so the quickstart runs offline: it writes the reflection from
the policy's attempt (its answer, whether it was right) and the revised reasoning from the generator's own
gold rationale, which the synthetic data carries. It knows nothing the data does not say; on real data use
an LLM teacher (`--backend openai --teacher-model …`).
"""

from __future__ import annotations

import hashlib
from typing import Any

from srpo.curate.runner import RecordError
from srpo.data.sample import Sample

_RIGHT = (
    "Let me check my reasoning step by step. {steps} Each step holds, and the answer {pred} is consistent "
    "with the image, so I keep it.",
    "Re-reading my work: {steps} The computation checks out; {pred} is supported by what the image shows.",
)
_WRONG = (
    "Let me check my reasoning. I answered {pred}, but that does not match what the image shows: I did not "
    "read the values carefully. I should redo the steps from the figure.",
    "Looking back, my answer {pred} is not supported by the image; a step of my reading went wrong. Let me "
    "recompute from the values shown.",
)


def synthetic_reflection(sample: Sample, attempt: dict[str, Any]) -> dict[str, str]:
    """`{"reflection", "revised_reasoning"}` for one attempt, built from the sample's gold rationale.
    Raises RecordError when the sample has no rationale (then this teacher cannot be used)."""
    rationale = (sample.rationale or "").strip()
    if not rationale:
        raise RecordError(
            f"record {sample.id}: the synthetic teacher needs the sample's gold rationale; this sample has "
            "none (use an LLM teacher for real data)"
        )
    pick = int(hashlib.sha1(sample.id.encode()).hexdigest(), 16)
    pred = attempt.get("pred") or "nothing"
    if attempt.get("correct"):
        first_step = rationale.split(". ")[0].rstrip(".")
        reflection = _RIGHT[pick % len(_RIGHT)].format(steps=f"{first_step}.", pred=pred)
    else:
        reflection = _WRONG[pick % len(_WRONG)].format(pred=pred)
    revised = (
        rationale if sample.answer.strip() in rationale else f"{rationale} So the answer is {sample.answer}."
    )
    return {"reflection": reflection, "revised_reasoning": revised}
