"""Row formats: how one raw row of a known dataset layout becomes `Sample` records.

Each format is a small function registered by name in `ROW_FORMATS`; it returns the row's samples (one per
question/answer turn pair). `detect_format` picks one from a row's keys. Adding a format means adding one
function here, nothing else.

- `srpo`: our own rows (`Sample.to_dict()`): id, question, answer, images, choices, rationale, meta.
- `llava-cot`: LLaVA-CoT-100k: `id`, `image`, `conversations` of human/gpt turns; each gpt turn holds
  `<SUMMARY>`, `<CAPTION>`, `<REASONING>` and `<CONCLUSION>` sections. Every human/gpt pair is a sample.
- `mulberry`: Mulberry-SFT (LLaMA-Factory sharegpt): `messages` + `images`; the assistant turn has
  `### Image Description:`, `### Rationales:`, `### Let's think step by step.`, `### Step k:` … and
  `### The final answer is:` sections; reflection rows repeat a step after "I think I have made a
  mistake. Let me rethink it."
- `flat`: the SRPO authors' rows `{query, image, answer, content}`, `content` holding LLaVA-CoT or
  Mulberry sections.
- `mathvista`: MathVista-like rows: `pid`, `question`, `image`, `choices`, `answer`, plus metadata.
- `fields`: a user mapping such as `question=q,answer=a,image=img` (see `parse_field_mapping`).

Gold answers of LLaVA-CoT, Mulberry and flat rows are isolated from the conclusion text by
`isolate_gold` (rules in its docstring and in docs/data.md). The meta keys it leaves on a sample:

- `meta["gold_text"]`: the conclusion / final-answer text exactly as the dataset wrote it;
- `meta["gold_rule"]`: the rule that isolated the gold (`GOLD_RULES`);
- `meta["gold_unclear"] = True` (`GOLD_UNCLEAR`) and `meta["gold_unclear_reason"]` when no answer could be
  isolated. Such a sample keeps the whole text as its `answer` so a person can read it, but it must never
  be graded: curation skips grading it (and lists it), the reward and evaluation treat it as ungradable.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from srpo.data.sample import ImageBytes, ImageRef, Sample, stable_id


class RowProblem(ValueError):
    """A row that does not fit its format; the reader adds file and line to the message."""


GOLD_UNCLEAR = "gold_unclear"
"""`meta` flag: True when the gold answer could not be isolated from the dataset's conclusion text."""
GOLD_UNCLEAR_REASON = "gold_unclear_reason"
"""`meta` key: why the gold could not be isolated."""
GOLD_TEXT = "gold_text"
"""`meta` key: the conclusion / final-answer text the gold was taken from, verbatim."""
GOLD_RULE = "gold_rule"
"""`meta` key: which of `GOLD_RULES` isolated the gold."""

GOLD_RULES = ("boxed", "option letter", "yes/no", "answer phrase", "trailing option letter", "short answer")

INSTRUCTION_PHRASES: list[str] = [
    # The prompts Mulberry's own CoMCTS code strips from its source questions (comcts/code/utils.py).
    "Based on the image, directly select the correct answer for the following question:",
    "First perform reasoning, then finally select the question from the choices in the following format: "
    "Answer: xxx.",
    "Answer the question with a short answer.",
    "Answer with the option's letter from the given choices directly.",
    "Answer the question using a single word or phrase.",
    # Seen in Mulberry's own README examples (PlotQA rows).
    "Your answer should be very brief.",
]
"""Instruction sentences removed from Mulberry questions (and flat rows with Mulberry content), wherever
they stand on their own line or at the start/end of the text. Append to extend."""

REFLECTION_PHRASES: list[str] = ["I think I have made a mistake. Let me rethink it."]
"""The sentence Mulberry's data construction inserts after a wrong step before redoing it. Append to extend."""

_ID_KEYS = ("id", "pid", "sample_id", "question_id", "problem_id", "uid", "index")
_IMAGE_TOKEN = re.compile(r"<image>\s*")


