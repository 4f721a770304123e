"""`srpo eval report`: several runs side by side, as Markdown and as one self-contained HTML file.

A run is a folder written by `srpo eval run` (`run.json`, `scores.jsonl`) or a scores JSONL written by
`srpo eval score`. Metrics are recomputed from the scored lines, so a report always matches its scores.
Plots are drawn with matplotlib's Agg canvas (no display, no global backend switch), saved as PNG beside
the Markdown and embedded as base64 in the HTML.

A run made with `srpo eval run --blank-images` is paired with the run of the same model, benchmark and
prompt on the real images, and the report shows the two accuracies side by side: how much of a model's
accuracy comes from reading the picture.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from srpo.data.files import DataError, jsonl_objects
from srpo.eval.metrics import TRANSITION_LABELS, TRANSITIONS, compute_metrics


@dataclass
class Run:
    """One evaluated run: a label, what was evaluated, and its metrics."""

    label: str
    info: dict[str, Any]
    metrics: dict[str, Any]
    groups: list[str] = field(default_factory=list)

    @property
    def benchmark(self) -> str:
        return str(self.info.get("benchmark", "?"))


def load_run(path: str | os.PathLike, label: str | None = None) -> Run:
    """Read a run folder (`run.json` + `scores.jsonl`) or a scores JSONL file."""
    p = Path(path)
    if p.is_dir():
        scores = p / "scores.jsonl"
        info_path = p / "run.json"
        info = json.loads(info_path.read_text(encoding="utf-8")) if info_path.is_file() else {}
    elif p.is_file():
        scores, info = p, {}
    else:
        raise DataError(f"{p}: no such run folder or scores file")
    if not scores.is_file():
        raise DataError(f"{p}: no scores.jsonl; run `srpo eval run` (or `srpo eval score`) first")
    rows = []
    for location, row in jsonl_objects(scores, "a scored line from `srpo eval score`"):
        if "id" not in row or not isinstance(row.get("correct"), bool):
            raise DataError(
                f"{location}: not a scored line (it needs 'id' and a true/false 'correct'); give the "
                "scores.jsonl that `srpo eval score` or `srpo eval run` writes"
            )
        rows.append(row)
    if not rows:
        raise DataError(f"{scores}: no scored lines")
    groups = list(rows[0].get("groups") or {})
    name = label or info.get("label") or (p.name if p.is_dir() else p.stem)
    return Run(str(name), info, compute_metrics(rows), groups)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def _summary_rows(runs: list[Run]) -> tuple[list[str], list[list[str]]]:
    head = [
        "run",
        "benchmark",
        "model",
        "prompt",
        "n",
        "final acc %",
        "first acc %",
        "Δ (pts)",
        "format %",
        "no answer %",
        "read by rules / LLM judge %",
        "tokens",
        "reflection tokens",
    ]
    body = []
    for r in runs:
        m = r.metrics
        body.append(
            [
                r.label,
                r.benchmark,
                str(r.info.get("model", "?")),
                str(r.info.get("prompt", "?")),
                str(m["n"]),
                _pct(m["accuracy"]),
                _pct(m["first_accuracy"]),
                f"{100 * (m['accuracy'] - m['first_accuracy']):+.1f}",
                _pct(m["format_rate"]),
                _pct(m["no_answer_rate"]),
                _judged(m),
                f"{m['mean_response_tokens']:.0f}",
                f"{m['mean_reflection_tokens']:.0f}",
            ]
        )
    return head, body


def _judged(m: dict) -> str:
    shares = m.get("extracted_by") or {}
    rules = shares.get("rules", 0.0) + shares.get("fallback", 0.0) + shares.get("given", 0.0)
    return f"{_pct(rules)} / {_pct(shares.get('judge', 0.0))}"


def _transition_rows(runs: list[Run]) -> tuple[list[str], list[list[str]]]:
    head = [
        "run",
        *[f"{TRANSITION_LABELS[t]} %" for t in TRANSITIONS],
        "reflected %",
        "tokens after 1st answer",
    ]
    body = [
        [
            r.label,
            *[_pct(r.metrics["transitions"][t]) for t in TRANSITIONS],
            _pct(r.metrics["reflection_rate"]),
            f"{r.metrics['mean_tokens_after_first_answer']:.0f}",
        ]
        for r in runs
    ]
    return head, body


def _same_setup(a: Run, b: Run) -> bool:
    return all(a.info.get(k) == b.info.get(k) for k in ("benchmark", "model", "prompt", "data"))


def blank_image_rows(runs: list[Run]) -> tuple[list[str], list[list[str]]]:
    """One row per blank-image run that has a run of the same model, benchmark, data and prompt on the real
    images: final and first-attempt accuracy with and without the image, and the drop."""
    head = [
        "model",
        "with image",
        "blank image",
        "final acc % (image → blank)",
        "Δ final (pts)",
        "first acc % (image → blank)",
        "Δ first (pts)",
    ]
    body = []
    for blank in (r for r in runs if r.info.get("blank_images")):
        real = next((r for r in runs if not r.info.get("blank_images") and _same_setup(r, blank)), None)
        if real is None:
            continue
        a, b = real.metrics, blank.metrics
        body.append(
            [
                str(real.info.get("model", "?")),
                real.label,
                blank.label,
                f"{_pct(a['accuracy'])} → {_pct(b['accuracy'])}",
                f"{100 * (b['accuracy'] - a['accuracy']):+.1f}",
                f"{_pct(a['first_accuracy'])} → {_pct(b['first_accuracy'])}",
                f"{100 * (b['first_accuracy'] - a['first_accuracy']):+.1f}",
            ]
        )
    return head, body


def _group_tables(runs: list[Run]) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) per benchmark and grouping key; cells are "final / first (n)"."""
    tables = []
    for bench in dict.fromkeys(r.benchmark for r in runs):
        members = [r for r in runs if r.benchmark == bench]
        keys = list(dict.fromkeys(k for r in members for k in r.groups))
        for key in keys:
            values = sorted({v for r in members for v in r.metrics["by_group"].get(key, {})})
            if not values:
                continue
            head = [key] + [r.label for r in members]
            body = []
            for v in values:
                row = [v]
                for r in members:
                    cell = r.metrics["by_group"].get(key, {}).get(v)
                    row.append(
                        f"{_pct(cell['accuracy'])} / {_pct(cell['first_accuracy'])} (n={cell['n']})"
                        if cell
                        else "–"
                    )
                body.append(row)
            tables.append((f"{bench}: accuracy by {key} (final / first attempt, %)", head, body))
    return tables


