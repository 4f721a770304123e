"""Every benchmark: its loader on fixture files in the official layout, and its scorer on the official
normalisation edge cases (tables of extracted answers and verdicts)."""

from __future__ import annotations

import contextlib
import json
import logging
import subprocess
import sys
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmark_fixtures import BENCHMARK_DATA, FIX, MMMU_PRO_VISION
from srpo.data.files import DataError
from srpo.data.images import load_image
from srpo.data.sample import ImageBytes
from srpo.eval.scoring import score_response
from srpo.grading import nearest_option, option_letter, options_in_text, to_number
from srpo.grading.choices import edit_distance
from srpo.tasks import get_task, task_names

DATA = {**BENCHMARK_DATA, "mmmu_pro_vision": MMMU_PRO_VISION}


def samples(name: str, data: str | None = None) -> dict:
    bench = get_task(name)
    return {s.id: s for s in bench.load(DATA[data or name])}


# ------------------------------------------------------------------------------------------------- loaders

LOADED = [
    # benchmark, data key, ids in file order, {id: (answer, choices, {group: value})}
    (
        "mathvista",
        None,
        ["1", "2", "3", "4", "5", "6"],
        {
            "1": ("the square", ["the square", "the circle", "the triangle"], {"category": "general-vqa"}),
            "3": ("1.25", None, {"task": "geometry problem solving", "grade": "high school"}),
            "5": ("[2007, 2009]", None, {"context": "bar chart"}),
        },
    ),
    (
        "mathverse",
        None,
        ["1", "2", "3", "4"],
        {
            "1": ("B", None, {"problem_version": "Text Dominant", "category": "Plane Geometry"}),
            "2": ("B", None, {"problem_version": "Text Only"}),
            "4": ("60°", None, {"problem_version": "Vision Only", "subfield": "Angle"}),
        },
    ),
    (
        "mathvision",
        None,
        ["1", "2", "3", "4"],
        {
            "1": ("C", ["3", "4", "5", "6", "7"], {"category": "counting", "level": "level 1"}),
            "2": ("12", None, {"level": "level 2"}),
        },
    ),
    (
        "olympiadbench",
        None,
        ["1601", "1602", "1603", "2001", "2002"],  # the theorem-proving file is skipped
        {
            "1602": ("$-3, 2$", None, {"category": "Math", "subfield": "Algebra"}),
            "2001": ("$19.6$", None, {"category": "Physics", "language": "English"}),
        },
    ),
    (
        "mmk12",
        None,
        ["mmk12-1", "mmk12-2", "mmk12-3", "mmk12-4"],
        {
            "mmk12-2": ("\\frac{1}{6}", None, {"category": "math"}),
            "mmk12-3": ("4", None, {"category": "physics"}),
        },
    ),
    (
        "mmmu_pro",
        None,
        ["validation_Math_1", "validation_Physics_2", "validation_Art_3"],
        {
            "validation_Physics_2": (
                "C",
                ["5 m", "10 m", "20 m", "40 m"],
                {"setting": "standard", "difficulty": "Medium"},
            )
        },
    ),
    (
        "mmmu_pro",
        "mmmu_pro_vision",
        ["test_Math_11", "test_Biology_12"],
        {"test_Biology_12": ("A", ["cell wall", "nucleus", "ribosome", "vacuole"], {"setting": "vision"})},
    ),
    (
        "synthetic",
        None,
        ["syn-0001", "syn-0002", "syn-0003", "syn-0004"],
        {"syn-0002": ("B", ["3:15", "4:30", "6:00", "9:45"], {"category": "measurement", "task": "clock"})},
    ),
]