def _text(value: Any, what: str) -> str:
    if value is None:
        raise RowProblem(f"missing {what}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise RowProblem(f"{what} must be a string, got {type(value).__name__}")
    return value


def _gold(value: Any, what: str) -> str:
    answer = _text(value, what)
    if not answer.strip():
        raise RowProblem(f"{what} is empty; every row needs its gold answer")
    return answer


def image_refs(*values: Any) -> list[ImageRef]:
    """Image references from row fields, in order: path or URL strings, raw bytes, HF `Image` dicts
    (`{"bytes", "path"}`; bytes win), PIL images, or lists of those. None and empty strings are skipped."""
    out: list[ImageRef] = []
    for value in values:
        for item in value if isinstance(value, list) else [value]:
            if item is None or (isinstance(item, str) and not item.strip()):
                continue
            if isinstance(item, str):
                out.append(item)
            elif isinstance(item, (bytes, bytearray)):
                out.append(ImageBytes(bytes(item), _guess_format(bytes(item))))
            elif isinstance(item, dict):
                data, path = item.get("bytes"), item.get("path")
                if isinstance(data, (bytes, bytearray)) and data:
                    out.append(ImageBytes(bytes(data), _guess_format(bytes(data))))
                elif isinstance(path, str) and path.strip():
                    out.append(path)
                elif data or path:
                    raise RowProblem("an image dict needs 'bytes' (bytes) or 'path' (a string)")
            elif hasattr(item, "save"):  # a PIL image
                import io

                buf = io.BytesIO()
                item.save(buf, format="PNG")
                out.append(ImageBytes(buf.getvalue(), "png"))
            else:
                raise RowProblem(f"unsupported image value of type {type(item).__name__}")
    return out


def _guess_format(data: bytes) -> str:
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:3] == b"GIF":
        return "gif"
    return "png"


def _row_id(row: dict[str, Any], fallback_key: str | None, *content: Any) -> str:
    for k in _ID_KEYS:
        if isinstance(row.get(k), (str, int)) and not isinstance(row.get(k), bool) and row[k] != "":
            return str(row[k])
    if fallback_key is not None:
        return str(fallback_key)
    return stable_id(*content)


# ------------------------------------------------------------------------------------------------- gold


@dataclass(frozen=True)
class Gold:
    """A gold answer isolated from a conclusion: the answer, and the rule that found it (or why none did)."""

    answer: str
    rule: str | None = None
    unclear: str | None = None


_LETTER_ONLY = re.compile(r"^\(?([A-J])\)?[.:)]?$")
_LETTER_WITH_TEXT = re.compile(r"^(?:\(([A-J])\)|([A-J])\s*[.:)：])\s*(\S.*)$", re.S)
_LETTER_LEADING = re.compile(r"^\(?([A-J])\)?(?=$|[\s.,;:)])")
_YES_NO = re.compile(r"^(yes|no)(?:$|[,.!;:]\s*)", re.I)
_ANSWER_PHRASE = re.compile(
    r"\b(?:final\s+|correct\s+|right\s+|best\s+)?(?:answer|option|choice)\b\s*"
    r"(?:(?:is|would\s+be|should\s+be|must\s+be)\b\s*[:：]?|[:：=])\s*",
    re.I,
)
_CLAUSE = re.compile(r"\b(?:is|are|was|were|shows?|has|have|had|can|will|does|do|did)\b", re.I)
_TRAILING_LETTER = re.compile(r"(?:^|[\s(])\(?([A-J])\)?[.!]?$")
_SENTENCE_END = re.compile(r"[.!?。]\s*$")
_NUMBER = re.compile(r"^[-+]?(?:\d+(?:[.,]\d+)*|\.\d+)(?:\s*%)?$")
SENTENCE_WORDS = 8
"""A gold of more than this many words reads as a sentence, not an answer."""


def looks_like_sentence(text: str) -> bool:
    """Whether a gold answer reads like a sentence rather than an answer: more than `SENTENCE_WORDS` words,
    or ending in a period (a bare number such as "76.06." aside)."""
    t = text.strip()
    if not t:
        return False
    if len(t.split()) > SENTENCE_WORDS:
        return True
    return bool(_SENTENCE_END.search(t)) and not _NUMBER.match(t.rstrip(".").strip())


