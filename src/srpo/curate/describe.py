"""`srpo curate describe`: image descriptions for a text-only teacher.

`--source llava-cot` takes LLaVA-CoT's `<CAPTION>` section, `--source mulberry` Mulberry's
`### Image Description:` section (both already parsed into `Sample.meta["description"]` by the readers);
`--pattern REGEX` searches every string in the raw row and takes the first match (its first group when the
pattern has one). Ids are those the readers give, so `srpo curate reflect --descriptions` joins on them.

Output (JSONL): `{"id": str, "image": str | None, "description": str}` per record that has one. Records
without a description are counted, reported, and listed in `<out>.errors.jsonl`; malformed rows too.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from srpo.data.files import DataError, iter_raw_rows
from srpo.data.formats import ROW_FORMATS, RowProblem, detect_format
from srpo.journal import errors_path_for

SOURCES = ("llava-cot", "mulberry")


@dataclass
class DescribeReport:
    output: Path
    written: int = 0
    missing: int = 0
    malformed: int = 0
    examples: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = (
            f"describe: {self.written} descriptions → {self.output}; {self.missing} records without a "
            f"description, {self.malformed} malformed rows"
        )
        if self.examples:
            text += f" (listed in {errors_path_for(self.output)}; e.g. {', '.join(self.examples)})"
        return text


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def describe(
    input: str | os.PathLike,
    output: str | os.PathLike,
    *,
    source: str | None = None,
    pattern: str | None = None,
) -> DescribeReport:
    """Write one `{id, image, description}` line per record of `input` that has a description."""
    if (source is None) == (pattern is None):
        raise ValueError("pass exactly one of --source (llava-cot|mulberry) or --pattern REGEX")
    if source is not None and source not in SOURCES:
        raise ValueError(f"--source {source!r}: choose one of {', '.join(SOURCES)}")
    regex = None
    if pattern is not None:
        try:
            regex = re.compile(pattern, re.S)
        except re.error as e:
            raise ValueError(f"--pattern {pattern!r} is not a valid regular expression: {e}") from None
    report = DescribeReport(Path(output))
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    errors = errors_path_for(output)
    with open(output, "w", encoding="utf-8") as out, open(errors, "w", encoding="utf-8") as err:
        for raw in iter_raw_rows(input):
            try:
                if isinstance(raw.row, DataError):
                    raise raw.row
                if not isinstance(raw.row, dict):
                    raise RowProblem("not a JSON object")
                fmt = source or detect_format(raw.row)
                if fmt is None:
                    raise RowProblem(f"cannot tell the row format from its keys {sorted(raw.row)[:8]}")
                sample = ROW_FORMATS[fmt](raw.row, raw.key)
            except (RowProblem, DataError) as e:
                report.malformed += 1
                err.write(json.dumps({"id": f"row:{raw.location}", "error": f"{raw.location}: {e}"}) + "\n")
                continue
            description = sample.meta.get("description") if regex is None else _search(regex, raw.row)
            first_image = next((i for i in sample.images if isinstance(i, str)), None)
            if not description:
                report.missing += 1
                if len(report.examples) < 5:
                    report.examples.append(sample.id)
                err.write(
                    json.dumps({"id": sample.id, "error": f"{raw.location}: no description found"}) + "\n"
                )
                continue
            out.write(
                json.dumps(
                    {"id": sample.id, "image": first_image, "description": description}, ensure_ascii=False
                )
                + "\n"
            )
            report.written += 1
    if report.missing == 0 and report.malformed == 0:
        errors.unlink(missing_ok=True)
    return report


def _search(regex: re.Pattern[str], row: dict[str, Any]) -> str | None:
    for text in _strings(row):
        m = regex.search(text)
        if m:
            found = m.group(1) if m.groups() else m.group(0)
            return found.strip() if found else None
    return None