@pytest.mark.parametrize(
    ("name", "data", "ids", "expected"), LOADED, ids=[f"{x[0]}-{x[1] or ''}" for x in LOADED]
)
def test_loader_reads_the_official_layout(name, data, ids, expected):
    bench = get_task(name)
    loaded = list(bench.load(DATA[data or name]))
    assert [s.id for s in loaded] == ids
    by_id = {s.id: s for s in loaded}
    for sid, (answer, choices, groups) in expected.items():
        s = by_id[sid]
        assert s.answer == answer
        assert s.choices == choices
        for key, value in groups.items():
            assert s.meta[key] == value
    for s in loaded:
        assert set(bench.groups) <= set(s.meta), (s.id, set(bench.groups) - set(s.meta))
        assert bench.prompt(s).strip() or s.images  # vision-only rows may have only the image
        for ref in s.images:  # every image resolves under the recorded root and decodes
            assert load_image(ref, s.meta["image_root"]).size[0] > 0


RACE = """
import threading
from srpo.tasks import task_for
names, barrier = [], threading.Barrier(8)
def look_up():
    barrier.wait()  # all eight threads reach the first lookup (and the discovery it starts) together
    names.append(task_for("mathvista+lenient").name)
threads = [threading.Thread(target=look_up) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
print(",".join(names))
"""


def test_first_lookups_from_many_threads_all_find_the_task():
    """The reward runs in a thread pool (verl): the first `task_for` calls race the task discovery. A fresh
    interpreter each run, so discovery really is first."""
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", RACE], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip().split(",") == ["mathvista"] * 8


def test_every_benchmark_is_registered():
    assert set(task_names(benchmarks_only=True)) == {
        "math",
        "mathvista",
        "mathverse",
        "mathvision",
        "olympiadbench",
        "mmk12",
        "mmmu_pro",
        "synthetic",
    }
    with pytest.raises(ValueError, match="unknown task 'mathvistaa'.*mathvista"):
        get_task("mathvistaa")


def test_prompts_carry_the_question_and_options():
    assert "(B) the circle" in get_task("mathvista").prompt(samples("mathvista")["1"])  # the official query
    assert "Choices:\n(A) 3:15\n(B) 4:30" in get_task("synthetic").prompt(samples("synthetic")["syn-0002"])
    olympiad = get_task("olympiadbench").prompt(samples("olympiadbench")["2001"])
    assert "A stone is dropped" in olympiad and "(m/s)" in olympiad  # context first, unit named
    assert "several answers" in get_task("olympiadbench").prompt(samples("olympiadbench")["1602"])
    assert "J. 28" in get_task("mmmu_pro").prompt(samples("mmmu_pro")["validation_Math_1"])


def test_in_memory_images_come_from_parquet():
    s = samples("mmk12")["mmk12-1"]
    assert isinstance(s.images[0], ImageBytes) and s.images[0].format == "png"


@pytest.mark.parametrize(
    ("name", "path", "message"),
    [
        ("mathverse", DATA["mathvision"], r"test\.jsonl:1: not a MathVerse row: missing sample_index"),
        ("mathvision", DATA["mathverse"], r"testmini\.json:element 0: not a MathVision row: missing id"),
        (
            "mmmu_pro",
            DATA["mmk12"],
            r"test-00000-of-00001\.parquet:row 0: not a MMMU-Pro row: missing options",
        ),
        ("synthetic", FIX / "nope.jsonl", r"nope\.jsonl: no such file"),
    ],
)
def test_wrong_file_names_the_file_and_the_record(name, path, message):
    with pytest.raises(DataError, match=message):
        list(get_task(name).load(path))


@pytest.mark.parametrize("options", ["[" * 100_000, "not a list", "{'A': 1}", "[1, 2"])
def test_mmmu_pro_unreadable_options_name_the_row(options, tmp_path):
    path = tmp_path / "test.jsonl"
    row = {"id": "test_Math_1", "question": "?", "options": options, "answer": "A", "subject": "Math"}
    path.write_text(json.dumps(row) + "\n")
    with pytest.raises(DataError, match=r"test\.jsonl:1: 'options' must be a list"):
        list(get_task("mmmu_pro").load(path, images=False))


