"""The synthetic dataset: deterministic per seed, split as asked, readable by our readers, and every gold answer
agrees with the question asked and with what is actually drawn (checked on the pixels)."""

from __future__ import annotations

import json
import math
import re
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from typer.testing import CliRunner

from srpo.cli import app
from srpo.data.images import load_image
from srpo.data.readers import read_samples
from srpo.data.synth import (
    BAR_COLOUR,
    COLOURS,
    DEFAULT_IMAGE_SIZE,
    DOT_COLOUR,
    LETTERS,
    TASK_SETS,
    TASKS,
    clock_hand_angles,
    draw_problem,
    make_problem,
    resolve_tasks,
    triangle_vertices,
    write_synth,
)

N = 48  # the `synth_dir` fixture: 48 samples, seed 0, test fraction 0.2


def rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def all_rows(synth_dir):
    return rows(synth_dir / "train.jsonl") + rows(synth_dir / "test.jsonl")


# ------------------------------------------------------------------------------------------ files and splits


def test_rows_are_sample_dicts_with_images_on_disk(synth_dir):
    for row in all_rows(synth_dir):
        assert set(row) == {"id", "question", "answer", "images", "choices", "rationale", "meta"}
        assert row["images"] == [f"images/{row['id']}.png"]
        with Image.open(synth_dir / row["images"][0]) as im:
            assert im.size == (DEFAULT_IMAGE_SIZE, DEFAULT_IMAGE_SIZE) and im.mode == "RGB"
        assert row["meta"]["task"] in TASKS and row["meta"]["category"]
        assert row["question"] and row["answer"] and row["rationale"]


def test_readers_load_the_rows_and_their_images(synth_dir):
    samples = list(read_samples(synth_dir / "test.jsonl"))
    assert len(samples) == round(N * 0.2)
    for s in samples:
        assert s.id.startswith("synth-0-")
        assert load_image(s.images[0], synth_dir).size == (DEFAULT_IMAGE_SIZE, DEFAULT_IMAGE_SIZE)


@pytest.mark.parametrize(
    ("n", "test_fraction", "n_train", "n_test"),
    [(10, 0.2, 8, 2), (7, 0.0, 7, 0), (1, 0.2, 1, 0), (12, 0.5, 6, 6), (30, 0.1, 27, 3)],
)
def test_split_sizes(tmp_path, n, test_fraction, n_train, n_test):
    summary = write_synth(tmp_path, n, seed=5, test_fraction=test_fraction, image_size=56)
    train, test = rows(tmp_path / "train.jsonl"), rows(tmp_path / "test.jsonl")
    assert (summary.n_train, summary.n_test, len(train), len(test)) == (n_train, n_test, n_train, n_test)
    ids = [r["id"] for r in train + test]
    assert len(set(ids)) == n
    assert {r["meta"]["split"] for r in train} <= {"train"} and {r["meta"]["split"] for r in test} <= {"test"}
    assert len(list((tmp_path / "images").iterdir())) == n


def test_tasks_take_turns(synth_dir):
    # The default mix is the `math` set (what `srpo data synth` has always written).
    math = TASK_SETS["math"]
    by_task = Counter(r["meta"]["task"] for r in all_rows(synth_dir))
    assert by_task == dict.fromkeys(math, N // len(math))


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (None, TASK_SETS["math"]),
        ("easy", ("colour", "count_dots")),
        ("visual", ("colour", "shape", "count_dots", "taller_bar", "dot_position")),
        ("colour", ("colour",)),
        ("colour, count_dots", ("colour", "count_dots")),
        ("easy,colour,clock", ("colour", "count_dots", "clock")),
        (["math", "colour"], (*TASK_SETS["math"], "colour")),
        ("all", tuple(TASKS)),
    ],
)
def test_resolve_tasks(spec, expected):
    assert resolve_tasks(spec) == expected


@pytest.mark.parametrize(
    ("spec", "match"), [("colours", "unknown synthetic task 'colours'"), (" , ", "no synthetic task")]
)
def test_resolve_tasks_refuses(spec, match):
    with pytest.raises(ValueError, match=match):
        resolve_tasks(spec)


def test_a_chosen_task_mix_is_written_and_balanced(tmp_path):
    summary = write_synth(
        tmp_path, 30, seed=2, test_fraction=0.0, image_size=112, tasks="colour,shape,count_dots"
    )
    assert summary.by_task == {"colour": 10, "shape": 10, "count_dots": 10}
    assert {r["meta"]["task"] for r in rows(tmp_path / "train.jsonl")} == {"colour", "shape", "count_dots"}


