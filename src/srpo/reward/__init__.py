"""The SRPO reflection-aware reward, and adapters that plug it into RL engines.

```python
from srpo.reward import RewardConfig, score
b = score(response, gold, config=RewardConfig.preset("paper"))
b.format, b.accuracy, b.reflection, b.effectiveness, b.length, b.total
```

Adapters, each a small module importable on its own: `srpo.reward.trl` (TRL GRPOTrainer),
`srpo.reward.verl` (verl custom reward function), `srpo.reward.easyr1` (EasyR1 batch reward),
`srpo.reward.openrlhf` (OpenRLHF `--remote_rm_url` file). `srpo reward score` inspects a JSONL of responses.
"""

from srpo.reward.config import PRESETS, TRANSITIONS, RewardConfig
from srpo.reward.scoring import COMPONENTS, RewardBreakdown, length_factor, score
from srpo.reward.tokens import approx_token_count, default_token_counter, qwen_token_count, tokenizer_counter

__all__ = [
    "COMPONENTS",
    "PRESETS",
    "TRANSITIONS",
    "RewardBreakdown",
    "RewardConfig",
    "approx_token_count",
    "default_token_counter",
    "length_factor",
    "qwen_token_count",
    "score",
    "tokenizer_counter",
]