# ------------------------------------------------------------------------------------------------- scorers

SCORES = [
    # MathVista multiple choice: a letter maps to its option; other text goes to the nearest option.
    ("mathvista", "1", "A", "the square", True),
    ("mathvista", "1", "(A) the square", "the square", True),
    ("mathvista", "1", "(a)", "the square", True),
    ("mathvista", "1", "B", "the circle", False),
    ("mathvista", "1", "the sqare", "the square", True),
    ("mathvista", "1", "circle", "the circle", False),
    ("mathvista", "1", None, None, False),
    ("mathvista", "6", "B", "45", True),
    ("mathvista", "6", "45", "45", True),
    ("mathvista", "6", "45°", "45", True),
    ("mathvista", "6", "(C) 60", "60", False),
    # integers: int(float(x)), as the official code (so 12.7 truncates to 12)
    ("mathvista", "2", "12", "12", True),
    ("mathvista", "2", "12.0", "12", True),
    ("mathvista", "2", "12.7", "12", True),
    ("mathvista", "2", "11.9", "11", False),
    ("mathvista", "2", "12 dots", "12", True),
    ("mathvista", "2", "twelve", None, False),
    # floats: rounded to `precision` (2 here)
    ("mathvista", "3", "1.25", "1.25", True),
    ("mathvista", "3", "1.2500", "1.25", True),
    ("mathvista", "3", "1.249", "1.25", True),
    ("mathvista", "3", "1.24", "1.24", False),
    ("mathvista", "3", "5/4", "1.25", True),
    ("mathvista", "3", "\\frac{5}{4}", "1.25", True),
    # the unit is stripped
    ("mathvista", "4", "8 cm", "8", True),
    ("mathvista", "4", "8\\text{ cm}", "8", True),
    ("mathvista", "4", "8cm", "8", True),
    ("mathvista", "4", "x = 8", "8", True),
    # lists compared as lists
    ("mathvista", "5", "[2007, 2009]", "[2007, 2009]", True),
    ("mathvista", "5", "[2007,2009]", "[2007, 2009]", True),
    ("mathvista", "5", "2007, 2009", "[2007, 2009]", True),
    ("mathvista", "5", "[2009, 2007]", "[2009, 2007]", False),
    ("mathvista", "5", "[2007]", "[2007]", False),
    # MathVerse: letters, option text written in the question, free form by equivalence
    ("mathverse", "1", "B", "B", True),
    ("mathverse", "1", "B:60°", "B", True),
    ("mathverse", "1", "60°", "B", True),
    ("mathverse", "1", "C", "C", False),
    ("mathverse", "3", "1.5", "1.5", True),
    ("mathverse", "3", "3/2", "3/2", True),
    ("mathverse", "3", "2/3", "2/3", False),
    ("mathverse", "4", "60", "60", True),
    ("mathverse", "4", "60^\\circ", "60^\\circ", True),
    ("mathverse", "4", "30°", "30°", False),
    # MathVision: option letters (or an option's text), free form within 1e-6 or by equivalence
    ("mathvision", "1", "C", "C", True),
    ("mathvision", "1", "(C)", "C", True),
    ("mathvision", "1", "5", "5", True),
    ("mathvision", "1", "E", "E", False),
    ("mathvision", "1", "F", "F", False),
    ("mathvision", "3", "E", "E", True),
    ("mathvision", "2", "12", "12", True),
    ("mathvision", "2", "12.0000001", "12.0000001", True),
    ("mathvision", "2", "12.1", "12.1", False),
    ("mathvision", "4", "0.375", "0.375", True),
    ("mathvision", "4", "3/8", "3/8", True),
    # OlympiadBench: symbols dropped, percentages, tolerance, several answers in any order, units
    ("olympiadbench", "1601", "\\frac{1}{4}", "\\frac{1}{4}", True),
    ("olympiadbench", "1601", "0.25", "0.25", True),
    ("olympiadbench", "1601", "25\\%", "25", True),
    ("olympiadbench", "1601", "0.2500000001", "0.2500000001", True),
    ("olympiadbench", "1601", "0.2501", "0.2501", False),
    ("olympiadbench", "1602", "2, -3", "2, -3", True),
    ("olympiadbench", "1602", "x=-3, x=2", "x=-3, x=2", True),
    ("olympiadbench", "1602", "-3", "-3", False),
    ("olympiadbench", "1602", "-3, 2, 5", "-3, 2, 5", False),
    ("olympiadbench", "1603", "[1,2]", "[1,2]", True),
    ("olympiadbench", "1603", "x \\in [1,2]", "[1,2]", True),
    ("olympiadbench", "2001", "19.6", "19.6", True),
    ("olympiadbench", "2001", "19.55", "19.55", True),
    ("olympiadbench", "2001", "19.8", "19.8", False),
    ("olympiadbench", "2001", "19.6 m/s", "19.6 m/s", False),  # the unit belongs outside the box
    ("olympiadbench", "2001", "19.6 \\mathrm{m/s}", "19.6 m/s", False),
    ("olympiadbench", "2002", "\\frac{mg}{k}", "\\frac{mg}{k}", True),
    ("olympiadbench", "2002", "x = \\frac{mg}{k}", "x = \\frac{mg}{k}", True),
    ("olympiadbench", "2002", "\\frac{k}{mg}", "\\frac{k}{mg}", False),
    # MMK12: letters (options written into the question) or equivalence
    ("mmk12", "mmk12-1", "B", "B", True),
    ("mmk12", "mmk12-1", "4", "B", True),
    ("mmk12", "mmk12-1", "C", "C", False),
    ("mmk12", "mmk12-4", "carbon", "B", True),
    ("mmk12", "mmk12-2", "1/6", "1/6", True),
    ("mmk12", "mmk12-2", "\\dfrac{1}{6}", "\\dfrac{1}{6}", True),
    ("mmk12", "mmk12-3", "4", "4", True),
    ("mmk12", "mmk12-3", "2", "2", False),
    # MMMU-Pro: the option letter, a "(X)" in the text, or an option's text
    ("mmmu_pro", "validation_Math_1", "C", "C", True),
    ("mmmu_pro", "validation_Math_1", "(C) 14", "C", True),
    ("mmmu_pro", "validation_Math_1", "Answer: C", "C", True),
    ("mmmu_pro", "validation_Math_1", "The answer is (C)", "C", True),
    ("mmmu_pro", "validation_Math_1", "14", "14", False),  # official: no letter, a random guess
    ("mmmu_pro", "validation_Math_1", "after adding them up we get 14 in total", "C", True),
    ("mmmu_pro", "validation_Math_1", "J", "J", False),
    ("mmmu_pro", "validation_Physics_2", "20 m", "20 m", False),
    ("mmmu_pro", "validation_Physics_2", "so it falls 20 m in the end", "C", True),
    # the synthetic set: option letters ↔ option texts through srpo.grading
    ("synthetic", "syn-0002", "B", "B", True),
    ("synthetic", "syn-0002", "4:30", "B", True),
    ("synthetic", "syn-0002", "A", "A", False),
    ("synthetic", "syn-0004", "55°", "55°", True),
    ("synthetic", "syn-0004", "125", "125", False),
]


