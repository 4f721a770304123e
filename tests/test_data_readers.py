"""The data layer reads every supported layout into the same `Sample` records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from srpo.data.files import DataError
from srpo.data.readers import ReadStats, read_samples
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


@pytest.mark.parametrize("name,format,index,expected", CASES)
def test_reader_table(name, format, index, expected):
    samples = list(read_samples(FIX / name, format=format))
    s = samples[index]
    for key, value in expected.items():
        got = s.meta.get("description") if key == "description" else getattr(s, key)
        assert got == value, f"{name}[{index}].{key}"


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


def test_bad_line_stops_with_file_and_line():
    with pytest.raises(DataError) as err:
        list(read_samples(FIX / "bad_line.jsonl"))
    msg = str(err.value)
    assert "bad_line.jsonl:2" in msg and "invalid JSON" in msg and "--skip-bad" in msg


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
