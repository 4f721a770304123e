"""One judge: curation's grading, the reward (and every adapter) and evaluation give the same verdict on the
same answer blocks, and every task judges its own gold, echoed back, as right."""

from __future__ import annotations

import json

import pytest

from benchmark_fixtures import BENCHMARK_DATA, TASK_DATA
from srpo.curate.answer import grade_attempt
from srpo.data.sample import Sample
from srpo.eval.scoring import score_response
from srpo.response import five_block_response
from srpo.reward import score
from srpo.reward.easyr1 import compute_score as easyr1_score
from srpo.reward.openrlhf import breakdowns as openrlhf_breakdowns
from srpo.reward.summary import score_file
from srpo.reward.trl import srpo_reward_func
from srpo.reward.verl import compute_score as verl_score
from srpo.tasks import get_task, task_names


def sample(answer: str, choices: list[str] | None = None, question: str = "What is it?", **meta) -> Sample:
    return Sample(id="q", question=question, answer=answer, choices=choices, meta=meta)


OPTIONS_J = [
    f"{v} m" for v in ("10.1", "20.2", "30.3", "40.4", "50.5", "60.6", "70.7", "80.8", "90.9", "150.507")
]

# (first answer block, final answer block, gold sample, expected first verdict, expected final verdict)
AGREEMENT = [
    ("The answer is 7", "7", sample("7"), True, True),
    ("Answer: B", "C", sample("B", ["1", "2", "3"]), True, False),
    ("(1, 2)", "(2, 1)", sample("(1,2)"), True, False),
    ("$4 \\pi$", "4\\pi", sample("4\\pi"), True, True),
    ("B. 16.36%", "A. 12%", sample("B", ["12%", "16.36%"]), True, False),
    ("B. 16.36%", "16.36%", sample("16.36%"), True, True),
    ("J. 150.507 m", "150.507 m", sample("J", OPTIONS_J), True, True),
    ("\\( \\text{G} \\)", "**Answer:** C", sample("G", OPTIONS_J), True, False),
    ("**Answer:** C", "C", sample("C", OPTIONS_J), True, True),
    ("\\boxed{\\frac{1}{2}}", "0.5", sample("1/2"), True, True),
    ("The area is 12 square units.", "12", sample("12"), True, True),
    ("4\\sqrt{3}", "C", sample("B", ["$2\\sqrt{3}$", "$4 \\sqrt{3}$", "$8$"]), True, False),
    ("the square", "the circle", sample("the square"), True, False),
    ("", "I am not sure", sample("5"), False, False),
    ("x = 3", "3", sample("3"), True, True),
    ("\\boxed{12 \\text{ cm}}", "13 cm", sample("12"), True, False),
]


def five(first: str, final: str) -> str:
    return five_block_response("Reading the figure.", first, "Let me check that.", "Again, carefully.", final)


@pytest.mark.parametrize(("first", "final", "gold", "first_ok", "final_ok"), AGREEMENT)
def test_curation_reward_and_eval_agree(first, final, gold, first_ok, final_ok):
    task = get_task("math")
    response = five(first, final) if first else five("nothing", final).replace("nothing", "", 1)
    # curation: the policy's attempt is graded on its (first) answer block
    graded = grade_attempt(f"<think>t</think><answer>{first}</answer>", gold, task)
    # the reward: first and final answer blocks of the five-block response
    reward = score(response, gold, task=task)
    # evaluation: the final answer, with the first attempt beside it
    row = score_response(task, gold, response)
    assert (graded.correct, reward.first_correct, row["first_correct"]) == (first_ok,) * 3
    assert (reward.final_correct, row["correct"]) == (final_ok,) * 2