def isolate_gold(text: str, choices: list[str] | None = None) -> Gold:
    """The answer itself inside a dataset's conclusion text, by the first rule that applies:

    1. `boxed`: the content of the last `\\boxed{…}`;
    2. `option letter`: the whole text is an option letter ("B", "(B)", "B."; without choices this counts
       as a short answer), or, when the question has choices, a letter with its option's text ("B: 45",
       "(B) 45"; letter and text must agree);
       `yes/no`: the text starts with "Yes" or "No" ("No, the cat is black." → "No");
    3. `answer phrase`: the last "the answer is X", "Answer: X", "the correct option is (X)", "final
       answer: X" …, where X is an answer by rules 2 or 5 (or, with choices, an option letter followed
       by an explanation);
    4. `trailing option letter`: with choices, a text ending in a lone option letter ("…, so C.");
    5. `short answer`: the whole text is short: at most `SENTENCE_WORDS` words, one line, not ending in
       a period, and (beyond three words) not a clause with a verb such as "is" or "shows" ("21", "the
       circle", "$\\frac{1}{2}$"); a period after one or two words or after a number is dropped
       ("76.06." → "76.06", "Juneau." → "Juneau").

    Anything else (a sentence such as "The image shows a cat on a mat.") is unclear, and so is an answer
    a rule finds that still reads like a sentence (`looks_like_sentence`, e.g. a long `\\boxed{…}`):
    `Gold.unclear` says why and `Gold.answer` keeps the whole text. Never raises; bounded work.
    """
    gold = _isolate(text, choices)
    if gold.unclear is None and looks_like_sentence(gold.answer):
        reason = (
            f"the answer found by the {gold.rule!r} rule, {gold.answer[:60]!r}, still reads like a sentence"
        )
        return Gold((text or "").strip(), unclear=reason)
    if gold.unclear is not None:
        return Gold((text or "").strip(), unclear=gold.unclear)
    return gold


def _isolate(text: str, choices: list[str] | None) -> Gold:
    """`isolate_gold` before its last check."""
    t = (text or "").strip()
    if not t:
        return Gold("", unclear="the conclusion is empty")
    from srpo.grading import last_boxed

    boxed = last_boxed(t)
    if boxed is not None and boxed.strip():
        return Gold(boxed.strip(), "boxed")
    whole = _as_answer(t, choices, short=False)
    if whole is not None:
        return whole
    tail_text = t[-_PHRASE_WINDOW:]
    for m in list(_ANSWER_PHRASE.finditer(tail_text))[-_MAX_PHRASES:][::-1]:
        tail = tail_text[m.end() :].split("\n", 1)[0].strip()
        if not tail:
            continue
        found = _as_answer(_first_sentence(tail), choices, short=True)
        if found is not None:
            return found if found.unclear else Gold(found.answer, "answer phrase")
        lead = _LETTER_LEADING.match(tail)
        if lead and _letter_in_range(lead.group(1), choices) and (choices or _OPTION_WORD.search(m.group())):
            return Gold(lead.group(1), "answer phrase")
    if choices:
        m = _TRAILING_LETTER.search(t)
        if m and _letter_in_range(m.group(1), choices):
            return Gold(m.group(1), "trailing option letter")
    short = _short_answer(t)
    if short is not None:
        return Gold(short, "short answer")
    return Gold(
        t,
        unclear=f"a sentence ({len(t.split())} words) with no \\boxed{{}}, 'the answer is …', option letter "
        "or short answer in it",
    )


_PHRASE_WINDOW = 4000
_MAX_PHRASES = 8
_OPTION_WORD = re.compile(r"(?i)option|choice")


def _first_sentence(text: str) -> str:
    """Text up to the first period followed by a space (decimals such as 3.5 stay whole)."""
    m = re.search(r"\.(?=\s)", text)
    return text[: m.start() + 1] if m else text


def _letter_in_range(letter: str, choices: list[str] | None) -> bool:
    return not choices or ord(letter) - ord("A") < len(choices)


