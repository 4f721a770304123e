"""A local OpenAI-compatible chat-completions server that misbehaves on purpose — a test double, so it lives
under tests/ (the library ships none).

Used by the tests (fault injection, latency, refused keys)::

    with FakeChatServer(latency=0.05) as server:
        ...  # point --base-url at server.base_url

It is a plain `http.server.ThreadingHTTPServer` on 127.0.0.1 speaking just enough of `POST
/v1/chat/completions` (and `GET /v1/models`). Faults are decided per request content and per attempt, so a
run is reproducible: the n-th time the same body arrives, the same thing happens. After
`max_faults_per_request` faults a body is always answered, so "retried to success" is reachable.

Fault kinds: `500` (server error), `429` (with a `Retry-After` header), `slow` (answer after `slow_seconds`,
past the client's timeout), `drop` (close the connection without answering), `malformed` (a 200 whose body
is not JSON).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import signal
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAULT_KINDS = ("500", "429", "slow", "drop", "malformed")

Responder = Callable[[dict[str, Any]], str]
"""Given the request body, the assistant's reply text."""


def default_responder(body: dict[str, Any]) -> str:
    """JSON `{reflection, revised_reasoning}` when the request asks for JSON, else a think/answer attempt."""
    if body.get("response_format") or "JSON" in _all_text(body):
        return json.dumps(
            {
                "reflection": "The first attempt misread the chart.",
                "revised_reasoning": "Reading again gives 42.",
            }
        )
    return "<think>Counting carefully, I get 42.</think> <answer>\\boxed{42}</answer>"


def _all_text(body: dict[str, Any]) -> str:
    parts: list[str] = []
    for m in body.get("messages") or []:
        c = m.get("content")
        if isinstance(c, str):
            parts.append(c)
        elif isinstance(c, list):
            parts.extend(str(p.get("text", "")) for p in c if isinstance(p, dict))
    return "\n".join(parts)


@dataclass
class FaultPlan:
    """Which faults to inject, how often, and how many times at most per distinct request."""

    rates: dict[str, float] = field(default_factory=dict)
    """Probability of each fault kind (keys from FAULT_KINDS) on an attempt that may still fail."""
    max_faults_per_request: int = 2
    """After this many faults for the same request body, it is always answered."""
    retry_after: float = 0.1
    """Seconds sent in the Retry-After header of a 429."""
    slow_seconds: float = 1.0
    """How long a `slow` response takes."""
    seed: int = 0

    def decide(self, key: str, attempt: int) -> str | None:
        if attempt >= self.max_faults_per_request or not self.rates:
            return None
        r = random.Random(f"{self.seed}:{key}:{attempt}").random()
        acc = 0.0
        for kind in FAULT_KINDS:
            acc += self.rates.get(kind, 0.0)
            if r < acc:
                return kind
        return None


class FakeChatServer:
    """An OpenAI-compatible chat server on 127.0.0.1 with configurable latency and injected faults."""

    def __init__(
        self,
        *,
        latency: float = 0.0,
        responder: Responder = default_responder,
        faults: FaultPlan | None = None,
        reject: Callable[[dict[str, Any]], tuple[int, str] | None] | None = None,
        api_key: str | None = None,
        port: int = 0,
    ) -> None:
        """`reject(body)` may return `(status, message)` to answer a request with a permanent error; when
        `api_key` is set, requests without `Authorization: Bearer <api_key>` get a 401."""
        self.latency = latency
        self.responder = responder
        self.faults = faults or FaultPlan()
        self.reject = reject
        self.api_key = api_key
        self.outcomes: Counter[str] = Counter()
        self.request_times: dict[str, list[float]] = {}
        self._seen: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", port), _make_handler(self))
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """The URL to pass as `--base-url`."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> FakeChatServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakeChatServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _plan(self, key: str) -> str | None:
        with self._lock:
            attempt = self._seen[key]
            self._seen[key] += 1
            self.request_times.setdefault(key, []).append(time.monotonic())
        return self.faults.decide(key, attempt)

    def _count(self, outcome: str) -> None:
        with self._lock:
            self.outcomes[outcome] += 1


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # many clients connect at once; the default backlog of 5 stalls them
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out or get killed reset their connections: expected here, not worth a traceback.
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def _make_handler(server: FakeChatServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _send(self, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(payload)
                self.wfile.flush()
            except OSError:
                self.close_connection = True  # the client gave up (timeout): nothing to do

        def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
            self._send(
                status,
                json.dumps({"error": {"message": message, "type": "fake", "code": status}}).encode(),
                headers,
            )

        def do_GET(self) -> None:
            if self.path.rstrip("/").endswith("/models"):
                self._send(
                    200, json.dumps({"object": "list", "data": [{"id": "fake", "object": "model"}]}).encode()
                )
            else:
                self._error(404, f"no route {self.path}")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._error(404, f"no route {self.path}")
                return
            if server.api_key is not None and self.headers.get("Authorization") != f"Bearer {server.api_key}":
                server._count("401")
                self._error(401, "invalid api key")
                return
            try:
                body = json.loads(raw)
            except ValueError:
                self._error(400, "request body is not JSON")
                return
            if server.reject is not None:
                rejected = server.reject(body)
                if rejected is not None:
                    server._count(str(rejected[0]))
                    self._error(*rejected)
                    return
            key = hashlib.sha1(json.dumps(body.get("messages"), sort_keys=True).encode()).hexdigest()
            key += f":{body.get('seed')}"
            fault = server._plan(key)
            if server.latency:
                time.sleep(server.latency)
            if fault == "500":
                server._count("500")
                self._error(500, "injected server error")
            elif fault == "429":
                server._count("429")
                self._error(429, "injected rate limit", {"Retry-After": f"{server.faults.retry_after:g}"})
            elif fault == "drop":
                server._count("drop")
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
            elif fault == "malformed":
                server._count("malformed")
                self._send(200, b'{"id": "chatcmpl-x", "choices": [{"message": {"content": "trunc')
            else:
                if fault == "slow":
                    server._count("slow")
                    time.sleep(server.faults.slow_seconds)
                else:
                    server._count("ok")
                self._send(200, json.dumps(_completion(body, server.responder(body))).encode())

    return Handler


def _completion(body: dict[str, Any], text: str) -> dict[str, Any]:
    prompt_tokens = max(1, len(_all_text(body)) // 4)
    completion_tokens = max(1, len(text) // 4)
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "fake"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def hear_ctrl_c() -> None:
    """`preexec_fn` for the Ctrl-C tests' child commands: SIGINT acts as a terminal's Ctrl-C does, whatever the
    test runner's shell did (a background job of a non-interactive shell starts with SIGINT ignored, and Python
    then never turns it into KeyboardInterrupt)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
