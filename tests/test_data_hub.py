"""Datasets named by Hugging Face Hub id, read through `datasets.load_dataset` (offline: from local copies).

Nothing here touches the network: `hf:FOLDER` reads a local folder of Parquet / JSON files with the same
`load_dataset` call a Hub id gets, in each benchmark's own HF column layout; a Hub id is read from a local
HF cache made inside the test; an id that is not cached fails with one clear line.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from srpo.data.files import DataError, is_hub_id, iter_raw_rows
from srpo.data.readers import read_samples
from srpo.data.sample import ImageBytes

datasets = pytest.importorskip("datasets")
from datasets import Dataset, Features, Image, Sequence, Value  # noqa: E402

SRC = Path(__file__).resolve().parents[1] / "src"


def _png(colour: str = "red") -> bytes:
    from PIL import Image as PILImage

    buf = io.BytesIO()
    PILImage.new("RGB", (8, 8), colour).save(buf, format="PNG")
    return buf.getvalue()


def _save(folder: Path, split: str, rows: dict, features: Features) -> Path:
    """A Hub-style dataset folder: `data/<split>-00000-of-00001.parquet`."""
    (folder / "data").mkdir(parents=True, exist_ok=True)
    Dataset.from_dict(rows, features=features).to_parquet(
        str(folder / "data" / f"{split}-00000-of-00001.parquet")
    )
    return folder


IMG = {"bytes": _png(), "path": None}

# Each benchmark's Hugging Face layout (column names and types as the releases have them), two rows each.
LAYOUTS = {
    "mathvista": (
        "testmini",
        {
            "pid": ["1", "2"],
            "question": ["What is x?", "Which is larger?"],
            "image": ["images/1.jpg", "images/2.jpg"],
            "decoded_image": [IMG, IMG],
            "choices": [None, ["the square", "the circle"]],
            "unit": [None, None],
            "precision": [None, None],
            "answer": ["5", "the circle"],
            "question_type": ["free_form", "multi_choice"],
            "answer_type": ["integer", "text"],
            "metadata": [
                {"category": "math-targeted-vqa", "task": "geometry"},
                {"category": "general-vqa", "task": "vqa"},
            ],
            "query": ["Hint: … Question: What is x?", "Hint: … Question: Which is larger?"],
        },
        Features(
            {
                "pid": Value("string"),
                "question": Value("string"),
                "image": Value("string"),
                "decoded_image": Image(),
                "choices": Sequence(Value("string")),
                "unit": Value("string"),
                "precision": Value("float64"),
                "answer": Value("string"),
                "question_type": Value("string"),
                "answer_type": Value("string"),
                "metadata": {"category": Value("string"), "task": Value("string")},
                "query": Value("string"),
            }
        ),
        [("1", "5"), ("2", "the circle")],
    ),
    "mathverse": (
        "testmini",
        {
            "sample_index": ["1", "2"],
            "problem_index": ["1", "1"],
            "problem_version": ["Text Dominant", "Vision Only"],
            "question": ["Find x. Choices: A:1 B:2", ""],
            "image": [IMG, IMG],
            "answer": ["B", "B"],
            "question_type": ["multi-choice", "multi-choice"],
            "metadata": [
                {"split": "testmini", "source": "GeoQA", "subject": "Plane Geometry", "subfield": "Angle"}
            ]
            * 2,
            "query_wo": ["q", "q"],
            "query_cot": ["q cot", "q cot"],
            "question_for_eval": ["q", "q"],
        },
        Features(
            {
                "sample_index": Value("string"),
                "problem_index": Value("string"),
                "problem_version": Value("string"),
                "question": Value("string"),
                "image": Image(),
                "answer": Value("string"),
                "question_type": Value("string"),
                "metadata": {k: Value("string") for k in ("split", "source", "subject", "subfield")},
                "query_wo": Value("string"),
                "query_cot": Value("string"),
                "question_for_eval": Value("string"),
            }
        ),
        [("1", "B"), ("2", "B")],
    ),
    "mathvision": (
        "test",
        {
            "id": ["1", "2"],
            "question": ["How many?", "Which one?\n<image1>"],
            "options": [[], ["A", "B", "C", "D", "E"]],
            "image": ["images/1.jpg", "images/2.jpg"],
            "decoded_image": [IMG, IMG],
            "answer": ["3", "C"],
            "solution": [None, None],
            "level": [2, 3],
            "subject": ["counting", "metric geometry - angle"],
        },
        Features(
            {
                "id": Value("string"),
                "question": Value("string"),
                "options": Sequence(Value("string")),
                "image": Value("string"),
                "decoded_image": Image(),
                "answer": Value("string"),
                "solution": Value("string"),
                "level": Value("int64"),
                "subject": Value("string"),
            }
        ),
        [("1", "3"), ("2", "C")],
    ),
    "mmk12": (
        "test",
        {
            "id": ["a", "b"],
            "subject": ["math", "physics"],
            "image": [IMG, IMG],
            "question": ["What is 1+1?", "Speed?"],
            "answer": ["2", "\\frac{1}{2}"],
        },
        Features(
            {
                "id": Value("string"),
                "subject": Value("string"),
                "image": Image(),
                "question": Value("string"),
                "answer": Value("string"),
            }
        ),
        [("a", "2"), ("b", "\\frac{1}{2}")],
    ),
    "mmmu_pro": (
        "test",
        {
            "id": ["test_Art_1", "test_Math_2"],
            "question": ["Which painting? <image 1>", "Solve <image 1>"],
            "options": ["['a', 'b', 'c']", "['1', '2', '3', '4']"],
            "explanation": ["", ""],
            **{f"image_{k}": [IMG if k == 1 else None] * 2 for k in range(1, 8)},
            "img_type": ["['Paintings']", "['Diagrams']"],
            "answer": ["B", "D"],
            "topic_difficulty": ["Easy", "Hard"],
            "subject": ["Art", "Math"],
        },
        Features(
            {
                "id": Value("string"),
                "question": Value("string"),
                "options": Value("string"),
                "explanation": Value("string"),
                **{f"image_{k}": Image() for k in range(1, 8)},
                "img_type": Value("string"),
                "answer": Value("string"),
                "topic_difficulty": Value("string"),
                "subject": Value("string"),
            }
        ),
        [("test_Art_1", "B"), ("test_Math_2", "D")],
    ),
    "olympiadbench": (
        "train",
        {
            "id": [1, 2],
            "question": ["Find the area.", "Find x."],
            "solution": [["Area is 6."], ["x is 2."]],
            "final_answer": [["6"], ["2"]],
            "context": [None, None],
            **{f"image_{k}": [IMG if k == 1 else None] * 2 for k in range(1, 6)},
            "modality": ["Multimodal", "Multimodal"],
            "difficulty": ["Competition", "Competition"],
            "is_multiple_answer": [False, False],
            "unit": [None, None],
            "answer_type": ["Numerical", "Numerical"],
            "error": [None, None],
            "question_type": ["Open-ended", "Open-ended"],
            "subfield": ["Geometry", "Algebra"],
            "subject": ["Math", "Math"],
            "language": ["English", "English"],
        },
        Features(
            {
                "id": Value("int64"),
                "question": Value("string"),
                "solution": Sequence(Value("string")),
                "final_answer": Sequence(Value("string")),
                "context": Value("string"),
                **{f"image_{k}": Image() for k in range(1, 6)},
                "modality": Value("string"),
                "difficulty": Value("string"),
                "is_multiple_answer": Value("bool"),
                "unit": Value("string"),
                "answer_type": Value("string"),
                "error": Value("string"),
                "question_type": Value("string"),
                "subfield": Value("string"),
                "subject": Value("string"),
                "language": Value("string"),
            }
        ),
        [("1", "6"), ("2", "2")],
    ),
}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_each_benchmark_loads_its_hf_layout_through_load_dataset(tmp_path, name):
    from srpo.tasks import get_task

    split, rows, features, expected = LAYOUTS[name]
    folder = _save(tmp_path / name, split, rows, features)
    samples = list(get_task(name).load(Path(f"hf:{folder}")))
    assert [(s.id, s.answer) for s in samples] == expected
    for s in samples:
        assert s.images and all(isinstance(im, ImageBytes) and im.data == IMG["bytes"] for im in s.images)


def test_raw_rows_name_the_source_split_and_row(tmp_path):
    split, rows, features, _ = LAYOUTS["mathvista"]
    folder = _save(tmp_path / "mv", split, rows, features)
    got = list(iter_raw_rows(f"hf:{folder}"))
    assert [r.location for r in got] == [f"{folder}[testmini]:row 0", f"{folder}[testmini]:row 1"]
    assert got[0].row["decoded_image"]["bytes"] == IMG["bytes"]  # undecoded: no PIL round trip


def test_split_choice_and_a_missing_split(tmp_path):
    folder = tmp_path / "two"
    (folder / "data").mkdir(parents=True)
    for split in ("train", "test"):
        (folder / "data" / f"{split}.jsonl").write_text(json.dumps({"question": split, "answer": "1"}) + "\n")
    assert [s.question for s in read_samples(f"hf:{folder}")] == ["train"]  # train by default
    assert [s.question for s in read_samples(f"hf:{folder}", split="test")] == ["test"]
    with pytest.raises(DataError, match=r"Bad split: nope.*choose one with --split"):
        list(read_samples(f"hf:{folder}", split="nope"))


def test_several_splits_without_train_need_a_choice(tmp_path):
    split, rows, features, _ = LAYOUTS["mathvista"]
    folder = _save(tmp_path / "mv", "testmini", rows, features)
    _save(folder, "test", rows, features)
    with pytest.raises(DataError, match=r"splits \['test', 'testmini'\]; choose one with --split"):
        list(iter_raw_rows(f"hf:{folder}"))
    assert len(list(iter_raw_rows(f"hf:{folder}", split="testmini"))) == 2
    assert len(list(iter_raw_rows(f"hf:{folder}@testmini"))) == 2  # for commands without --split
    with pytest.raises(DataError, match="names split 'testmini', but split 'test' was asked for"):
        list(iter_raw_rows(f"hf:{folder}@testmini", split="test"))


@pytest.mark.parametrize(
    "source,hub",
    [
        ("AI4Math/MathVista", True),
        ("Xkev/LLaVA-CoT-100k", True),
        ("MMMU/MMMU_Pro:standard (10 options)", True),
        ("AI4Math/MathVista@testmini", True),
        ("AI4Math/MathVerse:testmini@testmini", True),
        ("data/test.jsonl@x", False),
        ("hf:/some/folder", True),
        ("data/train.jsonl", False),  # a missing data file, not an id
        ("./AI4Math/MathVista", False),
        ("a/b/c", False),
        ("plain-name", False),
    ],
)
def test_is_hub_id(source, hub):
    assert is_hub_id(source) is hub


def test_a_missing_local_file_is_not_mistaken_for_an_id(tmp_path):
    with pytest.raises(DataError, match=r"data/train.jsonl: no such file or folder"):
        list(read_samples("data/train.jsonl"))


def test_base_install_without_datasets_says_which_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "datasets", None)
    with pytest.raises(DataError, match=r"AI4Math/MathVista: .*pip install 'srpo\[train\]'"):
        list(iter_raw_rows("AI4Math/MathVista"))


def _cache_as_hub_dataset(hf_home: Path, repo_id: str, parquet: Path, split: str) -> None:
    """Put a prepared copy of `parquet` in the HF datasets cache under `repo_id`, where load_dataset looks
    for a Hub dataset it has downloaded before (`<cache>/<owner>___<name>/<config>/<version>/<hash>`)."""
    env = {**os.environ, "HF_HOME": str(hf_home), "HF_HUB_OFFLINE": "1"}
    script = (
        "import datasets, os, shutil, sys\n"
        "from datasets.packaged_modules.parquet.parquet import Parquet\n"
        "repo, parquet, split = sys.argv[1:]\n"
        "name = datasets.naming.camelcase_to_snakecase(repo.split('/')[1])\n"
        "b = Parquet(data_files={split: parquet}, dataset_name=name)\n"
        "b.download_and_prepare()\n"
        "dst = os.path.join(datasets.config.HF_DATASETS_CACHE, repo.split('/')[0] + '___' + name, 'default',\n"
        "                   '0.0.0', '0123456789abcdef')\n"
        "os.makedirs(os.path.dirname(dst), exist_ok=True)\n"
        "shutil.move(b.cache_dir, dst)\n"
    )
    subprocess.run(
        [sys.executable, "-c", script, repo_id, str(parquet), split], env=env, check=True, capture_output=True
    )


def _srpo(args: list[str], hf_home: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HOME": str(hf_home), "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(SRC)}
    return subprocess.run(
        [sys.executable, "-m", "srpo", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_offline_a_cached_hub_id_reads_and_an_uncached_one_is_one_clear_error(tmp_path):
    split, rows, features, _ = LAYOUTS["mathvista"]
    folder = _save(tmp_path / "src", split, rows, features)
    hf_home = tmp_path / "hf"
    _cache_as_hub_dataset(
        hf_home, "someone/MathVista", folder / "data" / "testmini-00000-of-00001.parquet", split
    )

    ok = _srpo(
        ["data", "inspect", "someone/MathVista", "--split", "testmini", "--format", "mathvista"],
        hf_home,
        tmp_path,
    )
    assert ok.returncode == 0, ok.stderr
    assert "#1 1" in ok.stdout and "the circle" in ok.stdout and "2 read, 0 skipped" in ok.stdout
    assert "<png in memory" in ok.stdout

    missing = _srpo(["data", "inspect", "nobody/NotCached", "--split", "test"], hf_home, tmp_path)
    assert missing.returncode == 2
    assert "Traceback" not in missing.stderr
    errors = [line for line in missing.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and "nobody/NotCached" in errors[0] and "HF_HUB_OFFLINE" in errors[0]
    shutil.rmtree(hf_home)
