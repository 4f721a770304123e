"""Synthetic multimodal problems drawn with PIL: the embedded dataset of the quickstart and the tests.

Each task is a pair of functions — one makes the problem (parameters, question, exact gold answer, a short
step-by-step rationale), one draws the parameters. Two sets (`TASK_SETS`):

`math`, multimodal math (the default of `write_synth`):

- `bar_chart`: bars with their values printed on top — largest value, which day is largest, sum, difference;
- `count_shapes`: circles, squares and triangles in four colours, one per grid cell — count by colour/kind;
- `rectangle`: a rectangle with labelled sides — area or perimeter;
- `triangle`: a triangle with two labelled angles — the missing angle;
- `clock`: an analogue clock — the time (multiple choice) or the minutes past the hour;
- `number_line`: a number line with a red dot on an unlabelled tick — its value.

`visual`, coarse questions whose answer is one of a few words the question names, and only the image tells
which. Its subset `easy` (colour, counting) is what a model trained from scratch on 2 CPU cores learns in
the quickstart's few minutes; the others need the model to tell where things are, which it does not learn
in that budget.

- `colour`: one large shape — its colour (red, blue, green, orange);
- `shape`: the same kind of picture — is it a circle, a square or a triangle;
- `count_dots`: one to three large dots, one per quarter of the picture — how many;
- `taller_bar`: two unlabelled bars — which one is taller (left, right);
- `dot_position`: one dot — which corner it is in (top left, top right, bottom left, bottom right).

Everything is a pure function of `(seed, index, tasks)`, so a dataset is reproduced exactly by its seed. A
share of the math problems (`choice_fraction`) is multiple choice: `choices` holds the option texts and the
gold answer is the option letter; the question itself does not list the options (as in MathVista) — prompt
builders render `choices`. The visual tasks are always free-form. `meta["params"]` records everything drawn,
so answers can be recomputed.
"""

from __future__ import annotations

import json
import math
import os
import random
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from srpo.data.sample import Sample

DEFAULT_IMAGE_SIZE = 168
"""Square image side in pixels: a multiple of 28 (Qwen2.5-VL's 14-px patches merged 2×2), so the tiny
model sees it unscaled as 6×6 = 36 image tokens."""

LETTERS = "ABCDEFGH"
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri")
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40),
    "blue": (40, 90, 220),
    "green": (30, 150, 60),
    "orange": (240, 140, 0),
}
SHAPES = ("circle", "square", "triangle")
BAR_COLOUR = (70, 130, 180)
DOT_COLOUR = COLOURS["red"]
INK = (0, 0, 0)
PAPER = (255, 255, 255)

CATEGORIES = {
    "bar_chart": "statistics",
    "count_shapes": "counting",
    "rectangle": "geometry",
    "triangle": "geometry",
    "clock": "measurement",
    "number_line": "arithmetic",
    "colour": "colour",
    "shape": "shape",
    "taller_bar": "comparison",
    "dot_position": "position",
    "count_dots": "counting",
}
CORNERS = ("top left", "top right", "bottom left", "bottom right")


@dataclass
class Problem:
    """One synthetic problem before it becomes a `Sample`: what is drawn (`params`) and what is asked."""

    task: str
    params: dict[str, Any]
    question: str
    answer: str
    rationale: str
    choices: list[str] | None = None
    variant: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def category(self) -> str:
        return CATEGORIES[self.task]


# ---------------------------------------------------------------------------------------------- choices