@pytest.mark.parametrize(("name", "sid", "extraction", "prediction", "correct"), SCORES)
def test_scorer_applies_the_official_normalisation(name, sid, extraction, prediction, correct):
    sample = samples(name)[sid]
    verdict = get_task(name).verdict(extraction, sample)
    assert (verdict.prediction, verdict.correct) == (prediction, correct)


def test_mmmu_pro_vision_rows_score_by_letter():
    bench = get_task("mmmu_pro")
    s = samples("mmmu_pro", "mmmu_pro_vision")["test_Math_11"]
    assert bench.verdict("B", s).correct and not bench.verdict("C", s).correct
    assert bench.judge("Counting gives 2, so the last line reads\nAnswer: B", s, block=False).correct


def test_mathvista_precision_one_rounds_to_one_decimal():
    s = samples("mathvista")["3"]
    s.meta["precision"] = 1
    s.answer = "1.2"
    mathvista = get_task("mathvista")
    assert mathvista.verdict("1.24", s).prediction == mathvista.verdict("1.2", s).prediction == "1.2"
    assert mathvista.verdict("1.24", s).correct


@pytest.mark.parametrize(
    ("text", "extracted"),
    [
        ("\\boxed{B}", "B"),
        ("The answer is 12.", "12"),
        ("[2007, 2009]", "[2007, 2009]"),
        ("the square", "the square"),
        ("Answer: the circle.", "the circle"),
        ("So the final answer is \\boxed{\\frac{3}{2}}", "\\frac{3}{2}"),
        ("", None),
    ],
)
def test_default_extraction_reads_answer_blocks(text, extracted):
    assert get_task("math").extract(text, block=True) == extracted


