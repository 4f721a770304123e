"""`srpo curate describe` reads every supported layout by detecting the row format as the readers do, the
SRPO authors' flat rows included (issue 12.4), with the ids the readers give (one per turn)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from srpo.cli import app
from srpo.data.readers import read_samples

FIX = Path(__file__).parent / "fixtures" / "data"


def _describe(tmp_path: Path, name: str, *extra: str) -> tuple[int, list[dict], list[dict]]:
    out = tmp_path / "desc.jsonl"
    result = CliRunner().invoke(
        app, ["curate", "describe", "--input", str(FIX / name), "--output", str(out), *extra]
    )
    errors = tmp_path / "desc.errors.jsonl"
    read = lambda p: [json.loads(x) for x in p.read_text().splitlines()] if p.exists() else []  # noqa: E731
    return result.exit_code, read(out), read(errors)


@pytest.mark.parametrize(
    "name,source,first",
    [
        ("srpo_flat.jsonl", "llava-cot", "A bar chart of three bars labelled A, B and C."),
        ("srpo_flat.jsonl", None, "A bar chart of three bars labelled A, B and C."),
        (
            "llava_cot_100k.jsonl",
            "llava-cot",
            "A bar chart with three vertical bars labelled A, B and C on the horizontal axis.",
        ),
        (
            "mulberry_sft.json",
            "mulberry",
            "The image shows a rectangle whose length is labelled 4 and whose width is labelled 3.",
        ),
    ],
)
def test_describe_every_layout_with_reader_ids(tmp_path, name, source, first):
    code, rows, errors = _describe(tmp_path, name, *(["--source", source] if source else []))
    assert code == 0
    ids = [s.id for s in read_samples(FIX / name)]
    assert [r["id"] for r in rows] == ids and errors == []  # every record has one, one line per turn
    assert rows[0]["description"] == first and rows[0]["image"] in ("images/bar.png", "images/rect.png")


def test_describe_pattern_on_flat_rows(tmp_path):
    code, rows, _ = _describe(tmp_path, "srpo_flat.jsonl", "--pattern", r"<REASONING>(.*?)</REASONING>")
    assert code == 0 and rows[0]["description"] == "Bar B is 7 and bar C is 5, so B is 2 more than C."
    assert len(rows) == 3  # the Mulberry-content row has no <REASONING>


def test_describe_lists_malformed_rows(tmp_path):
    bad = tmp_path / "in.jsonl"
    bad.write_text('{"query": "q", "image": "x.png"}\n' + (FIX / "srpo_flat.jsonl").read_text())
    out = tmp_path / "d.jsonl"
    result = CliRunner().invoke(app, ["curate", "describe", "--input", str(bad), "--output", str(out)])
    assert result.exit_code == 0 and "1 malformed rows" in result.output
    errors = [json.loads(x) for x in (tmp_path / "d.errors.jsonl").read_text().splitlines()]
    assert errors[0]["id"] == f"row:{bad}:1" and "missing 'answer'" in errors[0]["error"]
