"""The SRPO reward: hand-written tables per transition, malformation and preset, plus safety properties."""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from srpo.response import five_block_response
from srpo.reward import COMPONENTS, PRESETS, RewardConfig, approx_token_count, length_factor, score


def words(text: str) -> int:
    """A transparent token counter for exact length expectations: whitespace-separated words."""
    return len(text.split())


PAPER = RewardConfig.preset("paper")
AUTHORS = RewardConfig.preset("authors")

# First think of 20 words + first answer of 1 word: base = 21, T_target = 42, T_max = 52.5.
THINK1 = " ".join(["step"] * 20)


def five(first: str, final: str, reflection_words: int = 5, think2_words: int = 5) -> str:
    """A five-block response; with the default sizes it has exactly 42 words (tags are words too)."""
    return five_block_response(
        THINK1,
        f"\\boxed{{{first}}}",
        " ".join(["check"] * reflection_words),
        " ".join(["redo"] * think2_words),
        final,
    )


FULL_LENGTH = 0.1  # L == T_target: the length term pays all of alpha

# (response, gold, expected components: format, accuracy, reflection, effectiveness, length)
PAPER_TABLE = {
    # each transition, in the exact five-block format, at the target length
    "wrong_to_right": (five("5", "4"), "4", (0.5, 0.0, 0.25, 0.5, FULL_LENGTH)),
    "right_to_right": (five("4", "4"), "4", (0.5, 0.5, 0.25, 0.25, FULL_LENGTH)),
    "right_to_wrong": (five("4", "5"), "4", (0.5, 0.5, 0.25, -0.25, FULL_LENGTH)),
    "wrong_to_wrong": (five("5", "6"), "4", (0.5, 0.0, 0.25, 0.0, FULL_LENGTH)),
    # malformations
    "single attempt, correct": ("<think>2+2=4</think> <answer>\\boxed{4}</answer>", "4", (0, 0.5, 0, 0, 0)),
    "single attempt, wrong": ("<think>2+2=5</think><answer>5</answer>", "4", (0, 0, 0, 0, 0)),
    "text before the blocks": ("Sure! " + five("5", "4"), "4", (0, 0, 0.25, 0.5, "any")),
    "text after the blocks": (five("5", "4") + " Done.", "4", (0, 0, 0.25, 0.5, "any")),
    "empty reflection": (
        "<think>a</think><answer>5</answer><reflection> </reflection><think>b</think><answer>4</answer>",
        "4",
        (0, 0, 0, 0.5, "any"),
    ),
    "empty final think": (
        "<think>a</think><answer>5</answer><reflection>r</reflection><think></think><answer>4</answer>",
        "4",
        (0, 0, 0.25, 0.5, "any"),
    ),
    "two reflections": (
        "<think>a</think><answer>5</answer><reflection>r</reflection><reflection>r</reflection>"
        "<think>b</think><answer>4</answer>",
        "4",
        (0, 0, 0, 0.5, "any"),
    ),
    "reflection before the first answer": (
        "<think>a</think><reflection>r</reflection><answer>5</answer><think>b</think><answer>4</answer>",
        "4",
        (0, 0, 0, 0.5, "any"),
    ),
    "no think after the reflection": (
        "<think>a</think><answer>5</answer><think>b</think><answer>4</answer><reflection>r</reflection>",
        "4",
        (0, 0, 0, 0.5, "any"),
    ),
    "missing second think (authors' SFT shape)": (
        "<think>a</think><answer>5</answer><reflection>r</reflection><answer>4</answer>",
        "4",
        (0, 0, 0, 0.5, 0),
    ),
    "no reflection, two attempts": (
        "<think>a</think><answer>4</answer><think>b</think><answer>4</answer>",
        "4",
        (0, 0.5, 0, 0.25, "any"),
    ),
    "three attempts: final = last answer": (
        "<think>a</think><answer>5</answer><think>b</think><answer>6</answer><think>c</think><answer>4</answer>",
        "4",
        (0, 0, 0, 0.5, "any"),
    ),
    "unclosed first think": ("<think>2+2=4 <answer>4</answer>", "4", (0, 0, 0, 0, 0)),
    "nested tags": (
        "<think>a<answer>4</answer></think><answer>4</answer><reflection>r</reflection>"
        "<think>b</think><answer>4</answer>",
        "4",
        (0, 0.5, 0.25, 0.25, "any"),
    ),
    "upper-case tags are not tags": (five("4", "4").upper(), "4", (0, 0, 0, 0, 0)),
    "empty answers": (
        "<think>a</think><answer></answer><reflection>r</reflection><think>b</think><answer> </answer>",
        "4",
        (0, 0, 0.25, 0, "any"),
    ),
    "empty gold never matches": (five("4", "4"), "", (0.5, 0, 0.25, 0, FULL_LENGTH)),
    "unparseable gold never matches": (five("4", "5"), "}{", (0.5, 0, 0.25, 0, FULL_LENGTH)),
    "plain text": ("The answer is 4.", "4", (0, 0, 0, 0, 0)),
    "empty response": ("", "4", (0, 0, 0, 0, 0)),
    "binary junk": ("\x00\xff\ud800<think>\x00", "4", (0, 0, 0, 0, 0)),
    "answer without box is judged whole": (
        five_block_response(THINK1, "x", "check " * 5, "redo " * 5, "4"),
        "4",
        (0.5, 0, 0.25, 0.5, FULL_LENGTH),
    ),
    "LaTeX-equivalent answers": (
        five("\\frac{1}{2}", "\\boxed{0.5}"),
        "1/2",
        (0.5, 0.5, 0.25, 0.25, FULL_LENGTH),
    ),
}