def _as_answer(t: str, choices: list[str] | None, *, short: bool) -> Gold | None:
    """`t` read as a whole answer: rule 2 of `isolate_gold` (and rule 5 when `short`); an unclear Gold
    when an option letter and its text disagree; None when `t` is not an answer by itself."""
    t = t.strip().strip("\"'`").strip()
    if not t:
        return None
    m = _LETTER_ONLY.match(t)
    if m and _letter_in_range(m.group(1), choices):
        return Gold(m.group(1), "option letter" if choices else "short answer")
    if choices:
        m = _LETTER_WITH_TEXT.match(t)
        letter = m and (m.group(1) or m.group(2))
        if m and letter and _letter_in_range(letter, choices):
            option = choices[ord(letter) - ord("A")]
            said = m.group(3).strip().rstrip(".").strip()
            if _same_text(said, option):
                return Gold(letter, "option letter")
            if len(said.split()) <= SENTENCE_WORDS:
                return Gold(
                    t, unclear=f"option {letter} is {option!r} in the question, but the answer says {said!r}"
                )
    m = _YES_NO.match(t)
    if m:
        return Gold(m.group(1).capitalize(), "yes/no")
    if short:
        found = _short_answer(t)
        if found is not None:
            return Gold(found, "short answer")
    return None


def _short_answer(t: str) -> str | None:
    """Rule 5 of `isolate_gold`: `t` itself (or without its final period) when it is a short answer."""
    t = t.strip()
    words = t.split()
    if not words or "\n" in t or len(words) > SENTENCE_WORDS:
        return None
    if len(words) > 3 and _CLAUSE.search(t):
        return None
    if not _SENTENCE_END.search(t):
        return t
    bare = t[:-1].strip()
    if t.endswith(".") and bare and not bare.endswith(".") and (len(words) <= 2 or _NUMBER.match(bare)):
        return bare
    return None


def _same_text(a: str, b: str) -> bool:
    def key(s: str) -> str:
        return re.sub(r"[\s$]+", "", s).lower().rstrip(".")

    return key(a) == key(b)


def gold_fields(text: str, choices: list[str] | None) -> tuple[str, dict[str, Any]]:
    """(answer, meta entries) for a conclusion text: the isolated gold and `gold_text` / `gold_rule`, or
    the whole text with `gold_unclear` and its reason."""
    gold = isolate_gold(text, choices)
    meta: dict[str, Any] = {GOLD_TEXT: text.strip()}
    if gold.unclear is not None:
        meta[GOLD_UNCLEAR] = True
        meta[GOLD_UNCLEAR_REASON] = gold.unclear
    else:
        meta[GOLD_RULE] = gold.rule
    return gold.answer, meta


# -------------------------------------------------------------------------------------------- questions

_CHOICE_HEADER = re.compile(r"^\s*(?:choices|options|answer choices)\s*[:：]?\s*(.*)$", re.I)
_CHOICE_LINE = re.compile(r"^\s*\(?([A-J])\)?\s*[.:)：]\s*(.*\S)\s*$")
_CHOICE_PAREN_LINE = re.compile(r"^\s*\(([A-J])\)\s*(.*\S)\s*$")
_INLINE_PAREN = re.compile(r"\(([A-J])\)\s*")


def split_choices(question: str) -> tuple[str, list[str] | None]:
    """(question without its options, option texts) when the question lists lettered options: a block of
    lines "A: 30" / "A. 30" / "(A) 30" / "A) 30" lettered A, B, C … in order (optionally under a
    "Choices:" or "Options:" line), or "Options: (A) x (B) y" on one line. Otherwise (question, None)."""
    lines = question.split("\n")
    for i, line in enumerate(lines):
        header = _CHOICE_HEADER.match(line)
        if header:
            inline = header.group(1)
            if inline:
                options = _inline_options(inline)
                if options:
                    return _join(lines[:i], lines[i + 1 :]), options
                continue
            options, end = _option_block(lines, i + 1)
            if options:
                return _join(lines[:i], lines[end:]), options
    for i in range(len(lines)):
        m = _CHOICE_LINE.match(lines[i]) or _CHOICE_PAREN_LINE.match(lines[i])
        if m and m.group(1) == "A":
            options, end = _option_block(lines, i)
            if options and len(options) >= 2:
                return _join(lines[:i], lines[end:]), options
    return question, None