def test_olympiadbench_extraction_reads_the_final_answer_line():
    """As the official judge: the line after the last "So the final answer is", every box in it (several
    boxes are several answers), else its `$…$` spans; without the phrase, every box of the text."""
    bench = get_task("olympiadbench")
    assert bench.extract("The roots are \\boxed{-3} and \\boxed{2}.") == "-3, 2"
    assert bench.extract("So the final answer is $19.6$.") == "19.6"
    assert bench.extract("First \\boxed{3}, then \\boxed{0}.\nSo the final answer is \\boxed{7}.") == "7"
    assert bench.extract("I kept going and got 7 somewhere, then ran out of") == (
        "I kept going and got 7 somewhere, then ran out of"
    )
    assert not bench.judge("I kept going and got 7 somewhere", samples("olympiadbench")["1601"]).correct


def test_olympiadbench_lenient_mode_reads_units():
    s = samples("olympiadbench")["2001"]
    assert not get_task("olympiadbench").verdict("19.6 m/s", s).correct
    assert get_task("olympiadbench").with_options(lenient=True).verdict("19.6 m/s", s).correct


# -------------------------------------------------------------------------------------------- normalise


@pytest.mark.parametrize(
    ("text", "n", "letter"),
    [
        ("B", None, "B"),
        ("(b)", None, "B"),
        ("B. 12", None, "B"),
        ("B: cat", None, "B"),
        ("Option C", None, "C"),
        ("\\boxed{\\text{D}}", None, "D"),
        ("A circle", None, None),
        ("E", 4, None),
        ("", None, None),
    ],
)
def test_option_letter(text, n, letter):
    assert option_letter(text, n) == letter


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("12", 12.0),
        ("-3.5", -3.5),
        ("1,000", 1000.0),
        ("1e-3", 0.001),
        ("\\frac{1}{2}", 0.5),
        ("-\\frac{3}{4}", -0.75),
        ("3/4", 0.75),
        ("50%", 50.0),
        ("30^\\circ", 30.0),
        ("$5", 5.0),
        ("5 cm", 5.0),
        ("3 + 4", None),
        ("x", None),
        ("1/0", None),
    ],
)
def test_to_number(text, value):
    assert to_number(text) == value


def test_edit_distance_and_nearest_option():
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("", "abc") == 3
    assert nearest_option("the circel", ["the square", "the circle"]) == "the circle"
    assert options_in_text("Which? A. 3 B. 4 C. 5") == {"A": "3", "B": "4", "C": "5"}
    assert options_in_text("Choices:\nA:50°\nB:60°") == {"A": "50°", "B": "60°"}
    assert options_in_text("A triangle has sides 3, 4 and 5.") == {}


