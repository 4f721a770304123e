"""The data layer reads every supported layout into the same `Sample` records.

The real-layout tables use rows written in the exact shapes of LLaVA-CoT-100k (`conversations` with
`<SUMMARY>/<CAPTION>/<REASONING>/<CONCLUSION>`, several turn pairs in some rows), Mulberry-SFT (the
`messages` + `images` rows that Mulberry's `data_construction.py` writes, plain and reflection rows) and
the SRPO authors' flat `{query, image, answer, content}` rows.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from srpo.data.files import DataError
from srpo.data.formats import (
    GOLD_RULE,
    GOLD_TEXT,
    GOLD_UNCLEAR,
    INSTRUCTION_PHRASES,
    REFLECTION_PHRASES,
    isolate_gold,
    looks_like_sentence,
    split_choices,
    strip_instructions,
)
from srpo.data.readers import CLI_FLAGS, ReadStats, read_samples
from srpo.data.sample import ImageBytes, Sample

FIX = Path(__file__).parent / "fixtures" / "data"


# (file, format, index) → expected fields of that sample
CASES = [
    (
        "llava_cot.jsonl",
        "auto",
        0,
        dict(
            id="chartqa_1",
            question="What is the tallest bar's value? Answer with a number.",
            answer="7",
            images=["images/bar.png"],
            rationale="Bar B reaches 7, higher than A (3) and C (5).",
            description="A bar chart with three bars labelled A, B and C.",
        ),
    ),
    (
        "llava_cot.jsonl",
        "llava-cot",
        1,
        dict(
            question="How many bars are there?",
            answer="3",
            rationale="There are bars A, B, C.",
            description=None,
        ),
    ),
    (
        "mulberry.json",
        "auto",
        0,
        dict(
            question="Find the perimeter of the rectangle.",
            answer="14",
            images=["images/rect.png"],
            description="A rectangle with sides 3 and 4.",
        ),
    ),
    ("mulberry.json", "mulberry", 1, dict(answer="B", description=None)),
    (
        "flat.jsonl",
        "auto",
        0,
        dict(
            question="How many Mexican municipal leaders were killed in 2017?",
            answer="21",
            images=["images/bar.png"],
            rationale="The 2017 bar shows 21.",
            description="A bar chart of yearly counts.",
        ),
    ),
    (
        "mathvista_testmini.json",
        "auto",
        0,
        dict(
            id="1", question="What is the value of x?", answer="5", images=["images/rect.png"], choices=None
        ),
    ),
    (
        "mathvista_testmini.json",
        "mathvista",
        1,
        dict(id="2", answer="the circle", choices=["the square", "the circle"]),
    ),
]


def _field(s: Sample, key: str):
    return (
        s.meta.get(key)
        if key in ("description", "reflection", GOLD_RULE, GOLD_TEXT, GOLD_UNCLEAR)
        else getattr(s, key)
    )


@pytest.mark.parametrize("name,format,index,expected", CASES)
def test_reader_table(name, format, index, expected):
    samples = list(read_samples(FIX / name, format=format))
    s = samples[index]
    for key, value in expected.items():
        assert _field(s, key) == value, f"{name}[{index}].{key}"


# ------------------------------------------------------------------------------- the real layouts

# (file, index) → what srpo must read: the gold is the answer itself, the rule that isolated it, the
# full conclusion kept in meta (and at the end of the rationale when it is a sentence).
REAL = [
    # LLaVA-CoT-100k, single turn: a bare CONCLUSION.
    (
        "llava_cot_100k.jsonl",
        0,
        dict(
            id="chartqa_two_col_2231",
            question="Which bar is the tallest? Answer the question using a single word or phrase.",
            answer="B",
            choices=None,
            gold_rule="short answer",
            description="A bar chart with three vertical bars labelled A, B and C on the horizontal axis.",
            rationale="Bar A reaches 3, bar B reaches 7 and bar C reaches 5. Bar B is therefore the tallest.",
        ),
    ),
    # LLaVA-CoT: the conclusion is a sentence ending in "The answer is B."; options parsed from the lines.
    (
        "llava_cot_100k.jsonl",
        1,
        dict(
            id="aokvqa_31c7e9",
            question="What is the capital of the state printed on the sign?\n"
            "Answer with the option's letter from the given choices directly.",
            answer="B",
            choices=["Anchorage", "Juneau", "Fairbanks", "Sitka"],
            gold_rule="answer phrase",
            gold_text="Juneau is the capital of Alaska. The answer is B.",
            rationale="The sign names Alaska. The capital of Alaska is Juneau, which is option B.\n\n"
            "Juneau is the capital of Alaska. The answer is B.",
        ),
    ),
    # LLaVA-CoT: "Options: (A) … (B) …" on one line; conclusion "The answer is B."
    (
        "llava_cot_100k.jsonl",
        2,
        dict(
            question="Context: The diagram shows a food chain in a pond.\nQuestion: Which organism is a producer?",
            answer="B",
            choices=["heron", "algae", "frog"],
            gold_rule="answer phrase",
        ),
    ),
    # LLaVA-CoT, multi-turn: every human/gpt pair is its own sample, ids `<row id>#<turn>`, image shared.
    (
        "llava_cot_100k.jsonl",
        3,
        dict(
            id="vqav2_multi_5521#1",
            question="Is there a rectangle in the picture?",
            answer="Yes",
            gold_rule="yes/no",
        ),
    ),
    (
        "llava_cot_100k.jsonl",
        4,
        dict(
            id="vqav2_multi_5521#2",
            question="How many sides does it have?",
            answer="4",
            images=["images/rect.png"],
            description="The same blue rectangle.",
        ),
    ),
    # … and a turn whose conclusion is a sentence with no isolatable answer: kept, flagged, never graded.
    (
        "llava_cot_100k.jsonl",
        5,
        dict(
            id="vqav2_multi_5521#3",
            answer="The picture could be used to teach children about shapes in a geometry lesson.",
            gold_unclear=True,
            gold_rule=None,
        ),
    ),
    # GeoQA-style "Choices:\nA: 7 …" block, conclusion a bare letter.
    (
        "llava_cot_100k.jsonl",
        6,
        dict(
            question="As shown in the figure, the rectangle has sides 3 and 4. What is its perimeter?",
            answer="C",
            choices=["7", "12", "14", "24"],
            gold_rule="option letter",
        ),
    ),
    ("llava_cot_100k.jsonl", 7, dict(id="sharegpt4v_77012", gold_unclear=True)),
    ("llava_cot_100k.jsonl", 8, dict(answer="\\frac{3}{4}", gold_rule="boxed")),
    # Mulberry-SFT, plain row: preamble stripped, choices parsed, "C: 14" → C, headings kept in the rationale.
    (
        "mulberry_sft.json",
        0,
        dict(
            question="Find the perimeter of the rectangle.",
            answer="C",
            choices=["7", "12", "14", "24"],
            gold_rule="option letter",
            gold_text="C: 14",
            images=["images/rect.png"],
            description="The image shows a rectangle whose length is labelled 4 and whose width is labelled 3.",
            rationale="### Rationales:\nThe perimeter of a rectangle is twice the sum of its length and width, so "
            "we add the two labelled sides and double the result.\n\n### Let's think step by step.\n\n"
            "### Step 1:\nAdd the length and the width: 4 + 3 = 7.\n\n### Step 2:\nDouble the sum: 2 × 7 = 14.",
            reflection=None,
        ),
    ),
    # Mulberry reflection row: the abandoned step and "I think I have made a mistake…" go to meta.reflection;
    # the rationale keeps the redone step under its (repeated) heading.
    (
        "mulberry_sft.json",
        1,
        dict(
            question="In the bar chart, how much taller is bar B than bar A?",
            answer="C",
            choices=["2", "3", "4", "5"],
            images=["images/bar.png"],
            rationale="### Rationales:\nWe need the difference between the heights of bars B and A.\n\n"
            "### Let's think step by step.\n\n### Step 1:\nRead the height of bar A: it is 3.\n\n"
            "### Step 2:\nSubtract: 7 - 3 = 4, so bar B is 4 taller than bar A.",
            reflection="### Step 2:\nSubtract the height of bar C from bar B: 7 - 5 = 2.\n\n"
            "I think I have made a mistake. Let me rethink it.",
        ),
    ),
    # Mulberry free-form: the README's kind of sentence answer is flagged, not graded.
    (
        "mulberry_sft.json",
        2,
        dict(
            question="What is the height of bar C?",
            answer="The height of bar C in the chart is approximately 5 units.",
            gold_unclear=True,
            choices=None,
        ),
    ),
    (
        "mulberry_sft.json",
        3,
        dict(question="What is the area of the rectangle?", answer="12", gold_rule="short answer"),
    ),
    # The SRPO authors' flat rows: `answer` given; `content` parsed for description and rationale.
    (
        "srpo_flat.jsonl",
        0,
        dict(
            question="How many more units is bar B than bar C? Answer the question using a single word or phrase.",
            answer="2",
            description="A bar chart of three bars labelled A, B and C.",
            rationale="Bar B is 7 and bar C is 5, so B is 2 more than C.",
        ),
    ),
    (
        "srpo_flat.jsonl",
        1,
        dict(question="What is the area of the rectangle?", answer="B", choices=["7", "12", "14", "24"]),
    ),
    # An empty `answer`: the gold comes from the content's conclusion.
    (
        "srpo_flat.jsonl",
        2,
        dict(
            question="Which bar is shortest?",
            answer="A",
            choices=["bar A", "bar B", "bar C"],
            gold_rule="answer phrase",
        ),
    ),
    ("srpo_flat.jsonl", 3, dict(gold_unclear=True)),
]


@pytest.fixture(scope="module")
def real_samples() -> dict[str, list[Sample]]:
    return {name: list(read_samples(FIX / name)) for name in {c[0] for c in REAL}}


@pytest.mark.parametrize("name,index,expected", REAL, ids=[f"{c[0]}[{c[1]}]" for c in REAL])
def test_real_layout_table(real_samples, name, index, expected):
    s = real_samples[name][index]
    for key, value in expected.items():
        assert _field(s, key) == value, f"{name}[{index}].{key}"


def test_no_gold_of_the_real_layouts_is_graded_as_a_sentence(real_samples):
    for samples in real_samples.values():
        for s in samples:
            assert s.meta.get(GOLD_UNCLEAR) or not looks_like_sentence(s.answer), (s.id, s.answer)
            assert s.meta[GOLD_TEXT]  # the conclusion as the dataset wrote it is always kept


def test_correct_answers_grade_as_correct_against_the_isolated_golds(real_samples):
    from srpo.grading import is_equivalent

    by_id = {s.id: s for samples in real_samples.values() for s in samples}
    for sid, said in [
        ("aokvqa_31c7e9", "B"),
        ("aokvqa_31c7e9", "Juneau"),
        ("scienceqa_4410", "algae"),
        ("vqav2_multi_5521#2", "4"),
    ]:
        s = by_id[sid]
        assert is_equivalent(said, s.answer, s.choices), (sid, said, s.answer)
    mulberry = real_samples["mulberry_sft.json"][0]
    assert is_equivalent("14", mulberry.answer, mulberry.choices) and is_equivalent(
        "C", mulberry.answer, mulberry.choices
    )
    assert not is_equivalent("12", mulberry.answer, mulberry.choices)


def test_multi_turn_rows_count_and_first_turn_only():
    stats = ReadStats()
    all_turns = list(read_samples(FIX / "llava_cot_100k.jsonl", stats=stats))
    assert stats.read == 9 and stats.rows == 7 and stats.extra_turns == 2 and stats.dropped_turns == 0
    assert stats.gold_unclear == 2 and stats.unclear_ids == ["vqav2_multi_5521#3", "sharegpt4v_77012"]
    assert "2 samples whose gold answer could not be isolated" in stats.summary()
    first = ReadStats()
    firsts = list(read_samples(FIX / "llava_cot_100k.jsonl", stats=first, first_turn_only=True))
    assert first.read == 7 and first.dropped_turns == 2 and "2 later turns dropped" in first.summary()
    assert [s.id for s in firsts][3] == "vqav2_multi_5521#1"  # the same id as when every turn is read
    multi = [s for s in all_turns if s.meta.get("row_id") == "vqav2_multi_5521"]
    assert [(s.meta["turn"], s.meta["turns"]) for s in multi] == [(1, 3), (2, 3), (3, 3)]


def test_turn_ids_of_rows_without_an_id_are_stable_and_distinct(tmp_path):
    row = json.loads((FIX / "llava_cot_100k.jsonl").read_text().splitlines()[3])
    del row["id"]
    p = tmp_path / "rows.jsonl"
    p.write_text(json.dumps(row) + "\n")
    ids = [s.id for s in read_samples(p)]
    assert ids == [s.id for s in read_samples(p)]
    base = ids[0].split("#")[0]
    assert len(base) == 16 and ids == [f"{base}#1", f"{base}#2", f"{base}#3"]


# ------------------------------------------------------------------------------- gold isolation

OPTS = ["57", "113", "123", "133"]
GOLDS = [
    # (conclusion, choices) → (gold, rule); rule None = unclear
    (("B", None), ("B", "short answer")),
    (("(B)", OPTS), ("B", "option letter")),
    (("B.", OPTS), ("B", "option letter")),
    (("The answer is B.", None), ("B", "answer phrase")),
    (("Juneau is the capital of Alaska. The answer is B.", None), ("B", "answer phrase")),
    (("The correct answer is (C).", OPTS), ("C", "answer phrase")),
    (("Answer:C", OPTS), ("C", "answer phrase")),
    (("The answer is: A: 57", OPTS), ("A", "answer phrase")),
    (("The answer is B because it is the tallest", OPTS), ("B", "answer phrase")),
    (("The final answer is 3.5.", None), ("3.5", "answer phrase")),
    (("A: 57", OPTS), ("A", "option letter")),
    (("(C) 123", OPTS), ("C", "option letter")),
    (("Therefore, C.", OPTS), ("C", "trailing option letter")),
    (("\\boxed{\\frac{1}{2}}", None), ("\\frac{1}{2}", "boxed")),
    (("So the area is $\\boxed{12}$ square units.", None), ("12", "boxed")),
    (("Yes", None), ("Yes", "yes/no")),
    (("No, the man is not wearing a hat.", None), ("No", "yes/no")),
    (("21", None), ("21", "short answer")),
    (("76.06.", None), ("76.06", "short answer")),
    (("Juneau.", None), ("Juneau", "short answer")),
    (("the circle", None), ("the circle", "short answer")),
    (("$\\frac{3}{4}$", None), ("$\\frac{3}{4}$", "short answer")),
    # never graded: sentences, and an option letter whose text disagrees with the question's option
    (("The enrollment rate in primary education in 1985 was approximately 76%.", None), (None, None)),
    (("It is red.", None), (None, None)),
    (("The image shows a dog on a bench", None), (None, None)),
    (("A: 58", OPTS), (None, None)),
    (("", None), (None, None)),
]


@pytest.mark.parametrize("given,expected", GOLDS, ids=[g[0][0] or "empty" for g in GOLDS])
def test_gold_isolation_table(given, expected):
    gold = isolate_gold(*given)
    answer, rule = expected
    if rule is None:
        assert gold.unclear and gold.rule is None and gold.answer == given[0].strip()
    else:
        assert (gold.answer, gold.rule, gold.unclear) == (answer, rule, None)


@pytest.mark.parametrize(
    "text,sentence",
    [
        ("7", False),
        ("the circle", False),
        ("76.06.", False),
        ("The answer is B.", True),
        ("one two three four five six seven eight nine", True),
        ("Juneau is the capital", False),
    ],
)
def test_looks_like_sentence(text, sentence):
    assert looks_like_sentence(text) is sentence


CHOICES = [
    ("Find x.\nChoices:\nA: 30\nB: 45\nC: 60", ("Find x.", ["30", "45", "60"])),
    ("Which is north?\nOptions: (A) Ohio (B) Maine", ("Which is north?", ["Ohio", "Maine"])),
    (
        "Top predator?\nA. hawk\nB. mouse\nAnswer with the letter.",
        ("Top predator?\nAnswer with the letter.", ["hawk", "mouse"]),
    ),
    ("Pick one\n(A) red\n(B) blue", ("Pick one", ["red", "blue"])),
    # not options: letters out of order, a single line, an inline list without parentheses
    ("Which?\nB. x\nA. y", ("Which?\nB. x\nA. y", None)),
    ("Which option is the angle? A. 30 B. 60", ("Which option is the angle? A. 30 B. 60", None)),
    ("A: the man is tall.", ("A: the man is tall.", None)),
]


@pytest.mark.parametrize("question,expected", CHOICES)
def test_split_choices(question, expected):
    assert split_choices(question) == expected


def test_mulberry_instruction_list_is_documented_and_extendable():
    q = "<image>Based on the image, directly select the correct answer for the following question:\nQuestion: Find x."
    assert strip_instructions(q.replace("<image>", "")) == "Find x."
    assert (
        strip_instructions("Find x.\nPlease be brief.", [*INSTRUCTION_PHRASES, "Please be brief."])
        == "Find x."
    )
    assert "I think I have made a mistake. Let me rethink it." in REFLECTION_PHRASES


def test_mathvista_metadata_is_kept():
    s = next(read_samples(FIX / "mathvista_testmini.json"))
    assert s.meta["question_type"] == "free_form"
    assert s.meta["metadata"]["task"] == "geometry problem solving"


def test_mulberry_rationale_joins_the_reasoning_sections():
    s = next(read_samples(FIX / "mulberry.json"))
    assert "twice the sum" in s.rationale and "2 * 7 = 14" in s.rationale
    assert "final answer" not in s.rationale.lower()


def test_field_mapping_with_nested_columns():
    samples = list(read_samples(FIX / "custom.jsonl", fields="id=uid,question=q,answer=a,image=pic.file"))
    assert [(s.id, s.question, s.answer, s.images) for s in samples] == [
        ("7", "2+2?", "4", ["images/rect.png"]),
        ("8", "3+3?", "6", ["images/bar.png"]),
    ]


@pytest.mark.parametrize("spec", ["question", "question=", "nonsense=x"])
def test_bad_field_mapping_is_refused(spec):
    with pytest.raises(ValueError, match="--field"):
        list(read_samples(FIX / "custom.jsonl", fields=spec))


def test_ids_are_stable_across_runs_and_distinct_per_row():
    first = [s.id for s in read_samples(FIX / "llava_cot.jsonl")]
    second = [s.id for s in read_samples(FIX / "llava_cot.jsonl")]
    assert first == second
    assert first[0] == "chartqa_1"  # given ids are kept
    assert len(first[1]) == 16 and first[1] != first[0]  # derived from content


# ----------------------------------------------------------------------------------- bad rows


def test_bad_line_stops_with_file_and_line():
    with pytest.raises(DataError) as err:
        list(read_samples(FIX / "bad_line.jsonl", hint_flags=CLI_FLAGS))
    msg = str(err.value)
    assert "bad_line.jsonl:2" in msg and "invalid JSON" in msg and "--skip-bad" in msg


def test_hints_name_only_the_options_the_caller_has():
    # issue 15.13: a command without --skip-bad/--format/--field must not suggest them
    with pytest.raises(DataError) as err:
        list(read_samples(FIX / "bad_line.jsonl"))
    assert "--" not in str(err.value)
    with pytest.raises(DataError) as err:
        list(read_samples(FIX / "bad_line.jsonl", skip_bad=False, format="srpo"))
    assert "--skip-bad" not in str(err.value)


def test_skip_bad_counts_and_keeps_reasons():
    stats = ReadStats()
    samples = list(read_samples(FIX / "bad_line.jsonl", skip_bad=True, stats=stats))
    assert [s.question for s in samples] == ["ok?", "fine"]
    assert stats.read == 2 and stats.skipped == 2
    assert "bad_line.jsonl:2" in stats.problems[0]
    assert "bad_line.jsonl:3" in stats.problems[1] and "cannot tell the row format" in stats.problems[1]


def test_missing_answer_names_the_field(tmp_path):
    p = tmp_path / "rows.jsonl"
    p.write_text(
        json.dumps(
            {"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "no sections"}]}
        )
        + "\n"
    )
    with pytest.raises(DataError, match=r"rows.jsonl:1: the gpt turn has no <CONCLUSION>"):
        list(read_samples(p))


BAD_ROWS = [
    # (line, what the error must say) — issue 15.3: a row without an answer is not a row with gold ""
    ('{"question": "What is 2 + 2?"}', "missing 'answer'"),
    ('{"question": "What is 2 + 2?", "answer": null}', "missing 'answer'"),
    ('{"question": "What is 2 + 2?", "answer": "  "}', "'answer' is empty"),
    ('{"question": "q", "answer": "1", "choices": "A, B"}', "'choices' must be a list"),
    ('{"query": "q", "image": "x.png"}', "missing 'answer'"),
    ('{"conversations": "hello"}', "'conversations' must be a non-empty list"),
    (
        '{"conversations": [{"from": "gpt", "value": "<CONCLUSION>1</CONCLUSION>"}]}',
        "needs a human/user turn",
    ),
    (
        '{"messages": [{"role": "user", "content": true}, {"role": "assistant", "content": "### The final answer is: 3"}]}',
        "question text must be a string",
    ),
    (
        '{"messages": [{"role": "user", "content": ["x"]}, {"role": "assistant", "content": "### The final answer is: 3"}]}',
        "must be a string",
    ),
    ('{"pid": "1", "question": "q", "answer": "1", "image": {"bytes": 5}}', "image dict"),
    ("[1, 2]", "expected a JSON object"),
    ('"just a string"', "expected a JSON object"),
]


@pytest.mark.parametrize("line,message", BAD_ROWS)
def test_bad_rows_are_errors_or_counted_skips(tmp_path, line, message):
    p = tmp_path / "rows.jsonl"
    p.write_text('{"question": "fine", "answer": "1"}\n' + line + "\n")
    with pytest.raises(DataError, match=r"rows.jsonl:2: ") as err:
        list(read_samples(p))
    assert message in str(err.value)
    stats = ReadStats()
    assert [s.question for s in read_samples(p, skip_bad=True, stats=stats)] == ["fine"]
    assert stats.skipped == 1 and message in stats.problems[0]


# ---------------------------------------------------------------------------------------- UTF-8


def test_non_utf8_line_is_an_error_naming_the_line_or_a_counted_skip(tmp_path):
    p = tmp_path / "latin1.jsonl"
    p.write_bytes(
        b'{"question": "ok", "answer": "1"}\n'
        + '{"question": "caf\u00e9?", "answer": "2"}\n'.encode("latin-1")
        + b'{"question": "fine", "answer": "3"}\n'
    )
    with pytest.raises(DataError, match=r"latin1.jsonl:2: not valid UTF-8 \(byte 0xe9"):
        list(read_samples(p))
    stats = ReadStats()
    got = [s.question for s in read_samples(p, skip_bad=True, stats=stats)]
    assert got == ["ok", "fine"] and stats.skipped == 1 and "not valid UTF-8" in stats.problems[0]
    assert "1 skipped" in stats.summary()


def test_utf8_bom_and_real_replacement_characters_are_kept(tmp_path):
    p = tmp_path / "bom.jsonl"
    p.write_bytes(
        b"\xef\xbb\xbf"
        + json.dumps({"question": "\ufffd is a real character", "answer": "1"}).encode()
        + b"\n"
    )
    assert next(read_samples(p)).question == "\ufffd is a real character"


def test_non_utf8_json_file_is_an_error_naming_the_file(tmp_path):
    p = tmp_path / "rows.json"
    p.write_bytes(b'[{"question": "ok", "answer": "1"},\n {"question": "caf\xe9", "answer": "2"}]')
    with pytest.raises(DataError, match=r"rows.json: not valid UTF-8 near byte \d+"):
        list(read_samples(p))


def test_non_utf8_parquet_value_is_a_row_error(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    raw = pa.array([b"ok", b"caf\xe9", b"fine"], type=pa.binary())
    text = pa.Array.from_buffers(pa.string(), 3, raw.buffers())  # bytes declared as UTF-8 strings
    pq.write_table(pa.table({"question": text, "answer": ["1", "2", "3"]}), tmp_path / "rows.parquet")
    with pytest.raises(
        DataError, match=r"rows.parquet:row 1: unreadable row \(a text value is not valid UTF-8\)"
    ):
        list(read_samples(tmp_path / "rows.parquet"))
    stats = ReadStats()
    assert [s.question for s in read_samples(tmp_path / "rows.parquet", skip_bad=True, stats=stats)] == [
        "ok",
        "fine",
    ]
    assert stats.skipped == 1


# ------------------------------------------------------------------------------------ files


def test_unknown_file_type(tmp_path):
    p = tmp_path / "rows.csv"
    p.write_text("a,b\n")
    with pytest.raises(DataError, match="unknown file type"):
        list(read_samples(p))


def test_json_array_is_streamed_element_by_element(tmp_path):
    # The first rows come out before the reader ever reaches the broken tail.
    p = tmp_path / "big.json"
    p.write_text(
        "[" + ",".join(json.dumps({"question": f"q{i}", "answer": str(i)}) for i in range(3)) + ", {oops"
    )
    it = read_samples(p)
    assert [next(it).question for _ in range(3)] == ["q0", "q1", "q2"]
    with pytest.raises(DataError, match="element 3"):
        next(it)


def test_text_after_a_json_array_is_an_error(tmp_path):
    p = tmp_path / "rows.json"
    p.write_text('[{"question": "q", "answer": "1"}]\n{"question": "lost", "answer": "2"}\n')
    with pytest.raises(DataError, match=r"rows.json: line 2: text after the end of the top-level array"):
        list(read_samples(p))


def test_json_array_larger_than_one_chunk(tmp_path):
    p = tmp_path / "many.json"
    rows = [{"question": "x" * 500 + str(i), "answer": i + 0.5} for i in range(5000)]  # ~2.5 MB
    p.write_text(json.dumps(rows))
    got = list(read_samples(p))
    assert len(got) == 5000 and got[-1].answer == "4999.5"


def test_parquet_with_inline_image_bytes(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    png = (FIX / "images" / "bar.png").read_bytes()
    table = pa.table(
        {
            "question": ["What colour?", "Count?"],
            "answer": ["red", "2"],
            "image": [{"bytes": png, "path": None}, {"bytes": None, "path": "images/rect.png"}],
        }
    )
    pq.write_table(table, tmp_path / "data.parquet")
    samples = list(
        read_samples(tmp_path / "data.parquet", fields="question=question,answer=answer,image=image")
    )
    assert isinstance(samples[0].images[0], ImageBytes) and samples[0].images[0].data == png
    assert samples[1].images == ["images/rect.png"]
    assert samples[0].to_dict()["images"][0].startswith("data:image/png;base64,")


def test_garbage_parquet_is_an_error_naming_the_file(tmp_path):
    p = tmp_path / "rows.parquet"
    p.write_bytes(b"PAR1 this is not really parquet")
    with pytest.raises(DataError, match=r"rows.parquet: not a readable Parquet file"):
        list(read_samples(p))


def test_hf_save_to_disk_dataset_and_datasetdict(tmp_path):
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_list(
        [{"question": f"q{i}", "answer": str(i), "id": f"r{i}"} for i in range(4)]
    )
    ds.save_to_disk(str(tmp_path / "single"))
    assert [s.id for s in read_samples(tmp_path / "single")] == ["r0", "r1", "r2", "r3"]
    dd = datasets.DatasetDict({"train": ds, "test": ds.select([0])})
    dd.save_to_disk(str(tmp_path / "dict"))
    assert len(list(read_samples(tmp_path / "dict"))) == 4  # train by default
    assert [s.id for s in read_samples(tmp_path / "dict", split="test")] == ["r0"]
    with pytest.raises(DataError, match="no-such"):
        list(read_samples(tmp_path / "dict", split="no-such"))


def test_folder_of_split_shards_never_mixes_splits(tmp_path):
    (tmp_path / "data").mkdir()
    for split, n in (("testmini", 2), ("test", 3)):
        with (tmp_path / "data" / f"{split}-00000-of-00001.jsonl").open("w") as f:
            for i in range(n):
                f.write(json.dumps({"id": f"{split}{i}", "question": "q", "answer": "1"}) + "\n")
    with pytest.raises(
        DataError, match=r"shards of several splits \['test', 'testmini'\]; choose one with --split"
    ):
        list(read_samples(tmp_path))
    assert [s.id for s in read_samples(tmp_path, split="test")] == ["test0", "test1", "test2"]
    assert [s.id for s in read_samples(tmp_path, split="testmini")] == ["testmini0", "testmini1"]


def test_native_rows_round_trip(tmp_path):
    s = Sample(
        id="a1",
        question="q",
        answer="\\frac{1}{2}",
        images=["images/bar.png"],
        choices=["1/2", "1/3"],
        rationale="half",
        meta={"task": "t"},
    )
    p = tmp_path / "rows.jsonl"
    p.write_text(json.dumps(s.to_dict()) + "\n")
    assert next(read_samples(p)) == s