@pytest.mark.parametrize(("first", "final", "gold", "first_ok", "final_ok"), AGREEMENT)
def test_every_reward_adapter_agrees(first, final, gold, first_ok, final_ok, tmp_path):
    response = five(first or "nothing", final)
    expected = score(response, gold).metrics()
    label = {"answer": gold.answer, "choices": gold.choices}
    verl = verl_score("math", response, label)
    [easyr1] = easyr1_score([{"response": response, "ground_truth": label}])
    [openrlhf] = openrlhf_breakdowns([response], [""], [json.dumps(label)])
    reward_fn = srpo_reward_func()
    [trl] = reward_fn.breakdowns([response], None, answer=[gold.answer], choices=[gold.choices])
    for got in (verl, {**easyr1, "score": easyr1["overall"]}):
        assert (got["first_correct"], got["final_correct"], got["score"]) == (
            expected["first_correct"],
            expected["final_correct"],
            expected["total"],
        )
    assert openrlhf.metrics() == trl.metrics() == expected
    lines = tmp_path / "r.jsonl"
    lines.write_text(json.dumps({"response": response, **label}) + "\n")
    summary = score_file(lines)
    assert (summary.first_correct, summary.final_correct) == (
        int(expected["first_correct"]),
        int(expected["final_correct"]),
    )


def test_the_data_source_picks_the_task_in_verl_and_trl():
    """A MathVista row: the gold is the option text, the answer a letter (MathVista's own normalisation)."""
    gold = {"answer": "the circle", "choices": ["the square", "the circle"]}
    meta = {"question_type": "multi_choice", "answer_type": "text"}
    response = five("A", "B")
    verl = verl_score("AI4Math/MathVista", response, gold, {"meta": meta})
    assert (verl["first_correct"], verl["final_correct"]) == (0.0, 1.0)
    reward_fn = srpo_reward_func()
    [b] = reward_fn.breakdowns(
        [response],
        None,
        answer=["the circle"],
        choices=[gold["choices"]],
        data_source=["mathvista"],
        meta=[json.dumps(meta)],
    )
    assert (b.first_correct, b.final_correct) == (False, True)


# --------------------------------------------------------------------------------------- gold echoed back

FIXTURES = TASK_DATA


def test_every_task_has_fixtures():
    assert set(FIXTURES) == set(task_names())


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_each_rows_own_gold_echoed_back_is_right(name):
    task = get_task(name)
    samples = [s for path in FIXTURES[name] for s in task.load(path)]
    assert samples
    wrong = []
    for s in samples:
        for final in (s.answer, f"\\boxed{{{s.answer}}}"):
            row = score_response(task, s, five("0", final))
            reward = score(five("0", final), s, task=task)
            if not (row["correct"] and reward.final_correct):
                wrong.append((s.id, final))
    assert not wrong


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_a_gold_echoed_in_a_sentence_is_read_by_every_stage(name):
    """The readers, not just the comparison: the gold as the last sentence of a plain response (no blocks)
    and as a boxed sentence in an answer block; eval, curation and the reward must all read it."""
    task = get_task(name)
    wrong = []
    for s in (s for path in FIXTURES[name] for s in task.load(path)):
        plain = f"Working it out step by step.\n\nTherefore, the final answer is {s.answer}."
        block = f"The final answer is $\\boxed{{{s.answer}}}$."
        verdicts = (
            score_response(task, s, plain, prompt_style="plain")["correct"],
            grade_attempt(plain, s, task).correct,
            grade_attempt(f"<think>x</think><answer>{block}</answer>", s, task).correct,
            score_response(task, s, five("0", block))["correct"],
            score(five("0", block), s, task=task).final_correct,
        )
        if not all(verdicts):
            wrong.append((s.id, verdicts))
    assert not wrong


# ------------------------------------------------------- through the pipeline: curate → filter → export → reward

PIPELINE = BENCHMARK_DATA


def answers_to_try(sample):
    """Right and wrong answers in the spellings a policy uses: letters, option texts, values, boxes, units."""
    from srpo.grading import LETTERS, options_in_text

    out = [sample.answer, f"\\boxed{{{sample.answer}}}", "0", "The answer is 7."]
    for i, option in enumerate(sample.choices or []):
        out += [LETTERS[i], option, f"({LETTERS[i]}) {option}"]
    for letter, option in options_in_text(sample.question).items():
        out += [letter, option]
    try:
        value = float(sample.answer)
        out += [f"{value}", f"{value + 0.004}", f"{value:.1f} cm"]
    except ValueError:
        pass
    return out


