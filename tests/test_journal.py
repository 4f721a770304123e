"""The journal: append-only results that survive a kill, resume by id, and keep failures with reasons."""

from __future__ import annotations

import gc
import json
import os
import signal
import subprocess
import sys
import time
import warnings

import pytest

from srpo.journal import Journal, errors_path_for, iter_jsonl


def test_write_and_resume(tmp_path):
    out = tmp_path / "out.jsonl"
    with Journal(out) as j:
        assert j.done == set()
        j.write({"id": "a", "v": 1})
        j.write({"id": "b", "v": 2})
    with Journal(out) as j:
        assert j.done == {"a", "b"}
        j.write({"id": "c", "v": 3})
    assert [r["id"] for r in iter_jsonl(out)] == ["a", "b", "c"]


def test_truncated_last_line_is_cut_and_redone(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text('{"id": "a"}\n{"id": "b"}\n{"id": "c", "text": "half a li')
    with Journal(out) as j:
        assert j.done == {"a", "b"}
        j.write({"id": "c", "text": "whole"})
    lines = out.read_text().splitlines()
    assert [json.loads(x)["id"] for x in lines] == ["a", "b", "c"]
    assert json.loads(lines[-1])["text"] == "whole"


def test_truncated_line_without_any_newline(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text('{"id": "a", "te')
    with Journal(out) as j:
        assert j.done == set()
    assert out.read_text() == ""


def test_errors_file_name():
    assert errors_path_for("runs/answers.jsonl").name == "answers.errors.jsonl"
    assert errors_path_for("runs/answers").name == "answers.errors.jsonl"


def test_failures_are_retried_and_compacted(tmp_path):
    out = tmp_path / "out.jsonl"
    with Journal(out) as j:
        j.write({"id": "a"})
        j.fail("b", "HTTP 500 after 5 tries")
        j.fail("c", "image not found", location="x.jsonl:3")
    errs = list(iter_jsonl(errors_path_for(out)))
    assert {(e["id"], e["error"]) for e in errs} == {
        ("b", "HTTP 500 after 5 tries"),
        ("c", "image not found"),
    }
    # A rerun retries b (now succeeds) and c (fails again): each id ends up in exactly one file, once.
    with Journal(out) as j:
        assert set(j.previous_errors) == {"b", "c"}
        assert "b" not in j.done
        j.write({"id": "b"})
        j.fail("c", "image still not found")
    assert [r["id"] for r in iter_jsonl(out)] == ["a", "b"]
    assert [(e["id"], e["error"]) for e in iter_jsonl(errors_path_for(out))] == [
        ("c", "image still not found")
    ]


def test_errors_file_disappears_when_everything_succeeds(tmp_path):
    out = tmp_path / "out.jsonl"
    with Journal(out) as j:
        j.fail("a", "boom")
    with Journal(out) as j:
        j.write({"id": "a"})
    assert not errors_path_for(out).exists()


WRITER = r"""
import sys, time
from srpo.journal import Journal
with Journal(sys.argv[1]) as j:
    for i in range(100000):
        if str(i) in j.done:
            continue
        j.write({"id": str(i), "pad": "x" * 300})
"""


def test_sigkill_at_any_moment_loses_nothing_and_duplicates_nothing(tmp_path):
    out = tmp_path / "out.jsonl"
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    for delay in (0.3, 0.5, 0.7):
        p = subprocess.Popen([sys.executable, str(script), str(out)], env=env)
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
    subprocess.run([sys.executable, str(script), str(out)], env=env, check=True)
    ids = [r["id"] for r in iter_jsonl(out)]
    assert ids == [str(i) for i in range(100000)]
    assert out.read_bytes().endswith(b"\n")


def test_a_complete_session_leaves_exactly_its_own_failures(tmp_path):
    """A row that failed once (a bad line, `row:in.jsonl:6`) and was then fixed must not linger in the errors
    file after a complete rerun; an interrupted or sharded rerun keeps the earlier failures it did not retry."""
    out = tmp_path / "out.jsonl"
    with Journal(out) as j:
        j.fail("row:in.jsonl:6", "invalid JSON")
        j.fail("b", "HTTP 500")
    with Journal(out) as j:  # partial rerun: only b retried, and it fails again
        j.fail("b", "HTTP 500 again")
    assert {r["id"] for r in iter_jsonl(j.errors_path)} == {"row:in.jsonl:6", "b"}
    with Journal(out) as j:  # complete rerun: the fixed row is now a record, b fails again
        j.write({"id": "x"})
        j.fail("b", "HTTP 503")
        j.complete = True
    assert [(r["id"], r["error"]) for r in iter_jsonl(j.errors_path)] == [("b", "HTTP 503")]
    with Journal(out) as j:  # complete and clean
        j.write({"id": "b"})
        j.complete = True
    assert not j.errors_path.exists()


def test_a_lone_surrogate_is_journaled_not_lost(tmp_path):
    out = tmp_path / "out.jsonl"
    with Journal(out) as j:
        j.write({"id": "a", "response": "half a pair: \ud800 here"})
    [row] = list(iter_jsonl(out))
    assert row["response"] == "half a pair: \ud800 here"


def test_lines_that_are_not_objects_are_passed_over_and_kept(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text('{"id": "a"}\n[1, 2]\n5\n"text"\nnull\n{"id": "b"}\n')
    with Journal(out) as j:
        assert j.done == {"a", "b"}
        j.write({"id": "c"})
    assert [r["id"] for r in iter_jsonl(out)] == ["a", "b", "c"]
    assert "[1, 2]\n5\n" in out.read_text()  # a hand edit is the user's: never rewritten away


def test_a_journal_that_cannot_open_its_errors_file_leaves_no_handle(tmp_path):
    out = tmp_path / "out.jsonl"
    errors_path_for(out).symlink_to(tmp_path / "gone" / "errors.jsonl")  # points into a missing folder
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(OSError):
            Journal(out)
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
