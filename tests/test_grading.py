"""Answer grading: extraction and equivalence, as tables of real answers plus safety properties."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from srpo import grading
from srpo.grading import (
    choice_letter,
    extract_answer,
    is_equivalent,
    last_boxed,
    normalize_answer,
    strip_boxed,
)

CHOICES = ["10", "12", "14", "16"]

# (pred, gold, choices, expected)
EQUIVALENCE = [
    # identical and trivially reformatted
    ("42", "42", None, True),
    (" 42 ", "42", None, True),
    ("42.", "42", None, True),
    ("$42$", "42", None, True),
    ("\\(42\\)", "42", None, True),
    ("\\boxed{42}", "42", None, True),
    ("43", "42", None, False),
    # negatives
    ("-5", "-5", None, True),
    ("\u22125", "-5", None, True),
    ("5", "-5", None, False),
    ("-\\frac{1}{2}", "-0.5", None, True),
    ("\\frac{-1}{2}", "-\\frac{1}{2}", None, True),
    ("-0.5", "0.5", None, False),
    # fractions and decimals
    ("\\frac{1}{2}", "0.5", None, True),
    ("\\dfrac{1}{2}", "\\frac{1}{2}", None, True),
    ("1/2", "\\frac12", None, True),
    ("2/4", "0.5", None, True),
    ("0.3333333", "\\frac{1}{3}", None, True),
    ("0.33", "\\frac{1}{3}", None, False),
    ("0.50", "0.5", None, True),
    ("1.5", "3/2", None, True),
    ("\\frac{3}{4}", "0.7", None, False),
    # thousands separators, percent, scientific notation
    ("1,000", "1000", None, True),
    ("1,234,567", "1234567", None, True),
    ("50%", "50", None, True),
    ("50\\%", "0.5", None, True),
    ("25%", "0.5", None, False),
    ("1.5\\times10^{3}", "1500", None, True),
    ("1.5e3", "1500", None, True),
    # units and degree marks
    ("12 cm", "12", None, True),
    ("12\\text{ cm}", "12", None, True),
    ("12 \\mathrm{cm}^2", "12", None, True),
    ("30^\\circ", "30", None, True),
    ("30°", "30^{\\circ}", None, True),
    ("\\$12", "12", None, True),
    ("$12", "12.00", None, True),
    ("13 cm", "12", None, False),
    # sqrt, pi and other LaTeX (math-verify)
    ("2\\sqrt{3}", "\\sqrt{12}", None, True),
    ("\\sqrt{8}", "2\\sqrt{2}", None, True),
    ("2\\sqrt{2}", "\\sqrt{7}", None, False),
    ("\\pi/2", "\\frac{\\pi}{2}", None, True),
    ("2\\pi", "\\pi", None, False),
    ("\\frac{\\sqrt{3}}{2}", "\\frac{1}{2}\\sqrt{3}", None, True),
    # polynomials and equations
    ("x^2+2x+1", "(x+1)^2", None, True),
    ("x^2-1", "(x-1)(x+1)", None, True),
    ("x^2+1", "(x+1)^2", None, False),
    ("x^2+6x+9", "(x+3)^2", None, True),
    ("2a+3b", "3b+2a", None, True),
    ("y+1", "x+1", None, False),
    ("\\sqrt[3]{8}", "2", None, True),
    ("2^{10}", "1024", None, True),
    ("x = 3", "3", None, True),
    ("y=2x+1", "2x+1", None, True),
    ("[1,2)", "[1,2)", None, True),
    ("\\{1,2\\}", "\\{2,1\\}", None, True),
    ("(2, 5]", "(2,5]", None, True),
    ("[2,5]", "(2,5]", None, False),
    ("(1,2)", "(2,1)", None, False),
    ("(\\frac{1}{2}, \\sqrt{4})", "(0.5, 2)", None, True),
    # multiple choice: letters, case, option text
    ("B", "B", None, True),
    ("b", "B", None, True),
    ("(B)", "B", None, True),
    ("B.", "b", None, True),
    ("B) 12", "B", CHOICES, True),
    ("Option B", "B", None, True),
    ("C", "B", None, False),
    ("12", "B", CHOICES, True),
    ("12.0", "B", CHOICES, True),
    ("14", "B", CHOICES, False),
    ("B", "12", CHOICES, True),
    ("A", "12", CHOICES, False),
    ("12", "B", None, False),
    ("B", "12", None, False),
    ("B", "B", {"A": "1", "B": "2"}, True),
    ("2", "B", {"A": "1", "B": "2"}, True),
    ("(B) 12", "12", None, True),
    ("A", "A. 10", CHOICES, True),
    # words
    ("Yes", "yes", None, True),
    ("no", "yes", None, False),
    ("New York", "new york", None, True),
    # empty, unparseable and garbage gold or prediction
    ("", "3", None, False),
    ("3", "", None, False),
    ("   ", "   ", None, False),
    ("anything", "", None, False),
    ("\\boxed{}", "\\boxed{}", None, False),
    ("I don't know", "3", None, False),
    ("the answer is unclear", "\\frac{1}{2}", None, False),
    ("\x00\xff\ufffd", "3", None, False),
    ("}}}{{{", "3", None, False),
    ("3", "}}}{{{", None, False),
    ("9^{9^{9}}", "5", None, False),
    ("5", "9^{9^{9}}", None, False),
    ("10^{10^{10}}", "10^{10^{10}}", None, True),  # same text; nothing evaluated
]


@pytest.mark.parametrize(("pred", "gold", "choices", "expected"), EQUIVALENCE)
def test_equivalence_table(pred, gold, choices, expected):
    assert is_equivalent(pred, gold, choices) is expected


def test_table_is_large_enough():
    assert len(EQUIVALENCE) >= 60


def test_non_string_gold_is_read_as_its_text():
    assert is_equivalent("12", 12) is True
    assert is_equivalent("0.5", 0.5) is True
    assert is_equivalent("12", None) is False
    assert is_equivalent(None, "12") is False


EXTRACTION = [
    ("The answer is \\boxed{\\frac{1}{2}}.", "\\frac{1}{2}"),
    ("first \\boxed{1} then \\boxed{2}", "2"),
    ("\\boxed{a{b}c}", "a{b}c"),
    ("\\boxed{\\{1,2\\}}", "\\{1,2\\}"),
    ("\\boxed{3} and \\boxed{unclosed", "3"),
    ("\\fbox{7}", "7"),
    ("\\boxed 5 is it", "5"),
    ("<think>so 4</think><answer>B</answer>", "B"),
    ("<answer>12</answer><reflection>…</reflection><answer>14</answer>", "14"),
    ("<answer>The answer is 5.</answer>", "5"),
    ("<answer>\\boxed{9}</answer>", "9"),
    ("<answer>x^2+1</answer>", "x^2+1"),
    ("So the answer is (C).", "C"),
    ("Answer: D", "D"),
    ("The correct option is B.", "B"),
    ("(a)", "A"),
    ("b", "B"),
    ("the answer is 42.", "42"),
    ("The final answer is: 3/4\n", "3/4"),
    ("The answer is A car.", "A car"),
    ("Options (A) 1 (B) 2; I pick (B) since it is larger", "B"),
    ("We get 3 and 4, so 7 apples", "7"),
    ("x+1", "x+1"),
    ("total -12.5 units", "-12.5"),
    ("", None),
    ("no answer here at all", None),
    (None, None),
]


@pytest.mark.parametrize(("text", "expected"), EXTRACTION)
def test_extraction_table(text, expected):
    assert extract_answer(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\\boxed{1}", "1"),
        ("x \\boxed{\\frac{a}{b}} y", "\\frac{a}{b}"),
        ("\\boxed{", None),
        ("no box", None),
        ("\\boxed{1} \\boxed{" + "{" * 5000, "1"),
    ],
)
def test_last_boxed(text, expected):
    assert last_boxed(text) == expected


def test_strip_boxed_takes_box_else_whole():
    assert strip_boxed("  so \\boxed{12} ") == "12"
    assert strip_boxed("  twelve ") == "twelve"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$\\dfrac{1}{2}$", "\\frac{1}{2}"),
        ("\\boxed{x = 3}.", "3"),
        ("12\\text{ cm}", "12 cm"),
        ("\\left( 1, 2 \\right)", "( 1, 2 )"),
        ("  ", ""),
    ],
)
def test_normalize_answer(text, expected):
    assert normalize_answer(text) == expected


@pytest.mark.parametrize(
    ("answer", "choices", "expected"),
    [
        ("B", None, "B"),
        ("(c)", None, "C"),
        ("D. 16", None, "D"),
        ("14", CHOICES, "C"),
        ("14", None, None),
        ("15", CHOICES, None),
        ("12", {"A": "12", "B": "13"}, "A"),
        ("12", ["(A) 11", "(B) 12"], "B"),
    ],
)
def test_choice_letter(answer, choices, expected):
    assert choice_letter(answer, choices) == expected


# ------------------------------------------------------------------------------------- properties

HOSTILE = [
    "9^{9^{9^{9}}}",
    "9^9^9^9",
    "(9^{999})^{999}",
    "((((9^9)^9)^9)^9)",
    "10^{10000000}",
    "2^{10^{100}}",
    "1" * 5000,
    "9" * 100 + "!",
    "(10!)!",
    "\\int_0^1 x^x dx",
    "\\sum_{n=1}^{10^{9}} n^n",
    "\\lim_{x\\to0} \\frac{\\sin x}{x}",
    "(x+1)^{999}",
    "x^{123456789}",
    "{" * 50000 + "1" + "}" * 50000,
    "\\sqrt{" * 2000 + "2" + "}" * 2000,
    "\\frac{" * 1000 + "1}{2}" * 1000,
    "(" * 10000,
    "a" * 1_000_000,
    "\\boxed{" * 100000,
    "<answer>" * 100000,
    "answer is " * 100000,
    "1/" * 50000 + "1",
    "x" + "^x" * 5000,
]


@pytest.mark.parametrize("hostile", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_inputs_finish_quickly(hostile):
    """Generous bound (the real figure is milliseconds): these used to be able to hang a grader."""
    start = time.perf_counter()
    for gold in ("5", "\\frac{1}{2}", "x^2+1", hostile[:200]):
        is_equivalent(hostile, gold)
        is_equivalent(gold, hostile)
    extract_answer(hostile)
    assert time.perf_counter() - start < 5.0


MATH_TOKENS = list("0123456789+-*/^!(){}[]., xyz=%$\\") + ["\\frac", "\\sqrt", "\\pi", "^{", "99", "\\cdot"]
MATHY = st.lists(st.sampled_from(MATH_TOKENS), max_size=30).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pred=st.one_of(st.text(max_size=200), MATHY), gold=st.one_of(st.text(max_size=60), MATHY))
def test_is_equivalent_never_raises_and_is_bounded(pred, gold):
    start = time.perf_counter()
    assert is_equivalent(pred, gold) in (True, False)
    assert is_equivalent(pred, gold, CHOICES) in (True, False)
    assert time.perf_counter() - start < 5.0


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=2000))
def test_extract_answer_never_raises(text):
    found = extract_answer(text)
    assert found is None or isinstance(found, str)


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=100))
def test_an_answer_matches_itself_unless_empty(text):
    """Reflexivity: any non-empty answer is equivalent to itself."""
    assert is_equivalent(text, text) is bool(normalize_answer(text))


def test_thread_pool_grading_agrees_with_serial():
    """verl scores in a thread pool: math-verify must not use signals there, and results must not change."""
    cases = [(p, g, c) for p, g, c, _ in EQUIVALENCE] * 4
    serial = [is_equivalent(p, g, c) for p, g, c in cases]
    grading.clear_caches()  # make the threads do the work, not read the cache
    with ThreadPoolExecutor(max_workers=8) as pool:
        threaded = list(pool.map(lambda args: is_equivalent(*args), cases))
    assert threaded == serial
    assert serial[: len(EQUIVALENCE)] == [e for *_, e in EQUIVALENCE]