def _numeric_distractors(value: int, rng: random.Random, *, low: int = 0) -> list[int]:
    """Three distinct wrong values near `value`, none below `low`."""
    spread = max(3, abs(value) // 4)
    candidates = [value + d for d in range(-spread, spread + 1) if d and value + d >= low]
    return sorted(rng.sample(candidates, 3))


def _as_choice(problem: Problem, options: list[str], rng: random.Random) -> Problem:
    """Turn `problem` into multiple choice: shuffle `options` (the first one is correct), answer = letter."""
    correct = options[0]
    shuffled = options[:]
    rng.shuffle(shuffled)
    letter = LETTERS[shuffled.index(correct)]
    problem.choices = shuffled
    problem.rationale = f"{problem.rationale} Option {letter} is {correct}, so the answer is {letter}."
    problem.answer = letter
    return problem


def _finish(
    problem: Problem, rng: random.Random, choice: bool, distractors: Callable[[], list[str]]
) -> Problem:
    if choice:
        return _as_choice(problem, [problem.answer, *distractors()], rng)
    problem.rationale = f"{problem.rationale} So the answer is {problem.answer}."
    return problem


# ---------------------------------------------------------------------------------------------- tasks


def make_bar_chart(rng: random.Random, choice: bool) -> Problem:
    n = rng.randint(3, 5)
    days = list(DAYS[:n])
    values = rng.sample(range(1, 21), n)  # distinct, so "the largest" is unique
    params = {"labels": days, "values": values}
    listing = ", ".join(f"{d} {v}" for d, v in zip(days, values, strict=True))
    variant = rng.choice(["max", "argmax", "sum", "difference"])
    if variant == "max":
        answer = max(values)
        question = "The bar chart shows a value for each day. What is the largest value?"
        rationale = f"The bars read {listing}. The largest of these is {answer}."
    elif variant == "argmax":
        best = days[values.index(max(values))]
        question = "The bar chart shows a value for each day. Which day has the largest value?"
        rationale = f"The bars read {listing}. The tallest bar is {best} with {max(values)}."
        p = Problem("bar_chart", params, question, best, rationale, variant=variant)
        return _finish(p, rng, choice, lambda: [d for d in days if d != best][:3])
    elif variant == "sum":
        answer = sum(values)
        question = "The bar chart shows a value for each day. What is the sum of all the values?"
        rationale = f"The bars read {listing}. Adding them: {' + '.join(map(str, values))} = {answer}."
    else:
        i, j = rng.sample(range(n), 2)
        if values[i] < values[j]:
            i, j = j, i
        answer = values[i] - values[j]
        question = f"The bar chart shows a value for each day. How much larger is the value of {days[i]} than that of {days[j]}?"
        rationale = f"{days[i]} is {values[i]} and {days[j]} is {values[j]}. The difference is {values[i]} - {values[j]} = {answer}."
    p = Problem("bar_chart", params, question, str(answer), rationale, variant=variant)
    return _finish(p, rng, choice, lambda: [str(d) for d in _numeric_distractors(answer, rng)])


def make_count_shapes(rng: random.Random, choice: bool) -> Problem:
    n = rng.randint(3, 9)
    cells = rng.sample(range(16), n)  # a 4×4 grid, one shape per cell
    colours = list(COLOURS)
    shapes = [{"cell": c, "shape": rng.choice(SHAPES), "colour": rng.choice(colours)} for c in sorted(cells)]
    params = {"grid": 4, "shapes": shapes}
    variant = rng.choice(["colour", "kind", "colour_kind", "total"])
    colour, kind = rng.choice(colours), rng.choice(SHAPES)
    if variant == "colour":
        answer = sum(s["colour"] == colour for s in shapes)
        question = f"How many {colour} shapes are there in the picture?"
        rationale = f"Counting the {colour} shapes one by one gives {answer}."
    elif variant == "kind":
        answer = sum(s["shape"] == kind for s in shapes)
        question = f"How many {kind}s are there in the picture?"
        rationale = f"Counting the {kind}s of every colour gives {answer}."
    elif variant == "colour_kind":
        answer = sum(s["shape"] == kind and s["colour"] == colour for s in shapes)
        question = f"How many {colour} {kind}s are there in the picture?"
        rationale = f"Looking only at shapes that are both {colour} and {kind}s, there are {answer}."
    else:
        answer = n
        by_colour = Counter(s["colour"] for s in shapes)
        parts = " + ".join(f"{by_colour[c]} {c}" for c in colours if by_colour[c])
        question = "How many shapes are there in the picture in total?"
        rationale = f"By colour there are {parts}, which is {answer} shapes."
    p = Problem(
        "count_shapes",
        params,
        question,
        str(answer),
        rationale,
        variant=variant,
        extra={"colour": colour, "kind": kind},
    )
    return _finish(p, rng, choice, lambda: [str(d) for d in _numeric_distractors(answer, rng)])


def make_rectangle(rng: random.Random, choice: bool) -> Problem:
    width, height = rng.randint(2, 15), rng.randint(2, 12)
    params = {"width": width, "height": height, "unit": "cm"}
    variant = rng.choice(["area", "perimeter"])
    if variant == "area":
        answer = width * height
        question = (
            "The rectangle's sides are labelled in centimetres. What is its area in square centimetres?"
        )
        rationale = f"The rectangle is {width} cm wide and {height} cm tall. Area = {width} \\times {height} = {answer}."
    else:
        answer = 2 * (width + height)
        question = "The rectangle's sides are labelled in centimetres. What is its perimeter in centimetres?"
        rationale = f"The rectangle is {width} cm wide and {height} cm tall. Perimeter = 2 \\times ({width} + {height}) = {answer}."
    p = Problem("rectangle", params, question, str(answer), rationale, variant=variant)
    return _finish(p, rng, choice, lambda: [str(d) for d in _numeric_distractors(answer, rng, low=1)])


def make_triangle(rng: random.Random, choice: bool) -> Problem:
    a = rng.randint(30, 100)
    b = rng.randint(25, min(110, 155 - a))
    missing = 180 - a - b
    params = {"angle_left": a, "angle_right": b}
    question = (
        "Two angles of the triangle are marked. What is the measure of the angle marked '?', in degrees?"
    )
    rationale = (
        f"The angles of a triangle add up to 180^\\circ. The missing angle is 180 - {a} - {b} = {missing}."
    )
    p = Problem("triangle", params, question, str(missing), rationale, variant="missing_angle")
    return _finish(p, rng, choice, lambda: [str(d) for d in _numeric_distractors(missing, rng, low=1)])


def _time_text(hour: int, minute: int) -> str:
    return f"{hour}:{minute:02d}"


def make_clock(rng: random.Random, choice: bool) -> Problem:
    hour, minute = rng.randint(1, 12), rng.randrange(0, 60, 5)
    params = {"hour": hour, "minute": minute}
    hand = f"The short hand is at {hour} and the long hand points to {minute // 5 if minute else 12}"
    if choice or rng.random() < 0.5:
        # A time like "3:25" is multiple choice: free-form answers would be ambiguous to grade.
        answer = _time_text(hour, minute)
        question = "What time does the clock show?"
        rationale = f"{hand}, which means {minute} minutes past {hour}: {answer}."
        p = Problem("clock", params, question, answer, rationale, variant="time")
        other_hour = hour % 12 + 1
        swapped = (minute // 5 or 12, (hour * 5) % 60)
        options = [
            answer,
            _time_text(other_hour, minute),
            _time_text(*swapped),
            _time_text(hour, (minute + 30) % 60),
        ]
        options = list(dict.fromkeys(options))
        while len(options) < 4:
            options.append(_time_text(rng.randint(1, 12), rng.randrange(0, 60, 5)))
            options = list(dict.fromkeys(options))
        return _as_choice(p, options, rng)
    question = "How many minutes past the hour does the clock show?"
    rationale = f"{hand}. Each number on the dial is 5 minutes, so it is {minute} minutes past the hour."
    p = Problem("clock", params, question, str(minute), rationale, variant="minutes")
    return _finish(p, rng, False, list)


def make_number_line(rng: random.Random, choice: bool) -> Problem:
    step = rng.choice([1, 2, 5, 10])
    ticks = rng.randint(6, 9)
    start = step * rng.randint(-5, 5)
    marked = rng.randint(1, ticks - 2)  # an inner tick: only the two end ticks are labelled
    value = start + marked * step
    end = start + (ticks - 1) * step
    params = {"start": start, "step": step, "ticks": ticks, "marked": marked}
    question = "The number line has evenly spaced ticks. What number does the red dot mark?"
    rationale = (
        f"The line goes from {start} to {end} in {ticks - 1} equal steps of {step}. "
        f"The dot is {marked} ticks right of {start}: {start} + {marked} \\times {step} = {value}."
    )
    p = Problem("number_line", params, question, str(value), rationale, variant="value")
    return _finish(p, rng, choice, lambda: [str(d) for d in _numeric_distractors(value, rng, low=-1000)])


# The visual tasks ignore `choice`: their question already names the few possible answers.


def make_colour(rng: random.Random, choice: bool) -> Problem:
    colour, shape = rng.choice(list(COLOURS)), rng.choice(SHAPES)
    names = ", ".join(list(COLOURS)[:-1]) + f" or {list(COLOURS)[-1]}"
    question = f"What colour is the shape in the picture: {names}?"
    rationale = f"The picture shows one {shape}, and it is filled with {colour}."
    p = Problem("colour", {"colour": colour, "shape": shape}, question, colour, rationale, variant="colour")
    return _finish(p, rng, False, list)


def make_shape(rng: random.Random, choice: bool) -> Problem:
    colour, shape = rng.choice(list(COLOURS)), rng.choice(SHAPES)
    question = "Which shape is in the picture: a circle, a square or a triangle?"
    rationale = f"The picture shows one {colour} shape, and it is a {shape}."
    p = Problem("shape", {"colour": colour, "shape": shape}, question, shape, rationale, variant="shape")
    return _finish(p, rng, False, list)


def make_taller_bar(rng: random.Random, choice: bool) -> Problem:
    # Heights in percent of the plot, at least 25 points apart: a coarse comparison, never a close call.
    left = rng.randint(20, 100)
    right = rng.choice([h for h in range(20, 101) if abs(h - left) >= 25])
    taller, shorter = ("left", "right") if left > right else ("right", "left")
    question = "Which bar is taller: the left one or the right one?"
    rationale = f"The {taller} bar reaches higher than the {shorter} bar."
    p = Problem("taller_bar", {"left": left, "right": right}, question, taller, rationale, variant="taller")
    return _finish(p, rng, False, list)


def make_dot_position(rng: random.Random, choice: bool) -> Problem:
    corner = rng.choice(CORNERS)
    vertical, horizontal = corner.split()
    # The dot's centre as a fraction of the side, well inside its quarter.
    x = rng.uniform(0.22, 0.28) if horizontal == "left" else rng.uniform(0.72, 0.78)
    y = rng.uniform(0.22, 0.28) if vertical == "top" else rng.uniform(0.72, 0.78)
    question = "Where is the dot: top left, top right, bottom left or bottom right?"
    rationale = f"The dot is in the {vertical} half and the {horizontal} half of the picture."
    params = {"corner": corner, "x": round(x, 3), "y": round(y, 3)}
    p = Problem("dot_position", params, question, corner, rationale, variant="corner")
    return _finish(p, rng, False, list)


def make_count_dots(rng: random.Random, choice: bool) -> Problem:
    count = rng.randint(1, 3)
    cells = sorted(rng.sample(range(4), count))  # one dot in each of `count` quarters of the picture
    question = "How many dots are there in the picture: 1, 2 or 3?"
    rationale = f"Counting the dots one by one gives {count}."
    params = {"grid": 2, "cells": cells}
    p = Problem("count_dots", params, question, str(count), rationale, variant="count")
    return _finish(p, rng, False, list)


TASKS: dict[str, Callable[[random.Random, bool], Problem]] = {
    "bar_chart": make_bar_chart,
    "count_shapes": make_count_shapes,
    "rectangle": make_rectangle,
    "triangle": make_triangle,
    "clock": make_clock,
    "number_line": make_number_line,
    "colour": make_colour,
    "shape": make_shape,
    "taller_bar": make_taller_bar,
    "dot_position": make_dot_position,
    "count_dots": make_count_dots,
}
"""Every task by name. Add a task by adding a maker here, a drawer to `DRAW` and a category."""

TASK_SETS: dict[str, tuple[str, ...]] = {
    "math": ("bar_chart", "count_shapes", "rectangle", "triangle", "clock", "number_line"),
    "easy": ("colour", "count_dots"),
    "visual": ("colour", "shape", "count_dots", "taller_bar", "dot_position"),
    "all": tuple(TASKS),
}
"""Named task mixes, usable wherever a task list is: `--tasks visual`, `--tasks math,colour`."""

DEFAULT_TASKS = TASK_SETS["math"]


def resolve_tasks(spec: str | Sequence[str] | None) -> tuple[str, ...]:
    """Task names from a spec: a set name (`visual`, `math`, `all`), task names, or a comma-separated mix of
    both (`math,colour`), in order, without repeats. None gives `DEFAULT_TASKS`. Unknown names raise
    ValueError listing the valid ones."""
    if spec is None:
        return DEFAULT_TASKS
    parts = spec.split(",") if isinstance(spec, str) else list(spec)
    names: list[str] = []
    for part in (p.strip() for p in parts):
        if not part:
            continue
        if part in TASK_SETS:
            names.extend(TASK_SETS[part])
        elif part in TASKS:
            names.append(part)
        else:
            raise ValueError(
                f"unknown synthetic task {part!r}; choose task sets ({', '.join(TASK_SETS)}) or tasks "
                f"({', '.join(TASKS)}), comma-separated"
            )
    if not names:
        raise ValueError(f"no synthetic task named in {spec!r}; e.g. 'visual' or 'math,colour'")
    return tuple(dict.fromkeys(names))


def make_problem(
    index: int, seed: int = 0, *, choice_fraction: float = 0.3, tasks: Sequence[str] = DEFAULT_TASKS
) -> Problem:
    """Problem number `index` of the dataset with this `seed` and task list; a pure function of its arguments.

    Tasks take turns (index modulo the number of tasks), so every split is balanced across tasks.
    """
    rng = random.Random(f"srpo-synth/{seed}/{index}")
    task = tasks[index % len(tasks)]
    choice = rng.random() < choice_fraction
    return TASKS[task](rng, choice)


def problem_texts(
    n: int, seed: int = 0, *, choice_fraction: float = 0.3, tasks: Sequence[str] = DEFAULT_TASKS
) -> Iterator[tuple[str, str, str]]:
    """`(question, answer, rationale)` of the first `n` problems, without drawing any image."""
    for i in range(n):
        p = make_problem(i, seed, choice_fraction=choice_fraction, tasks=tasks)
        yield p.question, p.answer, p.rationale


# ---------------------------------------------------------------------------------------------- drawing


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: fixed-size bitmap font
        return ImageFont.load_default()


def _centred_text(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, size: int) -> None:
    draw.text(xy, text, fill=INK, font=_font(size), anchor="mm")


def draw_bar_chart(params: dict[str, Any], size: int) -> Image.Image:
    img = Image.new("RGB", (size, size), PAPER)
    d = ImageDraw.Draw(img)
    fs = max(9, size // 14)
    labels, values = params["labels"], params["values"]
    left, right, top, bottom = size * 0.06, size * 0.94, size * 0.14, size * 0.86
    d.line([(left, bottom), (right, bottom)], fill=INK, width=1)
    slot = (right - left) / len(values)
    unit = (bottom - top) / max(values)
    for k, (label, v) in enumerate(zip(labels, values, strict=True)):
        x0, x1 = left + slot * k + slot * 0.18, left + slot * (k + 1) - slot * 0.18
        y0 = bottom - v * unit
        d.rectangle([round(x0), round(y0), round(x1), round(bottom) - 1], fill=BAR_COLOUR)
        _centred_text(d, ((x0 + x1) / 2, y0 - fs * 0.7), str(v), fs)
        _centred_text(d, ((x0 + x1) / 2, bottom + fs * 0.8), label, fs)
    return img


def shape_cell_box(cell: int, grid: int, size: int) -> tuple[int, int, int, int]:
    """Pixel box `(x0, y0, x1, y1)` a shape in `cell` is drawn into (inset so neighbours never touch)."""
    side = size / grid
    row, col = divmod(cell, grid)
    pad = side * 0.18
    return (
        round(col * side + pad),
        round(row * side + pad),
        round((col + 1) * side - pad),
        round((row + 1) * side - pad),
    )


def draw_count_shapes(params: dict[str, Any], size: int) -> Image.Image:
    img = Image.new("RGB", (size, size), PAPER)
    d = ImageDraw.Draw(img)
    for s in params["shapes"]:
        x0, y0, x1, y1 = shape_cell_box(s["cell"], params["grid"], size)
        colour = COLOURS[s["colour"]]
        if s["shape"] == "circle":
            d.ellipse([x0, y0, x1, y1], fill=colour)
        elif s["shape"] == "square":
            d.rectangle([x0, y0, x1, y1], fill=colour)
        else:
            d.polygon([((x0 + x1) / 2, y0), (x1, y1), (x0, y1)], fill=colour)
    return img


def rectangle_box(params: dict[str, Any], size: int) -> tuple[int, int, int, int]:
    """Pixel box of the drawn rectangle: sides in proportion to `width`:`height`, centred."""
    avail = size * 0.68
    scale = avail / max(params["width"], params["height"])
    w, h = params["width"] * scale, params["height"] * scale
    cx, cy = size * 0.46, size * 0.46
    return (round(cx - w / 2), round(cy - h / 2), round(cx + w / 2), round(cy + h / 2))


def draw_rectangle(params: dict[str, Any], size: int) -> Image.Image:
    img = Image.new("RGB", (size, size), PAPER)
    d = ImageDraw.Draw(img)
    fs = max(9, size // 13)
    x0, y0, x1, y1 = rectangle_box(params, size)
    d.rectangle([x0, y0, x1, y1], outline=INK, width=2)
    unit = params["unit"]
    _centred_text(d, ((x0 + x1) / 2, y1 + fs * 0.9), f"{params['width']} {unit}", fs)
    label = f"{params['height']} {unit}"
    text_w = d.textlength(label, font=_font(fs))
    _centred_text(d, (min(size - text_w / 2 - 1, x1 + 4 + text_w / 2), (y0 + y1) / 2), label, fs)
    return img


def triangle_vertices(params: dict[str, Any], size: int) -> list[tuple[float, float]]:
    """Left base vertex, right base vertex, apex — with the base angles of `params`, scaled to fit."""
    a, b = math.radians(params["angle_left"]), math.radians(params["angle_right"])
    # Base of length 1 from (0, 0) to (1, 0); the apex where the two sides meet.
    t = math.sin(b) / math.sin(a + b)  # length of the left side (law of sines)
    apex = (t * math.cos(a), t * math.sin(a))
    xs = [0.0, 1.0, apex[0]]
    ys = [0.0, 0.0, apex[1]]
    span = max(max(xs) - min(xs), max(ys) - min(ys))
    margin = size * 0.16
    scale = (size - 2 * margin) / span
    ox = (size - (max(xs) - min(xs)) * scale) / 2 - min(xs) * scale
    base_y = size - (size - max(ys) * scale) / 2
    return [(ox + x * scale, base_y - y * scale) for x, y in zip(xs, ys, strict=True)]


def draw_triangle(params: dict[str, Any], size: int) -> Image.Image:
    img = Image.new("RGB", (size, size), PAPER)
    d = ImageDraw.Draw(img)
    fs = max(9, size // 14)
    left, right, apex = triangle_vertices(params, size)
    d.polygon([left, right, apex], outline=INK, width=2)
    cx, cy = (left[0] + right[0] + apex[0]) / 3, (left[1] + right[1] + apex[1]) / 3
    for (x, y), text in (
        (left, f"{params['angle_left']}°"),
        (right, f"{params['angle_right']}°"),
        (apex, "?"),
    ):
        # Labels sit inside the triangle, a little way from their vertex toward the centroid.
        f = 0.38 if text != "?" else 0.3
        _centred_text(d, (x + (cx - x) * f, y + (cy - y) * f), text, fs)
    return img


def clock_hand_angles(hour: int, minute: int) -> tuple[float, float]:
    """Clockwise angles from 12 o'clock, in degrees, of the hour and minute hands."""
    return ((hour % 12) * 30 + minute * 0.5, minute * 6.0)


def draw_clock(params: dict[str, Any], size: int) -> Image.Image:
    img = Image.new("RGB", (size, size), PAPER)
    d = ImageDraw.Draw(img)
    fs = max(9, size // 13)
    c, r = size / 2, size * 0.44
    d.ellipse([c - r, c - r, c + r, c + r], outline=INK, width=2)
    for k in range(12):
        ang = math.radians(k * 30)
        sx, sy = math.sin(ang), -math.cos(ang)
        d.line([(c + sx * r * 0.9, c + sy * r * 0.9), (c + sx * r, c + sy * r)], fill=INK, width=2)
        _centred_text(d, (c + sx * r * 0.74, c + sy * r * 0.74), str(k or 12), fs)
    hour_angle, minute_angle = clock_hand_angles(params["hour"], params["minute"])
    for ang, length, width in ((hour_angle, 0.45, 4), (minute_angle, 0.8, 2)):
        rad = math.radians(ang)
        d.line(
            [(c, c), (c + math.sin(rad) * r * length, c - math.cos(rad) * r * length)], fill=INK, width=width
        )
    d.ellipse([c - 3, c - 3, c + 3, c + 3], fill=INK)
    return img


def number_line_tick_x(params: dict[str, Any], size: int, k: int) -> float:
    """x pixel of tick `k` (0 = leftmost)."""
    left, right = size * 0.08, size * 0.92
    return left + (right - left) * k / (params["ticks"] - 1)


def draw_number_line(params: dict[str, Any], size: int) -> Image.Image:
    img = Image.new("RGB", (size, size), PAPER)
    d = ImageDraw.Draw(img)
    fs = max(9, size // 13)
    y = size * 0.5
    d.line(
        [
            (number_line_tick_x(params, size, 0), y),
            (number_line_tick_x(params, size, params["ticks"] - 1), y),
        ],
        fill=INK,
        width=2,
    )
    for k in range(params["ticks"]):
        x = number_line_tick_x(params, size, k)
        d.line([(x, y - size * 0.04), (x, y + size * 0.04)], fill=INK, width=2)
    for k in (0, params["ticks"] - 1):
        _centred_text(
            d,
            (number_line_tick_x(params, size, k), y + size * 0.12),
            str(params["start"] + k * params["step"]),
            fs,
        )
    x = number_line_tick_x(params, size, params["marked"])
    r = size * 0.035
    d.ellipse([x - r, y - size * 0.13 - r, x + r, y - size * 0.13 + r], fill=DOT_COLOUR)
    return img


def draw_colour(params: dict[str, Any], size: int) -> Image.Image:
    img = Image.new("RGB", (size, size), PAPER)
    d = ImageDraw.Draw(img)
    x0, y0, x1, y1 = round(size * 0.15), round(size * 0.15), round(size * 0.85), round(size * 0.85)
    colour = COLOURS[params["colour"]]
    if params["shape"] == "circle":
        d.ellipse([x0, y0, x1, y1], fill=colour)
    elif params["shape"] == "square":
        d.rectangle([x0, y0, x1, y1], fill=colour)
    else:
        d.polygon([((x0 + x1) / 2, y0), (x1, y1), (x0, y1)], fill=colour)
    return img


def taller_bar_boxes(params: dict[str, Any], size: int) -> list[tuple[int, int, int, int]]:
    """Pixel boxes `(x0, y0, x1, y1)` of the left and the right bar, standing on a common baseline."""
    bottom, top = size * 0.9, size * 0.1
    boxes = []
    for x0, x1, height in ((0.15, 0.42, params["left"]), (0.58, 0.85, params["right"])):
        y0 = bottom - (bottom - top) * height / 100
        boxes.append((round(size * x0), round(y0), round(size * x1), round(bottom)))
    return boxes


def draw_taller_bar(params: dict[str, Any], size: int) -> Image.Image:
    img = Image.new("RGB", (size, size), PAPER)
    d = ImageDraw.Draw(img)
    for x0, y0, x1, y1 in taller_bar_boxes(params, size):
        d.rectangle([x0, y0, x1, y1 - 1], fill=BAR_COLOUR)
    d.line([(size * 0.08, size * 0.9), (size * 0.92, size * 0.9)], fill=INK, width=1)
    return img


def dot_radius(size: int, task: str) -> float:
    """Radius of the dots of `dot_position` and `count_dots`, in pixels: large, so that a dot covers much of its
    quarter of the picture (a coarse signal a small vision tower picks up quickly)."""
    return size * (0.2 if task == "dot_position" else 0.23)


def draw_dot_position(params: dict[str, Any], size: int) -> Image.Image:
    img = Image.new("RGB", (size, size), PAPER)
    d = ImageDraw.Draw(img)
    x, y, r = params["x"] * size, params["y"] * size, dot_radius(size, "dot_position")
    d.ellipse([x - r, y - r, x + r, y + r], fill=DOT_COLOUR)
    return img


def count_dot_centres(params: dict[str, Any], size: int) -> list[tuple[float, float]]:
    """Pixel centres of the dots of a `count_dots` problem (one per occupied grid cell)."""
    side = size / params["grid"]
    return [((c % params["grid"] + 0.5) * side, (c // params["grid"] + 0.5) * side) for c in params["cells"]]


def draw_count_dots(params: dict[str, Any], size: int) -> Image.Image:
    img = Image.new("RGB", (size, size), PAPER)
    d = ImageDraw.Draw(img)
    r = dot_radius(size, "count_dots")
    for x, y in count_dot_centres(params, size):
        d.ellipse([x - r, y - r, x + r, y + r], fill=INK)
    return img


DRAW: dict[str, Callable[[dict[str, Any], int], Image.Image]] = {
    "bar_chart": draw_bar_chart,
    "count_shapes": draw_count_shapes,
    "rectangle": draw_rectangle,
    "triangle": draw_triangle,
    "clock": draw_clock,
    "number_line": draw_number_line,
    "colour": draw_colour,
    "shape": draw_colour,
    "taller_bar": draw_taller_bar,
    "dot_position": draw_dot_position,
    "count_dots": draw_count_dots,
}


def draw_problem(problem: Problem, size: int = DEFAULT_IMAGE_SIZE) -> Image.Image:
    """The problem's image, `size`×`size` RGB."""
    return DRAW[problem.task](problem.params, size)


# ---------------------------------------------------------------------------------------------- dataset


@dataclass
class SynthSummary:
    """What `write_synth` wrote."""

    out_dir: Path
    train_path: Path
    test_path: Path
    n_train: int
    n_test: int
    by_task: dict[str, int]

    def describe(self) -> str:
        tasks = ", ".join(f"{k} {v}" for k, v in sorted(self.by_task.items()))
        return (
            f"wrote {self.n_train} train and {self.n_test} test samples to {self.out_dir} "
            f"({self.train_path.name}, {self.test_path.name}, images/) — {tasks}"
        )


def make_sample(
    index: int,
    seed: int = 0,
    *,
    choice_fraction: float = 0.3,
    split: str = "",
    tasks: Sequence[str] = DEFAULT_TASKS,
) -> tuple[Sample, Problem]:
    """Sample number `index` (image referenced as `images/<id>.png`, not drawn) and its `Problem`."""
    p = make_problem(index, seed, choice_fraction=choice_fraction, tasks=tasks)
    sample_id = f"synth-{seed}-{index:05d}"
    meta = {
        "source": "srpo-synth",
        "task": p.task,
        "category": p.category,
        "variant": p.variant,
        "seed": seed,
        "index": index,
        "params": p.params,
    }
    if split:
        meta["split"] = split
    sample = Sample(
        id=sample_id,
        question=p.question,
        answer=p.answer,
        images=[f"images/{sample_id}.png"],
        choices=p.choices,
        rationale=p.rationale,
        meta=meta,
    )
    return sample, p


def held_out_indices(n: int, seed: int, test_fraction: float) -> set[int]:
    """Indices that go to the test split: `round(n * test_fraction)` of them, chosen by the seed."""
    if not 0.0 <= test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction}")
    n_test = round(n * test_fraction)
    order = list(range(n))
    random.Random(f"srpo-synth-split/{seed}").shuffle(order)
    return set(order[:n_test])


def write_synth(
    out_dir: str | os.PathLike,
    n: int = 200,
    seed: int = 0,
    *,
    test_fraction: float = 0.2,
    image_size: int = DEFAULT_IMAGE_SIZE,
    choice_fraction: float = 0.3,
    tasks: str | Sequence[str] | None = None,
) -> SynthSummary:
    """Write `n` synthetic samples to `out_dir`: `train.jsonl`, `test.jsonl` (rows are `Sample.to_dict()`) and
    `images/<id>.png`, with image paths relative to `out_dir`. `tasks` is a spec for `resolve_tasks` (default:
    the `math` set).

    The same `(n, seed, test_fraction, image_size, choice_fraction, tasks)` writes the same rows and pixels.
    Existing files of the same names are replaced; the JSONL files appear complete or not at all.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if image_size < 56:
        raise ValueError(f"image_size must be at least 56 pixels, got {image_size}")
    if not 0.0 <= choice_fraction <= 1.0:
        raise ValueError(f"choice_fraction must be in [0, 1], got {choice_fraction}")
    task_names = resolve_tasks(tasks)
    out = Path(out_dir)
    images = out / "images"
    images.mkdir(parents=True, exist_ok=True)
    test_set = held_out_indices(n, seed, test_fraction)
    paths = {"train": out / "train.jsonl", "test": out / "test.jsonl"}
    tmp = {k: p.with_suffix(".jsonl.tmp") for k, p in paths.items()}
    counts = {"train": 0, "test": 0}
    by_task: Counter[str] = Counter()
    files = {k: open(p, "w", encoding="utf-8") for k, p in tmp.items()}  # noqa: SIM115 — closed below
    try:
        for i in range(n):
            split = "test" if i in test_set else "train"
            sample, problem = make_sample(
                i, seed, choice_fraction=choice_fraction, split=split, tasks=task_names
            )
            draw_problem(problem, image_size).save(out / sample.images[0])
            files[split].write(json.dumps(sample.to_dict(), ensure_ascii=False) + "\n")
            counts[split] += 1
            by_task[problem.task] += 1
    finally:
        for f in files.values():
            f.close()
    for k in paths:
        os.replace(tmp[k], paths[k])
    return SynthSummary(out, paths["train"], paths["test"], counts["train"], counts["test"], dict(by_task))
