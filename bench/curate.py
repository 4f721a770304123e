"""Benchmark `srpo curate answer` against a local OpenAI-compatible server with a fixed latency.

    .venv/bin/python bench/curate.py            # full run: 2,000 requests, 10k and 100k-record memory runs
    .venv/bin/python bench/curate.py --quick    # smaller, for a smoke check

1. Throughput: 2,000 `answer` requests (one attempt per record, each record its own ~100 KB PNG) at
   concurrency 64 against `FakeChatServer(latency=0.05)` running in another process. Reports the wall time
   of the step against the ideal (requests × latency / concurrency) and the client's CPU time per request
   (everything the step does: read the row, encode the image, build and send the request, parse, grade,
   cache, journal).
2. Memory: peak RSS of the whole `answer` step over 10,000 and 100,000 records, each run in a fresh
   process. To keep this affordable the requests go to an in-process backend that answers at once (the
   HTTP client's memory is bounded by the concurrency and shows in run 1); the reader, image encoder,
   in-flight bound, cache and journal are the real ones. Flat memory means the two peaks are close.
Writes the "curate" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import record  # noqa: E402

LATENCY = 0.05
CONCURRENCY = 64


def write_input(folder: Path, n: int, *, image_bytes: int, distinct_images: bool) -> Path:
    """`n` records; each with its own noise PNG of about `image_bytes` (or all sharing one small PNG)."""
    from PIL import Image

    (folder / "img").mkdir(parents=True, exist_ok=True)
    side = int((image_bytes / 3) ** 0.5)
    path = folder / "in.jsonl"
    with path.open("w") as f:
        for i in range(n):
            name = f"img/{i}.png" if distinct_images else "img/shared.png"
            if distinct_images or i == 0:
                Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(folder / name)
            f.write(
                json.dumps(
                    {"id": f"r{i}", "question": f"What is {i} + 1?", "answer": str(i + 1), "images": [name]}
                )
                + "\n"
            )
    return path


def start_server(latency: float) -> tuple[subprocess.Popen, str]:
    code = (
        "import sys, time\n"
        "from srpo.llm.fake_server import FakeChatServer\n"
        f"s = FakeChatServer(latency={latency}).start()\n"
        "print(s.base_url, flush=True)\n"
        "sys.stdin.read()\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    return proc, proc.stdout.readline().strip()


def _peak_rss_mb() -> float:
    """VmHWM of this process (ru_maxrss would include what a parent process reached before exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def throughput(n: int, workdir: Path) -> dict:
    from srpo.curate.answer import answer
    from srpo.llm.settings import LLMSettings

    inp = write_input(workdir / "tp", n, image_bytes=100_000, distinct_images=True)
    size = (workdir / "tp" / "img" / "0.png").stat().st_size
    server, url = start_server(LATENCY)
    try:
        os.environ.setdefault("OPENAI_API_KEY", "bench-key")
        llm = LLMSettings(model="bench", base_url=[url], concurrency=CONCURRENCY, progress=False)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        report = answer(inp, workdir / "tp" / "answers.jsonl", samples=1, llm=llm)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    finally:
        server.stdin.close()
        server.wait()
    assert report.written == n, report.summary()
    ideal = n * LATENCY / CONCURRENCY
    return {
        "requests": n,
        "image_kb": size / 1000,
        "wall_s": wall,
        "ideal_s": ideal,
        "ratio": wall / ideal,
        "cpu_ms_per_request": cpu / n * 1000,
        "peak_rss_mb": _peak_rss_mb(),
    }


_MEMORY_RUN = """
import asyncio, json, sys, time
from srpo.llm.backend import Backend, register_backend
from srpo.llm.request import ChatResult
from srpo.llm.settings import LLMSettings
from srpo.curate.answer import answer

class Instant(Backend):
    name = "instant"
    def __init__(self, settings):
        self.model = "instant"
    async def complete(self, request, timeout):
        await asyncio.sleep(0)
        return ChatResult("<think>Adding gives 2.</think> <answer>\\\\boxed{2}</answer>", "stop", 10, 10)

register_backend("instant", Instant)
t = time.perf_counter()
report = answer(sys.argv[1], sys.argv[2], samples=1, llm=LLMSettings(backend="instant", concurrency=64, progress=False))
hwm = next(l for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({"written": report.written, "seconds": time.perf_counter() - t,
                  "peak_rss_mb": int(hwm.split()[1]) / 1024}))
"""


def memory(n: int, workdir: Path) -> dict:
    folder = workdir / f"mem{n}"
    inp = write_input(folder, n, image_bytes=2_000, distinct_images=False)
    out = subprocess.run(
        [sys.executable, "-c", _MEMORY_RUN, str(inp), str(folder / "answers.jsonl")],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["written"] == n, result
    return {"records": n, **result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 requests; 2k/20k-record memory runs")
    args = parser.parse_args()
    n_requests, sizes = (200, (2_000, 20_000)) if args.quick else (2_000, (10_000, 100_000))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        tp = throughput(n_requests, work)
        print("throughput", tp, flush=True)
        mem = [memory(n, work) for n in sizes]
        print("memory", mem, flush=True)
    body = f"""`bench/curate.py`{" --quick" if args.quick else ""}: `srpo curate answer` against a local OpenAI-compatible server
(another process) with a fixed {LATENCY * 1000:.0f} ms latency, concurrency {CONCURRENCY}.

| requests | image | wall time | ideal (n × latency / concurrency) | wall / ideal | client CPU per request | client peak RSS |
|---:|---:|---:|---:|---:|---:|---:|
| {tp["requests"]:,} | {tp["image_kb"]:.0f} KB PNG each | {tp["wall_s"]:.2f} s | {tp["ideal_s"]:.2f} s | {tp["ratio"]:.2f}× | {tp["cpu_ms_per_request"]:.2f} ms | {tp["peak_rss_mb"]:.0f} MB |

Peak memory of the whole `answer` step by input size (fresh process each; an in-process backend that answers
at once stands in for the server, the rest of the pipeline is the real one):

| records | peak RSS | time |
|---:|---:|---:|
""" + "\n".join(f"| {m['records']:,} | {m['peak_rss_mb']:.0f} MB | {m['seconds']:.1f} s |" for m in mem)
    body += (
        "\n\nClient CPU counts everything the step does per record: read the row, encode the image (base64 data"
        " URL), send, parse, grade, write the cache and the journal. Targets: wall within 1.3× of the ideal,"
        " ≤ 1 ms client CPU per request, memory flat in the input size. On a machine whose cores are busy"
        f" (load average at the end of this run: {os.getloadavg()[0]:.1f}) the client is CPU-bound, so wall time is roughly"
        " requests × (client + server CPU) / cores rather than the latency-bound ideal. Memory growth with the"
        " input is the journal's set of finished ids (a few dozen bytes per record)."
    )
    record("curate", body)


if __name__ == "__main__":
    main()