def test_a_share_is_multiple_choice(tmp_path):
    write_synth(tmp_path, 120, seed=1, test_fraction=0.0, image_size=56, choice_fraction=0.3)
    choice_rows = [r for r in rows(tmp_path / "train.jsonl") if r["choices"]]
    assert 0.2 <= len(choice_rows) / 120 <= 0.5  # clocks asking for the time are always multiple choice
    for r in choice_rows:
        assert r["answer"] in LETTERS[: len(r["choices"])]
        assert len(set(r["choices"])) == len(r["choices"]) >= 3
        assert f"answer is {r['answer']}." in r["rationale"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n": 0}, "n must be at least 1"),
        ({"test_fraction": 1.0}, "test_fraction"),
        ({"test_fraction": -0.1}, "test_fraction"),
        ({"image_size": 20}, "image_size"),
        ({"choice_fraction": 1.5}, "choice_fraction"),
    ],
)
def test_bad_arguments_are_refused(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        write_synth(tmp_path, **{"n": 5, **kwargs})


def test_cli_writes_the_same_as_the_library(tmp_path):
    result = CliRunner().invoke(
        app, ["data", "synth", "--out", str(tmp_path / "cli"), "--n", "9", "--seed", "4"]
    )
    assert result.exit_code == 0, result.output
    assert "wrote 7 train and 2 test samples" in result.output
    write_synth(tmp_path / "lib", 9, seed=4)
    for name in ("train.jsonl", "test.jsonl"):
        assert (tmp_path / "cli" / name).read_text() == (tmp_path / "lib" / name).read_text()
    bad = CliRunner().invoke(app, ["data", "synth", "--out", str(tmp_path / "x"), "--n", "0"])
    assert bad.exit_code != 0 and "n must be at least 1" in bad.output


# ------------------------------------------------------------------------------------------ determinism


def test_same_seed_same_rows_and_pixels(tmp_path, synth_dir):
    write_synth(tmp_path, N, seed=0, test_fraction=0.2)
    for name in ("train.jsonl", "test.jsonl"):
        assert (tmp_path / name).read_text() == (synth_dir / name).read_text()
    for png in (synth_dir / "images").iterdir():
        a, b = Image.open(png), Image.open(tmp_path / "images" / png.name)
        assert a.tobytes() == b.tobytes()


def test_other_seed_other_problems():
    a = [make_problem(i, seed=0) for i in range(12)]
    b = [make_problem(i, seed=1) for i in range(12)]
    assert [p.params for p in a] != [p.params for p in b]
    assert [p.params for p in a] == [make_problem(i, seed=0).params for i in range(12)]


@settings(max_examples=200, deadline=None)
@given(index=st.integers(0, 10**6), seed=st.integers(-(10**9), 10**9), choice_fraction=st.floats(0, 1))
def test_every_problem_is_well_formed(index, seed, choice_fraction):
    p = make_problem(index, seed, choice_fraction=choice_fraction)
    assert p.question.strip() and p.rationale.strip() and p.answer.strip()
    assert recompute(p.task, p.params, p.question) == (
        p.choices[LETTERS.index(p.answer)] if p.choices else p.answer
    )
    assert p.rationale.endswith(f"answer is {p.answer}.")


# ------------------------------------------------------------------------------------------ answers


def recompute(task: str, params: dict, question: str) -> str:
    """The right answer, worked out from what is drawn and what the question asks (independently of the
    generator's own variant bookkeeping)."""
    if task == "bar_chart":
        labels, values = params["labels"], params["values"]
        if "Which day" in question:
            return labels[values.index(max(values))]
        if "largest value" in question:
            return str(max(values))
        if "sum" in question:
            return str(sum(values))
        m = re.search(r"value of (\w+) than that of (\w+)", question)
        return str(values[labels.index(m[1])] - values[labels.index(m[2])])
    if task == "count_shapes":
        shapes = params["shapes"]
        if "in total" in question:
            return str(len(shapes))
        m = re.search(r"How many (\w+)(?: (\w+))? ", question)
        words = [w for w in (m[1], m[2]) if w and w != "shapes"]
        colour = next((w for w in words if w in COLOURS), None)
        kind = next((w.rstrip("s") for w in words if w not in COLOURS), None)
        return str(
            sum(
                (colour is None or s["colour"] == colour) and (kind is None or s["shape"] == kind)
                for s in shapes
            )
        )
    if task == "rectangle":
        w, h = params["width"], params["height"]
        return str(w * h if "area" in question else 2 * (w + h))
    if task == "triangle":
        return str(180 - params["angle_left"] - params["angle_right"])
    if task == "clock":
        if "What time" in question:
            return f"{params['hour']}:{params['minute']:02d}"
        return str(params["minute"])
    if task == "number_line":
        return str(params["start"] + params["marked"] * params["step"])
    raise AssertionError(task)


def test_gold_answers_match_the_question_and_the_parameters(synth_dir):
    for row in all_rows(synth_dir):
        expected = recompute(row["meta"]["task"], row["meta"]["params"], row["question"])
        gold = row["choices"][LETTERS.index(row["answer"])] if row["choices"] else row["answer"]
        assert gold == expected, row["id"]
        assert expected in row["rationale"], row["id"]


# ------------------------------------------------------------------------------------------ pixels


def pixels(synth_dir, row) -> np.ndarray:
    return np.asarray(Image.open(synth_dir / row["images"][0]).convert("RGB")).astype(int)


def mask_of(img: np.ndarray, colour) -> np.ndarray:
    return np.abs(img - np.array(colour)).sum(axis=2) == 0


def components(mask: np.ndarray) -> int:
    """Number of 4-connected regions of True pixels."""
    seen = np.zeros_like(mask, dtype=bool)
    count = 0
    for y, x in zip(*np.nonzero(mask), strict=True):
        if seen[y, x]:
            continue
        count += 1
        stack = [(y, x)]
        seen[y, x] = True
        while stack:
            cy, cx = stack.pop()
            for ny, nx in ((cy + 1, cx), (cy - 1, cx), (cy, cx + 1), (cy, cx - 1)):
                if 0 <= ny < mask.shape[0] and 0 <= nx < mask.shape[1] and mask[ny, nx] and not seen[ny, nx]:
                    seen[ny, nx] = True
                    stack.append((ny, nx))
    return count


def rows_of(synth_dir, task):
    found = [r for r in all_rows(synth_dir) if r["meta"]["task"] == task]
    assert found
    return found


def test_bar_heights_are_proportional_to_the_values(synth_dir):
    for row in rows_of(synth_dir, "bar_chart"):
        bars = mask_of(pixels(synth_dir, row), BAR_COLOUR)
        columns = bars.any(axis=0)
        # Runs of bar-coloured columns are the bars, left to right.
        edges = np.flatnonzero(np.diff(np.concatenate([[0], columns.astype(int), [0]])))
        runs = list(zip(edges[::2], edges[1::2], strict=True))
        values = row["meta"]["params"]["values"]
        assert len(runs) == len(values), row["id"]
        heights = [bars[:, (a + b) // 2].sum() for a, b in runs]
        tallest = max(heights)
        for h, v in zip(heights, values, strict=True):
            assert abs(h / tallest - v / max(values)) <= 2 / tallest, (row["id"], heights, values)


def test_each_shape_colour_count_is_what_is_drawn(synth_dir):
    for row in rows_of(synth_dir, "count_shapes"):
        img = pixels(synth_dir, row)
        recorded = Counter(s["colour"] for s in row["meta"]["params"]["shapes"])
        for name, rgb in COLOURS.items():
            assert components(mask_of(img, rgb)) == recorded[name], (row["id"], name)


def test_rectangle_is_drawn_in_proportion(synth_dir):
    for row in rows_of(synth_dir, "rectangle"):
        dark = pixels(synth_dir, row).sum(axis=2) < 100
        long_rows = np.flatnonzero(dark.sum(axis=1) > 20)
        long_cols = np.flatnonzero(dark.sum(axis=0) > 20)
        width, height = long_cols.max() - long_cols.min(), long_rows.max() - long_rows.min()
        p = row["meta"]["params"]
        assert width / height == pytest.approx(p["width"] / p["height"], rel=0.1), row["id"]


def test_number_line_dot_sits_on_the_marked_tick(synth_dir):
    for row in rows_of(synth_dir, "number_line"):
        img = pixels(synth_dir, row)
        dark = img.sum(axis=2) < 100
        line_row = int(np.argmax(dark.sum(axis=1)))
        xs = np.flatnonzero(dark[line_row])
        dot_x = np.flatnonzero(mask_of(img, DOT_COLOUR).any(axis=0)).mean()
        p = row["meta"]["params"]
        fraction = (dot_x - xs.min()) / (xs.max() - xs.min())
        assert fraction == pytest.approx(p["marked"] / (p["ticks"] - 1), abs=0.03), row["id"]


def test_clock_hands_point_where_the_time_says(synth_dir):
    for row in rows_of(synth_dir, "clock"):
        img = pixels(synth_dir, row)
        p = row["meta"]["params"]
        c, r = DEFAULT_IMAGE_SIZE / 2, DEFAULT_IMAGE_SIZE * 0.44
        for angle, reach in zip(clock_hand_angles(p["hour"], p["minute"]), (0.3, 0.6), strict=True):
            x = c + math.sin(math.radians(angle)) * r * reach
            y = c - math.cos(math.radians(angle)) * r * reach
            near = img[round(y) - 1 : round(y) + 2, round(x) - 1 : round(x) + 2].sum(axis=2)
            assert near.min() < 200, (row["id"], angle)
        # A quarter-turn away from both hands there is only paper at mid-radius (the numerals sit further out).
        hour_angle, minute_angle = clock_hand_angles(p["hour"], p["minute"])
        for off in range(0, 360, 15):
            if min(abs((off - a + 180) % 360 - 180) for a in (hour_angle, minute_angle)) >= 40:
                x = c + math.sin(math.radians(off)) * r * 0.45
                y = c - math.cos(math.radians(off)) * r * 0.45
                assert img[round(y), round(x)].sum() > 600, (row["id"], off)


@pytest.mark.parametrize("angles", [(60, 60), (30, 100), (90, 45), (100, 25)])
def test_triangle_is_drawn_with_the_labelled_angles(angles):
    params = {"angle_left": angles[0], "angle_right": angles[1]}
    left, right, apex = triangle_vertices(params, DEFAULT_IMAGE_SIZE)

    def angle_at(p, q, r):
        a = math.atan2(q[1] - p[1], q[0] - p[0])
        b = math.atan2(r[1] - p[1], r[0] - p[0])
        return abs(math.degrees((a - b + math.pi) % (2 * math.pi) - math.pi))

    assert angle_at(left, right, apex) == pytest.approx(angles[0], abs=0.01)
    assert angle_at(right, left, apex) == pytest.approx(angles[1], abs=0.01)
    for x, y in (left, right, apex):
        assert 0 <= x < DEFAULT_IMAGE_SIZE and 0 <= y < DEFAULT_IMAGE_SIZE


@pytest.mark.parametrize("size", [56, 112, 224])
def test_every_task_draws_at_other_sizes(size):
    tasks = tuple(TASKS)
    for i in range(len(tasks)):
        assert draw_problem(make_problem(i, 3, tasks=tasks), size).size == (size, size)


# ------------------------------------------------------------------------------------------ the visual tasks

VISUAL = TASK_SETS["visual"]


@settings(max_examples=200, deadline=None)
@given(index=st.integers(0, 10**6), seed=st.integers(-(10**9), 10**9), choice_fraction=st.floats(0, 1))
def test_every_visual_problem_names_its_possible_answers(index, seed, choice_fraction):
    p = make_problem(index, seed, choice_fraction=choice_fraction, tasks=VISUAL)
    assert p.choices is None  # free-form, whatever the choice fraction
    assert p.answer in p.question  # one of the few answers the question names
    assert p.rationale.endswith(f"answer is {p.answer}.")


def visual_answer_from_pixels(task: str, img: np.ndarray) -> str:
    """The right answer of a visual problem read off its pixels alone, independently of its parameters."""
    size = img.shape[0]
    if task in ("colour", "shape"):
        counts = {name: int(mask_of(img, rgb).sum()) for name, rgb in COLOURS.items()}
        colour = max(counts, key=counts.get)
        if task == "colour":
            return colour
        ys, xs = np.nonzero(mask_of(img, COLOURS[colour]))
        fill = counts[colour] / ((ys.max() - ys.min() + 1) * (xs.max() - xs.min() + 1))
        return "square" if fill > 0.9 else "circle" if fill > 0.65 else "triangle"
    if task == "count_dots":
        return str(components(img.sum(axis=2) < 100))
    if task == "dot_position":
        ys, xs = np.nonzero(mask_of(img, DOT_COLOUR))
        return f"{'top' if ys.mean() < size / 2 else 'bottom'} {'left' if xs.mean() < size / 2 else 'right'}"
    if task == "taller_bar":
        bars = mask_of(img, BAR_COLOUR)
        left, right = bars[:, : size // 2].any(axis=1).sum(), bars[:, size // 2 :].any(axis=1).sum()
        return "left" if left > right else "right"
    raise AssertionError(task)


@pytest.mark.parametrize("size", [56, 112, 168])
def test_visual_answers_are_what_the_pixels_show(size):
    seen = Counter()
    for i in range(60):
        p = make_problem(i, seed=7, tasks=VISUAL)
        img = np.asarray(draw_problem(p, size).convert("RGB")).astype(int)
        assert visual_answer_from_pixels(p.task, img) == p.answer, (i, p.task, p.params)
        seen[p.task] += 1
    assert set(seen) == set(VISUAL)


def test_visual_answers_cover_every_option():
    answers = {t: Counter() for t in VISUAL}
    for i in range(500):
        p = make_problem(i, seed=0, tasks=VISUAL)
        answers[p.task][p.answer] += 1
    assert set(answers["colour"]) == set(COLOURS)
    assert set(answers["shape"]) == {"circle", "square", "triangle"}
    assert set(answers["count_dots"]) == {"1", "2", "3"}
    assert set(answers["dot_position"]) == {"top left", "top right", "bottom left", "bottom right"}
    assert set(answers["taller_bar"]) == {"left", "right"}
