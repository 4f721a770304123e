"""The SRPO response format: parsing `<think>/<answer>/<reflection>` blocks and writing them.

A reflection-format response is five blocks, in this order::

    <think>…</think> <answer>…</answer> <reflection>…</reflection> <think>…</think> <answer>…</answer>

Parsing is one left-to-right scan over the tag positions (linear time, no backtracking regexes), so it is
safe on megabyte-long or adversarial model output. Curation, the reward and evaluation all read responses
through `parse_response`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

TAG_NAMES = ("think", "answer", "reflection")
FIVE_BLOCKS = ("think", "answer", "reflection", "think", "answer")
TWO_BLOCKS = ("think", "answer")
_TAG = re.compile(r"<(/?)(think|answer|reflection)>")
MAX_TAGS = 4096
"""Tags read per response. Each tag is at least one token, so any response of up to 4,096 tokens (the paper
trains with 2,048) is parsed whole; beyond that a response is degenerate: only its first MAX_TAGS tags are
read and it is marked not clean. This bounds the Python-level work on hostile output."""

REFLECTION_SYSTEM_PROMPT = (
    "Solve the problem in two attempts. First reason step by step inside <think></think> and give your "
    "answer inside <answer></answer>. Then critically review that first attempt inside "
    "<reflection></reflection>: check each step and say what was right or wrong. Then reason again "
    "inside <think></think> and give your final answer inside <answer></answer>. Put the final value of "
    "each answer in \\boxed{}; for multiple-choice questions answer with the option letter."
)

ATTEMPT_SYSTEM_PROMPT = (
    "Reason step by step inside <think></think>, then give your answer inside <answer></answer>. Put the "
    "final value in \\boxed{}; for multiple-choice questions answer with the option letter."
)


class Block(NamedTuple):
    """One tagged block: its tag name, raw content (not stripped) and span in the response.

    A named tuple rather than a dataclass: hostile responses can hold 10^5 blocks, and tuples are
    several times cheaper to build."""

    kind: str
    content: str
    start: int
    end: int


@dataclass(frozen=True)
class ParsedResponse:
    """The blocks of a response, in order, and whether the response is cleanly made of blocks only."""

    blocks: tuple[Block, ...]
    clean: bool
    """True when there is only whitespace outside the blocks, every tag is paired, and no block contains
    another tag."""

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(b.kind for b in self.blocks)

    def of(self, kind: str) -> list[Block]:
        """The blocks of one kind, in order."""
        return [b for b in self.blocks if b.kind == kind]

    @property
    def first_answer(self) -> str | None:
        """Stripped content of the first answer block, or None when there is none."""
        answers = self.of("answer")
        return answers[0].content.strip() if answers else None

    @property
    def final_answer(self) -> str | None:
        """Stripped content of the last answer block, only when there are at least two answer blocks."""
        answers = self.of("answer")
        return answers[-1].content.strip() if len(answers) >= 2 else None

    @property
    def is_five_block(self) -> bool:
        """Exactly think, answer, reflection, think, answer; each non-empty; nothing else around them."""
        return self.clean and self.kinds == FIVE_BLOCKS and all(b.content.strip() for b in self.blocks)

    @property
    def is_two_block(self) -> bool:
        """Exactly think then answer (the plain, one-attempt format); each non-empty; nothing around them."""
        return self.clean and self.kinds == TWO_BLOCKS and all(b.content.strip() for b in self.blocks)

    def follows(self, prompt_style: str) -> bool:
        """Whether the response has the shape its prompt asked for: five blocks for "reflection", think
        then answer for any other (plain) prompt. The one format rule of curation, reward and eval."""
        return self.is_five_block if prompt_style == "reflection" else self.is_two_block


def parse_response(text: str, max_tags: int = MAX_TAGS) -> ParsedResponse:
    """Split `text` into tagged blocks, matched left to right without nesting. Never raises.

    Only the first `max_tags` tags are read; a response with more is marked not clean."""
    if not isinstance(text, str):
        return ParsedResponse((), False)
    blocks: list[Block] = []
    clean = True
    open_kind: str | None = None
    open_at = 0  # where the open block's content starts
    block_start = 0
    last_end = 0  # end of the previous closed block
    for n, m in enumerate(_TAG.finditer(text)):
        if n >= max_tags:
            return ParsedResponse(tuple(blocks), False)
        closing, kind = m.groups()
        if open_kind is None:
            if closing:
                clean = False  # a close tag with nothing open
                continue
            if text[last_end : m.start()].strip():
                clean = False
            open_kind, open_at, block_start = kind, m.end(), m.start()
        elif closing and kind == open_kind:
            blocks.append(Block(kind, text[open_at : m.start()], block_start, m.end()))
            open_kind, last_end = None, m.end()
        else:
            clean = False  # a tag inside an open block: kept as content
    if open_kind is not None:
        clean = False  # unclosed block: its text does not count as a block
    elif text[last_end:].strip():
        clean = False
    if not blocks and text.strip():
        clean = False
    return ParsedResponse(tuple(blocks), clean)


def five_block_response(
    first_think: str, first_answer: str, reflection: str, second_think: str, final_answer: str
) -> str:
    """Write the five blocks in the taught order, one per line."""
    return (
        f"<think>\n{first_think.strip()}\n</think>\n<answer>\n{first_answer.strip()}\n</answer>\n"
        f"<reflection>\n{reflection.strip()}\n</reflection>\n"
        f"<think>\n{second_think.strip()}\n</think>\n<answer>\n{final_answer.strip()}\n</answer>"
    )


def boxed(answer: str) -> str:
    """`answer` wrapped in \\boxed{}, unless it already is."""
    a = answer.strip()
    return a if a.startswith("\\boxed{") else f"\\boxed{{{a}}}"