def check(b, expected):
    for name, want in zip(COMPONENTS, expected, strict=True):
        got = getattr(b, name)
        if want == "any":
            assert 0.0 <= got <= 0.1, name
        else:
            assert got == pytest.approx(want, abs=1e-12), (name, got, want)
    assert b.total == b.format + b.accuracy + b.reflection + b.effectiveness + b.length


@pytest.mark.parametrize("case", list(PAPER_TABLE), ids=list(PAPER_TABLE))
def test_paper_preset(case):
    response, gold, expected = PAPER_TABLE[case]
    check(score(response, gold, PAPER, count_tokens=words), expected)


def test_default_config_is_paper():
    response, gold, _ = PAPER_TABLE["wrong_to_right"]
    assert score(response, gold) == score(response, gold, PAPER)


@pytest.mark.parametrize(
    ("first", "final", "transition", "first_correct", "final_correct"),
    [
        ("4", "4", "right_to_right", True, True),
        ("5", "4", "wrong_to_right", False, True),
        ("4", "5", "right_to_wrong", True, False),
        ("5", "6", "wrong_to_wrong", False, False),
    ],
)
def test_transitions_are_reported(first, final, transition, first_correct, final_correct):
    b = score(five(first, final), "4")
    assert (b.transition, b.first_correct, b.final_correct) == (transition, first_correct, final_correct)
    assert (b.first_answer, b.final_answer) == (first, final)


def test_single_answer_has_no_transition():
    b = score("<think>a</think><answer>4</answer>", "4")
    assert (b.first_correct, b.final_correct, b.transition) == (True, None, None)
    assert score("no blocks", "4").first_correct is None


AUTHORS_TABLE = {
    "wrong_to_right": (five("5", "4"), "4", (0.5, 1.0, 0, 0, FULL_LENGTH)),
    "right_to_right": (five("4", "4"), "4", (0.5, 0.75, 0, 0, FULL_LENGTH)),
    "right_to_wrong": (five("4", "5"), "4", (0.5, 0.25, 0, 0, FULL_LENGTH)),
    "wrong_to_wrong": (five("5", "6"), "4", (0.5, 0, 0, 0, FULL_LENGTH)),
    "single attempt, correct: zero": ("<think>a</think><answer>4</answer>", "4", (0, 0, 0, 0, 0)),
    "two answers, one think: zero": (
        "<think>a</think><answer>5</answer><reflection>r</reflection><answer>4</answer>",
        "4",
        (0, 0, 0, 0, 0),
    ),
    "two attempts, no reflection": (
        "<think>a</think><answer>5</answer><think>b</think><answer>4</answer>",
        "4",
        (0, 1.0, 0, 0, "any"),
    ),
    "empty gold": (five("4", "4"), "", (0.5, 0, 0, 0, FULL_LENGTH)),
}


@pytest.mark.parametrize("case", list(AUTHORS_TABLE), ids=list(AUTHORS_TABLE))
def test_authors_preset(case):
    response, gold, expected = AUTHORS_TABLE[case]
    check(score(response, gold, AUTHORS, count_tokens=words), expected)


def test_authors_single_attempt_still_reports_its_grading():
    b = score("<think>a</think><answer>4</answer>", "4", AUTHORS)
    assert b.total == 0 and b.first_correct is True


# ------------------------------------------------------------------------------------------- length


@pytest.mark.parametrize(
    ("extra_words", "expected"),
    [
        (0, 1.0),  # L = 42 = T_target
        (10, math.exp(-((10 / 10.5) ** 2))),  # L = 52, spread = T_max - T_target = 10.5
        (21, math.exp(-((21 / 10.5) ** 2))),
    ],
)
def test_length_term(extra_words, expected):
    b = score(five("5", "4", reflection_words=5 + extra_words), "4", count_tokens=words)
    assert b.first_attempt_tokens == 21
    assert b.response_tokens == 42 + extra_words
    assert b.length == pytest.approx(0.1 * expected)


def test_length_uses_engine_token_count_when_given():
    b = score(five("5", "4"), "4", count_tokens=words, response_tokens=52)
    assert b.response_tokens == 52
    assert b.length == pytest.approx(0.1 * math.exp(-((10 / 10.5) ** 2)))


