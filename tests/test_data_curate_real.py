"""`srpo curate answer` on rows in the paper's own data layouts grades a correct attempt as correct.

A real HTTP server on 127.0.0.1 (written here, started and stopped by the test) plays the policy: it
answers each question with a known response, right for most and wrong for one. Graded through the CLI.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from srpo.cli import app

FIX = Path(__file__).parent / "fixtures" / "data"

# question text (a part of it) → the policy's response
RESPONSES = {
    "Which bar is the tallest?": r"<think>Bar B reaches 7.</think> <answer>\boxed{B}</answer>",
    "capital of the state printed on the sign": r"<think>Alaska's capital.</think> <answer>\boxed{Juneau}</answer>",
    "Which organism is a producer?": r"<think>Algae photosynthesise.</think> <answer>\boxed{B}</answer>",
    "Is there a rectangle": r"<think>One rectangle.</think> <answer>\boxed{yes}</answer>",
    "How many sides": r"<think>Four sides.</think> <answer>\boxed{4}</answer>",
    "What could this picture be used for?": r"<think>Teaching.</think> <answer>\boxed{teaching shapes}</answer>",
    "What is its perimeter?": r"<think>3 + 4 = 7.</think> <answer>\boxed{A}</answer>",  # wrong: C (14)
    "Describe the image": r"<think>A chart.</think> <answer>A bar chart.</answer>",
    "What fraction": r"<think>Three of four.</think> <answer>\boxed{0.75}</answer>",
    "Find the perimeter of the rectangle.": r"<think>2 × 7.</think> <answer>\boxed{14}</answer>",
    "how much taller is bar B than bar A?": r"<think>7 - 3.</think> <answer>\boxed{C}</answer>",
    "What is the height of bar C?": r"<think>About 5.</think> <answer>\boxed{5}</answer>",
    "What is the area of the rectangle?": r"<think>3 × 4.</think> <answer>\boxed{12}</answer>",
    "How many more units is bar B than bar C?": r"<think>7 - 5.</think> <answer>\boxed{2}</answer>",
    "Which bar is shortest?": r"<think>Bar A is 3.</think> <answer>\boxed{bar A}</answer>",
    "What does the chart show?": r"<think>Bars.</think> <answer>Three bars.</answer>",
}


class _Policy(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        text = " ".join(
            part.get("text", "")
            for m in body["messages"]
            if isinstance(m["content"], list)
            for part in m["content"]
        )
        reply = next((r for q, r in RESPONSES.items() if q in text), "<think>?</think> <answer>none</answer>")
        payload = json.dumps(
            {
                "id": "cmpl-1",
                "object": "chat.completion",
                "created": 0,
                "model": body.get("model", "policy"),
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args) -> None:  # keep the test output quiet
        pass


@pytest.fixture
def policy_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Policy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# input file → {sample id: whether its one attempt must be graded correct}; None = gold unclear
EXPECTED = {
    "llava_cot_100k.jsonl": {
        "chartqa_two_col_2231": True,
        "aokvqa_31c7e9": True,  # gold B isolated from "… The answer is B."; "Juneau" is option B's text
        "scienceqa_4410": True,
        "vqav2_multi_5521#1": True,
        "vqav2_multi_5521#2": True,
        "vqav2_multi_5521#3": None,
        "geoqa_plus_3109": False,
        "sharegpt4v_77012": None,
        "mathv_frac_18": True,
    },
    "mulberry_sft.json": {0: True, 1: True, 2: None, 3: True},
    "srpo_flat.jsonl": {0: True, 1: True, 2: True, 3: None},
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_curate_answer_grades_correct_attempts_on_the_papers_layouts(tmp_path, monkeypatch, policy_url, name):
    from srpo.data.readers import read_samples

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-local")
    out = tmp_path / "answers.jsonl"
    result = CliRunner().invoke(
        app,
        [
            "curate",
            "answer",
            "--input",
            str(FIX / name),
            "--output",
            str(out),
            "--base-url",
            policy_url,
            "--model",
            "policy",
            "--no-progress",
            "--max-retries",
            "0",
            "--timeout",
            "20",
        ],
    )
    assert result.exit_code == 0, result.output
    if any(v is None for v in EXPECTED[name].values()):
        assert "gold answers not isolated (attempts not graded)" in result.output
    rows = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    ids = [s.id for s in read_samples(FIX / name)]
    assert sorted(rows) == sorted(ids)  # every turn of every row was answered
    for key, correct in EXPECTED[name].items():
        sid = ids[key] if isinstance(key, int) else key
        row = rows[sid]
        if correct is None:
            # never graded against a sentence: the flag travels with the record, and the attempt is ungraded
            assert row["sample"]["meta"]["gold_unclear"] is True, sid
            assert row["attempts"][0]["correct"] is None and row["pass_rate"] is None, sid
        else:
            assert row["attempts"][0]["correct"] is correct, (
                sid,
                row["sample"]["answer"],
                row["attempts"][0],
            )