@pytest.mark.parametrize("name", sorted(PIPELINE))
def test_the_reward_judges_exported_rows_as_curation_did(name, tmp_path):
    """Curation grades an attempt; the same answer in a five-block response, rewarded through each engine's
    adapter from the rows `curate export` wrote (as that engine hands them over), gets the same verdict."""
    import pyarrow.parquet as pq

    from srpo.curate.export import export
    from srpo.curate.filter import filter_prompts
    from srpo.records import AnswerRecord
    from srpo.train.data import load_rl_dataset

    task = get_task(name)
    samples = list(task.load(PIPELINE[name]))
    records = []
    for s in samples:
        attempt = grade_attempt("<think>t</think><answer>0</answer>", s, task)
        records.append(AnswerRecord(s.id, s, [attempt], 0.5, "policy", task.spec).to_dict())
    answers = tmp_path / "answers.jsonl"
    answers.write_text("".join(json.dumps(r) + "\n" for r in records))
    filter_prompts(answers, tmp_path / "rl.jsonl", min_pass=0.0, max_pass=1.0)
    rows = {}
    for fmt in ("trl", "verl", "easyr1", "openrlhf"):
        path = export(tmp_path / "rl.jsonl", fmt, tmp_path / fmt, file_format="jsonl")
        rows[fmt] = (
            pq.read_table(path).to_pylist()
            if path.suffix == ".parquet"
            else [json.loads(line) for line in path.read_text().splitlines()]
        )
    trl_data = load_rl_dataset(
        tmp_path / "trl" / "srpo.jsonl", system_prompt=None
    )  # what TRL's trainer holds
    reward_fn = srpo_reward_func()
    disagreements = []
    for i, s in enumerate(samples):
        columns = {k: [trl_data[i][k]] for k in trl_data.column_names if k not in ("prompt", "images")}
        for answer in answers_to_try(s):
            curated = grade_attempt(f"<think>t</think><answer>{answer}</answer>", s, task).correct
            response = five(answer, answer)
            verl, easyr1, orl = rows["verl"][i], rows["easyr1"][i], rows["openrlhf"][i]
            got = {
                "trl": reward_fn.breakdowns([response], None, **columns)[0].first_correct,
                "verl": verl_score(
                    verl["data_source"], response, verl["reward_model"]["ground_truth"], verl["extra_info"]
                )["first_correct"]
                == 1.0,
                "easyr1": easyr1_score([{"response": response, "ground_truth": easyr1["answer"]}])[0][
                    "first_correct"
                ]
                == 1.0,
                "openrlhf": openrlhf_breakdowns([response], [""], [orl["answer"]])[0].first_correct,
            }
            wrong = {engine: v for engine, v in got.items() if v is not curated}
            if wrong:
                disagreements.append((s.id, answer, curated, wrong))
    assert not disagreements


@pytest.mark.parametrize("name", sorted(PIPELINE))
def test_a_native_rl_row_gets_the_prompt_its_task_writes(name, tmp_path):
    """`srpo grpo` on native sample rows builds the same user turn as `srpo curate export` and `srpo eval run`:
    the prompt of the task the row's `data_source` names."""
    from srpo.train.data import load_rl_dataset

    task = get_task(name)
    samples = list(task.load(PIPELINE[name]))[:3]
    rows = tmp_path / "native.jsonl"
    with rows.open("w") as f:
        for s in samples:
            d = s.to_dict()
            d["meta"] = {**d.get("meta", {}), "data_source": name}
            f.write(json.dumps(d) + "\n")
    data = load_rl_dataset(rows, system_prompt="SYS")
    for i, s in enumerate(samples):
        system, user = data[i]["prompt"]
        assert system == {"role": "system", "content": "SYS"}
        assert user == {"role": "user", "content": task.prompt(s)}