def test_length_is_zero_without_first_attempt_tokens():
    assert length_factor(100, 0, PAPER) == 0.0
    b = score("<think></think><answer></answer><think>x</think><answer>4</answer>", "4")
    assert b.length == 0.0


def test_length_weight_is_configurable():
    b = score(five("5", "4"), "4", PAPER.replace(length_weight=1.0), count_tokens=words)
    assert b.length == pytest.approx(1.0)


def test_approx_token_count():
    assert approx_token_count("") == 0
    assert approx_token_count("abcd") == 1
    assert approx_token_count("abcde") == 2
    assert approx_token_count("数学") == 2  # 6 bytes
    assert approx_token_count("\ud800") == 1  # a lone surrogate does not raise


def test_bad_token_counter_is_reported():
    with pytest.raises(ValueError, match="count_tokens returned -1"):
        score(five("5", "4"), "4", count_tokens=lambda s: -1)


# ------------------------------------------------------------------------------------------- config


OVERRIDES = {"require_two_attempts": True, "transition_in": "accuracy", "length_target_ratio": 1.0}


@pytest.mark.parametrize("field", [f.name for f in fields(RewardConfig)])
def test_every_field_is_overridable(field):
    new = OVERRIDES[field] if field in OVERRIDES else getattr(PAPER, field) + 1.0
    assert getattr(RewardConfig.preset("paper", **{field: new}), field) == new
    assert getattr(RewardConfig.preset("authors", **{field: new}), field) == new


def test_presets_are_data():
    assert set(PRESETS) >= {"paper", "authors"}
    assert RewardConfig.preset("authors") == RewardConfig(**PRESETS["authors"])
    assert RewardConfig.preset("authors", length_weight=0.2).length_weight == 0.2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "nope"}, "unknown reward preset 'nope'; known: authors, paper"),
        ({"name": "paper", "alpha": 1}, "unknown RewardConfig field"),
        ({"name": "paper", "format_weight": float("nan")}, "format_weight must be a finite number"),
        ({"name": "paper", "transition_in": "length"}, "transition_in must be"),
        ({"name": "paper", "length_max_ratio": 1.0}, "length_target_ratio < length_max_ratio"),
    ],
)
def test_config_errors_say_what_is_wrong(kwargs, message):
    name = kwargs.pop("name")
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        RewardConfig.preset(name, **kwargs)


def test_bounds():
    assert PAPER.bounds() == pytest.approx((-0.25, 0.5 + 0.5 + 0.25 + 0.1 + 0.5))
    assert AUTHORS.bounds() == pytest.approx((0.0, 0.5 + 1.0 + 0.1))


# --------------------------------------------------------------------------------------- properties

TAGS = ["<think>", "</think>", "<answer>", "</answer>", "<reflection>", "</reflection>", "\\boxed{", "}", "{"]
RESPONSES = st.one_of(
    st.text(max_size=300),
    st.lists(
        st.one_of(st.sampled_from(TAGS), st.text(max_size=8), st.sampled_from(["4", "5", "B"])), max_size=40
    ).map("".join),
)


@settings(max_examples=300, deadline=None)
@given(
    response=RESPONSES,
    gold=st.sampled_from(["4", "", "B", "\\frac{1}{2}", "}{", "x^2"]),
    preset=st.sampled_from(list(PRESETS)),
)
def test_score_never_raises_is_finite_and_bounded(response, gold, preset):
    cfg = RewardConfig.preset(preset)
    b = score(response, gold, cfg)
    values = [getattr(b, n) for n in (*COMPONENTS, "total")]
    assert all(isinstance(v, float) and math.isfinite(v) for v in values)
    low, high = cfg.bounds()
    assert low <= b.total <= high
    assert b.total == b.format + b.accuracy + b.reflection + b.effectiveness + b.length


HUGE = {
    "1 MB of text": "x" * 1_000_000,
    "1 MB five blocks": five_block_response("a " * 250_000, "\\boxed{4}", "r", "b " * 250_000, "\\boxed{4}"),
    "100k tags": "<think>" * 50_000 + "</answer>" * 50_000,
    "50k blocks": "<think>x</think>" * 50_000,
    "50k nested braces": "<think>a</think><answer>\\boxed{" + "{" * 50_000 + "}" * 50_000 + "}</answer>",
    "50k unclosed boxes": "<think>a</think><answer>" + "\\boxed{" * 50_000 + "</answer>",
}


@pytest.mark.parametrize("name", list(HUGE))
def test_huge_responses_are_scored_in_bounded_time(name):
    """Generous bound; bench/reward.py reports the real figures (milliseconds)."""
    start = time.perf_counter()
    b = score(HUGE[name], "4")
    assert math.isfinite(b.total)
    assert time.perf_counter() - start < 5.0


def test_scoring_in_threads_matches_serial():
    cases = [(r, g) for r, g, _ in PAPER_TABLE.values()] * 5
    serial = [score(r, g) for r, g in cases]
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(lambda c: score(*c), cases)) == serial
