"""The plain HTTP/1.1 client of the `openai` backend (`srpo.llm.http1`) against a raw loopback server that
answers exactly the bytes given: every way a server may frame an answer, and the broken ones."""

from __future__ import annotations

import asyncio
import json
import socket
import threading

import pytest

from srpo.llm.client import LLMClient
from srpo.llm.request import ChatRequest, RequestFailed
from srpo.llm.settings import LLMSettings

COMPLETION = json.dumps(
    {"choices": [{"message": {"content": "<answer>7</answer>"}, "finish_reason": "stop"}], "usage": {}}
).encode()


def _http(status: str, body: bytes, *headers: str) -> bytes:
    return (f"HTTP/1.1 {status}\r\n" + "".join(h + "\r\n" for h in headers) + "\r\n").encode() + body


def _chunked(body: bytes, sizes: tuple[int, ...]) -> bytes:
    out, pos = b"", 0
    for n in sizes:
        out += b"%x\r\n" % n + body[pos : pos + n] + b"\r\n"
        pos += n
    return out + b"%x;ext=1\r\n" % (len(body) - pos) + body[pos:] + b"\r\n0\r\n\r\n"


class RawServer:
    """Reads each request (headers + Content-Length body) and sends the next of `answers` (in order, over
    all connections), closing the connection after each answer when `close_after`. Counts connections."""

    def __init__(self, answers: list[bytes], close_after: bool = False) -> None:
        self.answers = iter(answers)
        self.close_after = close_after
        self.connections = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        buf = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                head, _, buf = buf.partition(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                )
                while len(buf) < length:
                    buf += conn.recv(65536)
                buf = buf[length:]
                conn.sendall(next(self.answers))
                if self.close_after:
                    return

    def close(self) -> None:
        self.sock.close()


async def _ask(url: str, n: int = 1, max_retries: int = 0) -> list:
    client = LLMClient(
        LLMSettings(model="m", base_url=[url], max_retries=max_retries, retry_base_delay=0.01, timeout=5)
    )
    out = []
    try:
        for i in range(n):
            try:
                out.append((await client.chat(ChatRequest([{"role": "user", "content": str(i)}]))).text)
            except RequestFailed as e:
                out.append(e)
    finally:
        await client.aclose()
    return out


OK = _http("200 OK", COMPLETION, "Content-Type: application/json", f"Content-Length: {len(COMPLETION)}")


@pytest.mark.parametrize(
    "answer",
    [
        OK,
        _http("200 OK", _chunked(COMPLETION, (1, 10, 30)), "Transfer-Encoding: chunked"),
        _http("100 Continue", b"") + OK,  # an interim answer first
        _http("200 OK", COMPLETION, "connection: keep-alive", f"content-length: {len(COMPLETION)}"),
    ],
    ids=["content-length", "chunked", "100-continue", "lowercase-headers"],
)
def test_answers_framed_every_usual_way_are_read_and_the_connection_reused(answer):
    server = RawServer([answer] * 3)
    try:
        texts = asyncio.run(_ask(server.url, n=3))
    finally:
        server.close()
    assert texts == ["<answer>7</answer>"] * 3 and server.connections == 1


def test_connection_close_and_a_body_to_the_end_of_the_connection():
    for answer in (
        _http("200 OK", COMPLETION, "Connection: close", f"Content-Length: {len(COMPLETION)}"),
        _http("200 OK", COMPLETION, "Connection: close"),  # no length: the body runs to the close
    ):
        server = RawServer([answer] * 2, close_after=True)
        try:
            texts = asyncio.run(_ask(server.url, n=2))
        finally:
            server.close()
        assert texts == ["<answer>7</answer>"] * 2 and server.connections == 2  # a new connection each time


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (b"SMTP ready\r\n\r\n", "not an HTTP answer"),
        (
            _http("200 OK", COMPLETION[:20], f"Content-Length: {len(COMPLETION)}"),
            "in the middle of its answer",
        ),
        (_http("200 OK", b"zz\r\nabc", "Transfer-Encoding: chunked"), "bad chunk size"),
        (_http("200 OK", b"<html>proxy error</html>", "Content-Length: 24"), "malformed response body"),
        (
            _http("503 Service Unavailable", b'{"error": {"message": "overloaded"}}', "Content-Length: 36"),
            "HTTP 503: overloaded",
        ),
    ],
    ids=["not-http", "cut-body", "bad-chunk", "not-json", "503"],
)
def test_broken_answers_fail_the_request_with_what_happened(answer, reason):
    server = RawServer([answer], close_after=True)
    try:
        (error,) = asyncio.run(_ask(server.url))
    finally:
        server.close()
    assert isinstance(error, RequestFailed) and reason in error.reason


def test_a_broken_answer_is_retried_on_a_new_connection():
    server = RawServer(
        [_http("200 OK", COMPLETION[:20], f"Content-Length: {len(COMPLETION)}"), OK], close_after=True
    )
    try:
        texts = asyncio.run(_ask(server.url, max_retries=1))
    finally:
        server.close()
    # The first connection answered half a body and then nothing: the retry goes out on a new one.
    assert texts == ["<answer>7</answer>"] and server.connections == 2