def _markdown_table(head: list[str], body: list[list[str]]) -> str:
    def esc(s: str) -> str:
        return s.replace("|", "\\|")

    lines = ["| " + " | ".join(esc(h) for h in head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in body]
    return "\n".join(lines)


def _html_table(head: list[str], body: list[list[str]]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    trs = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in body)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table>"


# ------------------------------------------------------------------------------------------------ plots


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110)
    FigureCanvasAgg(fig)
    return fig


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()


def plot_accuracy_by_category(runs: list[Run], key: str, title: str) -> bytes:
    """Per category value, two bars per run: first attempt (light, hatched) and final answer (solid).
    Categories a run has no samples in are left empty."""
    from matplotlib import colormaps

    values = sorted({v for r in runs for v in r.metrics["by_group"].get(key, {})})
    palette = colormaps["tab10"]
    fig = _figure(max(6.0, 0.5 * len(values) * (len(runs) + 1) + 3), 3.8)
    ax = fig.add_subplot()
    width = 0.8 / (2 * max(1, len(runs)))
    for i, r in enumerate(runs):
        cells = r.metrics["by_group"].get(key, {})
        colour = palette(i % 10)
        present = [j for j, v in enumerate(values) if v in cells]
        for offset, metric, style in (
            (0, "first_accuracy", {"alpha": 0.35, "hatch": "//", "edgecolor": colour}),
            (1, "accuracy", {}),
        ):
            xs = [j - 0.4 + width * (2 * i + offset + 0.5) for j in present]
            heights = [100 * cells[values[j]][metric] for j in present]
            label = f"{r.label}: {'first attempt' if offset == 0 else 'final'}"
            ax.bar(xs, heights, width=width * 0.95, color=colour, label=label, **style)
    ax.set_xticks(range(len(values)))
    rotate = len(values) > 4
    ax.set_xticklabels(values, rotation=30 if rotate else 0, ha="right" if rotate else "center")
    ax.set_ylim(0, 105)
    ax.set_ylabel("accuracy (%)")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def plot_transitions(runs: list[Run]) -> bytes:
    """Stacked horizontal bars: the share of right→right, wrong→right, right→wrong, wrong→wrong per run."""
    colours = {
        "right_to_right": "#4c9a2a",
        "wrong_to_right": "#9fd67c",
        "right_to_wrong": "#e8823a",
        "wrong_to_wrong": "#b0b0b0",
    }
    fig = _figure(7.0, 0.6 * len(runs) + 1.6)
    ax = fig.add_subplot()
    labels = [r.label for r in runs]
    left = [0.0] * len(runs)
    for t in TRANSITIONS:
        shares = [100 * r.metrics["transitions"][t] for r in runs]
        ax.barh(labels, shares, left=left, color=colours[t], label=TRANSITION_LABELS[t])
        for y, (x0, w) in enumerate(zip(left, shares, strict=True)):
            if w >= 6:
                ax.text(x0 + w / 2, y, f"{w:.0f}", ha="center", va="center", fontsize=8)
        left = [a + b for a, b in zip(left, shares, strict=True)]
    ax.set_xlim(0, 100)
    ax.set_xlabel("share of responses (%): first attempt → final answer")
    ax.invert_yaxis()
    ax.legend(ncol=4, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.22))
    ax.set_title("What reflection did to the first answer")
    return _png(fig)


