"""The `synthetic` teacher backend — for the bundled synthetic data only.

A deterministic stand-in for an LLM teacher, so the quickstart runs offline: it writes the reflection from
the policy's attempt (its answer, whether it was right) and the revised reasoning from the generator's own
gold rationale, which the synthetic data carries. It knows nothing the data does not say; on real data use
an LLM teacher (`--backend openai --teacher-model …`).

It is a registered backend like any other (`--backend synthetic`): `srpo curate reflect` sends it the same
request it sends a real teacher, and the request's `context` carries the sample and the attempt it is about
(a real server never sees that). It answers with the JSON object the teacher is asked for.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from srpo.data.sample import Sample
from srpo.llm.backend import Backend
from srpo.llm.request import ChatRequest, ChatResult, LLMError
from srpo.llm.settings import LLMSettings

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
    Raises ValueError when the sample has no rationale (then this teacher cannot be used)."""
    rationale = (sample.rationale or "").strip()
    if not rationale:
        raise ValueError(
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


class SyntheticTeacher(Backend):
    """Answers a teacher request from its `context` (`{"sample": Sample, "attempt": dict}`)."""

    name = "synthetic"
    enforce_timeout = False
    cacheable = False  # deterministic and free: nothing to save
    supports_json_schema = False

    def __init__(self, settings: LLMSettings) -> None:
        self.model = "synthetic"

    async def complete(self, request: ChatRequest, timeout: float) -> ChatResult:
        context = request.context or {}
        sample, attempt = context.get("sample"), context.get("attempt")
        if not isinstance(sample, Sample) or not isinstance(attempt, dict):
            raise LLMError(  # "unreachable": no request of this kind can succeed, so the run stops early
                "the synthetic backend only writes teacher reflections (srpo curate reflect --backend synthetic)",
                retryable=False,
                kind="unreachable",
            )
        try:
            reply = synthetic_reflection(sample, attempt)
        except ValueError as e:
            raise LLMError(str(e), retryable=False) from None
        return ChatResult(json.dumps(reply, ensure_ascii=False), "stop")