@contextlib.contextmanager
def warnings_logged(name: str) -> Iterator[list[logging.LogRecord]]:
    """The warnings logged under `name` while the block runs (caplog cannot be reset between hypothesis
    examples)."""
    logged: list[logging.LogRecord] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = logged.append
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    try:
        yield logged
    finally:
        logger.removeHandler(handler)


ALL_SAMPLES = [
    (name, s)
    for name, key in [(n, n) for n in DATA if n in task_names()] + [("mmmu_pro", "mmmu_pro_vision")]
    for s in get_task(name).load(DATA[key])
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    index=st.integers(min_value=0, max_value=len(ALL_SAMPLES) - 1),
    response=st.one_of(
        st.text(max_size=300),
        st.lists(
            st.sampled_from(
                [
                    "<think>",
                    "</think>",
                    "<answer>",
                    "</answer>",
                    "<reflection>",
                    "</reflection>",
                    "\\boxed{",
                    "}",
                    "B",
                    "12",
                    "(C)",
                    "[1, 2]",
                    "\\frac{1}{2}",
                    " ",
                    "=",
                    ",",
                    "%",
                    "$",
                    "1e999",
                    "-1e400",
                    "nan",
                    "\\infty",
                    "10^{10^{10}}",
                    "Answer:",
                    "the answer is",
                    "\\text{",
                    "\x00",
                    "\ud800",
                ]
            ),
            max_size=40,
        ).map("".join),
    ),
)
def test_scoring_never_raises(index, response):
    """Never raises, and never by swallowing an error: a guard's warning ("scoring failed", "grading
    failed") means a bug that counted an answer wrong, so none may be logged."""
    name, sample = ALL_SAMPLES[index]
    with warnings_logged("srpo") as logged:
        row = score_response(get_task(name), sample, response)
    assert isinstance(row["correct"], bool) and isinstance(row["first_correct"], bool)
    assert not logged, [r.getMessage() for r in logged]


HOSTILE_RESPONSES = [
    "a" * 1_000_000,
    "<answer>" * 100_000,
    "\\boxed{" * 100_000,
    "{" * 200_000 + "1" + "}" * 200_000,
    "The answer is " * 70_000,
    "(A) " * 250_000,
    "1/" * 300_000 + "1",
    "Answer: " + "9" * 1_000_000,
    "<think>" + "x " * 400_000 + "</think><answer>" + "\\frac{" * 5_000 + "</answer>",
    "So the final answer is " + "\\boxed{1}, " * 80_000,
]


@pytest.mark.timeout(120)  # a hang guard, not a timing target: these finish in well under a second each
@pytest.mark.parametrize("name", task_names())
def test_every_task_reads_megabyte_responses(name):
    task = get_task(name)
    sample = next((s for n, s in ALL_SAMPLES if n == name), ALL_SAMPLES[-1][1])  # math: any row
    for response in HOSTILE_RESPONSES:
        with warnings_logged("srpo") as logged:
            row = score_response(task, sample, response)
        assert isinstance(row["correct"], bool)
        assert not logged, (response[:30], [r.getMessage() for r in logged])


def test_benchmarks_command_lists_the_registry():
    from typer.testing import CliRunner

    from srpo.cli import app

    result = CliRunner().invoke(app, ["eval", "benchmarks"])
    assert result.exit_code == 0
    assert [line.split()[0] for line in result.output.splitlines()] == task_names(benchmarks_only=True)


# ------------------------------------------------------------------ raw responses, as the official judges read them

MMMU_OPTIONS_J = [
    f"{v} m" for v in ("10.1", "20.2", "30.3", "40.4", "50.5", "60.6", "70.7", "80.8", "90.9", "150.507")
]