def _option_block(lines: list[str], start: int) -> tuple[list[str], int]:
    options: list[str] = []
    i = start
    while i < len(lines):
        m = _CHOICE_LINE.match(lines[i]) or _CHOICE_PAREN_LINE.match(lines[i])
        if not m or m.group(1) != chr(ord("A") + len(options)):
            break
        options.append(m.group(2).strip())
        i += 1
    return options, i


def _inline_options(text: str) -> list[str] | None:
    marks = list(_INLINE_PAREN.finditer(text))
    if len(marks) < 2 or text[: marks[0].start()].strip():
        return None
    if [m.group(1) for m in marks] != [chr(ord("A") + k) for k in range(len(marks))]:
        return None
    ends = [m.start() for m in marks[1:]] + [len(text)]
    options = [text[m.end() : end].strip().rstrip(",;").strip() for m, end in zip(marks, ends, strict=True)]
    return options if all(options) else None


def _join(before: list[str], after: list[str]) -> str:
    return "\n".join(before + after).strip()


def strip_instructions(question: str, phrases: list[str] | None = None) -> str:
    """`question` without the instruction sentences in `phrases` (default `INSTRUCTION_PHRASES`) and
    without a leading "Question:" label."""
    text = question
    for phrase in INSTRUCTION_PHRASES if phrases is None else phrases:
        text = text.replace(phrase, "\n")
    text = "\n".join(line.rstrip() for line in text.split("\n") if line.strip()).strip()
    return re.sub(r"^question\s*[:：]\s*", "", text, flags=re.I).strip()


def clean_question(raw: str, *, mulberry: bool) -> tuple[str, list[str] | None]:
    """The question text and its choices: `<image>` tokens removed, Mulberry's instruction preambles
    stripped (when `mulberry`), lettered options parsed out."""
    text = _IMAGE_TOKEN.sub("", raw).strip()
    if mulberry:
        text = strip_instructions(text)
    question, choices = split_choices(text)
    if not question:  # a question that is only options: keep the text as written
        return text, None
    return question, choices


# ------------------------------------------------------------------------------------- answer sections


def _section(text: str, tag: str) -> str | None:
    """Content of `<TAG> … </TAG>` (LLaVA-CoT style), or None."""
    start = text.find(f"<{tag}>")
    if start < 0:
        return None
    start += len(tag) + 2
    end = text.find(f"</{tag}>", start)
    return (text[start:] if end < 0 else text[start:end]).strip() or None


@dataclass(frozen=True)
class MulberrySection:
    """One `### heading` section of a Mulberry answer: `title` lower-cased without its colon (for lookup),
    `heading` as written (after `###`), `body` the text up to the next heading."""

    title: str
    heading: str
    body: str

    def render(self) -> str:
        return f"### {self.heading}\n{self.body}".strip()


_MULBERRY_HEAD = re.compile(r"^[ \t]*###[ \t]*(.*)$", re.M)
_FINAL_TITLES = ("the final answer is", "final answer")


def mulberry_sections(text: str) -> list[MulberrySection]:
    """The `### heading` sections of a Mulberry answer in order; repeated headings (a reflection row's
    redone step) are all kept. A heading's text after its first colon starts the body."""
    heads = list(_MULBERRY_HEAD.finditer(text))
    out: list[MulberrySection] = []
    for i, m in enumerate(heads):
        line = m.group(1).strip()
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        head, colon, rest = line.partition(":")
        heading = head.strip() + colon if colon else line
        body = "\n".join(x for x in (rest.strip(), text[m.end() : end].strip()) if x)
        out.append(MulberrySection(head.strip().rstrip(".").lower(), heading, body))
    return out


def _split_reflection(sections: list[MulberrySection]) -> tuple[list[MulberrySection], str | None]:
    """(reasoning sections with the abandoned step and the reflection sentence taken out, that text)."""
    for i, s in enumerate(sections):
        for phrase in REFLECTION_PHRASES:
            at = s.body.find(phrase)
            if at < 0:
                continue
            cut = at + len(phrase)
            reflection = f"### {s.heading}\n{s.body[:cut].strip()}"
            rest = s.body[cut:].strip()
            kept = (
                sections[:i]
                + ([MulberrySection(s.title, s.heading, rest)] if rest else [])
                + sections[i + 1 :]
            )
            return kept, reflection
    return sections, None


