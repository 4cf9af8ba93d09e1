"""A counting HTTP proxy for tests: it forwards to an S3 server and records every request.

Tests point a path prefix at the proxy's URL and then assert how many requests of which kind an
operation sent. Only the request direction is parsed (request line, headers, ``Content-Length``
body); responses are piped back untouched, so it works for every client, botocore or not.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit


@dataclass(frozen=True)
class Request:
    """One request seen by the proxy."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]

    @property
    def access_key(self) -> str | None:
        """The access key id the request was signed with (from its Authorization header)."""
        auth = self.headers.get("authorization", "")
        marker = "Credential="
        if marker not in auth:
            return None
        return auth.split(marker, 1)[1].split("/", 1)[0]

    @property
    def operation(self) -> str:
        """A rough S3 operation name, enough for counting in tests."""
        q = self.query
        if self.method == "GET":
            if "list-type" in q:
                return "ListObjectsV2"
            if "versions" in q:
                return "ListObjectVersions"
            if "uploads" in q:
                return "ListMultipartUploads"
            if self.path.count("/") <= 1 and not self.path.strip("/"):
                return "ListBuckets"
            if self.path.strip("/") and "/" not in self.path.strip("/"):
                return "ListObjects"
            return "GetObject"
        if self.method == "HEAD":
            return "HeadBucket" if "/" not in self.path.strip("/") else "HeadObject"
        if self.method == "PUT":
            if "partNumber" in q:
                return "UploadPart"
            if "/" not in self.path.strip("/"):
                return "CreateBucket"
            return "PutObject"
        if self.method == "POST":
            if "delete" in q:
                return "DeleteObjects"
            if "uploads" in q:
                return "CreateMultipartUpload"
            if "uploadId" in q:
                return "CompleteMultipartUpload"
            return "Post"
        if self.method == "DELETE":
            if "uploadId" in q:
                return "AbortMultipartUpload"
            return "DeleteBucket" if "/" not in self.path.strip("/") else "DeleteObject"
        return self.method


class CountingProxy:
    """A loopback proxy in a background thread; ``requests`` lists what went through it."""

    def __init__(
        self,
        upstream_url: str,
        inject: Callable[[Request], bytes | None] | None = None,
        rate: float | None = None,
        latency: float = 0.0,
    ) -> None:
        parts = urlsplit(upstream_url)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        #: Called for each request: raw HTTP response bytes to answer with instead of forwarding
        #: it (a fault to inject), or ``None`` to forward it.
        self.inject = inject
        self.requests: list[Request] = []
        #: Bytes a second each connection's responses are passed on at (``None``: no limit), as
        #: over a network where one connection is slower than the reader.
        self.rate = rate
        #: Seconds each request waits before it is passed on (a distant server's round trip).
        self.latency = latency
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.AbstractServer | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.port: int = asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        self.url = f"http://127.0.0.1:{self.port}"

    async def _start(self) -> int:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def clear(self) -> None:
        """Forget the requests recorded so far."""
        with self._lock:
            self.requests.clear()

    def count(self, operation: str | None = None) -> int:
        """How many requests (of ``operation``) went through."""
        with self._lock:
            if operation is None:
                return len(self.requests)
            return sum(1 for r in self.requests if r.operation == operation)

    def operations(self) -> Counter[str]:
        """Requests counted by operation name."""
        with self._lock:
            return Counter(r.operation for r in self.requests)

    def close(self) -> None:
        """Stop the proxy."""

        async def stop() -> None:
            if self._server is not None:
                self._server.close()
            # Connections the client keeps alive: end them here, not in the garbage collector.
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self._server is not None:
                await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._upstream)
        except OSError:
            writer.close()
            return
        back = asyncio.ensure_future(self._pipe(up_reader, writer))
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length") or 0)
                url = urlsplit(target)
                query = dict(parse_qsl(url.query, keep_blank_values=True))
                request = Request(method, url.path, query, headers)
                with self._lock:
                    self.requests.append(request)
                injected = self.inject(request) if self.inject is not None else None
                if injected is not None:
                    if length and "100-continue" not in headers.get("expect", ""):
                        await reader.readexactly(length)
                    writer.write(injected)
                    await writer.drain()
                    if isinstance(injected, CutResponse):
                        break  # the connection ends here, in the middle of that response
                    continue
                if self.latency:
                    await asyncio.sleep(self.latency)
                # The head goes first: a client that sent "Expect: 100-continue" waits for
                # the server's answer before it sends the body.
                up_writer.write(head)
                if length:
                    up_writer.write(await reader.readexactly(length))
                await up_writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            up_writer.close()
            back.cancel()
            writer.close()
            with contextlib.suppress(BaseException):
                await back

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
                if self.rate:
                    await asyncio.sleep(len(data) / self.rate)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


class CutResponse(bytes):
    """Injected bytes after which the proxy closes the connection (a response cut short)."""


def http_response(status: int, reason: str, body: bytes = b"", **headers: str) -> bytes:
    """Raw bytes of an HTTP/1.1 response, for :attr:`CountingProxy.inject`."""
    lines = [f"HTTP/1.1 {status} {reason}", f"Content-Length: {len(body)}"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