def moving_average(values: list[float], window: int) -> list[float]:
    """Trailing mean over up to `window` values (the first points average what there is so far)."""
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def plot_curves(
    series: dict[str, list[tuple[float, float]]], ylabel: str, xlabel: str = "step", smooth: int = 1
) -> bytes:
    """Line plot of named `(x, y)` series (learning curves: loss or reward components per step). With
    `smooth > 1` each series is drawn faintly as logged and boldly as a trailing mean over `smooth` points
    (GRPO's per-step means over a few prompts are noisy). Series with one point are drawn as markers."""
    from matplotlib import colormaps

    palette = colormaps["tab10"]
    fig = _figure(7.0, 3.6)
    ax = fig.add_subplot()
    for i, (name, points) in enumerate(series.items()):
        if not points:
            continue
        xs, ys = zip(*points, strict=True)
        colour = palette(i % 10)
        if smooth > 1 and len(xs) > 1:
            ax.plot(xs, ys, color=colour, alpha=0.25, linewidth=0.8)
            ax.plot(xs, moving_average(list(ys), smooth), label=f"{name} (mean of {smooth})", color=colour)
        else:
            ax.plot(xs, ys, label=name, color=colour, marker="o" if len(xs) == 1 else None, linewidth=1.4)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _png(fig)


