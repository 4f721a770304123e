"""Row formats: how one raw row of a known dataset layout becomes a `Sample`.

Each format is a small function registered by name in `ROW_FORMATS`; `detect_format` picks one from a
row's keys. Adding a format means adding one function here, nothing else.

- `srpo`: our own rows (`Sample.to_dict()`): id, question, answer, images, choices, rationale, meta.
- `llava-cot`: LLaVA-CoT-100k: `conversations` of human/gpt turns; the gpt turn holds `<CAPTION>`,
  `<REASONING>` and `<CONCLUSION>` (the answer) sections; `image`.
- `mulberry`: Mulberry-SFT (sharegpt): `messages` + `images`; the assistant turn has `### Image
  Description:`, `### Rationales:` … `### The final answer is:` sections.
- `flat`: `{query, image, answer, content}` rows, `content` holding LLaVA-CoT or Mulberry sections.
- `mathvista`: MathVista-like rows: `pid`, `question`, `image`, `choices`, `answer`, plus metadata.
- `fields`: a user mapping such as `question=q,answer=a,image=img` (see `parse_field_mapping`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from srpo.data.sample import ImageBytes, ImageRef, Sample, stable_id


class RowProblem(ValueError):
    """A row that does not fit its format; the reader adds file and line to the message."""


_ID_KEYS = ("id", "pid", "sample_id", "question_id", "problem_id", "uid", "index")
_IMAGE_TOKEN = re.compile(r"<image>\s*")


def _text(value: Any, what: str) -> str:
    if value is None:
        raise RowProblem(f"missing {what}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise RowProblem(f"{what} must be a string, got {type(value).__name__}")
    return value


def image_refs(*values: Any) -> list[ImageRef]:
    """Image references from row fields, in order: path or URL strings, raw bytes, HF `Image` dicts
    (`{"bytes", "path"}`; bytes win), PIL images, or lists of those. None and empty strings are skipped."""
    out: list[ImageRef] = []
    for value in values:
        for item in value if isinstance(value, list) else [value]:
            if item is None or (isinstance(item, str) and not item.strip()):
                continue
            if isinstance(item, str):
                out.append(item)
            elif isinstance(item, (bytes, bytearray)):
                out.append(ImageBytes(bytes(item), _guess_format(bytes(item))))
            elif isinstance(item, dict):
                if item.get("bytes"):
                    out.append(ImageBytes(bytes(item["bytes"]), _guess_format(bytes(item["bytes"]))))
                elif item.get("path"):
                    out.append(str(item["path"]))
            elif hasattr(item, "save"):  # a PIL image
                import io

                buf = io.BytesIO()
                item.save(buf, format="PNG")
                out.append(ImageBytes(buf.getvalue(), "png"))
            else:
                raise RowProblem(f"unsupported image value of type {type(item).__name__}")
    return out


def _guess_format(data: bytes) -> str:
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:3] == b"GIF":
        return "gif"
    return "png"


def _row_id(row: dict[str, Any], fallback_key: str | None, *content: Any) -> str:
    for k in _ID_KEYS:
        if row.get(k) not in (None, ""):
            return str(row[k])
    if fallback_key is not None:
        return str(fallback_key)
    return stable_id(*content)


def _section(text: str, tag: str) -> str | None:
    """Content of `<TAG> … </TAG>` (LLaVA-CoT style), or None."""
    start = text.find(f"<{tag}>")
    if start < 0:
        return None
    start += len(tag) + 2
    end = text.find(f"</{tag}>", start)
    return (text[start:] if end < 0 else text[start:end]).strip() or None


_MULBERRY_HEAD = re.compile(r"^###\s*([^:\n]+?)\s*:", re.M)


def mulberry_sections(text: str) -> dict[str, str]:
    """`### Heading: body` sections of a Mulberry answer, keyed by lower-cased heading."""
    heads = list(_MULBERRY_HEAD.finditer(text))
    out: dict[str, str] = {}
    for i, m in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        out.setdefault(m.group(1).strip().lower(), text[m.end() : end].strip())
    return out


def _from_content(content: str) -> dict[str, str | None]:
    """Description, rationale and answer from an LLaVA-CoT or Mulberry style answer text."""
    if "<CONCLUSION>" in content or "<CAPTION>" in content:
        return {
            "description": _section(content, "CAPTION"),
            "rationale": _section(content, "REASONING"),
            "answer": _section(content, "CONCLUSION"),
        }
    sec = mulberry_sections(content)
    if sec:
        steps = [v for k, v in sec.items() if k not in ("image description", "the final answer is")]
        return {
            "description": sec.get("image description"),
            "rationale": "\n".join(steps).strip() or None,
            "answer": sec.get("the final answer is"),
        }
    return {"description": None, "rationale": None, "answer": None}


def from_srpo(row: dict[str, Any], key: str | None = None) -> Sample:
    question = _text(row.get("question"), "'question'")
    answer = _text(row.get("answer", ""), "'answer'")
    images = image_refs(row.get("images"))
    return Sample(
        id=_row_id(row, key, question, answer, row.get("images")),
        question=question,
        answer=answer,
        images=images,
        choices=[str(c) for c in row["choices"]] if row.get("choices") else None,
        rationale=row.get("rationale"),
        meta=dict(row.get("meta") or {}),
    )


def from_llava_cot(row: dict[str, Any], key: str | None = None) -> Sample:
    turns = row.get("conversations")
    if not isinstance(turns, list) or not turns:
        raise RowProblem("'conversations' must be a non-empty list of {from, value} turns")
    human = next((t for t in turns if isinstance(t, dict) and t.get("from") in ("human", "user")), None)
    gpt = next((t for t in turns if isinstance(t, dict) and t.get("from") in ("gpt", "assistant")), None)
    if human is None or gpt is None:
        raise RowProblem("'conversations' needs a human turn and a gpt turn")
    question = _IMAGE_TOKEN.sub("", _text(human.get("value"), "human 'value'")).strip()
    parts = _from_content(_text(gpt.get("value"), "gpt 'value'"))
    if not parts["answer"]:
        raise RowProblem("the gpt turn has no <CONCLUSION> section (the answer)")
    images = image_refs(row.get("image", row.get("images")))
    return Sample(
        id=_row_id(row, key, question, parts["answer"], row.get("image")),
        question=question,
        answer=parts["answer"],
        images=images,
        rationale=parts["rationale"],
        meta=_meta(row, ("conversations", "image", "images", "id"), description=parts["description"]),
    )


def from_mulberry(row: dict[str, Any], key: str | None = None) -> Sample:
    messages = row.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RowProblem("'messages' must be a non-empty list of {role, content} turns")
    user = next((m for m in messages if isinstance(m, dict) and m.get("role") == "user"), None)
    bot = next((m for m in messages if isinstance(m, dict) and m.get("role") == "assistant"), None)
    if user is None or bot is None:
        raise RowProblem("'messages' needs a user turn and an assistant turn")
    question = _IMAGE_TOKEN.sub("", _text(user.get("content"), "user 'content'")).strip()
    parts = _from_content(_text(bot.get("content"), "assistant 'content'"))
    if not parts["answer"]:
        raise RowProblem("the assistant turn has no '### The final answer is:' section")
    return Sample(
        id=_row_id(row, key, question, parts["answer"], row.get("images")),
        question=question,
        answer=parts["answer"],
        images=image_refs(row.get("images")),
        rationale=parts["rationale"],
        meta=_meta(row, ("messages", "images", "id"), description=parts["description"]),
    )


def from_flat(row: dict[str, Any], key: str | None = None) -> Sample:
    question = _IMAGE_TOKEN.sub("", _text(row.get("query"), "'query'")).strip()
    parts = _from_content(row.get("content") or "") if isinstance(row.get("content"), str) else {}
    answer = row.get("answer")
    if answer in (None, ""):
        answer = parts.get("answer")
    answer = _text(answer, "'answer'")
    return Sample(
        id=_row_id(row, key, question, answer, row.get("image")),
        question=question,
        answer=answer,
        images=image_refs(row.get("image", row.get("images"))),
        rationale=parts.get("rationale"),
        meta=_meta(
            row, ("query", "answer", "image", "images", "content", "id"), description=parts.get("description")
        ),
    )


def from_mathvista(row: dict[str, Any], key: str | None = None) -> Sample:
    question = _text(row.get("question"), "'question'")
    answer = _text(row.get("answer"), "'answer'")
    image = row.get("decoded_image") or row.get("image")
    choices = row.get("choices")
    return Sample(
        id=_row_id(
            row, key, question, answer, row.get("image") if isinstance(row.get("image"), str) else None
        ),
        question=question,
        answer=answer,
        images=image_refs(image),
        choices=[str(c) for c in choices] if choices else None,
        meta=_meta(row, ("question", "answer", "image", "decoded_image", "choices")),
    )


def _meta(row: dict[str, Any], used: tuple[str, ...], **extra: Any) -> dict[str, Any]:
    meta = {k: v for k, v in row.items() if k not in used and _jsonable(v)}
    meta.update({k: v for k, v in extra.items() if v is not None})
    return meta


def _jsonable(v: Any) -> bool:
    return isinstance(v, (str, int, float, bool, type(None), list, dict)) and not isinstance(v, bytes)


RowFormat = Callable[[dict[str, Any], "str | None"], Sample]

ROW_FORMATS: dict[str, RowFormat] = {
    "srpo": from_srpo,
    "llava-cot": from_llava_cot,
    "mulberry": from_mulberry,
    "flat": from_flat,
    "mathvista": from_mathvista,
}


def detect_format(row: dict[str, Any]) -> str | None:
    """The row format whose tell-tale keys this row has, or None."""
    if "conversations" in row:
        return "llava-cot"
    if "messages" in row:
        return "mulberry"
    if "query" in row and ("content" in row or "image" in row) and "question" not in row:
        return "flat"
    if "pid" in row or "question_type" in row or "answer_type" in row:
        return "mathvista"
    if "question" in row:
        return "srpo"
    return None


SAMPLE_FIELDS = ("id", "question", "answer", "image", "images", "choices", "rationale")


def parse_field_mapping(spec: str | dict[str, str] | None) -> dict[str, str]:
    """`"question=q,answer=a,image=img"` → `{"question": "q", ...}`; our field names on the left."""
    if not spec:
        return {}
    if isinstance(spec, dict):
        pairs = spec.items()
    else:
        pairs = []
        for part in spec.split(","):
            if not part.strip():
                continue
            ours, sep, theirs = part.partition("=")
            if not sep or not theirs.strip():
                raise ValueError(f"--field {part!r}: write OURS=THEIRS, e.g. question=q,answer=a,image=img")
            pairs.append((ours.strip(), theirs.strip()))
    mapping = dict(pairs)
    unknown = set(mapping) - set(SAMPLE_FIELDS)
    if unknown:
        raise ValueError(f"--field: unknown field(s) {sorted(unknown)}; known: {', '.join(SAMPLE_FIELDS)}")
    return mapping


def from_fields(row: dict[str, Any], mapping: dict[str, str], key: str | None = None) -> Sample:
    """Apply a user mapping: our field → their column (dotted paths reach into nested dicts)."""

    def get(ours: str) -> Any:
        theirs = mapping.get(ours, ours)
        value: Any = row
        for part in theirs.split("."):
            if not isinstance(value, dict) or part not in value:
                return None
            value = value[part]
        return value

    question = _text(get("question"), f"'{mapping.get('question', 'question')}' (question)")
    answer = _text(get("answer"), f"'{mapping.get('answer', 'answer')}' (answer)")
    raw_images = get("images") if "images" in mapping or "image" not in mapping else None
    if raw_images is None:
        raw_images = get("image")
    choices = get("choices")
    rid = get("id")
    used = tuple(mapping.values()) + SAMPLE_FIELDS
    return Sample(
        id=str(rid) if rid not in (None, "") else (key or stable_id(question, answer, raw_images)),
        question=question,
        answer=answer,
        images=image_refs(raw_images),
        choices=[str(c) for c in choices] if isinstance(choices, list) and choices else None,
        rationale=get("rationale"),
        meta=_meta(row, used),
    )
