"""srpo curate: answer, reflect, build, filter, export, describe — on real files and a real local server."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from curate_data import SECRET, answer_of, read_jsonl, write_samples
from fake_server import FakeChatServer, FaultPlan
from srpo.cli import app
from srpo.curate import answer, build, describe, export, filter_prompts, reflect
from srpo.data.images import ImageError
from srpo.llm.settings import LLMSettings
from srpo.response import REFLECTION_SYSTEM_PROMPT, parse_response


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)


def llm(server: FakeChatServer, **kw) -> LLMSettings:
    base = dict(
        model="policy", base_url=[server.base_url], timeout=0.5, retry_base_delay=0.01, progress=False
    )
    return LLMSettings(**{**base, **kw})


BAD_ROWS = [
    '{"id": "missing-img", "question": "What is 1 + 1?", "answer": "2", "images": ["img/nope.png"]}',
    '{"id": "escape", "question": "What is 1 + 1?", "answer": "2", "images": ["../../../etc/passwd"]}',
    '{"id": "no-question", "answer": "2"}',
    "{this is not json",
]


@pytest.fixture(scope="module")
def answered(tmp_path_factory):
    """12 samples + 4 bad rows answered K=2 times through a flaky server; returns the folder."""
    root = tmp_path_factory.mktemp("answered")
    import os

    os.environ["OPENAI_API_KEY"] = SECRET
    inp = write_samples(root, 12, extra_rows=BAD_ROWS)
    plan = FaultPlan(rates={"500": 0.2, "429": 0.1, "drop": 0.1, "malformed": 0.1}, retry_after=0.02)
    with FakeChatServer(responder=answer_of, faults=plan, api_key=SECRET) as server:
        report = answer(
            inp,
            root / "answers.jsonl",
            samples=2,
            temperature=0.7,
            llm=llm(server, price_in=1.0, price_out=2.0),
        )
    return root, report


def test_answer_writes_graded_attempts_and_per_record_errors(answered):
    root, report = answered
    rows = {r["id"]: r for r in read_jsonl(root / "answers.jsonl")}
    errors = {r["id"]: r["error"] for r in read_jsonl(root / "answers.errors.jsonl")}
    assert set(rows) == {f"s{i:03d}" for i in range(12)}
    assert set(errors) == {
        "missing-img",
        "escape",
        f"row:{root / 'in.jsonl'}:15",
        f"row:{root / 'in.jsonl'}:16",
    }
    assert "not found" in errors["missing-img"] and "outside the image root" in errors["escape"]
    assert "question" in errors[f"row:{root / 'in.jsonl'}:15"]
    for rid, row in rows.items():
        i = int(rid[1:])
        assert len(row["attempts"]) == 2 and row["model"] == "policy"
        assert row["pass_rate"] == (1.0 if i % 2 == 0 else 0.0)
        a = row["attempts"][0]
        assert a["format_ok"] and a["think"].startswith(("Adding", "It is")) and a["correct"] == (i % 2 == 0)
        assert row["sample"]["images"] == [f"img/{i}.png"] and row["sample"]["meta"]["image_root"] == str(
            root.resolve()
        )
    assert report.written == 12 and report.usage.requests == 24 and report.usage.cost is not None
    assert report.extra["images encoded"] == 12  # once per image, not once per attempt


def test_answer_rerun_skips_done_and_retries_failures(answered, tmp_path):
    root, _ = answered
    out = tmp_path / "a.jsonl"
    inp = write_samples(tmp_path, 3)
    with FakeChatServer(responder=answer_of, reject=lambda b: (400, "nope")) as server:
        first = answer(inp, out, llm=llm(server))
    assert first.written == 0 and len(read_jsonl(tmp_path / "a.errors.jsonl")) == 3
    with FakeChatServer(responder=answer_of) as server:
        second = answer(inp, out, llm=llm(server))
        third = answer(inp, out, llm=llm(server))
    assert second.written == 3 and not (tmp_path / "a.errors.jsonl").exists()
    assert third.written == 0 and third.already_done == 3 and server.outcomes["ok"] == 3


def test_shards_partition_the_input(tmp_path):
    inp = write_samples(tmp_path, 20)
    with FakeChatServer(responder=answer_of) as server:
        for i in range(3):
            answer(inp, tmp_path / f"shard{i}.jsonl", shard=f"{i}/3", llm=llm(server))
    ids = [r["id"] for i in range(3) for r in read_jsonl(tmp_path / f"shard{i}.jsonl")]
    assert sorted(ids) == [f"s{i:03d}" for i in range(20)]


def test_reflect_with_an_llm_teacher(answered, tmp_path):
    root, _ = answered
    seen = []

    def teacher(body):
        seen.append(body)
        return '```json\n{"reflection": "Let me check: step two is off.", "revised_reasoning": "Add one. So 5."}\n```'

    with FakeChatServer(responder=teacher) as server:
        report = reflect(
            root / "answers.jsonl", tmp_path / "refl.jsonl", teacher_model="teacher", llm=llm(server)
        )
    rows = read_jsonl(tmp_path / "refl.jsonl")
    assert report.written == 12 and len(rows) == 12
    assert all(r["teacher"] == "teacher" and r["reflection"].startswith("Let me check") for r in rows)
    body = seen[0]
    assert body["model"] == "teacher" and body["response_format"]["type"] == "json_schema"
    user = body["messages"][1]["content"]
    assert user[0]["type"] == "image_url" and "Correct answer:" in user[-1]["text"]


def test_reflect_text_only_uses_descriptions_and_reports_missing(answered, tmp_path):
    root, _ = answered
    desc = tmp_path / "desc.jsonl"
    desc.write_text(
        "".join(
            json.dumps({"id": f"s{i:03d}", "description": f"A red square number {i}."}) + "\n"
            for i in range(6)
        )
    )
    prompts = []

    def teacher(body):
        prompts.append(body["messages"][1]["content"])
        return json.dumps({"reflection": "r", "revised_reasoning": "s"})

    with FakeChatServer(responder=teacher) as server:
        report = reflect(
            root / "answers.jsonl",
            tmp_path / "r.jsonl",
            descriptions=desc,
            text_only=True,
            llm=llm(server, model="t"),
        )
    assert report.written == 6 and report.failed == 6
    assert all(len(p) == 1 and "Image description: A red square" in p[0]["text"] for p in prompts)
    errors = read_jsonl(tmp_path / "r.errors.jsonl")
    assert all("no image description" in e["error"] for e in errors)


def test_reflect_prompt_file_override(answered, tmp_path):
    root, _ = answered
    tpl = tmp_path / "mine.j2"
    tpl.write_text("Q={{ question }} GOLD={{ gold }} RIGHT={{ correct }}")
    texts = []

    def teacher(body):
        texts.append(body["messages"][1]["content"][-1]["text"])
        return json.dumps({"reflection": "r", "revised_reasoning": "s"})

    with FakeChatServer(responder=teacher) as server:
        reflect(root / "answers.jsonl", tmp_path / "r.jsonl", prompt=tpl, llm=llm(server, model="t"))
    assert "Q=What is 0 + 1? GOLD=1 RIGHT=True" in texts


def test_synthetic_teacher_is_deterministic(answered, tmp_path):
    root, _ = answered
    for name in ("a", "b"):
        reflect(
            root / "answers.jsonl",
            tmp_path / f"{name}.jsonl",
            llm=LLMSettings(backend="synthetic", progress=False),
        )
    a = sorted(read_jsonl(tmp_path / "a.jsonl"), key=lambda r: r["id"])
    assert a == sorted(read_jsonl(tmp_path / "b.jsonl"), key=lambda r: r["id"]) and len(a) == 12
    by_id = {r["id"]: r for r in a}
    assert (
        by_id["s001"]["first_correct"] is False
        and "Adding one to 1 gives 2" in by_id["s001"]["revised_reasoning"]
    )


# ------------------------------------------------------------------------------------------ build


def _answers_row(i: int, correct: bool, question: str | None = None, think: str = "I add.") -> dict:
    return {
        "id": f"r{i}",
        "sample": {
            "id": f"r{i}",
            "question": question or f"Q{i}?",
            "answer": str(i),
            "images": [],
            "rationale": f"Because {i}.",
        },
        "image_root": None,
        "attempts": [
            {
                "text": "",
                "think": think,
                "answer": f"\\boxed{{{i if correct else -1}}}",
                "pred": str(i),
                "correct": correct,
                "format_ok": True,
            }
        ],
        "pass_rate": 1.0 if correct else 0.0,
    }


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.mark.parametrize(
    ("n_correct", "n_wrong", "ratio", "max_samples", "kept"),
    [
        (30, 70, 0.3, None, (30, 70)),
        (50, 70, 0.3, None, (30, 70)),
        (30, 200, 0.3, None, (30, 70)),
        (30, 70, 0.3, 50, (15, 35)),
        (5, 70, 0.3, 50, (5, 45)),  # short of correct-first: all of them, wrong-first fills up
        (0, 20, 0.3, None, (0, 20)),
        (10, 10, 1.0, None, (10, 0)),
    ],
)
def test_build_mixes_at_the_requested_ratio(tmp_path, n_correct, n_wrong, ratio, max_samples, kept):
    rows = [_answers_row(i, True) for i in range(n_correct)] + [
        _answers_row(1000 + i, False) for i in range(n_wrong)
    ]
    answers = _write(tmp_path / "a.jsonl", rows)
    refl = _write(
        tmp_path / "r.jsonl",
        [{"id": r["id"], "attempt": 0, "reflection": "Check.", "revised_reasoning": "Redo."} for r in rows],
    )
    report = build(
        answers, refl, tmp_path / "sft.jsonl", correct_ratio=ratio, max_samples=max_samples, seed=1
    )
    out = read_jsonl(tmp_path / "sft.jsonl")
    assert (report.kept_correct, report.kept_wrong) == kept
    assert sum(r["first_correct"] for r in out) == kept[0] and len(out) == sum(kept)


def test_build_is_deterministic_per_seed_and_independent_of_file_order(tmp_path):
    rows = [_answers_row(i, i % 3 == 0) for i in range(60)]
    refl = _write(
        tmp_path / "r.jsonl", [{"id": r["id"], "reflection": "c", "revised_reasoning": "d"} for r in rows]
    )
    _write(tmp_path / "a1.jsonl", rows)
    _write(tmp_path / "a2.jsonl", rows[::-1])
    ids = []
    for name, seed in (("a1", 3), ("a2", 3), ("a1", 4)):
        build(tmp_path / f"{name}.jsonl", refl, tmp_path / "o.jsonl", max_samples=20, seed=seed)
        ids.append([r["id"] for r in read_jsonl(tmp_path / "o.jsonl")])
    assert ids[0] == ids[1] and ids[0] != ids[2]


def test_build_writes_five_blocks_and_drops_with_reasons(tmp_path):
    rows = [
        _answers_row(1, False),
        _answers_row(2, False, question="Q1?"),  # duplicate question, no image → duplicate
        _answers_row(3, True, think="x" * 20000),  # too long
        _answers_row(4, False),  # no reflection
        _answers_row(5, True, think=""),  # no think: raw text is empty too
    ]
    refl = [
        {"id": f"r{i}", "reflection": "Let me check.", "revised_reasoning": "Redo it. So 1."}
        for i in (1, 2, 3, 5)
    ]
    report = build(
        _write(tmp_path / "a.jsonl", rows),
        _write(tmp_path / "r.jsonl", refl),
        tmp_path / "s.jsonl",
        correct_ratio=0.0,
    )
    (row,) = read_jsonl(tmp_path / "s.jsonl")
    assert dict(report.dropped) == {
        "duplicate (same image and question)": 1,
        "longer than 12000 characters": 1,
        "no reflection for the id": 1,
        "empty first attempt": 1,
    }
    system, user, assistant = row["messages"]
    assert system["content"][0]["text"] == REFLECTION_SYSTEM_PROMPT and user["content"] == [
        {"type": "text", "text": "Q1?"}
    ]
    parsed = parse_response(assistant["content"][0]["text"])
    assert parsed.is_five_block
    assert [b.content.strip() for b in parsed.blocks] == [
        "I add.",
        "\\boxed{-1}",
        "Let me check.",
        "Redo it. So 1.",
        "\\boxed{1}",
    ]


def test_build_repairs_an_attempt_without_tags_and_boxes_choice_letters(tmp_path):
    row = _answers_row(7, False)
    row["sample"].update(choices=["5", "7", "9"], answer="7")
    row["attempts"][0].update(text="uh maybe </think> nine", think="", answer="", pred="9")
    _write(tmp_path / "a.jsonl", [row])
    _write(tmp_path / "r.jsonl", [{"id": "r7", "reflection": "No.", "revised_reasoning": ""}])
    build(tmp_path / "a.jsonl", tmp_path / "r.jsonl", tmp_path / "s.jsonl", correct_ratio=0.0)
    text = read_jsonl(tmp_path / "s.jsonl")[0]["messages"][2]["content"][0]["text"]
    blocks = [b.content.strip() for b in parse_response(text).blocks]
    assert blocks == ["uh maybe   nine", "\\boxed{9}", "No.", "Because 7.", "\\boxed{B}"]


# ------------------------------------------------------------------------------------------ filter, export


def test_filter_keeps_the_pass_rate_band(tmp_path):
    rows = []
    for i, rate in enumerate([0.0, 0.125, 0.5, 0.875, 1.0]):
        r = _answers_row(i, rate > 0)
        r["pass_rate"], r["attempts"] = rate, r["attempts"] * 8
        rows.append(r)
    report = filter_prompts(
        _write(tmp_path / "a.jsonl", rows), tmp_path / "rl.jsonl", min_pass=0.1, max_pass=0.9
    )
    out = read_jsonl(tmp_path / "rl.jsonl")
    assert [r["id"] for r in out] == ["r1", "r2", "r3"] and report.kept == 3
    assert out[0]["meta"]["pass_rate"] == 0.125 and out[0]["meta"]["attempts"] == 8


def test_rows_whose_gold_was_not_isolated_are_dropped_with_the_reason(tmp_path):
    """An LLaVA-CoT conclusion the reader could not cut to an answer is never a target or an RL prompt."""
    rows = [_answers_row(0, True), _answers_row(1, False)]
    rows[1]["sample"]["meta"] = {"gold_unclear": True}
    rows[1]["pass_rate"] = None
    rows[1]["attempts"][0]["correct"] = None
    answers = _write(tmp_path / "a.jsonl", rows)
    report = filter_prompts(answers, tmp_path / "rl.jsonl", min_pass=0.0, max_pass=1.0)
    assert report.kept == 1 and any("gold answer not isolated" in k for k in report.dropped)
    refl = _write(
        tmp_path / "r.jsonl",
        [{"id": r["id"], "attempt": 0, "reflection": "x", "revised_reasoning": "y"} for r in rows],
    )
    built = build(answers, refl, tmp_path / "sft.jsonl")
    assert built.kept == 1 and any("gold answer not isolated" in k for k in built.dropped)


@pytest.fixture(scope="module")
def curated(answered, tmp_path_factory):
    root, _ = answered
    out = tmp_path_factory.mktemp("curated")
    reflect(root / "answers.jsonl", out / "refl.jsonl", llm=LLMSettings(backend="synthetic", progress=False))
    build(root / "answers.jsonl", out / "refl.jsonl", out / "sft.jsonl", correct_ratio=0.5)
    filter_prompts(root / "answers.jsonl", out / "rl.jsonl", min_pass=0.0, max_pass=1.0)
    return out


def test_export_llamafactory(curated):
    path = export(curated / "sft.jsonl", "llamafactory", curated / "lf")
    rows = json.loads(path.read_text())
    info = json.loads((curated / "lf" / "dataset_info.json").read_text())
    assert info["srpo"]["file_name"] == "srpo.json" and info["srpo"]["formatting"] == "sharegpt"
    r = rows[0]
    assert r["messages"][0]["content"].startswith("<image>") and r["messages"][1]["role"] == "assistant"
    assert not Path(r["images"][0]).is_absolute() and (curated / "lf" / r["images"][0]).is_file()
    assert r["system"] == REFLECTION_SYSTEM_PROMPT


def test_export_trl_sft_and_prompts(curated):
    sft = pq.read_table(export(curated / "sft.jsonl", "trl", curated / "trl_sft")).to_pylist()
    assert set(sft[0]) == {"id", "messages", "images"} and Path(sft[0]["images"][0]).is_file()
    path = export(curated / "rl.jsonl", "trl", curated / "trl_rl", file_format="jsonl")
    rows = read_jsonl(path)
    assert set(rows[0]) == {"id", "prompt", "images", "answer", "choices", "data_source", "question", "meta"}
    assert len(rows) == 12
    assert rows[0]["data_source"] == "math"  # the task that judged curation judges the reward too
    assert rows[0]["prompt"][0]["content"][0]["text"] == REFLECTION_SYSTEM_PROMPT
    assert rows[0]["prompt"][1]["content"][0] == {"type": "image"} and Path(rows[0]["images"][0]).is_file()


def test_export_verl_easyr1_openrlhf(curated):
    verl = pq.read_table(export(curated / "rl.jsonl", "verl", curated / "verl")).to_pylist()
    v = verl[0]
    assert (
        v["prompt"][1]["content"].startswith("<image>What is") and v["images"][0]["bytes"][:4] == b"\x89PNG"
    )
    assert v["reward_model"]["ground_truth"] and v["data_source"] == "math" and v["extra_info"]["index"] == 0
    easy = pq.read_table(export(curated / "rl.jsonl", "easyr1", curated / "easy")).to_pylist()
    assert easy[0]["problem"].startswith("<image>") and easy[0]["images"][0]["bytes"][:4] == b"\x89PNG"
    o = read_jsonl(export(curated / "rl.jsonl", "openrlhf", curated / "orl"))[0]
    message = json.loads(o["message"])
    assert message[1]["content"][0]["image"].startswith("file:///") and o["answer"]


def test_export_refuses_prompts_for_llamafactory(curated):
    with pytest.raises(ValueError, match="needs SFT rows"):
        export(curated / "rl.jsonl", "llamafactory", curated / "bad")


def test_export_names_the_record_with_a_missing_image(tmp_path):
    rows = tmp_path / "rl.jsonl"
    rows.write_text(
        json.dumps({"id": "gone-1", "question": "q", "answer": "1", "images": ["nope.png"]}) + "\n"
    )
    with pytest.raises(ImageError, match=r"rl.jsonl: record gone-1: image 'nope.png' not found"):
        export(rows, "verl", tmp_path / "out")


# ------------------------------------------------------------------------------------------ describe


def test_describe_llava_cot_mulberry_and_pattern(tmp_path):
    llava = tmp_path / "llava.jsonl"
    llava.write_text(
        json.dumps(
            {
                "id": "a",
                "image": "x.png",
                "conversations": [
                    {"from": "human", "value": "<image>Q?"},
                    {
                        "from": "gpt",
                        "value": "<CAPTION>A red bar.</CAPTION><REASONING>r</REASONING><CONCLUSION>3</CONCLUSION>",
                    },
                ],
            }
        )
        + "\n"
        + json.dumps(
            {
                "id": "b",
                "image": "y.png",
                "conversations": [
                    {"from": "human", "value": "Q?"},
                    {"from": "gpt", "value": "<CONCLUSION>4</CONCLUSION>"},
                ],
            }
        )
        + "\n"
    )
    report = describe(llava, tmp_path / "d.jsonl", source="llava-cot")
    assert read_jsonl(tmp_path / "d.jsonl") == [{"id": "a", "image": "x.png", "description": "A red bar."}]
    assert report.missing == 1 and read_jsonl(tmp_path / "d.errors.jsonl")[0]["id"] == "b"
    mulberry = tmp_path / "m.jsonl"
    mulberry.write_text(
        json.dumps(
            {
                "id": "m",
                "images": ["z.png"],
                "messages": [
                    {"role": "user", "content": "Q"},
                    {
                        "role": "assistant",
                        "content": "### Image Description:\nTwo circles.\n\n### Rationales:\nCount.\n\n### The final answer is: 2",
                    },
                ],
            }
        )
        + "\n"
    )
    describe(mulberry, tmp_path / "dm.jsonl", source="mulberry")
    assert read_jsonl(tmp_path / "dm.jsonl")[0]["description"] == "Two circles."
    describe(llava, tmp_path / "dp.jsonl", pattern=r"<REASONING>(.*?)</REASONING>")
    assert read_jsonl(tmp_path / "dp.jsonl") == [{"id": "a", "image": "x.png", "description": "r"}]


# ------------------------------------------------------------------------------------------ CLI


def test_cli_answer_then_reflect_then_build(tmp_path):
    inp = write_samples(tmp_path, 4)
    runner = CliRunner()
    with FakeChatServer(responder=answer_of) as server:
        res = runner.invoke(
            app,
            [
                "curate",
                "answer",
                "--input",
                str(inp),
                "--output",
                str(tmp_path / "a.jsonl"),
                "--base-url",
                server.base_url,
                "--model",
                "p",
                "--samples",
                "2",
                "--no-progress",
                "--price-in",
                "1",
                "--price-out",
                "2",
            ],
        )
    assert res.exit_code == 0, res.output
    assert "answer: 4 written, 0 failed" in res.output and "estimated cost" in res.output
    res = runner.invoke(
        app,
        [
            "curate",
            "reflect",
            "--input",
            str(tmp_path / "a.jsonl"),
            "--output",
            str(tmp_path / "r.jsonl"),
            "--backend",
            "synthetic",
            "--no-progress",
        ],
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        app,
        [
            "curate",
            "build",
            "--answers",
            str(tmp_path / "a.jsonl"),
            "--reflections",
            str(tmp_path / "r.jsonl"),
            "--output",
            str(tmp_path / "s.jsonl"),
            "--correct-ratio",
            "0.5",
        ],
    )
    assert res.exit_code == 0 and "kept 4 (2 correct-first, 2 wrong-first" in res.output
    res = runner.invoke(
        app,
        [
            "curate",
            "answer",
            "--input",
            str(inp),
            "--output",
            str(tmp_path / "x.jsonl"),
            "--shard",
            "5/2",
            "--model",
            "p",
            "--base-url",
            "http://127.0.0.1:9",
        ],
    )
    assert res.exit_code == 2 and "--shard" in res.output


def test_no_secret_anywhere(answered, curated):
    root, _ = answered
    for folder in (root, curated):
        for f in folder.rglob("*"):
            if f.is_file():
                assert SECRET.encode() not in f.read_bytes(), f


def test_a_dropped_row_does_not_make_its_duplicate_a_duplicate(tmp_path):
    """Dedup counts kept rows only: a copy whose first attempt is empty is dropped, the next copy is kept."""
    rows = [_answers_row(0, True, question="Same?", think=""), _answers_row(1, True, question="Same?")]
    answers = _write(tmp_path / "a.jsonl", rows)
    refl = _write(tmp_path / "r.jsonl", [{"id": r["id"], "attempt": 0, "reflection": "x"} for r in rows])
    report = build(answers, refl, tmp_path / "sft.jsonl")
    assert report.kept == 1 and report.dropped["empty first attempt"] == 1
    assert [r["id"] for r in read_jsonl(tmp_path / "sft.jsonl")] == ["r1"]
