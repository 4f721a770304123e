"""`parse_response`: the one reader of the five-block reflection format."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from srpo.curate.answer import grade_attempt
from srpo.data.sample import Sample
from srpo.eval.scoring import format_ok
from srpo.response import FIVE_BLOCKS, MAX_TAGS, boxed, five_block_response, parse_response

GOOD = "<think>a</think>\n<answer>\\boxed{1}</answer>\n<reflection>r</reflection>\n<think>b</think>\n<answer>2</answer>\n"

# response → (kinds, clean, five_block, first_answer, final_answer)
CASES = [
    (GOOD, FIVE_BLOCKS, True, True, "\\boxed{1}", "2"),
    (five_block_response("a", "1", "r", "b", "2"), FIVE_BLOCKS, True, True, "1", "2"),
    ("<think>a</think><answer>1</answer>", ("think", "answer"), True, False, "1", None),
    ("  <think>a</think>  <answer>1</answer>  ", ("think", "answer"), True, False, "1", None),
    ("intro <think>a</think><answer>1</answer>", ("think", "answer"), False, False, "1", None),
    ("<think>a</think><answer>1</answer> trailing", ("think", "answer"), False, False, "1", None),
    (
        "<think>a</think><answer>1</answer><reflection> </reflection><think>b</think><answer>2</answer>",
        FIVE_BLOCKS,
        True,
        False,
        "1",
        "2",
    ),
    ("<think>a<answer>1</answer></think>", ("think",), False, False, None, None),
    ("<think>a</think><answer>1", ("think",), False, False, None, None),
    ("</think><think>a</think>", ("think",), False, False, None, None),
    ("<think>a</answer></think>", ("think",), False, False, None, None),
    ("no tags at all", (), False, False, None, None),
    ("", (), True, False, None, None),
    ("<THINK>a</THINK>", (), False, False, None, None),
    ("<answer>1</answer><answer>2</answer><answer>3</answer>", ("answer",) * 3, True, False, "1", "3"),
]


@pytest.mark.parametrize("text,kinds,clean,five,first,final", CASES)
def test_parse_table(text, kinds, clean, five, first, final):
    p = parse_response(text)
    assert p.kinds == kinds
    assert p.clean is clean
    assert p.is_five_block is five
    assert p.first_answer == first
    assert p.final_answer == final


# response → (follows the reflection prompt, follows a plain prompt): the one format rule of curation's
# `format_ok`, eval's `format_ok` and the reward's format term
FORMAT_CASES = [
    (GOOD, True, False),
    ("<think>a</think><answer>1</answer>", False, True),
    ("  <think>a</think>\n<answer>1</answer>\n", False, True),
    ("<think> </think><answer>1</answer>", False, False),  # an empty think block is no reasoning
    ("<think>a</think><answer></answer>", False, False),
    ("<answer>1</answer>", False, False),
    ("<think>a</think><answer>1</answer> and more", False, False),
    ("<think>a</think><answer>1</answer><answer>2</answer>", False, False),
    ("\\boxed{1}", False, False),
]


@pytest.mark.parametrize("text,reflection,plain", FORMAT_CASES)
def test_follows_prompt_table(text, reflection, plain):
    p = parse_response(text)
    assert (p.follows("reflection"), p.follows("plain")) == (reflection, plain)
    assert (format_ok(text, "reflection"), format_ok(text, "plain")) == (reflection, plain)
    assert grade_attempt(text, Sample(id="q", question="?", answer="1")).format_ok is plain


def test_boxed():
    assert boxed(" 3 ") == "\\boxed{3}"
    assert boxed("\\boxed{3}") == "\\boxed{3}"


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            list("ab <>/") + ["<think>", "</think>", "<answer>", "</answer>", "<reflection>", "</reflection>"]
        )
    ).map("".join)
)
def test_never_raises_and_blocks_are_ordered(text):
    p = parse_response(text)
    ends = [b.end for b in p.blocks]
    assert ends == sorted(ends)
    for b in p.blocks:
        assert text[b.start : b.end].startswith(f"<{b.kind}>")


def test_hostile_sizes_parse():
    assert len(parse_response("<think>" * 100_000).blocks) == 0
    many = parse_response("<think>x</think>" * 50_000)
    assert len(many.blocks) == MAX_TAGS // 2 and many.clean is False  # read up to MAX_TAGS tags
    assert len(parse_response("<think>x</think>" * 50, max_tags=10).blocks) == 5
    assert parse_response("x" * 1_000_000).clean is False
    assert parse_response(None).blocks == ()  # type: ignore[arg-type]