# ----------------------------------------------------------------------------------------------- report


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1200px;color:#222;padding:0 1em}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.8em;border-bottom:1px solid #ddd}h3{font-size:1.05em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em;display:block;overflow-x:auto;max-width:100%}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}
td:first-child,th:first-child{text-align:left}thead th{background:#f2f2f2}tbody tr:nth-child(even){background:#fafafa}
img{max-width:100%;border:1px solid #eee;margin:.5em 0}.note{color:#555;font-size:.9em}
"""


def write_report(
    runs: list[str | os.PathLike],
    out_dir: str | os.PathLike,
    *,
    labels: list[str] | None = None,
    title: str = "srpo evaluation report",
    extra: list[tuple[str, list[tuple[str, list[str], list[list[str]]]]]] | None = None,
    sections: list[tuple[str, str, list[tuple[str, list[str], list[list[str]]]]]] | None = None,
    plots: list[tuple[str, str, bytes]] | None = None,
) -> dict[str, Any]:
    """Write `out_dir/report.md` (PNG plots in `out_dir/report_plots/`), a self-contained
    `out_dir/report.html`, and `out_dir/metrics.json` = {label: metrics} (`report_metrics.json` when
    `out_dir` is itself a run folder). `extra` appends sections of the caller's own: (heading, [(table title,
    header, rows)]), e.g. the quickstart's per-step training tables; `sections` are (heading, note, tables)
    shown after the transitions; `plots` are (file name, title, PNG bytes) added to the plots, e.g. learning
    curves. Returns {"markdown", "html", "metrics_path": paths; "metrics": dict}."""
    if not runs:
        raise ValueError("give at least one run folder or scores file")
    if labels is not None and len(labels) != len(runs):
        raise ValueError(f"{len(labels)} labels for {len(runs)} runs")
    loaded = [load_run(p, labels[i] if labels else None) for i, p in enumerate(runs)]
    _dedupe_labels(loaded)
    out = Path(out_dir)
    plots_dir = out / "report_plots"
    plots_dir.mkdir(parents=True, exist_ok=True)

    figures: list[tuple[str, str, bytes]] = []
    for bench in dict.fromkeys(r.benchmark for r in loaded):
        members = [r for r in loaded if r.benchmark == bench]
        key = members[0].groups[0] if members[0].groups else None
        if key:
            name = f"accuracy_by_{_slug(bench)}_{_slug(key)}.png"
            t = f"{bench}: accuracy by {key}"
            figures.append((name, t, plot_accuracy_by_category(members, key, t)))
    figures.append(("transitions.png", "Transitions", plot_transitions(loaded)))
    figures += plots or []
    for name, _, data in figures:
        (plots_dir / name).write_bytes(data)

    head, body = _summary_rows(loaded)
    t_head, t_body = _transition_rows(loaded)
    tables = _group_tables(loaded)
    note = (
        "Final accuracy scores the last `<answer>` block; first-attempt accuracy the first one. Transition "
        "rates are shares of all responses (a single-attempt response counts as right→right or "
        "wrong→wrong). Tokens: mean per response; reflection tokens: mean inside `<reflection>` over "
        "responses that reflected."
    )
    counters = sorted({str(r.info.get("token_counter", "approx")) for r in loaded})
    note += f" Token counts by: {', '.join(counters)}."

    md = [f"# {title}", "", note, "", "## Summary", "", _markdown_table(head, body), ""]
    md += ["## Transitions (first attempt → final answer)", "", _markdown_table(t_head, t_body), ""]
    b_head, b_body = blank_image_rows(loaded)
    blank_note = (
        "The same model on the same problems with every image replaced by a uniform grey one of the same "
        "size (`srpo eval run --blank-images`): the drop is what the model gets from reading the picture."
    )
    if b_body:
        md += ["## With and without the image", "", blank_note, "", _markdown_table(b_head, b_body), ""]
    for heading, text, section_tables in sections or []:
        md += [f"## {heading}", "", text, ""]
        for t, h, b in section_tables:
            md += [f"### {t}", "", _markdown_table(h, b), ""]
    md += ["## Plots", ""] + [f"![{t}](report_plots/{n})\n" for n, t, _ in figures]
    md += ["## Per category", ""]
    for t, h, b in tables:
        md += [f"### {t}", "", _markdown_table(h, b), ""]
    for heading, extra_tables in extra or []:
        md += [f"## {heading}", ""]
        for t, h, b in extra_tables:
            md += [f"### {t}", "", _markdown_table(h, b), ""]
    md_path = out / "report.md"
    md_path.write_text("\n".join(md).rstrip() + "\n", encoding="utf-8")

    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>",
        f"<p class='note'>{html.escape(note.replace('`', ''))}</p><h2>Summary</h2>{_html_table(head, body)}",
        f"<h2>Transitions (first attempt → final answer)</h2>{_html_table(t_head, t_body)}",
    ]
    if b_body:
        parts.append(
            f"<h2>With and without the image</h2><p class='note'>{html.escape(blank_note.replace('`', ''))}</p>"
            f"{_html_table(b_head, b_body)}"
        )
    for heading, text, section_tables in sections or []:
        parts.append(
            f"<h2>{html.escape(heading)}</h2><p class='note'>{html.escape(text.replace('`', ''))}</p>"
        )
        parts += [f"<h3>{html.escape(t)}</h3>{_html_table(h, b)}" for t, h, b in section_tables]
    parts.append("<h2>Plots</h2>")
    for _, t, data in figures:
        parts.append(
            f"<figure><img alt='{html.escape(t)}' src='data:image/png;base64,{base64.b64encode(data).decode()}'>"
            f"</figure>"
        )
    parts.append("<h2>Per category</h2>")
    for t, h, b in tables:
        parts.append(f"<h3>{html.escape(t)}</h3>{_html_table(h, b)}")
    for heading, extra_tables in extra or []:
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        parts += [f"<h3>{html.escape(t)}</h3>{_html_table(h, b)}" for t, h, b in extra_tables]
    parts.append("</body></html>")
    html_path = out / "report.html"
    html_path.write_text("".join(parts), encoding="utf-8")
    metrics = {r.label: r.metrics for r in loaded}
    # Never overwrite a run's own metrics.json when the report is written into a run folder.
    metrics_path = out / ("report_metrics.json" if (out / "run.json").exists() else "metrics.json")
    metrics_path.write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return {"markdown": md_path, "html": html_path, "metrics_path": metrics_path, "metrics": metrics}


def _dedupe_labels(runs: list[Run]) -> None:
    seen: dict[str, int] = {}
    for r in runs:
        if r.label in seen:
            seen[r.label] += 1
            r.label = f"{r.label} ({seen[r.label]})"
        else:
            seen[r.label] = 1


def _slug(s: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in s.lower()).strip("_") or "x"