@dataclass
class AnswerParts:
    """What an LLaVA-CoT or Mulberry answer text holds."""

    description: str | None = None
    rationale: str | None = None
    conclusion: str | None = None
    reflection: str | None = None
    layout: str | None = None  # "llava-cot" or "mulberry"


def parse_answer_text(content: str) -> AnswerParts:
    """Description, rationale, conclusion (and a Mulberry reflection) of an answer text, by its layout:
    LLaVA-CoT `<CAPTION>/<REASONING>/<CONCLUSION>` tags, or Mulberry `### …` sections (the rationale
    keeps every reasoning section with its heading, repeated step headings included)."""
    if "<CONCLUSION>" in content or "<CAPTION>" in content or "<REASONING>" in content:
        return AnswerParts(
            description=_section(content, "CAPTION"),
            rationale=_section(content, "REASONING"),
            conclusion=_section(content, "CONCLUSION"),
            layout="llava-cot",
        )
    sections = mulberry_sections(content)
    if not sections:
        return AnswerParts()
    description = next((s.body for s in sections if s.title == "image description"), None)
    finals = [s for s in sections if s.title in _FINAL_TITLES]
    reasoning = [s for s in sections if s.title != "image description" and s.title not in _FINAL_TITLES]
    reasoning, reflection = _split_reflection(reasoning)
    rationale = "\n\n".join(s.render() for s in reasoning).strip()
    return AnswerParts(
        description=description or None,
        rationale=rationale or None,
        conclusion=(finals[-1].body or None) if finals else None,
        reflection=reflection,
        layout="mulberry",
    )


def _with_conclusion(rationale: str | None, conclusion: str, gold: str) -> str | None:
    """The rationale, ending with the conclusion when that is a sentence the gold was taken from."""
    if conclusion.strip() == gold.strip() or not looks_like_sentence(conclusion):
        return rationale
    return f"{rationale}\n\n{conclusion.strip()}" if rationale else conclusion.strip()


# ---------------------------------------------------------------------------------------------- formats


def from_srpo(row: dict[str, Any], key: str | None = None) -> list[Sample]:
    question = _text(row.get("question"), "'question'")
    if "answer" not in row:
        raise RowProblem("missing 'answer' (the gold answer)")
    answer = _gold(row.get("answer"), "'answer'")
    choices = row.get("choices")
    if choices is not None and not isinstance(choices, list):
        raise RowProblem(f"'choices' must be a list of option texts, got {type(choices).__name__}")
    rationale = row.get("rationale")
    if rationale is not None and not isinstance(rationale, str):
        raise RowProblem(f"'rationale' must be a string, got {type(rationale).__name__}")
    meta = row.get("meta")
    if meta is not None and not isinstance(meta, dict):
        raise RowProblem(f"'meta' must be an object, got {type(meta).__name__}")
    images = image_refs(row.get("images"))
    return [
        Sample(
            id=_row_id(row, key, question, answer, row.get("images")),
            question=question,
            answer=answer,
            images=images,
            choices=[str(c) for c in choices] if choices else None,
            rationale=rationale,
            meta=dict(meta or {}),
        )
    ]


_HUMAN = ("human", "user")
_BOT = ("gpt", "assistant")


def _turn_pairs(turns: list[Any], text_key: str) -> list[tuple[Any, Any]]:
    """(question, answer) values of consecutive human→gpt turns, as LLaVA-CoT's training code pairs them:
    a human turn opens a pair, the next gpt turn closes it; system turns are skipped."""
    pairs: list[tuple[Any, Any]] = []
    question: Any = None
    for t in turns:
        if not isinstance(t, dict):
            raise RowProblem(f"a turn must be an object with a role and a text, got {type(t).__name__}")
        role = t.get("from", t.get("role"))
        value = t.get(text_key, t.get("value", t.get("content")))
        if role in _HUMAN:
            question = value
        elif role in _BOT and question is not None:
            pairs.append((question, value))
            question = None
    return pairs


