"""The TRL adapter, called the way TRL calls it and inside a real GRPOTrainer on the tiny model."""

from __future__ import annotations

import pytest

from srpo.response import five_block_response
from srpo.reward import RewardConfig, score
from srpo.reward.trl import SRPORewardFunction, completion_text, srpo_reward_func

RIGHT_AFTER_WRONG = five_block_response("2+2=5", "\\boxed{5}", "I added wrong.", "2+2=4", "\\boxed{4}")


class Recorder:
    def __init__(self):
        self.metrics: dict[str, list[float]] = {}
        self.extra: dict[str, list] = {}

    def log_metric(self, name: str, value: float) -> None:
        self.metrics.setdefault(name, []).append(value)

    def log_extra(self, column: str, values: list) -> None:
        self.extra.setdefault(column, []).extend(values)


def test_called_like_trl_with_conversational_completions():
    rec = Recorder()
    reward = srpo_reward_func()
    completions = [
        [{"role": "assistant", "content": RIGHT_AFTER_WRONG}],
        [{"role": "assistant", "content": [{"type": "text", "text": RIGHT_AFTER_WRONG}]}],
        [{"role": "assistant", "content": "garbage"}],
    ]
    rewards = reward(
        prompts=[[{"role": "user", "content": "2+2?"}]] * 3,
        completions=completions,
        completion_ids=[[1, 2, 3]] * 3,
        answer=["4", "4", "4"],
        image=[None] * 3,
        trainer_state=object(),
        log_metric=rec.log_metric,
        log_extra=rec.log_extra,
    )
    expected = score(RIGHT_AFTER_WRONG, "4").total
    assert rewards == [expected, expected, 0.0]
    assert rec.metrics["srpo/format"] == [pytest.approx(1 / 3)]
    assert rec.metrics["srpo/wrong_to_right"] == [pytest.approx(2 / 3)]
    assert set(rec.metrics) >= {
        f"srpo/{c}" for c in ("format", "accuracy", "reflection", "effectiveness", "length")
    }
    assert rec.extra["srpo_transition"] == ["wrong_to_right", "wrong_to_right", ""]


def test_gold_from_solution_column_and_choices():
    reward = srpo_reward_func("authors")
    text = five_block_response("t", "\\boxed{A}", "r", "t", "\\boxed{B}")
    rewards = reward(
        prompts=["q"], completions=[text], completion_ids=[[1]], solution=["12"], choices=[["10", "12"]]
    )
    assert rewards == [score(text, "12", RewardConfig.preset("authors"), choices=["10", "12"]).total]
    assert rewards[0] >= 1.0  # wrong → right under the authors' preset


def test_missing_gold_column_is_a_clear_error():
    with pytest.raises(
        ValueError, match="column named answer, ground_truth, gold or solution; got columns \\['question'\\]"
    ):
        srpo_reward_func()(prompts=["q"], completions=["c"], completion_ids=[[1]], question=["x"])


def test_completion_text_forms():
    assert completion_text("plain") == "plain"
    assert completion_text([{"role": "assistant", "content": "hi"}]) == "hi"
    assert (
        completion_text(
            [{"role": "assistant", "content": [{"type": "image"}, {"type": "text", "text": "a"}]}]
        )
        == "a"
    )
    assert completion_text(None) == ""


def test_token_counts_come_from_the_tokenizer_and_completion_ids():
    class WordTokenizer:  # the interface a HF tokenizer offers: __call__ → {"input_ids": [...]}
        def __call__(self, text, add_special_tokens=False):
            return {"input_ids": text.split()}

    reward = SRPORewardFunction(tokenizer=WordTokenizer())
    [b] = reward.breakdowns([RIGHT_AFTER_WRONG], completion_ids=[list(range(40))], answer=["4"])
    assert b.response_tokens == 40  # L = the generated token count
    assert b.first_attempt_tokens == 2  # "2+2=5" + "\boxed{5}" in words


def test_override_fields_by_keyword():
    assert srpo_reward_func("paper", length_weight=0.0).config.length_weight == 0.0
    assert srpo_reward_func(RewardConfig(), format_weight=1.0).config.format_weight == 1.0


@pytest.mark.slow
def test_real_grpo_trainer_steps_on_the_tiny_model(tmp_path, tiny_model_dir):
    """Two GRPO steps on CPU: TRL calls our function, uses its rewards and shows our metrics in its logs."""
    datasets = pytest.importorskip("datasets")
    trl = pytest.importorskip("trl")
    from PIL import Image

    from srpo.models.loading import load_model, load_processor

    processor = load_processor(tiny_model_dir)
    model = load_model(tiny_model_dir)

    image = Image.new("RGB", (56, 56), (200, 30, 30))
    rows = [
        {
            "prompt": [
                {
                    "role": "user",
                    "content": [{"type": "image"}, {"type": "text", "text": f"What is {i}+{i}?"}],
                }
            ],
            "image": image,
            "answer": str(2 * i),
        }
        for i in range(4)
    ]
    dataset = datasets.Dataset.from_list(rows)

    calls = []

    class Recording(SRPORewardFunction):
        def breakdowns(self, completions, completion_ids, **columns):
            out = super().breakdowns(completions, completion_ids, **columns)
            calls.append((len(completions), [len(ids) for ids in completion_ids], columns["answer"], out))
            return out

    args = trl.GRPOConfig(
        output_dir=str(tmp_path / "out"),
        per_device_train_batch_size=4,
        num_generations=4,
        max_completion_length=12,
        max_steps=2,
        learning_rate=1e-5,
        logging_steps=1,
        report_to="none",
        use_cpu=True,
        bf16=False,
        save_strategy="no",
        seed=0,
    )
    trainer = trl.GRPOTrainer(
        model=model,
        reward_funcs=Recording(tokenizer=processor),
        args=args,
        train_dataset=dataset,
        processing_class=processor,
    )
    trainer.train()

    assert len(calls) >= 2
    n, lengths, answers, results = calls[0]
    assert n == 4 and all(0 < k <= 12 for k in lengths)
    assert all(b.response_tokens in (0, *lengths) for b in results)
    assert set(answers) <= {"0", "2", "4", "6"}
    logged = {k for entry in trainer.state.log_history for k in entry}
    assert {"srpo/format", "srpo/accuracy", "srpo/reflection", "srpo/effectiveness", "srpo/length"} <= logged
    assert any(k.startswith("rewards/srpo") for k in logged)
