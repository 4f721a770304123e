"""Several endpoints: least-in-flight routing, a failing endpoint rested and tried again later, per-endpoint
counts — as a table on the pool itself, then end to end through `srpo curate answer` and `srpo eval run`
with two real loopback servers, one of them failing."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from curate_data import SECRET, answer_of, read_jsonl, write_samples
from fake_server import FakeChatServer, FaultPlan
from srpo.cli import app
from srpo.llm.endpoints import EndpointPool

FIX = Path(__file__).parent / "fixtures" / "eval"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_each_request_goes_to_the_endpoint_with_the_fewest_in_flight():
    pool = EndpointPool(["a", "b", "c"], clock=Clock())
    held = [pool.acquire() for _ in range(6)]
    assert sorted(ep.url for ep in held) == ["a", "a", "b", "b", "c", "c"]
    for ep in held:
        if ep.url != "b":
            pool.release(ep, "ok")
    # b still has two in flight: the next four go to a and c.
    assert sorted(pool.acquire().url for _ in range(4)) == ["a", "a", "c", "c"]


@pytest.mark.parametrize(
    ("outcomes", "rested"),
    [
        (["failed", "failed"], False),  # two failures: not yet
        (["failed", "failed", "failed"], True),  # three in a row: rested
        (["failed", "failed", "ok", "failed"], False),  # a success resets the count
        (["neutral"] * 10, False),  # the request's fault (4xx) or a busy 429 says nothing about the endpoint
    ],
)
def test_an_endpoint_is_rested_after_three_failures_in_a_row(outcomes, rested):
    clock = Clock()
    pool = EndpointPool(["bad", "good"], clock=clock, rest_base=2.0)
    bad = pool.endpoints[0]
    for outcome in outcomes:
        bad.in_flight += 1
        pool.release(bad, outcome)
    picks = {pool.acquire().url for _ in range(4)}
    assert picks == ({"good"} if rested else {"bad", "good"})


def test_a_rested_endpoint_is_probed_one_request_at_a_time_and_rests_longer_each_time():
    clock = Clock()
    pool = EndpointPool(["bad", "good"], clock=clock, rest_base=2.0, rest_max=5.0)
    bad, good = pool.endpoints
    for _ in range(3):
        bad.in_flight += 1
        pool.release(bad, "failed")
    assert bad.rested_until == 2.0 and pool.acquire() is good
    clock.now = 2.5  # the rest is over: one probe, and no second request while it is in flight
    probe = pool.acquire()
    assert probe is bad and pool.acquire() is good and pool.acquire() is good
    pool.release(probe, "failed")  # still broken: rested again, twice as long
    assert bad.rested_until == 2.5 + 4.0 and bad.rests == 2
    clock.now = 7.0
    probe = pool.acquire()
    assert probe is bad
    pool.release(probe, "ok")  # back: no longer probing, full share of the load
    assert not bad.probing and {pool.acquire().url for _ in range(4)} == {"bad", "good"}
    assert "bad: 1 ok, 4 failed, rested 2×" in pool.summary()


def test_when_every_endpoint_rests_the_one_back_first_is_tried():
    clock = Clock()
    pool = EndpointPool(["a", "b"], clock=clock, rest_base=2.0)
    a, b = pool.endpoints
    for ep, extra in ((a, 0), (b, 1)):
        for _ in range(3 + extra):
            ep.in_flight += 1
            pool.release(ep, "failed")
    assert pool.acquire() is a  # never stuck: someone is always tried


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/v1"


def _always_500() -> FakeChatServer:
    return FakeChatServer(
        responder=answer_of, faults=FaultPlan(rates={"500": 1.0}, max_faults_per_request=10**6)
    )


@pytest.mark.parametrize("failing", ["refused", "500"])
def test_curate_answer_with_one_failing_endpoint_loses_nothing(tmp_path, monkeypatch, failing):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    inp = write_samples(tmp_path, 30)
    out = tmp_path / "answers.jsonl"
    bad_server = _always_500() if failing == "500" else None
    with FakeChatServer(responder=answer_of, latency=0.01) as healthy:
        if bad_server is not None:
            bad_server.start()
        bad_url = bad_server.base_url if bad_server is not None else _closed_port_url()
        try:
            result = CliRunner().invoke(
                app,
                ["curate", "answer", "--input", str(inp), "--output", str(out), "--model", "p"]
                + ["--base-url", bad_url, "--base-url", healthy.base_url, "--concurrency", "8"]
                + ["--retry-base-delay", "0.01", "--no-progress"],
            )
        finally:
            if bad_server is not None:
                bad_server.stop()
    assert result.exit_code == 0, result.output
    assert sorted(r["id"] for r in read_jsonl(out)) == [f"s{i:03d}" for i in range(30)]
    assert not (tmp_path / "answers.errors.jsonl").exists()
    assert healthy.outcomes["ok"] == 30  # the healthy endpoint took the whole load
    if bad_server is not None:
        assert 3 <= bad_server.outcomes["500"] <= 3 + 8  # rested after three: at most what was in flight
    endpoints = next(line for line in result.output.splitlines() if line.strip().startswith("endpoints:"))
    assert f"{healthy.base_url}: 30 ok, 0 failed" in endpoints and f"{bad_url}: 0 ok" in endpoints
    assert "rested" in endpoints.split(";")[0]


def test_eval_run_with_one_failing_endpoint_loses_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    out = tmp_path / "run"
    with FakeChatServer(responder=lambda b: "<answer>1</answer>") as healthy, _always_500() as bad:
        result = CliRunner().invoke(
            app,
            ["eval", "run", "--benchmark", "mathvista", "--data", str(FIX / "mathvista" / "testmini.json")]
            + ["--output", str(out), "--model", "m", "--base-url", bad.base_url]
            + ["--base-url", healthy.base_url, "--retry-base-delay", "0.01", "--no-progress"],
        )
    assert result.exit_code == 0, result.output
    gens = [json.loads(x) for x in (out / "generations.jsonl").read_text().splitlines()]
    assert len(gens) == len({g["id"] for g in gens}) == healthy.outcomes["ok"] == 6
    assert 1 <= bad.outcomes["500"] <= 3 + 6 and "endpoints:" in result.output