def _conversation_samples(
    row: dict[str, Any],
    key: str | None,
    turns_field: str,
    text_key: str,
    image_value: Any,
    used: tuple[str, ...],
    *,
    mulberry_question: bool,
    need: str,
) -> list[Sample]:
    turns = row.get(turns_field)
    if not isinstance(turns, list) or not turns:
        raise RowProblem(f"'{turns_field}' must be a non-empty list of turns")
    pairs = _turn_pairs(turns, text_key)
    if not pairs:
        raise RowProblem(f"'{turns_field}' needs a human/user turn followed by a gpt/assistant turn")
    images = image_refs(image_value)
    first_q, first_a = pairs[0]
    rid = _row_id(row, key, first_q, first_a, row.get("image", row.get("images")))
    base_meta = _meta(row, used)
    samples = []
    for k, (raw_q, raw_a) in enumerate(pairs, 1):
        where = f"turn {k}: " if len(pairs) > 1 else ""
        question, choices = clean_question(_text(raw_q, f"{where}question text"), mulberry=mulberry_question)
        parts = parse_answer_text(_text(raw_a, f"{where}answer text"))
        if not parts.conclusion:
            raise RowProblem(f"{where}{need}")
        answer, gold_meta = gold_fields(parts.conclusion, choices)
        meta = {**base_meta, **gold_meta}
        for name, value in (("description", parts.description), ("reflection", parts.reflection)):
            if value:
                meta[name] = value
        if len(pairs) > 1:
            meta.update(row_id=rid, turn=k, turns=len(pairs))
        samples.append(
            Sample(
                id=rid if len(pairs) == 1 else f"{rid}#{k}",
                question=question,
                answer=answer,
                images=list(images),
                choices=choices,
                rationale=_with_conclusion(parts.rationale, parts.conclusion, answer),
                meta=meta,
            )
        )
    return samples


def from_llava_cot(row: dict[str, Any], key: str | None = None) -> list[Sample]:
    return _conversation_samples(
        row,
        key,
        "conversations",
        "value",
        row.get("image", row.get("images")),
        ("conversations", "image", "images", "id"),
        mulberry_question=False,
        need="the gpt turn has no <CONCLUSION> section (the answer)",
    )


def from_mulberry(row: dict[str, Any], key: str | None = None) -> list[Sample]:
    return _conversation_samples(
        row,
        key,
        "messages",
        "content",
        row.get("images", row.get("image")),
        ("messages", "images", "image", "id"),
        mulberry_question=True,
        need="the assistant turn has no '### The final answer is:' section",
    )


def from_flat(row: dict[str, Any], key: str | None = None) -> list[Sample]:
    raw_query = _text(row.get("query"), "'query'")
    content = row.get("content")
    if content is not None and not isinstance(content, str):
        raise RowProblem(f"'content' must be a string, got {type(content).__name__}")
    parts = parse_answer_text(content or "")
    question, choices = clean_question(raw_query, mulberry=parts.layout == "mulberry")
    given = row.get("answer")
    if given is None or (isinstance(given, str) and not given.strip()):
        if not parts.conclusion:
            raise RowProblem("missing 'answer', and 'content' has no conclusion to take it from")
        given = parts.conclusion
    conclusion = _gold(given, "'answer'")
    answer, gold_meta = gold_fields(conclusion, choices)
    meta = _meta(row, ("query", "answer", "image", "images", "content", "id"))
    meta.update(gold_meta)
    for name, value in (("description", parts.description), ("reflection", parts.reflection)):
        if value:
            meta[name] = value
    return [
        Sample(
            id=_row_id(row, key, raw_query, conclusion, row.get("image")),
            question=question,
            answer=answer,
            images=image_refs(row.get("image", row.get("images"))),
            choices=choices,
            rationale=_with_conclusion(parts.rationale, parts.conclusion or conclusion, answer),
            meta=meta,
        )
    ]