RAW = [
    # (benchmark, sample id, raw response, expected verdict) — one rule class per row
    # MathVista: numbers a sentence states, number words, bold, refusals, letters, options named by text
    ("mathvista", "2", "There are twelve dots in the picture.", True),
    ("mathvista", "2", "I count **12** dots.", True),
    ("mathvista", "2", "I cannot determine the number of dots from this image, but there may be 12.", False),
    ("mathvista", "3", "The width is 5 and the height is 4, so the ratio is 1.25.", True),
    ("mathvista", "4", "The side of the square measures 8 cm.", True),
    ("mathvista", "5", "The years are 2007 and 2009.", True),
    ("mathvista", "1", "A) The square has the blue outline.", True),
    ("mathvista", "1", "The shape with the blue outline is the circle.", False),
    ("mathvista", "6", "The measure of angle B is 45 degrees.", True),
    ("mathvista", "6", "The correct option letter is B.", True),
    # MATH-V: its response shortcuts, boxes, option values
    ("mathvision", "1", "Counting the shaded squares gives five, so the answer is C.", True),
    ("mathvision", "1", "The count is \\boxed{5}.", True),
    ("mathvision", "2", "The shaded area is 16 - 4 = 12.", True),
    ("mathvision", "4", "The shaded fraction is 3/8.", False),  # officially unreadable: no "answer is"
    ("mathvision", "4", "Half of a half, and half again. The answer is $\\frac{3}{8}$.", True),
    # MMMU-Pro: the last "Answer:" line, "(X)", option text, no random guess
    ("mmmu_pro", "validation_Math_1", "2(3+4) = 14.\nAnswer: C", True),
    ("mmmu_pro", "validation_Math_1", "Answer: J. 28", False),
    ("mmmu_pro", "validation_Physics_2", "It falls 20 m.\n**Answer:** C", True),
    ("mmmu_pro", "validation_Art_3", "Answer: \\( \\text{C} \\)", True),
    ("mmmu_pro", "validation_Art_3", "The outline is drawn in blue, the colour of the sky in it.", True),
    ("mmmu_pro", "validation_Art_3", "I'm sorry, I can't tell the colour.", False),
    # OlympiadBench: the final-answer line, several boxes as several answers, no last-number guess, units
    ("olympiadbench", "1602", "Try \\boxed{3}.\nSo the final answer is \\boxed{2}, \\boxed{-3}.", True),
    ("olympiadbench", "1602", "The roots are \\boxed{-3} and \\boxed{2}.", True),
    (
        "olympiadbench",
        "1601",
        "First \\boxed{3}, \\boxed{0}.\nSo the final answer is \\boxed{\\frac14}",
        True,
    ),
    ("olympiadbench", "2001", "v = g t = 19.6 m/s, and then I would check the", False),
    ("olympiadbench", "2001", "So the final answer is \\boxed{19.6 m/s}.", False),
    ("olympiadbench", "2001", "So the final answer is \\boxed{19.6} m/s.", True),
    ("olympiadbench", "2002", "So the final answer is $\\frac{mg}{k}$.", True),
]


@pytest.mark.parametrize(("name", "sid", "response", "correct"), RAW)
def test_raw_responses_get_the_official_verdict(name, sid, response, correct):
    assert get_task(name).judge(response, samples(name)[sid], block=False).correct is correct


def test_mathvision_matches_an_option_by_its_value():
    from srpo.data.sample import Sample

    s = Sample(id="x", question="Which?", answer="B", choices=["$2 \\sqrt{3}$", "$4 \\sqrt{3}$", "$8$"])
    assert get_task("mathvision").judge("The answer is 4\\sqrt{3}", s, block=False).correct
    assert not get_task("mathvision").judge("The answer is 2\\sqrt{3}", s, block=False).correct


def test_mmmu_pro_reads_the_letter_not_the_number_in_the_option():
    from srpo.data.sample import Sample

    s = Sample(id="x", question="How far?", answer="J", choices=MMMU_OPTIONS_J)
    assert get_task("mmmu_pro").judge("J. 150.507 m", s).correct
