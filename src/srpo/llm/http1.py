"""A minimal HTTP/1.1 client for plain `http://` chat servers: keep-alive connections, one POST at a time
per connection, the body handed to the socket as it is.

Why it exists: a self-hosted vLLM / SGLang cluster is plain HTTP on a private network, and at hundreds of
requests a second the client's own CPU is what limits a run (`bench/curate.py`). aiohttp spends ~0.3 ms of
CPU per request with a 100 KB image on the bench machine, this path ~0.1 ms — a fifth of the budget of a
whole curation record. It speaks only what a chat-completions POST needs: Content-Length or chunked
responses, `Connection: close`, interim 1xx answers skipped. TLS (`https://`, e.g. the official API) goes
through aiohttp instead (`srpo.llm.openai_http`).

A connection the server closed while it sat idle is noticed when the close arrives, and idle connections
are dropped after `IDLE_SECONDS`, before uvicorn (vLLM's server) closes them at 5 s. A request is never
re-sent here: a POST may have been processed, so every failure goes back to the client's retry policy,
exactly as on the other HTTP paths (aiohttp does not re-send a POST either).
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

MAX_RESPONSE_BYTES = 64 << 20
"""A larger answer is refused (a chat completion is a few KB; this bounds a broken or hostile server)."""
IDLE_SECONDS = 4.0
"""Idle connections older than this are dropped rather than reused (uvicorn's keep-alive is 5 s)."""


class HTTPError(OSError):
    """The server broke the protocol or the connection: no usable answer."""


class Response:
    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body


class _Connection(asyncio.Protocol):
    """One socket; parses the answer to the request in flight."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self.uses = 0
        self._buf = bytearray()
        self._waiter: asyncio.Future | None = None

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self._buf += data
        if len(self._buf) > MAX_RESPONSE_BYTES:
            self._fail(HTTPError(f"the answer is larger than {MAX_RESPONSE_BYTES >> 20} MB"))
            return
        if self._waiter is not None and not self._waiter.done():
            self._try_parse(eof=False)

    def eof_received(self) -> bool:
        if self._waiter is not None and not self._waiter.done():
            self._try_parse(eof=True)
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is not None and not self._waiter.done():
            self._try_parse(eof=True)
            if not self._waiter.done():
                detail = f": {exc}" if exc else ""
                self._waiter.set_exception(
                    HTTPError(f"the server closed the connection before answering{detail}")
                )

    # requests
    async def request(self, head: bytes, body: bytes) -> Response:
        assert self.transport is not None and self._waiter is None
        self.uses += 1
        self._waiter = asyncio.get_running_loop().create_future()
        self.transport.write(head)
        self.transport.write(body)
        try:
            return await self._waiter
        finally:
            self._waiter = None

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def _fail(self, error: Exception) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(error)
        self.abort()

    def _try_parse(self, eof: bool) -> None:
        """Resolve the waiter when `_buf` holds a whole answer (or the connection ended)."""
        buf = self._buf
        while True:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if eof:
                    where = "in the middle of its answer" if buf else "before answering"
                    self._fail(HTTPError(f"the server closed the connection {where}"))
                return
            lines = bytes(buf[:end]).decode("latin-1").split("\r\n")
            parts = lines[0].split(" ", 2)
            if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
                self._fail(HTTPError(f"not an HTTP answer: {lines[0][:80]!r}"))
                return
            status = int(parts[1])
            if 100 <= status < 200:  # interim answer (100 Continue, 103 Early Hints): skip it
                del buf[: end + 4]
                continue
            break
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        start = end + 4
        keep_alive = headers.get("connection", "").lower() != "close" and parts[0] != "HTTP/1.0"
        if status in (204, 304):
            body, consumed = b"", start
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            try:
                body = _dechunk(buf, start)
            except HTTPError as e:
                self._fail(e)
                return
            if body is None:
                if eof:
                    self._fail(
                        HTTPError("the server closed the connection in the middle of a chunked answer")
                    )
                return
            body, consumed = body
        elif "content-length" in headers:
            try:
                length = int(headers["content-length"])
            except ValueError:
                self._fail(HTTPError(f"bad Content-Length {headers['content-length']!r}"))
                return
            if len(buf) - start < length:
                if eof:
                    self._fail(HTTPError("the server closed the connection in the middle of its answer"))
                return
            body, consumed = bytes(buf[start : start + length]), start + length
        else:  # no length: the body runs to the end of the connection
            if not eof:
                return
            body, consumed, keep_alive = bytes(buf[start:]), len(buf), False
        del buf[:consumed]
        if not keep_alive:
            self.closed = True
            if self.transport is not None:
                self.transport.close()
        assert self._waiter is not None
        self._waiter.set_result(Response(status, headers, body))


def _dechunk(buf: bytearray, start: int) -> tuple[bytes, int] | None:
    """(body, bytes consumed) of a complete chunked body starting at `start`; None while incomplete."""
    out = bytearray()
    pos = start
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None
        size_text = bytes(buf[pos:eol]).split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise HTTPError(f"bad chunk size {size_text[:20]!r}") from None
        if size == 0:
            trailer_end = buf.find(b"\r\n\r\n", eol)
            if trailer_end == eol:  # no trailers: "0\r\n\r\n"
                return bytes(out), eol + 4
            if trailer_end < 0:
                return None
            return bytes(out), trailer_end + 4
        if len(buf) < eol + 2 + size + 2:
            return None
        out += buf[eol + 2 : eol + 2 + size]
        pos = eol + 2 + size + 2


class HTTP1Endpoint:
    """Keep-alive connections to one `http://host:port/prefix`; `post(path, body)` sends one JSON POST."""

    def __init__(self, base_url: str, headers: dict[str, str], connect_timeout: float = 30.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"{base_url}: the plain HTTP client takes http://HOST[:PORT]/PATH URLs")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.prefix = parts.path.rstrip("/")
        host_header = parts.netloc.rsplit("@", 1)[-1]
        fixed = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self._fixed = f"Host: {host_header}\r\n{fixed}".encode("latin-1")
        self.connect_timeout = connect_timeout
        self._idle: list[_Connection] = []

    async def post(self, path: str, body: bytes) -> Response:
        """The answer to one POST. Raises `OSError` (refused, reset, closed, bad protocol) or
        `TimeoutError` (connect)."""
        head = b"POST %s HTTP/1.1\r\n%sContent-Length: %d\r\n\r\n" % (
            (self.prefix + path).encode("latin-1"),
            self._fixed,
            len(body),
        )
        conn = self._take_idle() or await self._connect()
        return await self._send(conn, head, body)

    async def _send(self, conn: _Connection, head: bytes, body: bytes) -> Response:
        try:
            response = await conn.request(head, body)
        except BaseException:  # an error or a cancellation (timeout) mid-request: the socket is unusable
            conn.abort()
            raise
        if not conn.closed:
            conn.idle_since = time.monotonic()
            self._idle.append(conn)
        return response

    def _take_idle(self) -> _Connection | None:
        now = time.monotonic()
        while self._idle:
            conn = self._idle.pop()
            usable = conn.transport is not None and not conn.transport.is_closing()
            if usable and not conn.closed and now - conn.idle_since < IDLE_SECONDS:
                return conn
            conn.abort()
        return None

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        _, conn = await asyncio.wait_for(
            loop.create_connection(_Connection, self.host, self.port), self.connect_timeout
        )
        return conn  # type: ignore[return-value]

    def close(self) -> None:
        for conn in self._idle:
            conn.abort()
        self._idle.clear()
