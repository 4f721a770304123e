"""The benches' stand-in for a remote OpenAI-compatible server: a minimal asyncio HTTP/1.1 server in its own
process, answering every chat request with one pre-built completion after a fixed or random latency.

It must cost as little CPU per request as possible: on a small machine it shares the cores with the client
being measured. (The tests' `tests/fake_server.py` parses and hashes every body for fault injection: right
for tests, too heavy to stand in for a remote server here.)

    server = start_server(latency=0.1)            # or start_server(2.0, jitter=1.0): uniform 1–3 s
    ... --base-url server.url ...
    stats = server.stop()                          # {"cpu_s": …, "served": …}
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

_REPLY = json.dumps(
    {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 0,
        "model": "bench",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "<think>Adding one.</think> <answer>\\boxed{2}</answer>",
                },
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 100, "completion_tokens": 12, "total_tokens": 112},
    }
).encode()
_RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(_REPLY) + _REPLY
)


async def serve(latency: float, jitter: float = 0.0, seed: int = 0) -> None:
    """Read each request (headers + Content-Length body), wait `latency` ± `jitter` (uniform), send the
    pre-built answer; keep-alive. Prints its URL, runs until stdin closes, then prints its CPU time since it
    started listening and its request count as JSON."""
    served = 0
    rng = random.Random(seed)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal served
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                await reader.readexactly(length)
                await asyncio.sleep(latency + (rng.uniform(-jitter, jitter) if jitter else 0.0))
                writer.write(_RESPONSE)
                served += 1
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=4096, limit=1 << 16)
    started = time.process_time()  # count serving only, not the interpreter's start
    port = server.sockets[0].getsockname()[1]
    print(f"http://127.0.0.1:{port}/v1", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    print(json.dumps({"cpu_s": time.process_time() - started, "served": served}), flush=True)
    os._exit(0)  # at once: connections the client left open need no orderly goodbye


@dataclass
class Server:
    proc: subprocess.Popen
    url: str

    def stop(self) -> dict:
        """Close the server's stdin; its CPU seconds and requests served."""
        self.proc.stdin.close()  # type: ignore[union-attr]
        stats = json.loads(self.proc.stdout.readline())  # type: ignore[union-attr]
        self.proc.wait()
        return stats


def start_server(latency: float, jitter: float = 0.0) -> Server:
    """The server in a new process (`python bench/_server.py LATENCY JITTER`)."""
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), str(latency), str(jitter)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    return Server(proc, proc.stdout.readline().strip())  # type: ignore[union-attr]


if __name__ == "__main__":
    asyncio.run(serve(float(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 0.0))