def from_mathvista(row: dict[str, Any], key: str | None = None) -> list[Sample]:
    question = _text(row.get("question"), "'question'")
    answer = _gold(row.get("answer"), "'answer'")
    image = row.get("decoded_image") or row.get("image")
    choices = row.get("choices")
    if choices is not None and not isinstance(choices, list):
        raise RowProblem(f"'choices' must be a list of option texts, got {type(choices).__name__}")
    return [
        Sample(
            id=_row_id(
                row, key, question, answer, row.get("image") if isinstance(row.get("image"), str) else None
            ),
            question=question,
            answer=answer,
            images=image_refs(image),
            choices=[str(c) for c in choices] if choices else None,
            meta=_meta(row, ("question", "answer", "image", "decoded_image", "choices")),
        )
    ]


def _meta(row: dict[str, Any], used: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in used and _jsonable(v)}


def _jsonable(v: Any) -> bool:
    if isinstance(v, (str, int, float, bool, type(None))):
        return True
    if isinstance(v, list):
        return all(_jsonable(x) for x in v)
    if isinstance(v, dict):
        return all(isinstance(k, str) and _jsonable(x) for k, x in v.items())
    return False


RowFormat = Callable[[dict[str, Any], "str | None"], list[Sample]]

ROW_FORMATS: dict[str, RowFormat] = {
    "srpo": from_srpo,
    "llava-cot": from_llava_cot,
    "mulberry": from_mulberry,
    "flat": from_flat,
    "mathvista": from_mathvista,
}


def detect_format(row: dict[str, Any]) -> str | None:
    """The row format whose tell-tale keys this row has, or None."""
    if "conversations" in row:
        return "llava-cot"
    if "messages" in row:
        return "mulberry"
    if "query" in row and ("content" in row or "image" in row) and "question" not in row:
        return "flat"
    if "pid" in row or "question_type" in row or "answer_type" in row:
        return "mathvista"
    if "question" in row:
        return "srpo"
    return None


SAMPLE_FIELDS = ("id", "question", "answer", "image", "images", "choices", "rationale")


def parse_field_mapping(spec: str | dict[str, str] | None) -> dict[str, str]:
    """`"question=q,answer=a,image=img"` → `{"question": "q", ...}`; our field names on the left."""
    if not spec:
        return {}
    if isinstance(spec, dict):
        pairs = spec.items()
    else:
        pairs = []
        for part in spec.split(","):
            if not part.strip():
                continue
            ours, sep, theirs = part.partition("=")
            if not sep or not theirs.strip():
                raise ValueError(f"--field {part!r}: write OURS=THEIRS, e.g. question=q,answer=a,image=img")
            pairs.append((ours.strip(), theirs.strip()))
    mapping = dict(pairs)
    unknown = set(mapping) - set(SAMPLE_FIELDS)
    if unknown:
        raise ValueError(f"--field: unknown field(s) {sorted(unknown)}; known: {', '.join(SAMPLE_FIELDS)}")
    return mapping


def from_fields(row: dict[str, Any], mapping: dict[str, str], key: str | None = None) -> Sample:
    """Apply a user mapping: our field → their column (dotted paths reach into nested dicts)."""

    def get(ours: str) -> Any:
        theirs = mapping.get(ours, ours)
        value: Any = row
        for part in theirs.split("."):
            if not isinstance(value, dict) or part not in value:
                return None
            value = value[part]
        return value

    question = _text(get("question"), f"'{mapping.get('question', 'question')}' (question)")
    answer = _gold(get("answer"), f"'{mapping.get('answer', 'answer')}' (answer)")
    raw_images = get("images") if "images" in mapping or "image" not in mapping else None
    if raw_images is None:
        raw_images = get("image")
    choices = get("choices")
    rationale = get("rationale")
    rid = get("id")
    used = tuple(mapping.values()) + SAMPLE_FIELDS
    return Sample(
        id=str(rid)
        if isinstance(rid, (str, int)) and rid != ""
        else (key or stable_id(question, answer, raw_images)),
        question=question,
        answer=answer,
        images=image_refs(raw_images),
        choices=[str(c) for c in choices] if isinstance(choices, list) and choices else None,
        rationale=rationale if isinstance(rationale, str) else None,
        meta=_meta(row, used),
    )
