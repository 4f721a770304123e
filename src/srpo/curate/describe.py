"""`srpo curate describe`: image descriptions for a text-only teacher.

Rows are read as the readers read them: the format is detected per row (LLaVA-CoT `conversations`,
Mulberry `messages`, the SRPO authors' flat `{query, image, answer, content}` rows, …), one record per
question/answer turn. The description is the answer text's own section: LLaVA-CoT's `<CAPTION>` or
Mulberry's `### Image Description:` (the readers put it in `Sample.meta["description"]`), whichever layout
the row's answer has; `--source llava-cot|mulberry` names the dataset, as the authors' script does, but does
not force a row format. `--pattern REGEX` instead searches every string in the raw row and takes the first
match (its first group when the pattern has one). Ids are those the readers give, so `srpo curate reflect
--descriptions` joins on them.

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
from srpo.data.formats import RowProblem
from srpo.data.readers import FORMATS, convert_row
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
    format: str = "auto",
    split: str | None = None,
) -> DescribeReport:
    """Write one `{id, image, description}` line per record of `input` that has a description."""
    if source is not None and pattern is not None:
        raise ValueError("pass either --source (llava-cot|mulberry) or --pattern REGEX, not both")
    if source is not None and source not in SOURCES:
        raise ValueError(f"--source {source!r}: choose one of {', '.join(SOURCES)}")
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
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
        for raw in iter_raw_rows(input, split=split):
            try:
                samples = convert_row(raw.row, raw.key, format)
            except (RowProblem, DataError) as e:
                report.malformed += 1
                message = str(e) if isinstance(e, DataError) else f"{raw.location}: {e}"
                err.write(
                    json.dumps({"id": f"row:{raw.location}", "error": message}, ensure_ascii=False) + "\n"
                )
                continue
            found = _search(regex, raw.row) if regex is not None else None
            for sample in samples:
                description = found if regex is not None else sample.meta.get("description")
                first_image = next((i for i in sample.images if isinstance(i, str)), None)
                if not description:
                    report.missing += 1
                    if len(report.examples) < 5:
                        report.examples.append(sample.id)
                    record = {"id": sample.id, "error": f"{raw.location}: no description found"}
                    err.write(json.dumps(record, ensure_ascii=False) + "\n")
                    continue
                record = {"id": sample.id, "image": first_image, "description": description}
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
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
