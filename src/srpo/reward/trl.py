"""The SRPO reward as a TRL (1.16) GRPOTrainer reward function.

```python
from srpo.reward.trl import srpo_reward_func
trainer = GRPOTrainer(model, reward_funcs=srpo_reward_func(tokenizer=processor), train_dataset=ds, ...)
```

The dataset needs the gold answer in an `answer` (or `solution`) column and may carry `choices`, `question`,
`meta` and a `data_source` (or `task`) column naming the task that judges the answers (`srpo.tasks`; the
function's default task otherwise). TRL calls
the function with `prompts, completions, completion_ids` and every dataset column as lists, plus
`log_metric` / `log_extra`; it returns one float per completion, and logs the mean of each reward component
(`srpo/format`, …) and the transition rates as trainer metrics, and each completion's transition in the
completions table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from srpo.reward.config import TRANSITIONS, RewardConfig
from srpo.reward.reference import GOLD_KEYS, reference_of
from srpo.reward.scoring import COMPONENTS, RewardBreakdown, score
from srpo.reward.tokens import default_token_counter, tokenizer_counter
from srpo.tasks import DEFAULT_TASK

ROW_COLUMNS = ("choices", "question", "meta", "data_source", "task", "id")
"""Dataset columns the gold reference is built from (besides the gold itself)."""


def completion_text(completion: Any) -> str:
    """The text of one TRL completion: a string, or a conversation whose last message's content is a string
    or a list of parts (the text parts are joined)."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Sequence) and completion:
        content = completion[-1].get("content", "") if isinstance(completion[-1], dict) else ""
        if isinstance(content, str):
            return content
        if isinstance(content, Sequence):
            return "".join(
                p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"
            )
    return ""


def _gold_column(columns: dict[str, Any], n: int) -> list[Any]:
    for name in GOLD_KEYS:
        if name in columns and columns[name] is not None:
            return list(columns[name])
    raise ValueError(
        f"the SRPO reward needs the gold answer in a dataset column named {', '.join(GOLD_KEYS[:-1])} or {GOLD_KEYS[-1]}; "
        f"got columns {sorted(k for k in columns if k not in ('trainer_state', 'log_metric', 'log_extra'))}"
    )


class SRPORewardFunction:
    """A TRL reward function (callable) scoring completions with the SRPO reward."""

    def __init__(
        self,
        config: RewardConfig | None = None,
        tokenizer: Any = None,
        name: str = "srpo",
        task: str = DEFAULT_TASK,
    ) -> None:
        self.config = config or RewardConfig.preset("paper")
        self.tokenizer = tokenizer
        self.task = task
        """The task that judges rows whose columns name none (a `srpo.tasks` name)."""
        self.__name__ = name  # TRL names the reward in its logs after the function's __name__
        self._count = tokenizer_counter(tokenizer) if tokenizer is not None else default_token_counter()

    def breakdowns(
        self, completions: Sequence[Any], completion_ids: Sequence[Sequence[int]] | None, **columns: Any
    ) -> list[RewardBreakdown]:
        """The full breakdown of each completion (what `__call__` sums and logs)."""
        golds = _gold_column(columns, len(completions))
        row_columns = {k: v for k, v in columns.items() if k in ROW_COLUMNS and v is not None}
        out = []
        for i, completion in enumerate(completions):
            row = {k: v[i] for k, v in row_columns.items()}
            gold, task = reference_of({**row, "answer": golds[i]}, None, None, self.task)
            # With the policy's tokenizer, L is the generated token count; without one, the default counter
            # measures both L and the first attempt, so the ratio the length term depends on stays consistent.
            n_tokens = None
            if self.tokenizer is not None and completion_ids is not None:
                n_tokens = len(completion_ids[i])
            out.append(
                score(
                    completion_text(completion),
                    gold,
                    self.config,
                    count_tokens=self._count,
                    response_tokens=n_tokens,
                    task=task,
                )
            )
        return out

    def __call__(
        self,
        prompts: Sequence[Any],
        completions: Sequence[Any],
        completion_ids: Sequence[Sequence[int]] | None = None,
        log_metric: Callable[[str, float], None] | None = None,
        log_extra: Callable[[str, list], None] | None = None,
        **columns: Any,
    ) -> list[float]:
        columns.pop("trainer_state", None)
        columns.pop("environments", None)
        results = self.breakdowns(completions, completion_ids, **columns)
        if results and log_metric is not None:
            metrics = [b.metrics() for b in results]
            for name in (*COMPONENTS, "first_correct", "final_correct", *TRANSITIONS):
                log_metric(f"{self.__name__}/{name}", sum(m[name] for m in metrics) / len(metrics))
        if results and log_extra is not None:
            log_extra(f"{self.__name__}_transition", [b.transition or "" for b in results])
        return [b.total for b in results]


def srpo_reward_func(
    config: RewardConfig | str | None = None,
    tokenizer: Any = None,
    name: str = "srpo",
    task: str = DEFAULT_TASK,
    **overrides: Any,
) -> SRPORewardFunction:
    """A TRL reward function. `config`: a RewardConfig or a preset name (default "paper"); `overrides`
    change single fields; `tokenizer`: the policy's tokenizer or processor, for exact token counts; `task`:
    the task that judges rows without a `data_source` column."""
    if config is None or isinstance(config, str):
        config = RewardConfig.preset(config or "paper", **overrides)
    elif overrides:
        config = config.replace(**overrides)
    return SRPORewardFunction(config, tokenizer=tokenizer, name=name, task=task)
